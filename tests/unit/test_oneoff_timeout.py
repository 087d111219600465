"""A one-off command (doctor --fix) that outlives its budget is killed and reported as exit 124, whichever way the
engine's /wait answer times out: before its headers (ReadTimeout) or while its body is read (a ConnectionError
around a read timeout, what a long doctor on a busy engine gave)."""

from __future__ import annotations

import pytest
import requests

from path3_sandbox.containers.gateway import Gateway


class FakeContainer:
    def __init__(self, error):
        self.error, self.killed = error, False

    def wait(self, timeout):
        raise self.error

    def kill(self):
        self.killed = True

    def logs(self, **_):
        return b"doctor output so far"


class FakeOneoff:
    def __init__(self, container):
        self.container = container

    def start(self):
        return self

    def get_wrapped_container(self):
        return self.container

    def stop(self):
        pass


def _gateway(monkeypatch, container) -> Gateway:
    gateway = Gateway.__new__(Gateway)
    gateway.name, gateway.commands, gateway.oneoff_image, gateway.extra_hosts = "g", [], None, {}
    gateway.token = "t"
    monkeypatch.setattr(Gateway, "_on_volume", lambda self, *a, **k: FakeOneoff(container))
    return gateway


@pytest.mark.parametrize("error", [requests.exceptions.ReadTimeout("read timeout"),
                                   requests.exceptions.ConnectionError("UnixHTTPConnectionPool(host='localhost', "
                                                                       "port=None): Read timed out.")])
def test_a_command_past_its_budget_is_killed_and_exits_124(monkeypatch, error):
    container = FakeContainer(error)
    result = _gateway(monkeypatch, container).run_oneoff(["openclaw", "doctor", "--fix"], timeout_s=1)
    assert (result.exit_code, container.killed, result.output) == (124, True, "doctor output so far")


def test_a_broken_engine_connection_is_not_taken_for_a_timeout(monkeypatch):
    container = FakeContainer(requests.exceptions.ConnectionError("Connection refused"))
    with pytest.raises(requests.exceptions.ConnectionError):
        _gateway(monkeypatch, container).run_oneoff(["openclaw", "doctor", "--fix"], timeout_s=1)
