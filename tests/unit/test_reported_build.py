"""`reported --build SPEC`: each reproduced report on one build (a pull request's tarball), held against what it
expects of the newest release it names: fixed, regressed, still red (the symptom still said), red with another
symptom, still green, not judged."""

from __future__ import annotations

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_HARNESS, EXIT_PROOF_FAILED, EXIT_PROOF_PASSED, EXIT_USAGE
from path3_sandbox.reported import build
from path3_sandbox.reported.case import GREEN, RED, Expectation, ReportedCase
from path3_sandbox.reported.judge import HARNESS, Outcome
from tests.unit.test_reported import CODE, _case


def outcome(tmp_path, baseline: Expectation, observed: str, *, said: bool = True) -> build.BuildOutcome:
    case = ReportedCase.load(_case(tmp_path))
    unsaid = () if said or observed != RED or baseline.verdict != RED else baseline.names
    return build.BuildOutcome(case, baseline, Outcome(case.issue, "2026.9.7 (pr.tgz)", baseline.verdict, observed, 1.0,
                                                      "evidence", None, {}, unsaid))


RED_96, GREEN_96 = Expectation("2026.9.6", RED, (CODE,)), Expectation("2026.9.6", GREEN)


@pytest.mark.parametrize("base, observed, said, change", [
    (RED_96, GREEN, True, build.FIXED),
    (GREEN_96, RED, True, build.REGRESSED),
    (RED_96, RED, True, build.STILL_RED),
    (RED_96, RED, False, build.OTHER_RED),
    (GREEN_96, GREEN, True, build.STILL_GREEN),
    (GREEN_96, HARNESS, True, build.NOT_JUDGED),
])
def test_each_report_says_what_the_build_changed_against_its_newest_release(tmp_path, base, observed, said, change):
    assert outcome(tmp_path, base, observed, said=said).change == change


def test_a_regression_fails_the_run_and_a_report_nobody_judged_is_not_a_pass(tmp_path):
    fixed, regressed = outcome(tmp_path, RED_96, GREEN), outcome(tmp_path, GREEN_96, RED)
    unjudged = outcome(tmp_path, GREEN_96, HARNESS)
    assert build.exit_code([fixed]) == EXIT_PROOF_PASSED
    assert build.exit_code([fixed, regressed, unjudged]) == EXIT_PROOF_FAILED
    assert build.exit_code([fixed, unjudged]) == EXIT_HARNESS
    assert "🟢 fixed" in build.table("2026.9.7", [fixed]) and "🔴 regressed" in build.table("2026.9.7", [regressed])


def test_the_baseline_is_what_the_case_expects_of_the_newest_release_it_names(tmp_path):
    case = ReportedCase.load(_case(tmp_path))  # 2026.9.5 red, 2026.9.6 green
    assert build.baseline(case) == Expectation("2026.9.6", GREEN)


@pytest.mark.parametrize("argv, says", [
    (["reported", "--build", "2026.9.6", "--release", "2026.9.5"], "give one of them"),
    (["reported", "--contract", "startup-import"], "--contract is for a build"),
    (["reported", "--build", "./no-such-openclaw.tgz"], "does not exist"),
])
def test_bad_build_options_are_exit_2_before_docker(argv, says, capsys):
    assert main(argv) == EXIT_USAGE
    assert says in capsys.readouterr().err


def test_a_path_that_installs_a_release_in_place_is_skipped_on_a_tarball_saying_why(tmp_path):
    """#154679's path is `2026.7.35 @openclaw-update={release}`: the updater installs from the registry, so a PR's
    tarball cannot take the release's place; the case is skipped with the planner's reason, never run or passed."""
    folder = _case(tmp_path, reproduce={"path": ["2026.7.35", "@openclaw-update={release},as-user"]},
                   expect={"2026.9.5": {"verdict": "red", "names": [CODE]}, "2026.9.6": {"verdict": "green"}})
    case = ReportedCase.load(folder)
    tgz = str(tmp_path / "openclaw-2026.9.7.tgz")
    why = build.cannot_run(case, tgz, None)
    assert why and "its path does not take this build" in why
    skipped = build.run_on_build(case, tgz, "2026.9.7 (pr.tgz)", tmp_path / "run")  # no Docker: it never runs
    assert (skipped.change, skipped.run.first_failure) == (build.SKIPPED, why)
    assert build.exit_code([skipped]) == EXIT_PROOF_PASSED and "skipped: its path" in skipped.run.line()
    (tmp_path / "other").mkdir()
    assert build.cannot_run(ReportedCase.load(_case(tmp_path / "other")), tgz, None) is None  # a state runs anywhere


def test_the_build_run_gets_the_base_image_asked_for_and_is_judged_against_the_newest_release(tmp_path, monkeypatch):
    """The CI run of 116afc2 caught `base` (the base image) shadowed by the baseline: an Expectation in the argv."""
    import path3_sandbox.reported.run as run
    from path3_sandbox.reported.judge import Observation

    seen = {}

    def observe(case, release, folder, options):
        seen.update(release=release, options=options)
        return Observation(False, ({"blame": "gateway", "message": f"[{CODE}] kept"},), tmp_path)

    monkeypatch.setattr(run, "observe", observe)
    case = ReportedCase.load(_case(tmp_path, expect={"2026.9.5": {"verdict": "red", "names": [CODE]},
                                                     "2026.9.6": {"verdict": "green"}}))
    outcome = build.run_on_build(case, "./pr.tgz", "pr", tmp_path / "run", base="node:24-custom", contract="startup-import")
    assert seen["release"] == "./pr.tgz" and all(isinstance(o, str) for o in seen["options"])
    assert seen["options"][seen["options"].index("--base") + 1] == "node:24-custom"
    assert seen["options"][seen["options"].index("--contract") + 1] == "startup-import"
    assert (outcome.baseline.release, outcome.change) == ("2026.9.6", build.REGRESSED)
