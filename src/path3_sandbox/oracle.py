"""Nothing lost: the checks that decide whether an import kept every legacy session, event and byte.

Pure functions over what the probes saw, so each rule is unit-tested without Docker. Each returns
Assertions that carry the expected and observed values and name the session or file involved.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from .evidence import Assertion
from .fixtures import Fixture
from .inventory import Inventory, LegacyEvent, content_hash
from .probes.files import FilesSnapshot
from .probes.sqlite import SqliteEvent, SqliteSnapshot


def sessions_present(fixture: Fixture, after: SqliteSnapshot) -> list[Assertion]:
    """Every session the manifest expects is a row in session_nodes, with its sessionId and archive state."""
    results = []
    for expected in fixture.sessions:
        found = after.session(expected.stored_key)
        observed = None
        if found:
            db, row = found
            observed = {"agent": db.agent, "sessionId": row["sessionId"], "archived": row["archived_at"] is not None}
        want = {"agent": expected.agent, "sessionId": expected.session_id, "archived": expected.archived}
        renamed = f"stored as {expected.stored_key}" if expected.stored_key != expected.key else ""
        results.append(Assertion(f"session {expected.key} imported", observed == want, want, observed,
                                 renamed if observed else f"no session_nodes row with key {expected.stored_key}"))
    expected_total = len(fixture.sessions)
    observed_total = after.count("session_nodes")
    results.append(Assertion("session_nodes holds exactly the manifest's sessions", observed_total == expected_total,
                             expected_total, observed_total))
    return results


def legacy_entries_covered(inventory: Inventory, after: SqliteSnapshot, fixture: Fixture) -> list[Assertion]:
    """Every legacy sessions.json entry with a sessionId became a session; entries without one did not."""
    results = []
    stored = {(s.agent, s.key): s.stored_key for s in fixture.sessions}
    for entry in inventory.entries:
        found = after.session(stored.get((entry.agent, entry.key), entry.key))
        if entry.session_id:
            observed = found[1]["sessionId"] if found else None
            results.append(Assertion(f"legacy entry {entry.key} ({entry.store}) is in SQLite",
                                     observed == entry.session_id, entry.session_id, observed))
        else:
            declared = entry.key in fixture.invalid_entries.get(entry.agent or "", ())
            results.append(Assertion(f"legacy entry {entry.key} without sessionId is not imported as a session",
                                     found is None and declared, "absent, and declared in invalid_entries",
                                     {"in_sqlite": found is not None, "declared": declared}))
    return results


def find_event(legacy: LegacyEvent, candidates: tuple[SqliteEvent, ...], by_hash: dict[str, SqliteEvent]) -> SqliteEvent | None:
    """The SQLite row holding `legacy`: the same content, by id where the line has one.

    Two normalisations of the importer are accepted, and nothing else: lines without an id (v1) may gain
    synthetic id/parentId fields, and a session header of an old transcript version may have its
    `version` raised. Every key the legacy line has must still hold the same value.
    """
    exact = by_hash.get(legacy.content_sha256)
    if exact and (legacy.event_id is None or exact.event_id == legacy.event_id):
        return exact
    if not isinstance(legacy.value, dict):
        return None
    ignored = {"version"} if legacy.type == "session" else set()
    if legacy.event_id is not None and not ignored:
        return None
    keys = [k for k in legacy.value if k not in ignored]
    wanted = content_hash({k: legacy.value[k] for k in keys})
    for row in candidates:
        if isinstance(row.value, dict) and row.value.get("type") == legacy.value.get("type"):
            if content_hash({k: row.value.get(k) for k in keys}) == wanted:
                return row
    return None


def events_present(fixture: Fixture, inventory: Inventory, after: SqliteSnapshot) -> list[Assertion]:
    """Every legacy transcript line of every expected session is a transcript_events row (by id and content),
    and each session holds exactly the number of events the manifest says."""
    results = []
    for expected in fixture.sessions:
        rows = after.events_of(expected.session_id)
        label = f"{expected.key} ({expected.session_id})"
        transcript = inventory.transcript_for(expected.session_id)
        if transcript is not None:
            by_hash = {row.content_sha256: row for row in rows}
            missing = [e for e in transcript.events if find_event(e, rows, by_hash) is None]
            results.append(Assertion(
                f"every legacy event of {label} is in transcript_events", not missing,
                f"{len(transcript.events)} lines of {transcript.path} ({transcript.distinct_events} distinct)",
                "all present" if not missing else [f"line {e.line} id={e.event_id} type={e.type}" for e in missing[:20]],
                "" if not missing else f"{len(missing)} legacy event(s) missing from SQLite",
            ))
        detail = ""
        if len(rows) < expected.events:
            last = rows[-1].seq if rows else None
            detail = (f"session {label} is missing {expected.events - len(rows)} event(s): the manifest expects event "
                      f"#{len(rows) + 1} after seq {last}, and SQLite has none")
        elif len(rows) > expected.events:
            detail = f"session {label} has {len(rows) - expected.events} more event(s) than the manifest expects"
        results.append(Assertion(f"{label} holds {expected.events} transcript events", len(rows) == expected.events,
                                 expected.events, len(rows), detail))
    return results


def legacy_bytes_kept(inventory: Inventory, after: FilesSnapshot) -> tuple[list[Assertion], list[dict]]:
    """Every legacy file's original bytes exist somewhere in the state dir, except sessions.json,
    which the Gateway may rewrite before archiving (its entries are checked instead).

    Returns the assertions and, per legacy file, its fate: preserved (where), transformed, or consumed.
    """
    index = after.by_hash()
    results, fates = [], []
    for item in inventory.files:
        places = index.get(item.sha256, [])
        is_store = PurePosixPath(item.path).name == "sessions.json"
        if places:
            fate = "preserved"
        elif is_store:
            fate = "transformed" if any("legacy-store.sessions.json" in p for p in after.files) else "consumed"
        else:
            fate = "consumed"
        fates.append({**item.to_json(), "fate": fate, "now_at": places})
        if is_store:
            ok = fate in ("preserved", "transformed")
            results.append(Assertion(f"legacy store {item.path} archived (bytes or entries kept)", ok,
                                     "preserved or transformed", fate))
        else:
            results.append(Assertion(f"original bytes of {item.path} kept", fate == "preserved", item.sha256[:16],
                                     places or fate))
    return results, fates


def integrity_ok(after: SqliteSnapshot) -> list[Assertion]:
    results = [Assertion(f"PRAGMA integrity_check of agent {db.agent} DB", db.integrity == ("ok",) and not db.error,
                         ["ok"], list(db.integrity) or db.error) for db in after.agents.values()]
    if after.global_db:
        integrity = after.global_db.get("integrity") or []
        results.append(Assertion("PRAGMA integrity_check of the global state DB", integrity == ["ok"], ["ok"], integrity))
    return results


def no_legacy_left(after: FilesSnapshot) -> Assertion:
    left = [f.path for f in after.legacy_shaped()]
    return Assertion("no live legacy files left outside the import archive", not left, [], left)


def warnings_as_expected(fixture: Fixture, observed_codes: set[str]) -> Assertion:
    expected = sorted(set(fixture.expected_warnings))
    return Assertion("import warnings are exactly the expected ones", sorted(observed_codes) == expected, expected,
                     sorted(observed_codes))
