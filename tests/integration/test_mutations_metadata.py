"""Prove the metadata checks compare values: a real 2026.9.6 import of real-7.35, then one entry tampered per case.

real-7.35's sessions.json was written by 2026.7.35 itself and carries the fields these checks are about (route,
deliveryContext, lastChannel, origin, skillsSnapshot with a prompt blob, systemPromptReport, compactionCheckpoints);
minimal has none of them. It has no createdBy, lastTo or pending reply: those fates are pinned in tests/unit/test_metadata.py.
The harness is test_mutations.py's (read_copy: a tamper on a copy of the imported volume, read back by the probes).
The table below is the README's mutation table for this module.
"""

from __future__ import annotations

import json
import secrets

import pytest

from path3_sandbox.containers.gateway import Gateway
from path3_sandbox.containers.resources import RunResources, new_run_id
from path3_sandbox.containers.volumes import put_files
from path3_sandbox.proof import oracle
from path3_sandbox.state.config import harness_config
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.state.seeding import build_seed
from tests.integration.test_mutations import read_copy

FIXTURE = "real-7.35"
KEY = "agent:main:main"  # webchat-routed, compacted, with a skills snapshot whose prompt blob is seeded beside it


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
def imported(docker_client, default_image):
    """real-7.35 imported by 2026.9.6 at first start, stopped cleanly, on a volume; plus what was seeded."""
    fixture = resolve_fixture(FIXTURE)
    token = secrets.token_hex(16)
    seed = build_seed(fixture, harness_config(token))
    inventory = build_inventory(seed.as_inventory_input())
    with RunResources(docker_client, new_run_id()) as resources:
        volume = resources.volume("state-mutations-metadata")
        put_files(resources, default_image.tag, volume, list(seed.files))
        gateway = Gateway(resources, default_image.tag, volume, token, name=f"path3-{resources.run_id}-mutmeta")
        assert gateway.start().outcome == "ready", gateway.logs()[-2000:]
        gateway.stop()
        yield fixture, inventory, docker_client, default_image.tag, volume, resources


@pytest.fixture(scope="module")
def baseline(imported):
    """What the untampered import wrote: the rows a later turn is judged against."""
    after, _ = read_copy(imported, None)
    entry = after.session(KEY)[1]["entry"]
    print(f"\nIMPORTED {KEY}: keys {sorted(entry)}, delivery {json.dumps(entry.get('delivery'))}")
    return oracle.imported_rows(after, imported[0])


def metadata_failures(imported, tamper: str | None) -> list:
    """The session, entry and event checks (not files_accounted: this harness reads no content of real-7.35's
    pre-existing state/openclaw.sqlite, so its migration is 'content not read' here; the proof reads it)."""
    fixture, inventory, *_ = imported
    after, _ = read_copy(imported, tamper)
    checks = (oracle.sessions_present(fixture, after) + oracle.legacy_entries_covered(inventory, after, fixture)
              + oracle.metadata_kept(inventory, after, fixture)[0] + oracle.events_kept(fixture, inventory, after)[0]
              + oracle.integrity_ok(after))
    return [a for a in checks if a.outcome == "failed"]


def test_the_untampered_real_import_keeps_every_legacy_field_value(imported, baseline):
    assert metadata_failures(imported, None) == []


@pytest.mark.parametrize("case", list(IMPORT_TAMPERS))
def test_each_metadata_tamper_turns_the_verdict_red_naming_the_field(imported, case):
    script, names = IMPORT_TAMPERS[case]
    failures = metadata_failures(imported, script)
    assert failures, f"{case}: no check failed"
    assert names in failures[0].message(), f"{case}: first failure {failures[0].message()!r} does not name {names!r}"
    assert failures[0].blame == "gateway"
    print(f"\nMUTATION | {case} | {failures[0].detail[:300] or failures[0].message()[:300]}")


@pytest.mark.parametrize("case", list(TURN_TAMPERS))
def test_a_turned_sessions_entry_may_not_lose_or_change_fields_a_turn_does_not_write(imported, baseline, case):
    script, names = TURN_TAMPERS[case]
    after, _ = read_copy(imported, script)
    verdict = oracle.imported_rows_unchanged(baseline, after, imported[0], turned={KEY}, when="after a turn")
    assert not verdict.passed, f"{case}: passed"
    assert names in verdict.observed[0], f"{case}: first failure {verdict.observed[0]!r} does not name {names!r}"
    print(f"\nMUTATION | {case} | {json.dumps(verdict.observed[0])[:300]}")
