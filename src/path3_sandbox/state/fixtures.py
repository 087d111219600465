"""Fixtures: a legacy state tree (`state/`, laid out as a user's ~/.openclaw) plus `fixture.json`,
the manifest saying what the state holds and what upgrading it must yield.

    fixture.json
    {
      "name": "minimal",
      "catches": "what this fixture is meant to catch",
      "origin": "who wrote it: a release, or hand-made in real formats",
      "state_dir_as_written": "/home/alice/.openclaw",      # absolute paths inside are rewritten at seed time
      "agents": {"main": {"sessions": {"agent:main:main": {"sessionId": "…", "events": 5, "duplicates": [4]}}}},
      "invalid_entries": {"main": ["agent:main:cron:stub"]},  # entries that must not become sessions
      "expected_warnings": ["transcript_missing"],
      "outcomes": {"startup-import": "import", "refuse-then-doctor": "refuse-then-import"},
      "log_allowlist": ["regex", …]
    }

`sqliteKey` names the key the session must be stored under when the Gateway canonicalises the legacy
one (2026.9.6 lowercases keys: "Grüppe" -> "grüppe"). `events` counts what SQLite must hold for the session after import: every distinct transcript line,
the session header included (byte-identical duplicate lines count once). `archived: true` marks a
session the Gateway must import as archived (orphan and stray transcripts): every transcript on disk must be some
session's, a transcript no store entry names declared as `agent:<agent>:recovered:<sessionId>` with `archived: true`
(2026.9.6 imports it so; openclaw.md section 2), or `fixtures check` fails naming it. `duplicates` lists the
transcript lines (1-based) that repeat an earlier line byte for byte: the Gateway keeps one copy, and
SQLite must hold every other line, in file order. `preexisting_sessions` (keys) and
`preexisting_events` declare SQLite session rows the state already has before the first start
(each must survive unchanged); without them, SQLite must hold no session state before the first start.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import FixtureError
from ..paths import FIXTURES_DIR

if TYPE_CHECKING:
    from .inventory import Inventory, LegacyTranscript

MANIFEST = "fixture.json"
OUTCOMES = ("import", "refuse-then-import")


@dataclass(frozen=True)
class ExpectedSession:
    agent: str
    key: str
    session_id: str
    events: int
    archived: bool = False
    sqlite_key: str = ""  # the key the Gateway stores it under, when it canonicalises the legacy key
    duplicates: tuple[int, ...] = ()  # transcript lines that repeat an earlier line byte for byte

    @property
    def stored_key(self) -> str:
        return self.sqlite_key or self.key

    def to_json(self) -> dict:
        return {"agent": self.agent, "key": self.key, "sessionId": self.session_id, "events": self.events,
                "archived": self.archived, "sqliteKey": self.stored_key, "duplicates": list(self.duplicates)}


@dataclass(frozen=True)
class Fixture:
    name: str
    root: Path
    catches: str
    origin: str
    state_dir_as_written: str | None
    sessions: tuple[ExpectedSession, ...]
    invalid_entries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    expected_warnings: tuple[str, ...] = ()
    outcomes: dict[str, str] = field(default_factory=dict)
    log_allowlist: tuple[str, ...] = ()
    retime: bool = True  # shift timestamps to recent ones at seed time (never for a user's own state)
    preexisting_sessions: tuple[str, ...] = ()
    preexisting_events: int = 0
    # Plugins the state's config enables and the target does not install: the Gateway keeps their session migration
    # inputs pending (plugin_migration_source_retained) until they are installed; those inputs may stay live.
    plugins_pending: tuple[str, ...] = ()

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(sorted({s.agent for s in self.sessions} | set(self.invalid_entries)))

    def outcome_for(self, contract: str) -> str:
        return self.outcomes.get(contract, "import" if contract == "startup-import" else "refuse-then-import")

    def to_json(self) -> dict:
        return {"name": self.name, "root": str(self.root), "catches": self.catches, "origin": self.origin,
                "sessions": [s.to_json() for s in self.sessions],
                "invalid_entries": {k: list(v) for k, v in self.invalid_entries.items()},
                "expected_warnings": list(self.expected_warnings), "outcomes": self.outcomes,
                "log_allowlist": list(self.log_allowlist), "plugins_pending": list(self.plugins_pending)}

    @classmethod
    def load(cls, root: Path) -> Fixture:
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise FixtureError(f"{root} has no {MANIFEST}", hint=f"a fixture is a folder with {MANIFEST} and state/")
        try:
            data = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise FixtureError(f"{manifest_path} is not valid JSON: {error}", hint="fix the manifest") from None
        missing = [key for key in ("name", "catches", "origin", "agents") if key not in data]
        if missing:
            raise FixtureError(f"{manifest_path} lacks {', '.join(missing)}", hint="see the format in fixtures.py")
        sessions = []
        for agent, body in data["agents"].items():
            for key, spec in (body.get("sessions") or {}).items():
                try:
                    sessions.append(ExpectedSession(agent, key, str(spec["sessionId"]), int(spec["events"]),
                                                    bool(spec.get("archived", False)), str(spec.get("sqliteKey", "")),
                                                    tuple(int(n) for n in spec.get("duplicates") or ())))
                except (KeyError, TypeError, ValueError):
                    raise FixtureError(f"{manifest_path}: session {key!r} of agent {agent!r} needs sessionId and events",
                                       hint='e.g. {"sessionId": "…", "events": 5}') from None
        outcomes = data.get("outcomes") or {}
        for contract, outcome in outcomes.items():
            if outcome not in OUTCOMES:
                raise FixtureError(f"{manifest_path}: outcome {outcome!r} for {contract} is not one of {OUTCOMES}",
                                   hint="use import or refuse-then-import")
        allowlist = tuple(data.get("log_allowlist") or ())
        for pattern in allowlist:
            try:
                re.compile(pattern)
            except re.error as error:
                raise FixtureError(f"{manifest_path}: log_allowlist pattern {pattern!r} is not a regex: {error}",
                                   hint="escape it or fix it") from None
        return cls(
            name=str(data["name"]), root=root.resolve(), catches=str(data["catches"]), origin=str(data["origin"]),
            state_dir_as_written=data.get("state_dir_as_written"), sessions=tuple(sessions),
            invalid_entries={agent: tuple(keys) for agent, keys in (data.get("invalid_entries") or {}).items()},
            expected_warnings=tuple(data.get("expected_warnings") or ()), outcomes=dict(outcomes),
            log_allowlist=allowlist, retime=bool(data.get("retime", True)),
            preexisting_sessions=tuple(data.get("preexisting_sessions") or ()),
            plugins_pending=tuple(data.get("plugins_pending") or ()),
            preexisting_events=int(data.get("preexisting_events") or 0),
        )


def default_fixture_dirs(*, everything: bool = False) -> list[Path]:
    """Every fixture folder, less (unless `everything`) those whose manifest says "default_set": false (proved by name
    only: too long for `make prove-upgrade`'s time budget, e.g. the captured users-6.5)."""
    found = sorted(p for p in FIXTURES_DIR.iterdir() if (p / MANIFEST).is_file()) if FIXTURES_DIR.is_dir() else []
    return [p for p in found if everything or _in_default_set(p / MANIFEST)]


def _in_default_set(manifest: Path) -> bool:
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("default_set", True) is not False
    except (OSError, ValueError, AttributeError):
        return True  # a broken manifest stays in the set, where loading it reports the problem


def resolve_fixture(name_or_path: str) -> Fixture:
    """A fixture by name (in fixtures/legacy-stores/) or by path to its folder."""
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        path = FIXTURES_DIR / name_or_path
    if not path.is_dir():
        known = ", ".join(p.name for p in default_fixture_dirs()) or "none"
        raise FixtureError(f"no fixture named or at {name_or_path!r}", hint=f"known fixtures: {known}")
    return Fixture.load(path)


def transcript_of(session: ExpectedSession, inventory: Inventory) -> LegacyTranscript | None:
    """The transcript on disk a manifest session's events come from: its store entry's sessionFile, else the file
    named after its sessionId, else one whose header names it."""
    entry = next((e for e in inventory.entries if (e.agent, e.key) == (session.agent, session.key)), None)
    return inventory.transcript_for(session.session_id, entry.session_file if entry else None)


def unlisted_transcripts(fixture: Fixture, inventory: Inventory) -> list[LegacyTranscript]:
    """Transcripts on disk that no manifest session accounts for. A compaction checkpoint is a snapshot the Gateway
    archives without importing, never a session's transcript of its own."""
    listed = {t.path for s in fixture.sessions if (t := transcript_of(s, inventory))}
    return [t for t in inventory.transcripts if ".checkpoint." not in PurePosixPath(t.path).name and t.path not in listed]


def orphan_key(transcript: LegacyTranscript, inventory: Inventory) -> tuple[str, str, bool]:
    """(agent, key, whether a store entry names it) of a transcript the manifest does not list: the entry's, else
    the key 2026.9.6 imports an orphan under, archived: agent:<id>:recovered:<sessionId> (a stray in the retired
    top-level sessions/ goes to the default agent, main in every fixture)."""
    for entry in inventory.entries:
        if entry.session_id and inventory.transcript_for(entry.session_id, entry.session_file) == transcript:
            return entry.agent or "main", entry.key, True
    agent = transcript.agent or "main"
    return agent, f"agent:{agent}:recovered:{transcript.session_id}", False


def check(fixture: Fixture) -> list[str]:
    """Every disagreement between the manifest and the files, each naming the file and what to fix."""
    from .inventory import build_inventory  # the inventory parses files; the manifest model doesn't need it
    from .tree import read_tree

    if not fixture.state.is_dir():
        return [f"{fixture.state}: missing (a fixture's state/ is laid out like ~/.openclaw)"]
    files = read_tree(fixture.state, links="follow")
    inventory = build_inventory(files)
    problems = [f"state/{why}: store is unreadable" for why in inventory.unreadable]
    for transcript in inventory.transcripts:
        for line in transcript.malformed_lines:
            problems.append(f"state/{transcript.path}:{line}: not a JSON object line")
    entries = {(e.agent, e.key): e for e in inventory.entries}
    expected_keys = set()
    for session in fixture.sessions:
        expected_keys.add((session.agent, session.key))
        entry = entries.get((session.agent, session.key))
        transcript = inventory.transcript_for(session.session_id, entry.session_file if entry else None)
        if not session.archived:
            if entry is None:
                problems.append(f"manifest session {session.key} (agent {session.agent}) is not in "
                                f"state/agents/{session.agent}/sessions/sessions.json")
            elif entry.session_id != session.session_id:
                problems.append(f"manifest session {session.key}: sessionId {session.session_id} but the store says {entry.session_id}")
        elif transcript is None:
            problems.append(f"archived session {session.key}: no transcript with session id {session.session_id} in state/")
        distinct = transcript.distinct_events if transcript else 0
        if session.events != distinct:
            where = transcript.path if transcript else "no transcript"
            problems.append(f"manifest session {session.key}: events={session.events} but {where} has {distinct} "
                            f"distinct event line(s) (header included)")
        repeated = transcript.repeated_lines if transcript else ()
        if tuple(sorted(session.duplicates)) != repeated:
            problems.append(f"manifest session {session.key}: duplicates={list(session.duplicates)} but the lines that "
                            f"repeat an earlier line byte for byte are {list(repeated)}")
    for (agent, key), entry in entries.items():
        if entry.session_id and (agent, key) not in expected_keys:
            problems.append(f"state/{entry.store}: entry {key} is not in the manifest (add it under agents.{agent}.sessions)")
        if not entry.session_id and key not in fixture.invalid_entries.get(agent or "", ()):
            problems.append(f"state/{entry.store}: entry {key} has no sessionId; declare it in invalid_entries.{agent}")
    for transcript in unlisted_transcripts(fixture, inventory):
        agent, key, named = orphan_key(transcript, inventory)
        if named:
            continue  # its store entry is reported above
        problems.append(f"state/{transcript.path}: a transcript no manifest session accounts for (session id "
                        f"{transcript.session_id}); declare it under agents.{agent}.sessions as \"{key}\": "
                        f"{{\"sessionId\": \"{transcript.session_id}\", \"events\": {transcript.distinct_events}, "
                        f"\"archived\": true}} (how the Gateway imports an orphan), or remove the file")
    problems += _plugins_pending_problems(fixture)
    return problems


def _plugins_pending_problems(fixture: Fixture) -> list[str]:
    """A plugin declared pending must be one the state's config enables, and its retained inputs an expected warning."""
    if not fixture.plugins_pending:
        return []
    try:
        config = json.loads((fixture.state / "openclaw.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    entries = ((config.get("plugins") or {}).get("entries") or {}) if isinstance(config, dict) else {}
    problems = [f"plugins_pending names {pid} but state/openclaw.json does not enable it (plugins.entries.{pid}.enabled)"
                for pid in fixture.plugins_pending if not (entries.get(pid) or {}).get("enabled")]
    if "plugin_migration_source_retained" not in fixture.expected_warnings:
        problems.append("plugins_pending is set: add plugin_migration_source_retained to expected_warnings (the "
                        "Gateway keeps those plugins' session migration inputs pending)")
    return problems
