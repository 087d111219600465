"""`--doctor-first`: the user runs `openclaw doctor --fix` on the stopped state before the first start (as
`openclaw update` does); the proof makes that move first and judges the start after it, with Docker faked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import path3_sandbox.proof.proof as proof
from path3_sandbox.containers.gateway import ExecResult
from path3_sandbox.proof.contracts import StartKind
from path3_sandbox.report.evidence import Assertion


class FakeStarts:
    """The user's moves, recorded in order; doctor exits as told, every start comes up having imported."""

    def __init__(self, doctor_exit: int) -> None:
        self.moves: list[str] = []
        self.doctor_exit = doctor_exit

    def doctor_fix(self) -> ExecResult:
        self.moves.append("doctor")
        return ExecResult(["openclaw", "doctor", "--fix"], self.doctor_exit, "Doctor stopped because …", 8.0)

    def start(self) -> StartKind:
        self.moves.append("start")
        return StartKind("imported", None, 10.0, 1, 3)


def _proof(tmp_path, monkeypatch, doctor_exit: int) -> tuple[proof.FixtureProof, FakeStarts]:
    starts = FakeStarts(doctor_exit)
    monkeypatch.setattr(proof, "Starts", lambda gateway: starts)
    monkeypatch.setattr(proof.files_probe, "snapshot", lambda runner: SimpleNamespace(files={}))
    monkeypatch.setattr(proof.files_probe, "read_texts", lambda runner, *patterns: {})
    monkeypatch.setattr(proof.sqlite_probe, "snapshot", lambda runner, full=True: SimpleNamespace(to_json=dict))
    monkeypatch.setattr(proof.oracle, "no_session_state_before", lambda before, fixture: Assertion("none", True, 0, 0))
    fixture = SimpleNamespace(name="f", log_allowlist=(), outcome_for=lambda contract: "doctor")
    run = proof.FixtureProof(SimpleNamespace(tag="gw"), fixture, SimpleNamespace(contract="refuse-then-doctor"),
                             SimpleNamespace(run_id="r"), tmp_path / "evidence", doctor_first=True)
    monkeypatch.setattr(run, "_seed", lambda: SimpleNamespace(files=[]))
    monkeypatch.setattr(run, "_nothing_lost", lambda inventory, output: run.evidence.event("nothing-lost", "reached"))
    monkeypatch.setattr(run, "_health", lambda: None)
    monkeypatch.setattr(run, "_diagnostics", lambda: None)
    run.gateway = SimpleNamespace(logs=lambda: "")
    return run, starts


def test_a_failing_doctor_ends_the_proof_before_any_start_and_is_the_gateways_finding(tmp_path, monkeypatch):
    run, starts = _proof(tmp_path, monkeypatch, doctor_exit=1)
    run._run()
    assert starts.moves == ["doctor"]
    failure = run.evidence.first_failure
    assert failure in run.evidence.by_phase["doctor"] and failure.blame == "gateway"
    assert failure.name == "openclaw doctor --fix --non-interactive succeeded"
    assert (tmp_path / "evidence" / "doctor-fix.log").read_text() == "Doctor stopped because …"


def test_after_a_clean_doctor_the_first_start_must_come_up_whatever_the_contract(tmp_path, monkeypatch):
    run, starts = _proof(tmp_path, monkeypatch, doctor_exit=0)
    run._run()
    assert starts.moves == ["doctor", "start"]  # no refusal expected: doctor already ran
    assert run.evidence.first_failure is None
    assert run.observed_contract == "startup-import"


@pytest.mark.parametrize("kind", ["refused", "crashed", "hung"])
def test_a_start_that_does_not_come_up_after_doctor_is_a_finding(tmp_path, monkeypatch, kind):
    run, starts = _proof(tmp_path, monkeypatch, doctor_exit=0)
    starts.start = lambda: StartKind(kind, 78, 5.0, message="Deferred plugin session inputs have no verified source")
    run._run()
    failure = run.evidence.first_failure
    assert failure in run.evidence.by_phase["first-start"] and failure.name == "the Gateway started after doctor --fix"
