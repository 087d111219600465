"""Fates judged by content, never by presence, and every transcript on disk judged (issue 23, routes 5 and 6)."""

import json

from path3_sandbox.probes.files import FilesSnapshot, StateFile
from path3_sandbox.probes.sqlite import parse_snapshot
from path3_sandbox.proof import fates, oracle
from path3_sandbox.state.inventory import build_inventory

from .test_oracle import ENTRY, HEADER, M1, M2, failed, fixture, inventory, lines, sqlite

DEVICE = {"version": 1, "deviceId": "d-old", "publicKeyPem": "K-old", "privateKeyPem": "P", "createdAtMs": 5}
ARCHIVE = "session-sqlite-import-archive/legacy-store.sessions.json.imported-1"


def files(*paths):
    return FilesSnapshot({p: StateFile(p, 1, 1.0, f"hash of {p}") for p in paths})


def identity_rows(*rows):
    return parse_snapshot({"databases": [{"role": "global", "agent": None, "path": "/g", "tables": {},
                                          "rows": {"device_identities": list(rows)}}]})


def test_a_freshly_generated_device_identity_is_not_the_imported_one():
    inv = inventory(HEADER, M1, extra={"identity/device.json": (json.dumps(DEVICE).encode(), 1.0)})
    item = next(f for f in inv.files if f.path == "identity/device.json")
    same = {"identity_key": "primary", "device_id": "d-old", "public_key_pem": "K-old", "created_at_ms": 5}
    fate, ok, _ = fates.judge(item, files(), identity_rows(same), inventory=inv)
    assert ok and fate.startswith("imported into device_identities as primary")
    fresh = {**same, "device_id": "d-new", "public_key_pem": "K-new"}
    fate, ok, _ = fates.judge(item, files(), identity_rows(fresh), inventory=inv)
    assert not ok and fate.startswith("not in device_identities: deviceId d-old")
    assert "private" not in json.dumps(inv.to_json()) and "P" not in inv.device_identity.values()


def test_a_store_counts_as_transformed_only_by_a_copy_in_its_own_agents_archive():
    inv = build_inventory({f"agents/{a}/sessions/sessions.json": (json.dumps({f"agent:{a}:main": {"sessionId": a}}).encode(), 1.0)
                           for a in ("main", "work")})
    main = next(f for f in inv.files if f.path.startswith("agents/main/"))
    fate, ok, where = fates.judge(main, files(f"agents/main/{ARCHIVE}", f"agents/work/{ARCHIVE}"), sqlite())
    assert ok and fate == "transformed" and where == [f"agents/main/{ARCHIVE}"]
    fate, ok, _ = fates.judge(main, files(f"agents/work/{ARCHIVE}"), sqlite())
    assert not ok and fate.startswith("consumed")


def test_the_state_database_is_untouched_only_with_its_wal():
    inv = inventory(HEADER, M1, extra={"state/openclaw.sqlite": (b"main", 1.0), "state/openclaw.sqlite-wal": (b"wal", 1.0)})
    db, wal = (next(f for f in inv.files if f.path == p) for p in ("state/openclaw.sqlite", "state/openclaw.sqlite-wal"))
    kept = FilesSnapshot({f.path: StateFile(f.path, 1, 1.0, f.sha256) for f in (db, wal)})
    assert fates.judge(db, kept, sqlite(), inventory=inv)[:2] == ("untouched", True)
    without_wal = FilesSnapshot({db.path: StateFile(db.path, 1, 1.0, db.sha256)})
    original = {"audit_events": {"columns": ["id"], "rows": ["a", "b"]}}
    lost = fates.StateDbContent({"state/openclaw.sqlite": {"tables": original}},
                                {"state/openclaw.sqlite": {"tables": {"audit_events": {"columns": ["id"], "rows": ["a"]}}}})
    fate, ok, _ = fates.judge(db, without_wal, sqlite(), lost, inv)
    assert not ok and "table audit_events: 1 of 2 rows gone or changed" in fate


def test_a_reshaped_table_is_compared_over_the_columns_it_had_not_by_count():
    before = {"state/openclaw.sqlite": {"tables": {"audit_events": {"columns": ["id", "kind"], "rows": ["r1", "r2"]}}}}
    assert fates.original_columns(before) == {"audit_events": ["id", "kind"]}

    def now(projected):
        return {"state/openclaw.sqlite": {"tables": {"audit_events": {"columns": ["id", "kind", "v2"], "rows": ["x1", "x2"],
                                                                     **projected}}}}
    same = {"projected": {"columns": ["id", "kind"], "rows": ["r1", "r2"]}}
    assert fates.StateDbContent(before, now(same)).rows_kept() == []
    changed = {"projected": {"columns": ["id", "kind"], "rows": ["r1", "r9"]}}
    assert fates.StateDbContent(before, now(changed)).rows_kept() == [
        "table audit_events (reshaped): 1 of 2 rows gone or changed in the columns it had"]
    [unread] = fates.StateDbContent(before, now({})).rows_kept()
    assert unread.startswith("table audit_events (reshaped): cannot compare its 2 rows by content")


def test_a_transcript_the_manifest_does_not_list_is_still_judged():
    orphan = {"type": "session", "version": 3, "id": "o-1"}
    inv = inventory(HEADER, M1, M2, extra={"agents/main/sessions/o-1.jsonl": (lines(orphan, M1), 1.0)})
    # the manifest lists s-1 only: the orphan's rows are missing, yet the totals agree with the manifest's view
    first, total = failed(oracle.events_kept(fixture(3), inv, sqlite(HEADER, M1, M2))[0])
    assert "agent:main:recovered:o-1 (o-1) (not in the manifest): line 1" in first.detail
    assert (total.expected, total.observed) == (5, 3)
    assert oracle.legacy_event_count(fixture(3), inv) == 5


def test_a_session_without_a_transcript_on_disk_must_hold_no_rows_whatever_the_manifest_says():
    inv = build_inventory({"agents/main/sessions/sessions.json": (json.dumps({"agent:main:main": ENTRY}).encode(), 1.0)})
    failure, total = failed(oracle.events_kept(fixture(2), inv, sqlite(HEADER, M1))[0])
    assert (total.expected, total.observed) == (0, 2)
    assert failure.name == "agent:main:main (s-1) holds no transcript events" and failure.observed == 2
    assert not failed(oracle.events_kept(fixture(2), inv, sqlite())[0])
    assert oracle.legacy_event_count(fixture(2), inv) == 0
