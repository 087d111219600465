"""SIGTERM ends a run like Ctrl-C; no signal cuts a cleanup short; cleanup goes on past an API error."""

from __future__ import annotations

import os
import signal
import time

import pytest

from path3_sandbox import signals
from path3_sandbox.containers.resources import RunResources
from path3_sandbox.signals import cleanup_shielded, terminate_like_interrupt
from tests.unit.conftest import FakeDockerClient


@pytest.fixture(autouse=True)
def restore_handlers(monkeypatch):
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(signals, "_received", [])
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_sigterm_raises_keyboard_interrupt_so_every_finally_runs():
    terminate_like_interrupt()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises within this sleep
    assert signals.first_signal() == "SIGTERM"


def test_a_signal_during_cleanup_waits_until_the_cleanup_is_done_then_interrupts(capsys):
    terminate_like_interrupt()
    done = []
    with pytest.raises(KeyboardInterrupt):
        with cleanup_shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
            done.append("cleanup finished")
    assert done == ["cleanup finished"]
    assert signals.first_signal() == "SIGTERM"
    assert "still removing this run's containers and volumes" in capsys.readouterr().err


def Client(log):
    """Cleanup's two Docker API calls, answering with the outcomes a real engine gives."""
    return FakeDockerClient(containers={"c-stuck": "in use", "c-gone": "gone", "c-ok": "removed"},
                            volumes={"v-stuck": "in use", "v-ok": "removed"}, removed=log)


def test_cleanup_goes_on_past_an_api_error_and_reports_what_it_could_not_remove(capsys):
    log: list[str] = []
    resources = RunResources(Client(log), "run-1")
    resources.containers += ["c-ok", "c-stuck", "c-gone"]
    resources.volumes += ["v-stuck", "v-ok"]
    with resources:
        pass
    assert log == ["c-ok", "v-ok"]
    assert resources.failed == ["container c-stuck: volume is in use", "volume v-stuck: volume is in use"]
    err = capsys.readouterr().err
    assert "could NOT remove 2 resource(s) of run run-1" in err and "path3-sandbox clean --run run-1" in err
