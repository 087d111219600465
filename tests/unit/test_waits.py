"""The Gateway's start wait: ready, exited or timed out, each an observation, never an exception."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from path3_sandbox.containers.waits import GatewayReadyOrExited


class FakeContainer:
    """What a wait strategy sees of a testcontainers container: reload() and the docker-py object's State."""

    def __init__(self, running=True, exit_code=0):
        self.attrs = {"State": {"Running": running, "ExitCode": exit_code}}
        self.reloads = 0

    def reload(self):
        self.reloads += 1

    def get_wrapped_container(self):
        return self


@pytest.fixture
def gateway_http():
    answers = {"/healthz": {"ok": True, "status": "live"}, "/readyz": {"ready": False}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(answers[self.path]).encode()
            self.send_response(200 if answers[self.path].get("ok", answers[self.path].get("ready")) else 503)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()


def test_a_gateway_that_exits_is_observed_at_once_with_its_exit_code():
    wait = GatewayReadyOrExited(lambda: "http://127.0.0.1:9").with_startup_timeout(60)
    wait.wait_until_ready(FakeContainer(running=False, exit_code=1))
    assert wait.observation.outcome == "exited" and wait.observation.exit_code == 1
    assert wait.observation.seconds < 5


def test_ready_needs_both_healthz_and_readyz(gateway_http):
    url, answers = gateway_http
    wait = GatewayReadyOrExited(lambda: url).with_startup_timeout(2).with_poll_interval(0.05)
    wait.wait_until_ready(FakeContainer())
    assert wait.observation.outcome == "timeout" and wait.observation.healthz["status"] == 200
    answers["/readyz"] = {"ready": True}
    wait.wait_until_ready(FakeContainer())
    assert wait.observation.outcome == "ready" and wait.observation.readyz == {"status": 200, "body": {"ready": True}}
