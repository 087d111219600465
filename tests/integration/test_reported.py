"""One case of the reported-bug corpus in `make test` (the whole corpus: `make test-reported`): openclaw/openclaw#156382,
a user's recovery report of a state whose config enables the external `codex` plugin, on its fixing release (2026.9.6,
PR #153097): green, and green for the reason the fix gives: the Gateway says it keeps the inputs pending for codex,
and the oracle checked that it is exactly that plugin."""

from __future__ import annotations

import json
from pathlib import Path

from path3_sandbox.build.target import DEFAULT_SPEC
from path3_sandbox.cli import main
from path3_sandbox.reported.case import load_corpus

ISSUE = 156382


def test_a_reported_plugin_owned_state_is_green_on_its_fixing_release_with_the_plugin_kept_pending(default_image,
                                                                                                     tmp_path,
                                                                                                     monkeypatch):
    [case] = load_corpus(issues=[ISSUE])
    assert case.fixed_in == DEFAULT_SPEC, "the case must name the newest release as its fix"
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    code = main(["reported", str(ISSUE), "--release", DEFAULT_SPEC])
    [table] = (tmp_path / "artifacts" / "path3-reported").glob("*/reported.json")
    outcomes = json.loads(table.read_text())["outcomes"]
    assert code == 0, outcomes
    [outcome] = outcomes
    assert (outcome["expected"], outcome["observed"], outcome["ok"]) == ("green", "green", True)
    evidence = Path(outcome["evidence"])
    reports = json.loads((evidence / "gateway-reports.json").read_text())
    codes = [i["code"] for m in reports["manifests"] for t in m["targets"] for i in t["issues"]]
    assert codes == ["plugin_migration_source_retained"], codes  # the Gateway's own words, in its run manifest
    checks = [json.loads(line) for line in (evidence / "events.jsonl").read_text().splitlines()]
    pending = [c for c in checks if c.get("event") == "assertion" and c["assertion"].startswith(
        "the Gateway keeps session migration inputs pending for exactly the plugins")]
    assert [(c["outcome"], c["observed"]) for c in pending] == [("passed", ["codex"])]


def test_a_pull_requests_packed_build_is_held_against_the_newest_release_each_report_names(default_image, packed_release,
                                                                                          tmp_path, monkeypatch):
    """`reported --build <tgz>` as the example workflow runs it on a PR's build: #153791 (the user's doctor --fix
    first, on a deferred codex input with no verified source index) is red on 2026.9.6, so the build must still be red
    AND still say the symptom for the report to be 'still red' rather than fixed or another symptom."""
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    code = main(["reported", "153791", "--build", str(packed_release)])
    [written] = (tmp_path / "artifacts" / "path3-reported").glob("*/reported-build.json")
    result = json.loads(written.read_text())
    assert code == 0, result
    [outcome] = result["outcomes"]
    assert (outcome["baseline"]["release"], outcome["baseline"]["verdict"]) == ("2026.9.6", "red")
    assert (outcome["observed"], outcome["change"]) == ("red", "still red"), outcome
    assert set(outcome["said"]) == {"Doctor stopped because a state migration refused to continue",
                                    "Deferred plugin session inputs have no verified source index"}
    assert all(where.startswith("doctor-fix") for where in outcome["said"].values())  # the Gateway's doctor said it
