"""The nothing-lost oracle of one fault case, over the final state: SQLite plus the legacy bytes wherever they went.

Counted from content, never from the fixture's numbers:
    events        every parsed line of every seeded transcript: imported (a SQLite row of its own session, the
                  transcript's or its store entry's, holding it: its id and its content, changed only by the
                  proof's enumerated normalisations), kept only as bytes (not imported, but its file's bytes are
                  still on the volume), or lost (neither). A row with its id in another session, or its id with
                  other content, is not it.
    duplicates    SQLite rows of one session repeating an event id: an import that ran twice
    legacy bytes  every seeded file of the session area (sessions.json, transcripts, sidecars) whose declared fate
                  holds (fates.judge): its bytes kept in place or in the import archive, a store rewritten as declared
The outcome:
    completed     the Gateway came up and nothing is lost (and nothing imported twice)
    refused       the Gateway did not come up, nothing is lost or doubled, and every legacy file it moved or changed
                  had its lines imported first (a refusal may still import what it could: another agent's sessions)
    lost          anything else: events or bytes gone, or rows doubled
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..proof.fates import judge as fate_of
from ..proof.oracle import normalised_like
from ..state.inventory import Inventory, LegacyEvent, LegacyTranscript
from ..state.layout import is_session_area_path
from ..probes.files import FilesSnapshot
from ..probes.sqlite import SqliteEvent, SqliteSnapshot

COMPLETED = "completed"
REFUSED = "refused"
LOST = "lost"
OUTCOME_WORDS = {COMPLETED: "import completed on a later start", REFUSED: "refused, nothing lost",
                 LOST: "data lost"}


@dataclass(frozen=True)
class Tally:
    events: int
    imported: int
    bytes_only: int
    lost: list[str] = field(default_factory=list)  # "path line N (id)"
    duplicates: list[str] = field(default_factory=list)  # "session: id ×k"
    legacy_files: int = 0
    legacy_kept: int = 0
    legacy_not_kept: list[str] = field(default_factory=list)
    seeded_changed: list[str] = field(default_factory=list)  # seeded files whose bytes differ at their place
    imported_lines: frozenset[str] = frozenset()  # "path:line" of every imported legacy line
    readable_lines: frozenset[str] = frozenset()  # "path:line" of every well-formed line of a store-referenced
                                                 # transcript before its first malformed line
    moved_unimported: list[str] = field(default_factory=list)  # lines of a transcript no longer where it was,
                                                               # not imported: only a restore would bring them back

    def versus(self, control: Tally) -> list[str]:
        """Lines the untouched import (the control case) imported and this case did not: lost to the fault even
        when their bytes are still on the volume (a file archived but never imported is not reachable)."""
        return sorted(control.imported_lines - self.imported_lines)

    def readable_not_imported(self) -> list[str]:
        """For a fault that changes the inputs (no control to compare with): the well-formed lines a store entry
        points at, before any malformed line, that no SQLite row holds. Lines after a malformed one may be kept as
        bytes only: the Gateway imports a readable prefix and says so (transcript_malformed)."""
        return sorted(self.readable_lines - self.imported_lines)

    def to_json(self) -> dict:
        return {"events": self.events, "imported": self.imported, "kept_only_as_bytes": self.bytes_only,
                "lost": self.lost, "duplicates": self.duplicates, "legacy_files": self.legacy_files,
                "legacy_kept": self.legacy_kept, "legacy_not_kept": self.legacy_not_kept,
                "seeded_changed": self.seeded_changed, "moved_unimported": self.moved_unimported}


class _SessionRows:
    """SQLite's transcript rows by session, to find a legacy line in its own session: by id, else (v1 lines have no
    ids) by content, each row judged with the row before it (a synthetic parentId must chain to it)."""

    def __init__(self, after: SqliteSnapshot | None) -> None:
        self.rows: dict[str, tuple[SqliteEvent, ...]] = {}
        self.by_id: dict[str, dict[str, list[int]]] = {}
        self.parent: dict[str, list[str | None]] = {}  # the id the row at each position must chain to (oracle's rule)
        for db in (after.agents.values() if after else ()):
            for session_id, events in db.events.items():
                self.rows[session_id] = events
                index, parents, previous = self.by_id.setdefault(session_id, {}), self.parent.setdefault(session_id, []), None
                for position, event in enumerate(events):
                    if event.event_id:
                        index.setdefault(event.event_id, []).append(position)
                    parents.append(previous)
                    if not (isinstance(event.value, dict) and event.value.get("type") == "session"):
                        previous = event.event_id  # the header starts no chain

    def holds(self, transcript: LegacyTranscript, event: LegacyEvent, sessions: set[str]) -> bool:
        version = int(transcript.version or 1)
        for session_id in sessions:
            rows = self.rows.get(session_id, ())
            positions = (self.by_id.get(session_id, {}).get(event.event_id, []) if event.event_id and version >= 2
                         else range(len(rows)))
            for position in positions:
                if normalised_like(event, rows[position], version=version, session_id=session_id,
                                   previous_id=self.parent[session_id][position]) is not None:
                    return True
        return False


def tally(inventory: Inventory, after_files: FilesSnapshot, after: SqliteSnapshot | None) -> Tally:
    duplicates: list[str] = []
    for db in (after.agents.values() if after else ()):
        for session_id, events in db.events.items():
            seen: dict[str, int] = {}
            for event in events:
                if event.event_id:
                    seen[event.event_id] = seen.get(event.event_id, 0) + 1
            duplicates += [f"{db.agent}:{session_id}: {eid} ×{n}" for eid, n in seen.items() if n > 1]
    rows = _SessionRows(after)
    # A transcript's own sessions: its header's (or file name's) id, and every store entry that points at it.
    owners: dict[str, set[str]] = {}
    for entry in inventory.entries:
        if entry.session_id and (found := inventory.transcript_for(entry.session_id, entry.session_file)):
            owners.setdefault(found.path, set()).add(entry.session_id)
    where_now = after_files.by_hash()
    events = imported = bytes_only = 0
    lost: list[str] = []
    moved_unimported: list[str] = []
    imported_lines: set[str] = set()
    referenced = {t.path for e in inventory.entries if e.session_id
                  for t in [inventory.transcript_for(e.session_id, e.session_file)] if t}
    seeded = {f.path: f.sha256 for f in inventory.files}
    in_place = lambda path: getattr(after_files.files.get(path), "sha256", None) == seeded.get(path)  # noqa: E731
    # A transcript whose store entry moved or changed has lost its way into SQLite as surely as one that moved.
    store_gone = {t.path for e in inventory.entries if e.session_id and not in_place(e.store)
                  for t in [inventory.transcript_for(e.session_id, e.session_file)] if t}
    readable: set[str] = set()
    for transcript in inventory.transcripts:
        if transcript.path in referenced:
            first_bad = min(transcript.malformed_lines, default=None)
            readable |= {f"{transcript.path}:{e.line}" for e in transcript.events if first_bad is None or e.line < first_bad}
    for transcript in inventory.transcripts:
        file = next((f for f in inventory.files if f.path == transcript.path), None)
        file_kept = bool(file and where_now.get(file.sha256))
        where_it_was = bool(file and in_place(file.path)) and transcript.path not in store_gone
        sessions = {transcript.session_id} | owners.get(transcript.path, set())
        for event in transcript.events:
            events += 1
            if rows.holds(transcript, event, sessions):
                imported += 1
                imported_lines.add(f"{transcript.path}:{event.line}")
            elif file_kept:
                bytes_only += 1
                if not where_it_was:
                    moved_unimported.append(f"{transcript.path} line {event.line} ({event.event_id or event.type})")
            else:
                lost.append(f"{transcript.path} line {event.line} ({event.event_id or event.type})")
    session_files = [f for f in inventory.files if is_session_area_path(f.path)]
    not_kept = []
    for item in session_files:
        fate, ok, _ = fate_of(item, after_files, after) if after else ("not read", bool(where_now.get(item.sha256)), [])
        if not ok and not where_now.get(item.sha256):
            not_kept.append(f"{item.path} ({fate})")
    changed = sorted(f.path for f in inventory.files if is_session_area_path(f.path) and not in_place(f.path))
    return Tally(events, imported, bytes_only, lost, duplicates, len(session_files), len(session_files) - len(not_kept),
                 not_kept, changed, frozenset(imported_lines), frozenset(readable), moved_unimported)


MIGRATED_STATE_RE = re.compile(r"^(agents/[^/]+/(agent|sessions|session-sqlite-import-archive)/|state/|"
                               r"session-sqlite-migration-runs/)")


def kept_every_file(before: FilesSnapshot, after: FilesSnapshot) -> bool:
    """A refusal on a migrated state: every database, archive and manifest file still there with the same bytes
    (-shm, the WAL index SQLite rebuilds at will, aside)."""
    return all(getattr(after.files.get(path), "sha256", None) == item.sha256 for path, item in before.files.items()
               if MIGRATED_STATE_RE.match(path) and not path.endswith("-shm"))


def unreached_lines(counts: Tally, control: Tally | None, *, came_up: bool, judged_alone: bool) -> list[str]:
    """Lines that should have been imported and were not, after a start that came up. `judged_alone` (the control
    itself, or a fault that changes the inputs): every readable line a store points at, from the case's own content;
    the control must import them all, or an import that archives everything and imports nothing would make an empty
    baseline every case then passes against. Otherwise: what the control imported (Tally.versus)."""
    if not came_up:
        return []  # a refusal is judged by what it kept (outcome)
    if judged_alone:
        return counts.readable_not_imported()
    return counts.versus(control) if control is not None else []


def outcome(came_up: bool, counts: Tally, unreached: list[str], *, kept_migrated: bool | None = None) -> str:
    """`unreached`: lines the control imported and this case did not (Tally.versus), [] when not comparable.
    `kept_migrated`: for a fault on a migrated state, whether the files as the fault left them are all still there
    (kept_every_file); a refusal there is judged by that, the seeded legacy files being archived by then."""
    if came_up:
        clean = not counts.lost and not counts.duplicates and not counts.legacy_not_kept and not unreached
        return COMPLETED if clean else LOST
    if kept_migrated is not None:
        return REFUSED if kept_migrated and not counts.lost else LOST
    kept = not counts.lost and not counts.duplicates and not counts.legacy_not_kept and not counts.moved_unimported
    return REFUSED if kept else LOST
