"""A recovery report from OpenClaw's tracker read back as posted, and the legacy state it implies: conservative, every
inference named, everything else said to be unknown."""

from __future__ import annotations

import json

import pytest

from path3_sandbox.paths import REPORTED_DIR
from path3_sandbox.errors import ReportError
from path3_sandbox.state.recovery_report import parse_report, skeleton
from path3_sandbox.state.userstate import infer_manifest

REPORTS = REPORTED_DIR  # fixtures/reported/<issue>/recovery-report.md

# issue -> (version, {agent: (issue count, listed codes, validation)}, plugins implied, active JSONL names)
POSTED = {
    "153079": ("2026.9.5", {"main": (297, ["plugin_migration_source_retained", "active_sqlite_transcript_jsonl"], "passed")},
               ["codex"], ["00522802-dcbd-4856-ae9f-5d55c649c5d8.jsonl"]),
    "155136": ("2026.9.5", {"devo": (0, [], "passed")}, [], []),
    "156060": ("2026.9.5", {"main": (6, ["plugin_migration_source_retained", "active_sqlite_transcript_jsonl"], "passed")},
               ["codex", "firecrawl", "llama-cpp", "lossless-claw", "openclaw-google-workspace"],
               ["1e4a685d-5fff-4f6e-9fbb-91e598df8748.jsonl"]),
    "156145": ("2026.9.5", {"main": (7, ["active_sqlite_transcript_jsonl"] * 2, "passed")}, [],
               ["1e4a685d-5fff-4f6e-9fbb-91e598df8748.jsonl", "61086f18-e864-46ad-8603-8028000cf8f6.jsonl"]),
    "156382": ("2026.9.5", {"machine": (3, ["active_sqlite_transcript_jsonl", "plugin_migration_source_retained"], "passed")},
               ["codex"], ["40a7c366-4102-46a5-8b6f-216100e9f571.jsonl"]),
    "156401": ("2026.9.5", {"main": (0, [], "not_run"), "bob": (0, [], "not_run"), "seraph": (0, [], "not_run")}, [], []),
}


def report(issue: str):
    return parse_report((REPORTS / str(issue) / "recovery-report.md").read_text(encoding="utf-8"))


def test_every_kept_report_names_its_issue_url_first():
    kept = sorted(p.parent.name for p in REPORTS.glob("*/recovery-report.md"))
    assert kept == sorted(POSTED) and len(kept) >= 4
    for issue in kept:
        first = (REPORTS / str(issue) / "recovery-report.md").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"<!-- https://github.com/openclaw/openclaw/issues/{issue} ") and first.endswith("-->")


@pytest.mark.parametrize("issue", sorted(POSTED))
def test_a_real_report_parses_as_posted_with_nothing_left_unread(issue):
    version, agents, _, _ = POSTED[issue]
    parsed = report(issue)
    assert parsed.version == version and parsed.run.startswith("session-sqlite-") and parsed.restore_status == "noop"
    assert parsed.recovery_command == "openclaw doctor --session-sqlite recover --github-issue"
    assert {t.agent: (t.issue_count, [i.code for i in t.issues], t.validation) for t in parsed.targets} == agents
    for target in parsed.targets:
        assert target.store == f"~/.openclaw/agents/{target.agent}/sessions/sessions.json"
        assert target.sqlite == f"~/.openclaw/agents/{target.agent}/agent/openclaw-agent.sqlite"
        assert (target.planned_moves, target.completed_moves) == (0, 0)
        assert all(i.session_key is None or i.session_key.startswith("[redacted-session-key:") for i in target.issues)
    assert parsed.unparsed == ()


@pytest.mark.parametrize("issue", sorted(POSTED))
def test_the_skeleton_has_the_agents_stores_plugins_and_active_jsonl_the_report_implies(issue, tmp_path):
    _, agents, plugins, active = POSTED[issue]
    files, manifest, cannot_infer = skeleton(report(issue))
    assert sorted(manifest["agents"]) == sorted(agents) and manifest["plugins"] == plugins
    for agent in agents:
        store = json.loads(files[f"agents/{agent}/sessions/sessions.json"])
        assert store and all(files.get(f"agents/{agent}/sessions/{e['sessionFile']}") for e in store.values())
    for name in active:
        assert any(path.endswith(f"/sessions/{name}") for path in files)
    if plugins:
        assert json.loads(files["openclaw.json"]) == {"plugins": {"entries": {p: {"enabled": True} for p in plugins}}}
    else:
        assert "openclaw.json" not in files
    assert not any(path.endswith((".sqlite", ".sqlite-wal", ".sqlite-shm")) for path in files)  # never fabricated
    assert cannot_infer and all(manifest["inferred"])
    for relpath, data in files.items():  # what the repro path then reads as a fixture
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_bytes(data)
    inferred = infer_manifest(tmp_path, issue, catches="", origin="a recovery report")
    assert sorted(inferred["agents"]) == sorted(agents) and inferred["expected_warnings"] == []


def test_what_a_report_leaves_out_is_said_not_invented():
    _, _, cannot_infer = skeleton(report("153079"))
    said = "\n".join(cannot_infer)
    assert "counts 297 issue(s) and lists 2" in said  # doctor lists ten at most, this copy fewer
    assert "openclaw-agent.sqlite held the imported sessions" in said and "not fabricated" in said
    assert "plugins.entries.<id>.config" in said and "pending plugin migrations" in said
    _, manifest, cannot_infer = skeleton(report("156401"))
    assert all(s["synthetic"] for a in manifest["agents"].values() for s in a["sessions"].values())
    assert "may or may not have existed" in "\n".join(cannot_infer)


def test_an_unknown_line_or_code_is_kept_and_named_not_dropped():
    text = (REPORTS / "155136" / "recovery-report.md").read_text(encoding="utf-8").replace(
        "- Issues: 0", "- Issues: 2\n  - [historical_transcript_deferred] ~/.openclaw/agents/devo/sessions/x.jsonl: Error\n"
                       "  - [brand_new_code] something\n- Platform: Linux x64")
    parsed = parse_report(text)
    assert [i.code for i in parsed.targets[0].issues] == ["historical_transcript_deferred", "brand_new_code"]
    assert len(parsed.unparsed) == 1 and "Platform: Linux x64" in parsed.unparsed[0]
    _, manifest, cannot_infer = skeleton(parsed)
    said = "\n".join(cannot_infer)
    assert "[historical_transcript_deferred] has no rule" in said and "[brand_new_code] has no rule" in said
    assert "1 line(s) the recovery report format does not have" in said and manifest["unparsed"] == list(parsed.unparsed)


def test_a_store_outside_the_default_layout_and_an_unsafe_agent_name_are_named():
    text = (REPORTS / "156401" / "recovery-report.md").read_text(encoding="utf-8")
    text = text.replace("~/.openclaw/agents/bob/sessions/sessions.json", "/srv/custom/bob-sessions.json")
    text = text.replace("### seraph", "### ../../etc").replace("agents/seraph/", "agents/../../etc/")
    files, manifest, cannot_infer = skeleton(parse_report(text))
    assert sorted(manifest["agents"]) == ["bob", "main"] and "agents/bob/sessions/sessions.json" in files
    said = "\n".join(cannot_infer)
    assert "custom session.store" in said and "agent left out" in said
    assert not any(".." in path for path in files)


@pytest.mark.parametrize("text", ["", "# Hello\n\nJust a bug report.\n", "- Store: ~/.openclaw/agents/main/sessions/sessions.json\n"])
def test_text_that_is_not_a_recovery_report_is_refused_naming_what_was_expected(text):
    with pytest.raises(ReportError, match="OpenClaw version") as refused:
        parse_report(text, source="bad.md")
    assert "bad.md" in str(refused.value) and "--github-issue" in str(refused.value)


def test_a_hand_edited_version_line_is_read_like_openclaw_version_prints_it():
    text = (REPORTS / "155136" / "recovery-report.md").read_text(encoding="utf-8").replace("version: 2026.9.5", "version: 2026.9.5 (ec9c1a1)")
    assert parse_report(text).version == "2026.9.5"
