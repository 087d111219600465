"""containers/waits.poll_until: the one polling loop; and the RPC client's wait for a run that answers "pending"."""

from __future__ import annotations

from path3_sandbox.containers import waits
from path3_sandbox.containers.rpc import GatewayRpc


def test_poll_until_returns_what_it_waited_for_checks_once_at_least_and_gives_none_when_time_runs_out(monkeypatch):
    monkeypatch.setattr(waits.time, "sleep", lambda s: None)
    answers = iter([None, None, 3])
    assert waits.poll_until(lambda: next(answers), timeout_s=5, interval_s=0.1) == 3
    calls = []
    assert waits.poll_until(lambda: calls.append(1), timeout_s=0, interval_s=0.1) is None and calls == [1]


def test_a_run_queued_behind_another_is_waited_again_and_the_last_answer_is_returned(monkeypatch):
    monkeypatch.setattr(waits.time, "sleep", lambda s: None)
    rpc = GatewayRpc.__new__(GatewayRpc)
    answers = iter([{"status": "pending"}, {"status": "pending"}, {"status": "ok"}])
    seen = []
    rpc.call = lambda method, params, timeout_s: seen.append((method, params["runId"])) or next(answers)
    assert rpc.wait_for_run("run-1", 60_000) == {"status": "ok"}
    assert seen == [("agent.wait", "run-1")] * 3
    rpc.call = lambda method, params, timeout_s: {"status": "pending"}
    assert rpc.wait_for_run("run-2", 0) == {"status": "pending"}  # time ran out: the last answer, still pending
