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
