"""Live mode's probe: the Gateway's SQLite read on the host, read-only, from the operator's state directory.

Opened with `file:…?mode=ro` (never copied: copying a WAL database mid-transaction reads garbage), one read
transaction per probe so every number comes from one committed state. It returns the same `SqliteSnapshot` the
in-container probe does (probes/sqlite.py: its table list and queries), with transcript rows for the proof session
only, and a digest of every session's rows in every session table, so live mode can prove it touched no other session.

    probe = read_state(state_dir, proof_key="agent:main:path3-live-e2e:…")
    probe.sqlite              the proof session's rows, every table's count (turn accounting, step checks)
    probe.sessions            session key -> {table: digest of its rows}
    changed_sessions(before.sessions, after.sessions, ignore={proof_key})   -> what changed, named
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .sqlite import QUERIES, SqliteSnapshot, parse_snapshot
from ..state.layout import AGENT_DB_GLOB, SESSION_TABLES, STATE_DB

ORPHAN = "session_id:"  # rows whose session id no session_nodes/session_windows row names


@dataclass(frozen=True)
class HostProbe:
    sqlite: SqliteSnapshot  # named as scenario.Probe's, so the scenario's steps read it
    sessions: dict[str, dict[str, str]]  # session key -> {table: digest of that session's rows in it}
    proof_session_ids: frozenset[str]  # every session id the proof key has had (windows rotate on reset/compaction)
    migration_runs: int | None  # rows in the global DB's migration_runs: an import adds one

    def to_json(self) -> dict:
        return {"sqlite": self.sqlite.to_json(), "sessions": self.sessions,
                "proof_session_ids": sorted(self.proof_session_ids), "migration_runs": self.migration_runs}


def agent_databases(state_dir: Path) -> dict[str, Path]:
    """Every per-agent database under the state dir, by agent id."""
    found = {}
    for path in sorted(state_dir.glob(AGENT_DB_GLOB)):
        found[path.parents[1].name] = path
    return found


def connect_ro(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10.0)
    connection.isolation_level = None  # transactions are explicit: one BEGIN per probe
    return connection


def read_state(state_dir: Path, *, proof_key: str, proof_session_ids: frozenset[str] = frozenset()) -> HostProbe:
    """The snapshot (proof session rows only) and per-session digests of every agent database."""
    databases, sessions, ids = [], {}, set(proof_session_ids)
    for agent, path in agent_databases(state_dir).items():
        with closing(connect_ro(path)) as db:
            db.execute("begin")
            item = _read_agent(db, agent, path, proof_key, ids)
            for key, tables in _session_digests(db, item["columns"]).items():
                sessions[key if key not in sessions else f"{agent}/{key}"] = tables
            db.execute("rollback")
        databases.append(item)
    return HostProbe(parse_snapshot({"databases": databases}), sessions, frozenset(ids),
                     _migration_runs(state_dir / STATE_DB))


def _read_agent(db: sqlite3.Connection, agent: str, path: Path, proof_key: str, ids: set[str]) -> dict:
    """One agent database in the shape the in-container probe script prints (probes/sqlite.py SCRIPT)."""
    tables = {name: _count(db, name) for name, sql in db.execute("select name, sql from sqlite_master where type='table'")
              if not (sql or "").startswith("CREATE VIRTUAL")}
    columns = {t: [r[1] for r in db.execute(f'pragma table_info("{t}")')] for t in SESSION_TABLES if t in tables}
    item = {"role": "agent", "agent": agent, "path": str(path), "tables": tables, "columns": columns, "error": None,
            "schema_meta": _rows(db, "select * from schema_meta") if "schema_meta" in tables else []}
    if "session_nodes" not in tables:
        return item
    archived = "archived_at" if "archived_at" in columns["session_nodes"] else "null"
    item["sessions"] = _rows(db, QUERIES["sessions"].format(archived=archived) + " where session_key = ?", proof_key)
    item["windows"] = _rows(db, QUERIES["windows"] + " where session_key = ?", proof_key) if "session_windows" in tables else []
    ids.update(r["current_session_id"] for r in item["sessions"] if r["current_session_id"])
    ids.update(r["session_id"] for r in item["windows"])
    marks = ",".join("?" * len(ids))
    zstd = "event_zstd" in columns.get("transcript_events", [])
    rows = _rows(db, QUERIES["events"].format(zstd=", event_zstd" if zstd else "") + f" where session_id in ({marks})"
                 + QUERIES["events_order"], *ids) if ids and "transcript_events" in tables else []
    item["events"] = [{"session_id": r["session_id"], "seq": r["seq"], "compressed": bool(zstd and r["event_zstd"]),
                       "event_json": _decompress(r["event_zstd"]) if zstd and r["event_zstd"] else r["event_json"]}
                      for r in rows]
    if ids and "transcript_event_identities" in tables:
        item["identities"] = _rows(db, QUERIES["identities"] + f" where session_id in ({marks})", *ids)
    return item


def _session_digests(db: sqlite3.Connection, columns: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Per session key, per session table, a digest of its rows (every column, sorted row hashes)."""
    owner: dict[str, str] = {}  # session id -> key
    if "session_nodes" in columns:
        owner.update({sid: key for key, sid in db.execute("select session_key, current_session_id from session_nodes") if sid})
    if "session_windows" in columns:
        owner.update({sid: key for sid, key in db.execute("select session_id, session_key from session_windows")})
    rows: dict[str, dict[str, list[str]]] = {}
    for table in SESSION_TABLES:
        if table not in columns:
            continue
        by = "session_key" if "session_key" in columns[table] else "session_id"
        cursor = db.execute(f'select * from "{table}"')
        names = [d[0] for d in cursor.description]
        at = names.index(by)
        for row in cursor:
            key = row[at] if by == "session_key" else owner.get(row[at], f"{ORPHAN}{row[at]}")
            rows.setdefault(key, {}).setdefault(table, []).append(_row_hash(row))
    return {key: {t: f"{len(h)}:{hashlib.sha256(''.join(sorted(h)).encode()).hexdigest()[:24]}" for t, h in tables.items()}
            for key, tables in rows.items()}


def changed_sessions(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]], *,
                     ignore: set[str] | frozenset[str] = frozenset()) -> list[dict]:
    """Every session (but those in `ignore`, and orphan rows of ignored session ids) whose rows differ, named with
    the tables that changed: [{"session", "change": changed|appeared|removed, "tables": {table: [before, after]}}]."""
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in ignore or (key.startswith(ORPHAN) and key[len(ORPHAN):] in ignore):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        change = "appeared" if old is None else "removed" if new is None else "changed"
        tables = {t: [(old or {}).get(t), (new or {}).get(t)] for t in sorted(set(old or {}) | set(new or {}))
                  if (old or {}).get(t) != (new or {}).get(t)}
        changes.append({"session": key, "change": change, "tables": tables})
    return changes


def _count(db: sqlite3.Connection, table: str) -> int | None:
    try:
        return db.execute(f'select count(*) from "{table}"').fetchone()[0]
    except sqlite3.Error:
        return None


def _rows(db: sqlite3.Connection, sql: str, *params: object) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def _row_hash(row: tuple) -> str:
    text = json.dumps([v.hex() if isinstance(v, bytes) else v for v in row], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _decompress(blob: bytes) -> str:
    """A zstd row (the Gateway compresses events of 1 KiB or more); Python 3.11 has no zstd of its own. A streaming
    decompressor: the Gateway's frames need not carry their content size."""
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(blob).decode("utf-8")


def _migration_runs(path: Path) -> int | None:
    if not path.exists():
        return None
    with closing(connect_ro(path)) as db:
        return _count(db, "migration_runs")
