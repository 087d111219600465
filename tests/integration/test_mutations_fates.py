"""Prove the fate checks can fail where the content is gone: a real 2026.9.6 import of real-7.35 and of
stray-orphan, then one tamper per case on a copy of the imported state inside a container.

real-7.35 was written by the real 2026.7.35: identity/device.json, a shared state DB with its -wal, two agents'
stores. stray-orphan has transcripts no store entry names. The harness is tests/integration/mutants.py: its read_copy
also reads the shared state DB's rows through SQLite (digests), which the fate of state/openclaw.sqlite is judged on,
and the seeded state DB's bytes wait beside the imported state (SEEDED_DB) for the tamper that puts them back.
"""

from __future__ import annotations

import pytest

from .mutants import assert_red, SEEDED_DB, nothing_lost_failures

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

@pytest.mark.parametrize("name", ["real-7.35", "stray-orphan"])
def test_the_untampered_import_passes_every_nothing_lost_check(imports, name):
    imported = imports(name)
    assert nothing_lost_failures(imported, None) == []


@pytest.mark.parametrize("case", list(TAMPERS))
def test_each_tamper_turns_the_verdict_red_naming_what_it_hit(imports, case):
    name, script, names, forget = TAMPERS[case]
    failures = nothing_lost_failures(imports(name), script, forget)
    assert_red(case, failures, names)
