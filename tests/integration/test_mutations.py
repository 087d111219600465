"""Prove the checks can fail: a real 2026.9.6 import, then SQLite and the state tampered, once per case.

The state a real Gateway imported is copied inside a one-off container on its volume, one tamper is
applied to the copy (node:sqlite, writable), and the same probes the proof uses read it back. The
untampered copy must pass every nothing-lost check; each tampered one must fail, naming what was hit.
The table below is the README's mutation table.
"""

from __future__ import annotations

import json
import secrets

import pytest

from path3_sandbox.proof import fates, oracle
from path3_sandbox.state.config import STATE_DIR, harness_config
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.containers.gateway import Gateway
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.probes import files as files_probe
from path3_sandbox.probes import sqlite as sqlite_probe
from path3_sandbox.containers.resources import RunResources, new_run_id
from path3_sandbox.state.seeding import build_seed
from path3_sandbox.containers.volumes import put_files

FIXTURE = "minimal"
KEY = "agent:main:main"
SID = "1174b3f9-522e-5ab0-8002-2036d072c238"
DB = "agents/main/agent/openclaw-agent.sqlite"

# tamper -> the JavaScript applied to the copy (root in R, the agent DB open as db), and what the first failure names.
TAMPERS = {
    "delete one event": (f"db.exec(\"delete from transcript_events where session_id='{SID}' and seq=2\")", SID),
    "swap two events' order": (
        f"db.exec(\"update transcript_events set seq=-1 where session_id='{SID}' and seq=1\");"
        f"db.exec(\"update transcript_events set seq=1 where session_id='{SID}' and seq=2\");"
        f"db.exec(\"update transcript_events set seq=2 where session_id='{SID}' and seq=-1\")", SID),
    "change one byte of one event's content": (
        f"db.exec(\"update transcript_events set event_json=replace(event_json, 'release notes', 'release notez') "
        f"where session_id='{SID}' and seq=1\")", SID),
    "drop one metadata field": (
        f"db.exec(\"update session_nodes set entry_json=json_remove(entry_json, '$.model') where session_key='{KEY}'\")",
        "model: dropped"),
    "flip archived": (f"db.exec(\"update session_nodes set archived_at=1 where session_key='{KEY}'\")", KEY),
    "delete one identity row": (
        f"db.exec(\"delete from transcript_event_identities where session_id='{SID}' and seq=1\")", "identities"),
    "delete one archived legacy file": (
        "const dir = path.join(R, 'agents/main/session-sqlite-import-archive');"
        f"fs.unlinkSync(path.join(dir, fs.readdirSync(dir).find(n => n.includes('{SID}'))))", f"{SID}.jsonl"),
    "add one unexplained event": (
        f"const row = db.prepare(\"select * from transcript_events where session_id='{SID}' order by seq desc limit 1\").get();"
        "row.seq += 1; row.event_json = JSON.stringify({type: 'message', id: 'path3-mutant', message: {role: 'user', content: 'x'}});"
        "if ('event_zstd' in row) row.event_zstd = null;"
        "const cols = Object.keys(row);"
        "db.prepare(`insert into transcript_events (${cols.join(',')}) values (${cols.map(() => '?').join(',')})`).run(...Object.values(row))",
        "unexplained event"),
    # minimal's transcripts are v3 with no compaction: a nulled chain is a content change there (v1's synthetic-id
    # chain rule is unit-tested in test_oracle.py), and a firstKeptEntryId tamper has no compaction to hit.
    "null every parentId of a session": (
        f"db.exec(\"update transcript_events set event_json=json_set(event_json, '$.parentId', json('null')) "
        f"where session_id='{SID}' and json_extract(event_json, '$.parentId') is not null\")", SID),
    "change a label": (
        f"db.exec(\"update session_nodes set entry_json=json_set(entry_json, '$.label', 'tampered') where session_key='{KEY}'\")",
        "label: changed"),
}

TAMPER_SCRIPT = r"""
const {DatabaseSync} = require('node:sqlite'); const fs = require('fs'), path = require('path');
const R = process.argv[1]; const db = new DatabaseSync(path.join(R, process.argv[2]));
db.exec('PRAGMA foreign_keys=OFF');  // a tamper goes around the schema's own guards, as a buggy importer might
eval(process.env.TAMPER); db.close();
"""


@pytest.fixture(scope="module")
def imported(docker_client, default_image):
    """A state that 2026.9.6 imported at first start, stopped cleanly, on a volume; plus what was seeded."""
    fixture = resolve_fixture(FIXTURE)
    token = secrets.token_hex(16)
    seed = build_seed(fixture, harness_config(token))
    inventory = build_inventory(seed.as_inventory_input())
    with RunResources(docker_client, new_run_id()) as resources:
        volume = resources.volume("state-mutations")
        put_files(resources, default_image.tag, volume, list(seed.files))
        gateway = Gateway(resources, default_image.tag, volume, token, name=f"path3-{resources.run_id}-mut")
        assert gateway.start().outcome == "ready", gateway.logs()[-2000:]
        gateway.stop()
        yield fixture, inventory, docker_client, default_image.tag, volume, resources


def read_copy(imported, tamper: str | None):
    """The probes' view of a tampered copy of the imported state (the volume itself is never changed)."""
    fixture, inventory, client, image, volume, resources = imported
    steps = ['cp -a "$STATE" /tmp/m']
    if tamper:
        steps.append(f'node -e "$TAMPER_SCRIPT" /tmp/m {DB}')
    steps += ['node -e "$SQLITE" /tmp/m full', 'node -e "$FILES" /tmp/m']
    helper = resources.container(f"path3-{resources.run_id}-mutant-{len(resources.containers)}", "oneoff", image,
                                 ["sh", "-ec", " && ".join(steps)], state_volume=volume)
    helper.with_envs(STATE=STATE_DIR, TAMPER=tamper or "", TAMPER_SCRIPT=TAMPER_SCRIPT, SQLITE=sqlite_probe.SCRIPT,
                     FILES=files_probe.SCRIPT)
    try:
        container = helper.start().get_wrapped_container()
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode(errors="replace")[-2000:]
        output = container.logs(stdout=True, stderr=False).decode()
    finally:
        helper.stop()
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return sqlite_probe.parse_snapshot(documents[0]), files_probe.parse_snapshot(documents[1])


def nothing_lost_failures(imported, tamper: str | None) -> list:
    fixture, inventory, *_ = imported
    after, after_files = read_copy(imported, tamper)
    checks = (oracle.sessions_present(fixture, after) + oracle.legacy_entries_covered(inventory, after, fixture)
              + oracle.metadata_kept(inventory, after, fixture)[0] + oracle.events_kept(fixture, inventory, after)[0]
              + fates.files_accounted(inventory, after_files, after)[0] + oracle.integrity_ok(after))
    return [a for a in checks if a.outcome == "failed"]


def test_the_untampered_import_passes_every_nothing_lost_check(imported):
    assert nothing_lost_failures(imported, None) == []


@pytest.mark.parametrize("case", list(TAMPERS))
def test_each_tamper_turns_the_verdict_red_naming_what_it_hit(imported, case):
    script, names = TAMPERS[case]
    failures = nothing_lost_failures(imported, script)
    assert failures, f"{case}: no check failed"
    assert names in failures[0].message(), f"{case}: first failure {failures[0].message()!r} does not name {names!r}"
    assert failures[0].blame == "gateway"
    print(f"\nMUTATION | {case} | {failures[0].detail[:300] or failures[0].message()[:300]}")
