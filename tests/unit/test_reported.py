"""The reported-bug corpus: every committed case is well formed, a bad report.json is refused naming its field, and a
release is judged by the reported symptom in the Gateway's own output, not by any red."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_HARNESS, EXIT_PROOF_FAILED, EXIT_PROOF_PASSED, FixtureError
from path3_sandbox.paths import REPORTED_DIR
from path3_sandbox.proof.verdict import FixtureVerdict
from path3_sandbox.reported.case import GREEN, RED, Expectation, ReportedCase, load_corpus
from path3_sandbox.reported.judge import HARNESS, judge
from path3_sandbox.reported.run import exit_code, table

CODE = "plugin_migration_source_retained"


def test_every_committed_case_loads_and_each_reproduced_one_is_expected_red_on_its_reported_release():
    cases = load_corpus()
    assert len(cases) >= 6
    for case in cases:
        assert case.link.endswith(f"/issues/{case.issue}") and case.symptom
        if case.reproduced:
            reported = next(e for e in case.expect if e.release == case.reported_on)
            assert reported.verdict == RED and reported.names
        else:
            assert case.missing and not case.expect  # never run, so never green


def _case(tmp_path: Path, **changes) -> Path:
    folder = tmp_path / "153791"
    folder.mkdir(exist_ok=True)
    (folder / "recovery-report.md").write_text("report")
    data = {"issue": 153791, "link": "https://github.com/openclaw/openclaw/issues/153791", "title": "t",
            "symptom": "doctor --fix exits 1", "reported_on": "2026.9.5", "fixed_in": "2026.9.6", "fix": "PR #153097",
            "status": "reproduced", "reproduce": {"from_report": "recovery-report.md"},
            "expect": {"2026.9.5": {"verdict": "red", "names": [CODE]}, "2026.9.6": {"verdict": "green"}}}
    data.update(changes)
    (folder / "report.json").write_text(json.dumps({k: v for k, v in data.items() if v != "DROP"}))
    return folder


def test_a_well_formed_case_loads(tmp_path):
    case = ReportedCase.load(_case(tmp_path))
    assert (case.issue, case.how, case.fixed_in) == (153791, "from_report", "2026.9.6")
    assert [e.verdict for e in case.expect] == [RED, GREEN]


def test_a_case_run_the_users_doctor_first_asks_its_proof_for_it(tmp_path):
    case = ReportedCase.load(_case(tmp_path, first_start_only=True, doctor_first=True))
    assert case.proof_options() == ["--first-start-only", "--doctor-first"]
    (tmp_path / "plain").mkdir()
    assert ReportedCase.load(_case(tmp_path / "plain")).proof_options() == []
    from path3_sandbox.cli import parser

    for command in (["repro", "state"], ["prove"]):  # the options the runner passes exist on both commands
        args = parser().parse_args([*command, *case.proof_options()])
        assert (args.first_start_only, args.doctor_first) == (True, True)


BAD = {
    "another issue's number": ({"issue": 1}, "issue: 1 must be the folder's number"),
    "a link elsewhere": ({"link": "https://example.com/x"}, "link:"),
    "an unknown status": ({"status": "fixed"}, "status:"),
    "not reproduced without what is missing": ({"status": "not-reproduced"}, "missing: a non-empty string"),
    "the reported release expected green": ({"expect": {"2026.9.5": {"verdict": "green"}}},
                                            "the reported release 2026.9.5 must be expected red"),
    "a fixing release expected red": ({"expect": {"2026.9.5": {"verdict": "red", "names": [CODE]},
                                                  "2026.9.6": {"verdict": "red", "names": [CODE]}}},
                                      "the fixing release 2026.9.6 must be expected green"),
    "a red that names no symptom": ({"expect": {"2026.9.5": {"verdict": "red"}, "2026.9.6": {"verdict": "green"}}},
                                    "a red expectation must name the symptom"),
    "a source outside the case": ({"reproduce": {"from_report": "../../etc/passwd"}}, "must name a file or folder inside"),
    "no way to reproduce": ({"reproduce": {}}, "must name a file or folder inside"),
    "a release that is not one": ({"reported_on": "latest"}, "reported_on: 'latest' is not a release"),
    "a flag that is not a boolean": ({"doctor_first": "yes"}, "doctor_first: 'yes' must be true or false"),
    "doctor first on a path": ({"reproduce": {"path": ["2026.7.35", "{release}"]}, "doctor_first": True},
                               "a path says where the user runs doctor with an @doctor-fix hop"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_report_json_is_refused_naming_its_field(tmp_path, name):
    changes, message = BAD[name]
    with pytest.raises(FixtureError, match="not a valid reported case") as raised:
        ReportedCase.load(_case(tmp_path, **changes))
    assert message in str(raised.value) and "fixtures/reported/README.md" in str(raised.value)


def _verdict(tmp_path: Path, *, passed: bool, blame: str = "gateway", files: dict[str, str] | None = None,
             message: str = "import warnings are exactly the expected ones") -> FixtureVerdict:
    evidence = tmp_path / "evidence"
    for name, text in (files or {}).items():
        (evidence / name).parent.mkdir(parents=True, exist_ok=True)
        (evidence / name).write_text(text)
    evidence.mkdir(exist_ok=True)
    failures = () if passed else ({"blame": blame, "message": message, "evidence": "events.jsonl:3"},)
    return FixtureVerdict("repro-x", passed, None if passed else f"[{blame}] {message}", "startup-import", 1.0, {},
                          evidence, {}, failures=failures)


RED_ON_95 = Expectation("2026.9.5", RED, (CODE,))


def test_red_holds_when_the_gateway_itself_says_the_reported_symptom(tmp_path):
    verdict = _verdict(tmp_path, passed=False, files={"doctor-fix.log": f"… [{CODE}] Install the plugin …"})
    outcome = judge(153791, RED_ON_95, verdict, 3.0)
    assert outcome.ok and outcome.said == {CODE: "doctor-fix.log"}


def test_a_red_that_never_says_the_symptom_is_not_the_reported_bug(tmp_path):
    verdict = _verdict(tmp_path, passed=False, files={"doctor-fix.log": "Doctor complete."})
    outcome = judge(153791, RED_ON_95, verdict, 3.0)
    assert not outcome.ok and outcome.unsaid == (CODE,) and "not the reported symptom" in outcome.line()


def test_the_symptom_in_the_state_we_seeded_is_not_the_gateway_saying_it(tmp_path):
    # the seeded config and our own command list are in the evidence too: neither is the Gateway's output
    verdict = _verdict(tmp_path, passed=False, files={"state/openclaw.json": CODE, "commands.json": CODE,
                                                      "seed.json": CODE})
    assert judge(153791, RED_ON_95, verdict, 3.0).unsaid == (CODE,)


def test_a_finding_that_quotes_the_gateways_code_counts_when_its_output_was_not_kept(tmp_path):
    verdict = _verdict(tmp_path, passed=False, message=f"import warnings: expected [], observed [\"{CODE}\"]")
    assert judge(153791, RED_ON_95, verdict, 3.0).said == {CODE: "finding (events.jsonl:3)"}


def test_green_where_red_was_reported_is_a_reproduction_lost(tmp_path):
    outcome = judge(153791, RED_ON_95, _verdict(tmp_path, passed=True), 3.0)
    assert (outcome.observed, outcome.ok) == (GREEN, False)
    assert exit_code([outcome]) == EXIT_PROOF_FAILED


def test_red_where_the_fix_should_be_green_is_a_regression(tmp_path):
    verdict = _verdict(tmp_path, passed=False, files={"doctor-fix.log": CODE})
    outcome = judge(153791, Expectation("2026.9.6", GREEN), verdict, 3.0)
    assert (outcome.observed, outcome.ok) == (RED, False) and "expected green" in outcome.line()


def test_harness_failures_alone_judge_nothing(tmp_path):
    outcome = judge(153791, RED_ON_95, _verdict(tmp_path, passed=False, blame="harness"), 3.0)
    assert (outcome.observed, outcome.ok) == (HARNESS, False)
    assert exit_code([outcome]) == EXIT_HARNESS
    assert exit_code([]) == EXIT_PROOF_PASSED


def test_the_table_lists_a_case_not_reproduced_with_what_is_missing(tmp_path):
    folder = _case(tmp_path, status="not-reproduced", missing="an interrupted openclaw update", expect={})
    text = table([ReportedCase.load(folder)], [])
    assert "**not reproduced** (an interrupted openclaw update)" in text


def test_reported_list_needs_no_docker_and_an_unknown_issue_is_bad_input(capsys):
    assert main(["reported", "--list"]) == 0
    assert "#156382" in capsys.readouterr().out
    assert main(["reported", "999999"]) == 2
    assert "no reported case for issue(s) 999999" in capsys.readouterr().err
    assert main(["reported", "--release", "bad tag!"]) == 2
    assert REPORTED_DIR.is_dir()
