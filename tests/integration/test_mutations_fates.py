"""Prove the fate checks can fail where the content is gone: a real 2026.9.6 import of real-7.35 and of
stray-orphan, then one tamper per case on a copy of the imported state inside a container.

real-7.35 was written by the real 2026.7.35: identity/device.json, a shared state DB with its -wal, two agents'
stores. stray-orphan has transcripts no store entry names. The helpers are test_mutations.py's; read_copy is
copied here in its minimum because these tampers need two things it cannot take: the database the tamper opens
(the shared state DB, not only main's agent DB) and the shared state DB's rows read through SQLite (digests),
which the fate of state/openclaw.sqlite is judged on.
"""

from __future__ import annotations

import dataclasses
import json
import secrets

import pytest

from path3_sandbox.containers.gateway import Gateway
from path3_sandbox.containers.resources import RunResources, new_run_id
from path3_sandbox.containers.volumes import VolumeFile, put_files
from path3_sandbox.probes import files as files_probe
from path3_sandbox.probes import sqlite as sqlite_probe
from path3_sandbox.proof import fates, oracle
from path3_sandbox.state.config import STATE_DIR, harness_config
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.state.layout import STATE_DB
from path3_sandbox.state.seeding import build_seed

from .test_mutations import TAMPER_SCRIPT

AGENT_DB = "agents/main/agent/openclaw-agent.sqlite"
SEEDED_DB = "path3-mutation/openclaw.sqlite"  # the seeded state DB's bytes, put beside the imported state for a tamper
ORPHAN, STRAY = "1c383a6c-1381-5420-8328-0641ac83bbf1", "bb45bad4-a651-5de4-962f-0c62c9ce24a5"
_BAK = "fs.readdirSync(path.join(R, 'state')).filter(n => n.includes('.pre-startup-migration-'))" \
       ".forEach(n => fs.rmSync(path.join(R, 'state', n)));"  # a backup with the original's content would excuse a loss

# tamper -> (fixture, JavaScript applied to the copy (root in R, main's agent DB open as db), what the first failure
# names, the session id of a transcript the manifest forgets to list, if any).
TAMPERS = {
    "device identity replaced by a newly generated one": ("real-7.35", (
        "const g = new DatabaseSync(path.join(R, 'state/openclaw.sqlite'));"
        "g.exec(\"update device_identities set device_id=lower(hex(randomblob(32))), public_key_pem="
        "'-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAnewnewnewnewnewnewnewnewnewnewnewnewnewnewnew=\\n-----END PUBLIC KEY-----\\n', "
        "created_at_ms=updated_at_ms\"); g.close()"), "identity/device.json", None),
    "main's archived store deleted while work's remains": ("real-7.35", (
        "const a = path.join(R, 'agents/main/session-sqlite-import-archive');"
        "fs.readdirSync(a).filter(n => n.startsWith('legacy-store.sessions.json')).forEach(n => fs.rmSync(path.join(a, n)))"),
        "agents/main/sessions/sessions.json", None),
    "state DB back to its seeded bytes with a changed -wal (backup removed)": ("real-7.35", (
        "const S = path.join(R, 'state/openclaw.sqlite'), seeded = path.join(R, '" + SEEDED_DB + "');"
        # the imported identity is carried over (7.35's schema has the table), so only the WAL's audit row is lost
        "const L = new DatabaseSync(S), ids = L.prepare('select * from device_identities').all(); L.close();"
        "for (const x of ['', '-wal', '-shm']) fs.rmSync(S + x, {force: true});" + _BAK +
        "fs.copyFileSync(seeded, S);"
        "const g = new DatabaseSync(S); g.exec('PRAGMA wal_autocheckpoint=0');"
        "for (const r of ids) g.prepare(`insert into device_identities (${Object.keys(r)}) values "
        "(${Object.keys(r).map(() => '?')})`).run(...Object.values(r));"
        "g.exec(\"update audit_events set status='tampered' where sequence=(select min(sequence) from audit_events)\");"
        "fs.copyFileSync(S + '-wal', '/tmp/wal'); fs.copyFileSync(S + '-shm', '/tmp/shm'); g.close();"
        "fs.copyFileSync(seeded, S); fs.copyFileSync('/tmp/wal', S + '-wal'); fs.copyFileSync('/tmp/shm', S + '-shm')"),
        "state/openclaw.sqlite", None),
    "a reshaped table's row changed, same row count (backup removed)": ("real-7.35", (
        _BAK + "const g = new DatabaseSync(path.join(R, 'state/openclaw.sqlite'));"
        "g.exec(\"update audit_events set status='tampered' where sequence=(select min(sequence) from audit_events)\");"
        "g.close()"), "state/openclaw.sqlite", None),
    "orphan's rows deleted, the manifest forgetting it": ("stray-orphan", (
        f"for (const t of ['transcript_event_identities', 'transcript_events', 'session_windows']) "
        f"db.exec(`delete from ${{t}} where session_id='{ORPHAN}'`);"
        f"db.exec(\"delete from session_nodes where current_session_id='{ORPHAN}'\")"), ORPHAN, ORPHAN),
    "stray's rows deleted, the manifest forgetting it": ("stray-orphan", (
        f"for (const t of ['transcript_event_identities', 'transcript_events', 'session_windows']) "
        f"db.exec(`delete from ${{t}} where session_id='{STRAY}'`);"
        f"db.exec(\"delete from session_nodes where current_session_id='{STRAY}'\")"), STRAY, STRAY),
}

# The state DB's backup candidates in the copy, as fates.state_db_candidates lists them.
CANDIDATES = r"""
const fs = require('fs'), R = process.argv[1], DB = 'state/openclaw.sqlite';
console.log(JSON.stringify([DB, ...(fs.existsSync(R + '/state') ? fs.readdirSync(R + '/state') : []).map(n => 'state/' + n)
  .filter(p => p.startsWith(DB) && p !== DB && !/-(wal|shm|journal)$/.test(p))]));
"""


def _import(docker_client, image, name: str):
    fixture = resolve_fixture(name)
    token = secrets.token_hex(16)
    seed = build_seed(fixture, harness_config(token))
    inventory = build_inventory(seed.as_inventory_input())
    resources = RunResources(docker_client, new_run_id())
    volume = resources.volume(f"state-mutfates-{name.replace('.', '-')}")
    put_files(resources, image, volume, list(seed.files))
    seeded_db = next((f for f in seed.files if f.path == STATE_DB), None)
    before = _digest(resources, image, volume) if seeded_db else None
    gateway = Gateway(resources, image, volume, token, name=f"path3-{resources.run_id}-mutf")
    assert gateway.start().outcome == "ready", gateway.logs()[-2000:]
    gateway.stop()
    if seeded_db:  # outside the state the probes read: read_copy removes it after the tamper
        put_files(resources, image, volume, [VolumeFile(SEEDED_DB, seeded_db.data, seeded_db.mtime)])
    return resources, (fixture, inventory, docker_client, image, volume, resources, before)


def _run(resources, image, volume, steps: list[str], **env) -> str:
    helper = resources.container(f"path3-{resources.run_id}-mutant-{len(resources.containers)}", "oneoff", image,
                                 ["sh", "-ec", " && ".join(steps)], state_volume=volume)
    helper.with_envs(STATE=STATE_DIR, **env)
    try:
        container = helper.start().get_wrapped_container()
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode(errors="replace")[-2000:]
        return container.logs(stdout=True, stderr=False).decode()
    finally:
        helper.stop()


def _digest(resources, image, volume) -> dict:
    """The seeded shared state DB's rows, read through SQLite (its WAL included), before the first start."""
    output = _run(resources, image, volume, [f'node -e "$DIGEST" "$STATE" \'["{STATE_DB}"]\''],
                  DIGEST=sqlite_probe.DIGEST_SCRIPT)
    return json.loads(output.splitlines()[-1])["databases"]


def read_copy(imported, tamper: str | None):
    """test_mutations.read_copy plus the state DB's rows (digests, over the original's columns) of the copy."""
    fixture, inventory, client, image, volume, resources, before = imported
    steps = ['cp -a "$STATE" /tmp/m']
    if tamper:
        steps.append(f'node -e "$TAMPER_SCRIPT" /tmp/m {AGENT_DB}')
    steps += ['rm -rf /tmp/m/path3-mutation', 'node -e "$SQLITE" /tmp/m full', 'node -e "$FILES" /tmp/m',
              'node -e "$DIGEST" /tmp/m "$(node -e "$CANDIDATES" /tmp/m)" "$PROJECT"']
    output = _run(resources, image, volume, steps, TAMPER=tamper or "", TAMPER_SCRIPT=TAMPER_SCRIPT,
                  SQLITE=sqlite_probe.SCRIPT, FILES=files_probe.SCRIPT, DIGEST=sqlite_probe.DIGEST_SCRIPT,
                  CANDIDATES=CANDIDATES, PROJECT=json.dumps(fates.original_columns(before)))
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    state_db = fates.StateDbContent(before, documents[2]["databases"]) if before else None
    return sqlite_probe.parse_snapshot(documents[0]), files_probe.parse_snapshot(documents[1]), state_db


def nothing_lost_failures(imported, tamper: str | None, forget: str | None = None) -> list:
    """test_mutations.nothing_lost_failures with the state DB's content given to the fates; `forget`: judged against
    a manifest that does not list the session with this id (as one that forgot a transcript on disk)."""
    fixture, inventory, *_ = imported
    if forget:
        fixture = dataclasses.replace(fixture, sessions=tuple(s for s in fixture.sessions if s.session_id != forget))
    after, after_files, state_db = read_copy(imported, tamper)
    checks = (oracle.sessions_present(fixture, after) + oracle.legacy_entries_covered(inventory, after, fixture)
              + oracle.metadata_kept(inventory, after, fixture)[0] + oracle.events_kept(fixture, inventory, after)[0]
              + fates.files_accounted(inventory, after_files, after, state_db)[0] + oracle.integrity_ok(after))
    return [a for a in checks if a.outcome == "failed"]


@pytest.fixture(scope="module")
def imports(docker_client, default_image):
    """Each fixture imported once by the real 2026.9.6, on first use."""
    made, opened = {}, []

    def get(name: str):
        if name not in made:
            resources, made[name] = _import(docker_client, default_image.tag, name)
            opened.append(resources)
        return made[name]
    try:
        yield get
    finally:
        for resources in opened:
            resources.close()


@pytest.mark.parametrize("name", ["real-7.35", "stray-orphan"])
def test_the_untampered_import_passes_every_nothing_lost_check(imports, name):
    imported = imports(name)
    assert nothing_lost_failures(imported, None) == []


@pytest.mark.parametrize("case", list(TAMPERS))
def test_each_tamper_turns_the_verdict_red_naming_what_it_hit(imports, case):
    name, script, names, forget = TAMPERS[case]
    failures = nothing_lost_failures(imports(name), script, forget)
    assert failures, f"{case}: no check failed"
    assert names in failures[0].message(), f"{case}: first failure {failures[0].message()!r} does not name {names!r}"
    assert failures[0].blame == "gateway"
    print(f"\nMUTATION | {name} | {case} | {failures[0].detail[:300] or failures[0].message()[:300]}")
