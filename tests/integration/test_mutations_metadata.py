"""Prove the metadata checks compare values: a real 2026.9.6 import of real-7.35, then one entry tampered per case.

real-7.35's sessions.json was written by 2026.7.35 itself and carries the fields these checks are about (route,
deliveryContext, lastChannel, origin, skillsSnapshot with a prompt blob, systemPromptReport, compactionCheckpoints);
minimal has none of them. It has no createdBy, lastTo or pending reply: those fates are pinned in tests/unit/test_metadata.py.
The harness is tests/integration/mutants.py (a tamper on a copy of the imported volume, read back by the probes, held
to the proof's nothing-lost checks); real-7.35 is imported once per test session, for this module and the fates'.
The table below is the README's mutation table for this module.
"""

from __future__ import annotations

import json

import pytest

from path3_sandbox.proof import oracle

from .mutants import assert_red, KEY, nothing_lost_failures, read_copy

FIXTURE = "real-7.35"
# KEY (agent:main:main) is webchat-routed, compacted, with a skills snapshot whose prompt blob is seeded beside it.


def entry_edit(expression: str) -> str:
    """JavaScript for read_copy: rewrite KEY's entry_json with one SQLite JSON expression over it."""
    return f"db.exec(\"update session_nodes set entry_json={expression} where session_key='{KEY}'\")"


# tamper -> (the JavaScript applied to the copy, what the first failure names). Route 1: the import's fates.
IMPORT_TAMPERS = {
    "delivery emptied ({})": (entry_edit("json_set(entry_json, '$.delivery', json('{}'))"),
                              "deliveryContext: folded into delivery"),
    "delivery dropped": (entry_edit("json_remove(entry_json, '$.delivery')"), "lastChannel: folded into delivery"),
    "webchat route turned into an external telegram delivery": (
        entry_edit("json_set(entry_json, '$.delivery', json('{\\\"kind\\\":\\\"external\\\",\\\"route\\\":{\\\"channel\\\":"
                   "\\\"telegram\\\"},\\\"context\\\":{\\\"channel\\\":\\\"telegram\\\"},\\\"origin\\\":{\\\"provider\\\":"
                   "\\\"telegram\\\"}}'))"),
        "an internal route must become delivery {kind: internal}"),
    "skillsSnapshot dropped": (entry_edit("json_remove(entry_json, '$.skillsSnapshot')"), "skillsSnapshot: dropped"),
    "skillsSnapshot loses a skill (a moved field's value changed)": (
        entry_edit("json_remove(entry_json, '$.skillsSnapshot.skills[0]')"), "skillsSnapshot: changed"),
    "systemPromptReport's model changed": (
        entry_edit("json_set(entry_json, '$.systemPromptReport.model', 'tampered')"), "systemPromptReport: changed"),
    "a dropped field (sessionFile) kept with another value": (
        entry_edit("json_set(entry_json, '$.sessionFile', '/elsewhere.jsonl')"), "sessionFile: kept with another value"),
}
# Route 2: an entry the Gateway rewrote on a session's first turn; checked as if KEY had taken one.
TURN_TAMPERS = {
    "a turned session's model dropped": (entry_edit("json_remove(entry_json, '$.model')"), "model: dropped"),
    "a turned session's displayName changed": (
        entry_edit("json_set(entry_json, '$.displayName', 'tampered')"), "displayName: changed"),
    "a turned session's compactionCheckpoints dropped": (
        entry_edit("json_remove(entry_json, '$.compactionCheckpoints')"), "compactionCheckpoints: dropped"),
}


@pytest.fixture(scope="module")
def imported(imports):
    return imports(FIXTURE)


@pytest.fixture(scope="module")
def baseline(imported):
    """What the untampered import wrote: the rows a later turn is judged against."""
    after = read_copy(imported, None)[0]
    entry = after.session(KEY)[1]["entry"]
    print(f"\nIMPORTED {KEY}: keys {sorted(entry)}, delivery {json.dumps(entry.get('delivery'))}")
    return oracle.imported_rows(after, imported.fixture)


def test_the_untampered_real_import_keeps_every_legacy_field_value(imported, baseline):
    assert nothing_lost_failures(imported, None) == []


@pytest.mark.parametrize("case", list(IMPORT_TAMPERS))
def test_each_metadata_tamper_turns_the_verdict_red_naming_the_field(imported, case):
    script, names = IMPORT_TAMPERS[case]
    failures = nothing_lost_failures(imported, script)
    assert_red(case, failures, names)


@pytest.mark.parametrize("case", list(TURN_TAMPERS))
def test_a_turned_sessions_entry_may_not_lose_or_change_fields_a_turn_does_not_write(imported, baseline, case):
    script, names = TURN_TAMPERS[case]
    after = read_copy(imported, script)[0]
    verdict = oracle.imported_rows_unchanged(baseline, after, imported.fixture, turned={KEY}, when="after a turn")
    assert not verdict.passed, f"{case}: passed"
    assert names in verdict.observed[0], f"{case}: first failure {verdict.observed[0]!r} does not name {names!r}"
    print(f"\nMUTATION | {case} | {json.dumps(verdict.observed[0])[:300]}")
