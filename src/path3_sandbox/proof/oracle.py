"""Nothing lost: the checks that decide whether an import kept every legacy session, field and event.

Pure functions over what the probes saw, so each rule is unit-tested without Docker. Each returns
Assertions that carry the expected and observed values and name the session, field or event involved.
What the importer may change is enumerated here, with the reason (read from the Gateway's importer,
src/config/sessions/store-entry-shape.ts and src/commands/doctor-session-sqlite-readers.ts), and every
change it made is recorded per event: nothing outside these lists passes.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from ..report.evidence import HARNESS, Assertion
from ..state.fixtures import ExpectedSession, Fixture, orphan_key, transcript_of, unlisted_transcripts
from ..state.inventory import Inventory, LegacyEvent, LegacyTranscript, content_hash, js_json
from ..probes.sqlite import SqliteEvent, SqliteSnapshot
from . import metadata



def cannot_check(name: str, why: str) -> Assertion:
    """A check that could not be made is a failure of the harness, never a pass and never a default."""
    return Assertion(f"cannot check: {name}", False, "a readable value", None, why, blame=HARNESS)


# -- sessions ------------------------------------------------------------------------------------

def sessions_present(fixture: Fixture, after: SqliteSnapshot) -> list[Assertion]:
    """Every session the manifest expects is a row in session_nodes, with its sessionId and archive state."""
    if missing := after.missing_columns("session_nodes", "archived_at"):
        return [cannot_check("the archive state of imported sessions", f"no column {', '.join(missing)}")]
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
    expected_total = len(fixture.sessions) + len(fixture.preexisting_sessions)
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


# -- session metadata (proof/metadata.py: where each legacy field's value went, and what a turn may change) ---

FieldFate, FIELD_FATES, field_fate = metadata.FieldFate, metadata.FIELD_FATES, metadata.field_fate
metadata_kept, TURN_FIELDS = metadata.metadata_kept, metadata.TURN_FIELDS


# -- transcript events ---------------------------------------------------------------------------

# Every change the importer may make to a legacy line, and why. Anything else is a changed event.
NORMALISATIONS: dict[str, str] = {
    "reserialised": "the importer stores JSON.stringify of the parsed line: spacing and number spelling may differ, values not",
    "header-version-raised": "migrateSessionFileEntryToCurrentVersion raises a v1/v2 header to version 3",
    "header-id-is-session-id": "the header's id is forced to the sessionId and a `sessionId` key removed",
    "header-defaults": "a header without timestamp or cwd gets an empty string",
    "synthetic-id": "v1 lines have no ids: each gets <16 hex>-<base-36 index> and a parentId chaining to the previous "
                    "line (null on the first event after the header only)",
    "text-content-wrapped": "assistant/toolResult string content becomes [{type: text, text}]",
    "first-kept-index-to-id": "a v1 compaction's firstKeptEntryIndex (into the parsed entries, header at 0) becomes "
                              "firstKeptEntryId, the id the entry at that index got; none when it is the header, "
                              "out of range or not yet given an id (migrateV1ToV2)",
    "codex-api-renamed": "an assistant message's api \"openai-codex-responses\" becomes \"openai-chatgpt-responses\" "
                         "(2026.9.6's legacy OpenAI responses API rename: normalizeLegacyOpenAIResponsesApi)",
}
LEGACY_CODEX_API, CHATGPT_API = "openai-codex-responses", "openai-chatgpt-responses"
SYNTHETIC_ID_RE = re.compile(r"^[0-9a-f]{16}-[0-9a-z]+$")
ANY = object()  # previous_id / first_kept_id when only locating a row: its chain and references are judged in place


def normalised_like(legacy: LegacyEvent, row: SqliteEvent, *, version: int, session_id: str,
                    previous_id: str | None | object, first_kept_id: str | None | object = ANY) -> list[str] | None:
    """The normalisations that turn `legacy` into `row`, or None when they can't: the event changed.
    `previous_id`: the id of the row before it in the session (None for the first event after the header), which a
    v1 line's synthetic parentId must name; `first_kept_id`: the id a v1 compaction's firstKeptEntryIndex must become
    (None: no firstKeptEntryId at all)."""
    if row.raw is not None and legacy.raw and row.raw.encode("utf-8") == legacy.raw:
        return []
    want, got = copy.deepcopy(legacy.value), row.value
    if not isinstance(want, dict) or not isinstance(got, dict):
        return ["reserialised"] if content_hash(want) == content_hash(got) else None
    used = []
    if want.get("type") == "session":
        if want.get("id") != session_id or "sessionId" in want:
            want["id"] = session_id
            want.pop("sessionId", None)
            used.append("header-id-is-session-id")
        for key in ("timestamp", "cwd"):
            if key not in want and got.get(key) == "":
                want[key] = ""
                used.append("header-defaults")
        if (want.get("version") or 1) < 3 and got.get("version") == 3:
            want["version"] = 3
            used.append("header-version-raised")
    else:
        if version < 2 and "id" not in want and isinstance(got.get("id"), str) and SYNTHETIC_ID_RE.match(got["id"]):
            want["id"] = got["id"]
            # The chain is unbroken: only the first event may have a null parent, every later one names the one before.
            if "parentId" not in want and (previous_id is ANY or got.get("parentId") == previous_id):
                want["parentId"] = got.get("parentId")
            used.append("synthetic-id")
        message = want.get("message")
        if (isinstance(message, dict) and message.get("role") in ("assistant", "toolResult")
                and isinstance(message.get("content"), str)):
            message["content"] = [{"type": "text", "text": message["content"]}]
            used.append("text-content-wrapped")
        if isinstance(message, dict) and message.get("api") == LEGACY_CODEX_API \
                and (got.get("message") or {}).get("api") == CHATGPT_API:
            message["api"] = CHATGPT_API
            used.append("codex-api-renamed")
        index = want.get("firstKeptEntryIndex")
        if version < 2 and want.get("type") == "compaction" and isinstance(index, (int, float)) \
                and not isinstance(index, bool) and "firstKeptEntryId" not in want:
            want.pop("firstKeptEntryIndex")
            kept = got.get("firstKeptEntryId") if first_kept_id is ANY else first_kept_id
            if kept is not None:
                want["firstKeptEntryId"] = kept
            used.append("first-kept-index-to-id")
    if content_hash(want) != content_hash(got):
        return None
    if not used or js_json(want) != row.raw:
        used.append("reserialised")
    return sorted(set(used))


def first_kept_id(want: list[LegacyEvent], rows: tuple[SqliteEvent, ...], index: int) -> str | None | object:
    """The firstKeptEntryId the v1 compaction at want[index] must get: the id of the row of the entry its
    firstKeptEntryIndex names (entries as parsed, header at 0; rows line up with them), None where migrateV1ToV2 sets
    none (the header, out of range, an entry after the compaction, not yet given an id), ANY when not a compaction."""
    value = want[index].value
    at = value.get("firstKeptEntryIndex") if isinstance(value, dict) and value.get("type") == "compaction" else None
    if isinstance(at, bool) or not isinstance(at, (int, float)):
        return ANY
    if at != int(at) or not 0 <= at <= index or want[int(at)].type == "session" or int(at) >= len(rows):
        return None
    return rows[int(at)].event_id


def event_difference(legacy: Any, row: Any) -> dict:
    """Keys added, dropped, nulled or changed between a legacy line and its row (top level)."""
    if not isinstance(legacy, dict) or not isinstance(row, dict):
        return {"changed": "whole value"}
    diff = {"added": sorted(set(row) - set(legacy)), "dropped": sorted(set(legacy) - set(row)),
            "nulled": sorted(k for k in legacy if k in row and row[k] is None and legacy[k] is not None),
            "changed": sorted(k for k in legacy if k in row and content_hash(legacy[k]) != content_hash(row[k])
                              and not (row[k] is None and legacy[k] is not None))}
    return {k: v for k, v in diff.items() if v}


def expected_lines(transcript: LegacyTranscript, duplicates: tuple[int, ...]) -> list[LegacyEvent]:
    """The lines SQLite must hold, in file order: every parsed line minus the declared duplicates."""
    return [e for e in transcript.events if e.line not in duplicates]


def sessions_judged(fixture: Fixture, inventory: Inventory) -> list[tuple[ExpectedSession, LegacyTranscript | None, str]]:
    """Every session whose events are judged, with its transcript on disk: the manifest's, then one per transcript
    the manifest does not account for, as 2026.9.6 imports an orphan (archived, agent:<id>:recovered:<sessionId>):
    a manifest that forgets a transcript must not make its loss invisible."""
    judged = [(s, transcript_of(s, inventory), "") for s in fixture.sessions]
    for transcript in unlisted_transcripts(fixture, inventory):
        agent, key, named = orphan_key(transcript, inventory)
        judged.append((ExpectedSession(agent, key, transcript.session_id, transcript.distinct_events, archived=not named,
                                       duplicates=transcript.repeated_lines), transcript, " (not in the manifest)"))
    return judged


def legacy_event_count(fixture: Fixture, inventory: Inventory) -> int:
    """How many events the import must write, read off every transcript on disk (none for a session without one:
    the Gateway imports it empty, warning transcript_missing): the manifest's `events` is never trusted here."""
    return sum(len(expected_lines(t, s.duplicates)) for s, t, _ in sessions_judged(fixture, inventory) if t)


def events_kept(fixture: Fixture, inventory: Inventory, after: SqliteSnapshot) -> tuple[list[Assertion], list[dict]]:
    """Per session with a transcript on disk (the manifest's and any it does not list: sessions_judged): SQLite's
    rows, in seq order, are exactly the legacy lines in file order (minus the declared duplicates), each
    byte-identical or changed only by the enumerated normalisations, each with its identity row. A session with no
    transcript on disk holds no rows. Returns the assertions and one record per event that was not byte-identical."""
    results, records = [], []
    for expected, transcript, unlisted in sessions_judged(fixture, inventory):
        rows = list(after.events_of(expected.session_id))
        label = f"{expected.key} ({expected.session_id}){unlisted}"
        if transcript is None:
            results.append(Assertion(f"{label} holds no transcript events", not rows, 0, len(rows),
                                     "" if not rows else f"session {label}: no legacy transcript on disk, yet "
                                     f"{len(rows)} row(s)"))
            continue
        want = expected_lines(transcript, expected.duplicates)
        version = int(transcript.version or 1)
        problems: list[str] = []
        previous_id = None
        for index, legacy in enumerate(want):
            row = rows[index] if index < len(rows) else None
            where = f"line {legacy.line} (id={legacy.event_id}, type={legacy.type})"
            if row is None:
                last = rows[-1].seq if rows else None
                problems.append(f"{where} missing: SQLite has no event #{index + 1} after seq {last}")
                continue
            used = normalised_like(legacy, row, version=version, session_id=expected.session_id, previous_id=previous_id,
                                   first_kept_id=first_kept_id(want, rows, index) if version < 2 else ANY)
            if used is None:
                elsewhere = next((r.seq for r in rows if normalised_like(
                    legacy, r, version=version, session_id=expected.session_id, previous_id=ANY) is not None), None)
                following = want[index + 1] if index + 1 < len(want) else None
                if elsewhere is not None:
                    problems.append(f"{where} out of order: it is at seq {elsewhere}, expected at seq {row.seq}")
                elif following and normalised_like(following, row, version=version, session_id=expected.session_id,
                                                   previous_id=ANY) is not None:
                    problems.append(f"{where} missing: no row holds it (seq {row.seq} holds line {following.line})")
                else:
                    problems.append(f"{where} changed or missing at seq {row.seq}: "
                                    f"{json.dumps(event_difference(legacy.value, row.value))}")
            else:
                if used:
                    records.append({"session": expected.stored_key, "line": legacy.line, "id": legacy.event_id,
                                    "seq": row.seq, "normalisations": used})
                if row.event_id and row.identity != row.event_id:
                    problems.append(f"{where} at seq {row.seq} has no transcript_event_identities row "
                                    f"(found {row.identity!r})")
            if legacy.type != "session":  # the header starts no chain: the first event after it has a null parent
                previous_id = row.event_id
        for row in rows[len(want):]:
            kind = row.value.get("type") if isinstance(row.value, dict) else type(row.value).__name__
            problems.append(f"unexplained event at seq {row.seq} (id={row.event_id}, type={kind}): no legacy line is it")
        results.append(Assertion(
            f"{label}: SQLite holds every legacy line in order, unchanged but for the enumerated normalisations",
            not problems, f"{len(want)} event(s) from {transcript.path}"
                          + (f" (lines {list(expected.duplicates)} declared duplicates)" if expected.duplicates else ""),
            "all present" if not problems else problems[:20],
            "" if not problems else f"session {label}: {problems[0]}"))
    want = legacy_event_count(fixture, inventory) + fixture.preexisting_events
    total = after.count("transcript_events")
    results.append(Assertion("transcript_events holds exactly the legacy events (and the rows there before)",
                             total == want, want, total,
                             "" if total == want else "rows in sessions the manifest does not name"
                             if total > want else "events missing"))
    return results, records


def integrity_ok(after: SqliteSnapshot) -> list[Assertion]:
    results = [Assertion(f"PRAGMA integrity_check of agent {db.agent} DB", db.integrity == ("ok",) and not db.error,
                         ["ok"], list(db.integrity) or db.error) for db in after.agents.values()]
    if after.global_db:
        integrity = after.global_db.get("integrity") or []
        results.append(Assertion("PRAGMA integrity_check of the global state DB", integrity == ["ok"], ["ok"], integrity))
    return results


def warnings_as_expected(fixture: Fixture, observed_codes: set[str]) -> Assertion:
    expected = sorted(set(fixture.expected_warnings))
    return Assertion("import warnings are exactly the expected ones", sorted(observed_codes) == expected, expected,
                     sorted(observed_codes))


# -- before and after ----------------------------------------------------------------------------

def no_session_state_before(before: SqliteSnapshot, fixture: Fixture) -> Assertion:
    """Before the first start there is no SQLite session state, unless the fixture declares it."""
    counts = {t: before.count(t) for t in ("session_nodes", "transcript_events")}
    want = {"session_nodes": len(fixture.preexisting_sessions), "transcript_events": fixture.preexisting_events}
    return Assertion("no SQLite session state before the first start (beyond what the fixture declares)",
                     counts == want, want, counts)


def imported_rows(after: SqliteSnapshot, fixture: Fixture) -> dict:
    """The fingerprint of what the import wrote, to compare later: per session its entry and every event row."""
    rows = {}
    for expected in fixture.sessions:
        found = after.session(expected.stored_key)
        rows[expected.stored_key] = {
            "sessionId": found[1]["sessionId"] if found else None,
            "archived_at": found[1]["archived_at"] if found else None,
            "entry_json": found[1].get("entry_json") if found else None,
            "events": [(e.seq, e.raw, e.identity) for e in after.events_of(expected.session_id)],
        }
    return rows


def imported_rows_unchanged(baseline: dict, now: SqliteSnapshot, fixture: Fixture, *, turned: set[str] = frozenset(),
                            when: str) -> Assertion:
    """Every row the import wrote is byte-identical now. A session that took turns since may have grown and its
    entry's TURN_FIELDS may move; every other field of its entry, its imported events and identity stay as they were."""
    current = imported_rows(now, fixture)
    changed = []
    for key, was in baseline.items():
        is_ = current.get(key)
        if is_ is None or is_["sessionId"] != was["sessionId"] or is_["archived_at"] != was["archived_at"]:
            changed.append(f"{key}: session row changed ({was['sessionId']} -> {is_ and is_['sessionId']})")
            continue
        if key not in turned and is_["entry_json"] != was["entry_json"]:
            changed.append(f"{key}: entry_json changed although the session took no turn")
        elif key in turned:
            changed += [f"{key}: {problem} by a turn, which may change only {', '.join(sorted(metadata.TURN_FIELDS))}"
                        for problem in metadata.turn_changes(was["entry_json"], is_["entry_json"])]
        prefix = is_["events"][: len(was["events"])]
        if prefix != was["events"]:
            first = next(i for i, (a, b) in enumerate(zip(was["events"], prefix + [None] * len(was["events"]))) if a != b)
            changed.append(f"{key}: imported event at seq {was['events'][first][0]} changed or gone")
        elif key not in turned and len(is_["events"]) != len(was["events"]):
            changed.append(f"{key}: {len(is_['events']) - len(was['events'])} event(s) appended although it took no turn")
    return Assertion(f"every imported row is byte-identical to what the import wrote ({when})", not changed, [],
                     changed[:10])
