"""plan.py and the one step loop (scenario/runner.run_steps) that a proof's scenario and a live run share."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from path3_sandbox.containers.rpc import GatewayRpc
from path3_sandbox.errors import MalformedAnswer, RpcError
from path3_sandbox.plan import FAILED, NOT_HIT, NOT_RUN, PASSED, SKIPPED, Plan
from path3_sandbox.report.evidence import Assertion, Evidence
from path3_sandbox.scenario.runner import Step, StepOutcome, StepPolicy, run_steps


def test_a_plan_numbers_its_steps_in_order_and_marks_the_first_failure():
    plan = Plan.of("path", [("2026.7.35", "writer"), ("2026.9.6", "importer"), ("2026.7.35", "downgrade")])
    plan.mark(plan.steps[0], PASSED, seconds=12.04)
    plan.mark(plan.steps[1], FAILED, why="a message is gone")
    assert [s.number for s in plan.steps] == [1, 2, 3]
    assert plan.first_failed() is plan.steps[1] and plan.outcome(plan.steps[2]) == NOT_RUN
    lines = plan.text().splitlines()
    assert lines[0] == "path:"
    assert "✓ passed 12.0s" in lines[1] and "<- first failure" not in lines[1]
    assert "✗ failed: a message is gone   <- first failure" in lines[2]
    assert "· not run" in lines[3]
    assert [s["outcome"] for s in plan.to_json()] == [PASSED, FAILED, NOT_RUN]


def test_a_plan_grows_as_a_sweep_decides_its_next_point_and_refuses_an_unknown_outcome():
    plan = Plan("faults")
    first, second = plan.add("kill-mid-import@1"), plan.add("kill-mid-import@2")
    plan.mark(second, NOT_HIT, why="the import ended before point 2")
    assert (first.number, second.number, plan.label(second)) == (1, 2, "2/2 kill-mid-import@2")
    assert plan.first_failed() is None and "○ not hit" in plan.text()
    with pytest.raises(ValueError):
        plan.mark(first, "green")


class _Probe(SimpleNamespace):
    """What a step starts from: rows per table, as scenario.Probe and HostProbe hold them."""

    def __init__(self, rows: int) -> None:
        super().__init__(sqlite=SimpleNamespace(count=lambda table: rows))


def test_the_step_loop_skips_saying_why_fails_a_broken_step_and_runs_the_next(tmp_path):
    evidence = Evidence(tmp_path, "unit")
    ctx = SimpleNamespace(rpc=SimpleNamespace(methods=["chat.send"]), evidence=evidence)
    probes = iter([_Probe(2), _Probe(3)])
    ran = []

    def breaks(ctx, before):
        ran.append("breaks")
        raise RuntimeError("socket closed")

    def works(ctx, before):
        ran.append(("works", before.sqlite.count("x")))
        return StepOutcome([Assertion("it worked", True, True, True)], {})

    steps = [Step("needs-compact", ("sessions.compact",), works, "compact"), Step("breaks", ("chat.send",), breaks),
             Step("not-wanted", (), works), Step("works", ("chat.send",), works)]
    report = {"steps": []}
    policy = StepPolicy(who="unit", title="unit plan", probe=lambda: next(probes),
                        checks_after=lambda step, outcome, before, after: [],
                        why_not=lambda step: "not asked" if step.name == "not-wanted" else None)
    last = run_steps(ctx, steps, _Probe(1), report, policy)
    evidence.close()
    assert ran == ["breaks", ("works", 2)]  # the broken step's probe after it is what the next step starts from
    assert last.sqlite.count("x") == 3
    assert [(r["step"], r["outcome"]) for r in report["steps"]] == [
        ("needs-compact", "skipped"), ("breaks", "failed"), ("not-wanted", "skipped"), ("works", "passed")]
    assert report["steps"][0]["missing"] == ["sessions.compact"] and report["steps"][2]["why"] == "not asked"
    plan = json.loads((tmp_path / "steps-plan.json").read_text())
    assert [s["outcome"] for s in plan["steps"]] == [SKIPPED, FAILED, SKIPPED, PASSED]
    assert evidence.first_failure.message().startswith("step breaks ran")


def _case(verdict: str, seconds: float = 10.0, first_failure: str | None = None, skipped: str | None = None):
    return SimpleNamespace(verdict=verdict, seconds=seconds, first_failure=first_failure, skipped=skipped)


@pytest.mark.parametrize("verdicts, outcome", [
    (["pass", "pass", "not hit"], PASSED), (["pass", "fail", "not hit"], FAILED), (["not hit"], NOT_HIT),
    (["skipped"], SKIPPED)])
def test_a_fault_is_marked_from_all_its_cases_a_failed_point_failing_the_sweep(verdicts, outcome):
    from path3_sandbox.faults.run import _mark

    plan = Plan.of("faults", [("kill-mid-import", "SIGKILL at each observed point")])
    cases = [_case(v, first_failure="events lost: 2" if v == "fail" else None,
                   skipped="needs a tmpfs volume" if v == "skipped" else None) for v in verdicts]
    _mark(plan, plan.steps[0], cases)
    mark = plan.marks[1]
    assert mark.outcome == outcome and mark.seconds == 10.0 * len(cases)
    assert mark.why == {FAILED: "events lost: 2", SKIPPED: "needs a tmpfs volume"}.get(
        outcome, "2 pass, 0 fail, 1 not hit, 0 skipped" if len(cases) > 1 else "")


def test_a_hello_that_lists_no_methods_fails_the_preflight_instead_of_skipping_every_step_green(tmp_path):
    evidence = Evidence(tmp_path, "unit")
    ctx = SimpleNamespace(rpc=SimpleNamespace(methods=frozenset()), evidence=evidence)
    report = {"steps": []}
    run_steps(ctx, [Step("chat-turn", ("chat.send",), lambda ctx, before: StepOutcome([], {}))], _Probe(1), report,
              StepPolicy(who="unit", title="unit", probe=lambda: _Probe(1), checks_after=lambda *a: []))
    evidence.close()
    assert report["steps"][0]["outcome"] == "skipped"
    assert not evidence.passed and evidence.first_failure.message().startswith("hello-ok lists the methods")


@pytest.mark.parametrize("error, blame", [
    (RpcError("chat.send", "session is locked", "SESSION_LOCKED", answered=True), "gateway"),
    (MalformedAnswer("sessions.list", "expected a list"), "gateway"),
    (RpcError("chat.send", "socket closed", "CLOSED"), "harness"),
    (KeyError("runId"), "harness")])
def test_a_step_broken_by_the_gateways_own_answer_is_its_finding_and_anything_else_the_harnesss(tmp_path, error, blame):
    evidence = Evidence(tmp_path, "unit")
    ctx = SimpleNamespace(rpc=SimpleNamespace(methods=frozenset({"chat.send"})), evidence=evidence)

    def breaks(ctx, before):
        raise error

    run_steps(ctx, [Step("chat-turn", ("chat.send",), breaks)], _Probe(1), {"steps": []},
              StepPolicy(who="unit", title="unit", probe=lambda: _Probe(1), checks_after=lambda *a: []))
    evidence.close()
    assert evidence.first_failure.blame == blame
    assert evidence.findings == (1 if blame == "gateway" else 0)


def test_a_sessions_list_answer_without_a_list_of_keyed_rows_is_the_gateways_malformed_answer():
    def answering(payload):
        return SimpleNamespace(call=lambda *args, **kwargs: payload)

    assert GatewayRpc.list_sessions(answering({"sessions": [{"key": "agent:main:main"}]})) == [{"key": "agent:main:main"}]
    for payload in ({"sessions": "agent:main:main"}, {"items": []}, [], {"sessions": [{"sessionId": "s"}]}):
        with pytest.raises(MalformedAnswer, match="sessions.list"):
            GatewayRpc.list_sessions(answering(payload))


def test_a_run_that_failed_on_harness_failures_only_exits_4_and_one_with_a_finding_exits_1(tmp_path):
    from path3_sandbox.errors import exit_for
    from path3_sandbox.proof.run import RunResult
    from path3_sandbox.proof.verdict import FixtureVerdict

    def verdict(*blames):
        return FixtureVerdict("f", not blames, None, None, 1.0, {}, tmp_path, {},
                              failures=tuple({"blame": b, "message": "m", "evidence": "e"} for b in blames))

    assert (exit_for(True), exit_for(False), exit_for(False, findings=False)) == (0, 1, 4)
    assert RunResult("r", tmp_path, (verdict(),)).exit_code == 0
    assert RunResult("r", tmp_path, (verdict("harness"), verdict())).exit_code == 4
    assert RunResult("r", tmp_path, (verdict("harness"), verdict("gateway"))).exit_code == 1
    assert RunResult("r", tmp_path, ()).exit_code == 1  # nothing proved is not a pass, and not the harness's alone
