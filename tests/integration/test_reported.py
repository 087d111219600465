"""One case of the reported-bug corpus in `make test` (the whole corpus: `make test-reported`): openclaw/openclaw#156382,
a user's recovery report of a state whose config enables the external `codex` plugin, on the newest release. The
real Gateway must show the reported symptom itself, and the corpus run must say so in its table."""

from __future__ import annotations

import json

from path3_sandbox.build.target import DEFAULT_SPEC
from path3_sandbox.cli import main
from path3_sandbox.reported.case import load_corpus

ISSUE = 156382


def test_a_reported_plugin_owned_state_is_red_on_the_newest_release_with_the_reported_code(default_image, tmp_path,
                                                                                            monkeypatch):
    [case] = load_corpus(issues=[ISSUE])
    assert any(e.release == DEFAULT_SPEC for e in case.expect), "the case must name the newest release"
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    code = main(["reported", str(ISSUE), "--release", DEFAULT_SPEC])
    [table] = (tmp_path / "artifacts" / "path3-reported").glob("*/reported.json")
    outcomes = json.loads(table.read_text())["outcomes"]
    assert code == 0, outcomes
    [outcome] = outcomes
    assert outcome["observed"] == "red" and outcome["ok"]
    assert set(outcome["said"]) == {"plugin_migration_source_retained"}
    # said by the Gateway itself (its validate/inspect output, its import report or its log), not only our finding
    assert not outcome["said"]["plugin_migration_source_retained"].startswith("finding")
