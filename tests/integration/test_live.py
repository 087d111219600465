"""Live mode on a Gateway an operator runs: a plain `docker run` of the built image on a host state dir, host
networking (so RPC comes from its loopback), the scripted provider in its config, and sessions of its own made
before live starts. Live must pass and leave no proof session behind; and when another session is touched during
the run (on purpose, through live's test-only hook), it must fail naming that session.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from testcontainers.core.container import DockerContainer

from path3_sandbox.state.config import STATE_DIR, deep_merge, harness_config
from path3_sandbox.containers import reaper
from path3_sandbox.containers.resources import new_run_id, run_labels
from path3_sandbox.containers.rpc import GatewayRpc
from path3_sandbox.live import LiveOptions, live
from path3_sandbox.probes.host_sqlite import read_state
from path3_sandbox.scenario.provider import MODEL_ID, PROVIDER_ID, ScriptedProvider, provider_config

OPERATOR_CHAT = "agent:main:operator-chat"  # a session with a transcript, made by a turn before live starts
OPERATOR_NOTES = "agent:main:operator-notes"  # a session with metadata only (a label)
OPERATOR_MODEL = "operator-llm"  # the operator's default model (a scripted provider of the test's): live must not call it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OperatorGateway:
    def __init__(self, state: Path, url: str, token_file: Path, model: ScriptedProvider, name: str) -> None:
        self.state, self.url, self.token_file, self.model, self.name = state, url, token_file, model, name

    def rpc(self) -> GatewayRpc:
        return GatewayRpc.connect(self.url, self.token_file.read_text().strip())

    def keys(self) -> set[str]:
        with self.rpc() as rpc:
            return {s["key"] for s in rpc.call("sessions.list", {"archived": "all", "limit": 1000})["sessions"]}


@pytest.fixture(scope="module")
def operator_gateway(docker_client, default_image, tmp_path_factory):
    """The operator's Gateway, started as an operator would; live never controls it, this fixture does."""
    home = tmp_path_factory.mktemp("operator")
    state, token, port, provider_port = home / "openclaw", uuid.uuid4().hex, free_port(), free_port()
    state.mkdir()
    # The operator's own model is the default; live's scripted provider is configured beside it (as the README asks).
    model = ScriptedProvider(host="127.0.0.1").start()
    operator = provider_config(f"http://127.0.0.1:{model.port}/v1")["models"]["providers"][PROVIDER_ID]
    config, _ = deep_merge(harness_config(token, port=port), provider_config(f"http://127.0.0.1:{provider_port}/v1"))
    config["models"]["providers"][OPERATOR_MODEL] = operator
    config["agents"]["defaults"]["model"]["primary"] = f"{OPERATOR_MODEL}/{MODEL_ID}"
    config["gateway"]["bind"] = "loopback"
    (state / "openclaw.json").write_text(json.dumps(config, indent=2))
    (home / "token").write_text(token + "\n")
    user = "1000:1000" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    if os.geteuid() == 0:
        for path in [state, *state.rglob("*")]:
            os.chown(path, 1000, 1000)
    reaper.configure(docker_client)  # Ryuk where it can run; our labels and `path3-sandbox clean` otherwise
    container = (DockerContainer(default_image.tag)
                 .with_name(f"path3-live-operator-{uuid.uuid4().hex[:8]}")
                 .with_command(["openclaw", "gateway", "run", "--bind", "loopback", "--port", str(port), "--auth", "token"])
                 .with_volume_mapping(str(state), STATE_DIR, "rw")  # testcontainers' default mode is read-only
                 .with_env("XDG_CACHE_HOME", f"{STATE_DIR}/cache")
                 .with_kwargs(labels=run_labels(new_run_id(), "live-operator-gateway"), network_mode="host", user=user))
    container.start()
    try:
        wait_ready(container, port)
        gateway = OperatorGateway(state, f"ws://127.0.0.1:{port}", home / "token", model,
                                  container.get_wrapped_container().name)
        # The operator's own sessions, made before live starts: a turn on the operator's model, and a label.
        with gateway.rpc() as rpc:
            sent = rpc.call("chat.send", {"sessionKey": OPERATOR_CHAT, "message": "path3 scenario turn P3-OPER-ATOR-X1",
                                          "idempotencyKey": str(uuid.uuid4())})
            assert rpc.call("agent.wait", {"runId": sent["runId"], "timeoutMs": 90_000}, timeout_s=120)["status"] == "ok"
            rpc.call("sessions.patch", {"key": OPERATOR_NOTES, "label": "the operator's notes"})
        assert [r.marker for r in model.requests] == ["P3-OPER-ATOR-X1"]
        yield gateway
    finally:
        logs = container.get_wrapped_container().logs().decode("utf-8", "replace")
        (home / "gateway-stdout.log").write_text(logs)
        container.stop()  # testcontainers' stop() removes the container
        model.stop()


def wait_ready(container: DockerContainer, port: int, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status == "exited":
            pytest.fail("the operator's Gateway exited: " + wrapped.logs().decode("utf-8", "replace")[-3000:])
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=3).json().get("ready"):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    pytest.fail("the operator's Gateway never became ready")


def test_live_passes_and_leaves_no_proof_session_behind(operator_gateway, tmp_path):
    before = read_state(operator_gateway.state, proof_key="-").sessions
    assert {OPERATOR_CHAT, OPERATOR_NOTES} <= set(before)
    # As an operator runs it, restart allowed (asked of the Gateway over RPC).
    completed = subprocess.run(
        [sys.executable, "-m", "path3_sandbox", "live", "--url", operator_gateway.url, "--agent", "main",
         "--token-file", str(operator_gateway.token_file), "--state-dir", str(operator_gateway.state),
         "--allow-restart", "--doctor-cli", f"docker exec {operator_gateway.name} openclaw", "--json"],
        env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True, timeout=900)
    print(completed.stderr[-3000:])  # the progress lines, shown with -rP
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-6000:]
    summary = json.loads(completed.stdout)
    assert summary["verdict"] == "pass" and summary["mode"] == "live"
    assert summary["proof_session"].startswith("agent:main:path3-live-e2e:")
    [run] = list((tmp_path / "path3-live-e2e").iterdir())
    assert {"summary.json", "summary.md", "junit.xml", "events.jsonl"} <= {p.name for p in run.iterdir()}
    steps = {s["step"]: s["outcome"] for s in summary["steps"]}
    assert steps == {"pin-model": "passed", "chat-turn": "passed", "transcript-identity": "passed", "metadata": "passed",
                     "patch": "passed", "compaction": "passed", "restart": "passed", "cleanup": "passed"}
    # doctor validate ran with the operator's CLI, as information: its exit code and issues recorded, not judged
    doctor = summary["doctor_validate"]
    assert doctor["ran"] and doctor["informational"] and doctor["exit_code"] is not None, doctor
    assert (run / "doctor-session-sqlite-validate.json").stat().st_size > 0
    served = json.loads((run / "provider-requests.json").read_text())["requests"]
    assert {r["marker"].split("-")[-1] for r in served} >= {"S1", "R1"}, "live's turns went to the scripted provider"
    assert all(r["model"] == MODEL_ID for r in served)
    assert [r.marker for r in operator_gateway.model.requests] == ["P3-OPER-ATOR-X1"], "the operator's model was never called"
    # Nothing left, nothing else touched: the operator's sessions have exactly the rows they had.
    assert not any(k.startswith("agent:main:path3-live-e2e:") for k in operator_gateway.keys())
    after = read_state(operator_gateway.state, proof_key="-").sessions
    assert after == before
    assert json.loads((run / "sessions-before.json").read_text()) == json.loads((run / "sessions-after.json").read_text())
    assert token_absent(run, operator_gateway.token_file.read_text().strip())


def test_live_fails_naming_the_session_another_client_touched_during_the_run(operator_gateway, tmp_path):
    def touch_the_operators_notes(ctx):  # between the baseline hash and the first step: another client's patch
        with operator_gateway.rpc() as rpc:
            rpc.call("sessions.patch", {"key": OPERATOR_NOTES, "label": f"touched during the live run {uuid.uuid4().hex[:6]}"})

    result = live(LiveOptions(operator_gateway.url, "main", operator_gateway.token_file, operator_gateway.state),
                  argv=["test"], root=tmp_path / "live", between_hashes=touch_the_operators_notes)
    assert result.exit_code == 1
    assert OPERATOR_NOTES in result.verdict.first_failure, result.verdict.first_failure
    assert "no session but the proof session changed" in result.verdict.first_failure
    assert OPERATOR_CHAT not in result.verdict.first_failure
    restart = next(s for s in result.summary["steps"] if s["step"] == "restart")
    assert restart["outcome"] == "skipped" and "--allow-restart" in restart["why"]
    cleanup = result.summary["steps"][-1]
    assert (cleanup["step"], cleanup["outcome"]) == ("cleanup", "passed"), "a failed run still deletes its proof session"
    assert not any(k.startswith("agent:main:path3-live-e2e:") for k in operator_gateway.keys())
    markdown = (tmp_path / "live" / "summary.md").read_text()
    assert "FAIL" in markdown and OPERATOR_NOTES in markdown


def token_absent(root: Path, token: str) -> bool:
    return not any(token in p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())
