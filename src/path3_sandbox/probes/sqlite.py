"""SQLite as the Gateway left it, read through SQLite itself (read-only, inside the container).

Never by copying files: copying a WAL database mid-transaction reads garbage. The schema is
introspected (table names and columns changed between releases), and transcript rows are returned
with their ids and content hashes only: the evidence holds no message text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..state.config import STATE_DIR
from ..state.inventory import content_hash
from ._node import Runner, run_node_json
from ..state.layout import AGENT_DB, SESSION_TABLES, STATE_DB

# The queries of a full snapshot, run by the in-container script below and by live mode's host reader (host_sqlite.py).
# {archived}: archived_at, or null on schemas without it; {zstd}: ", event_zstd" where the column exists.
QUERIES = {
    "sessions": "select session_key, current_session_id, {archived} as archived_at, entry_json from session_nodes",
    "windows": "select session_id, session_key from session_windows",
    "events": "select session_id, seq, event_json{zstd} from transcript_events",
    "events_order": " order by session_id, seq",
    "identities": "select session_id, event_id, seq from transcript_event_identities",
}

SCRIPT = (r"""
const {DatabaseSync} = require('node:sqlite');
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const root = process.argv[1], full = process.argv[2] === 'full';
const Q = __QUERIES__, SESSION_TABLES = __SESSION_TABLES__, AGENT_DB = __AGENT_DB__, STATE_DB = __STATE_DB__;
const out = {databases: []};
const candidates = [];
if (fs.existsSync(path.join(root, 'agents'))) {
  for (const agent of fs.readdirSync(path.join(root, 'agents'))) {
    const p = path.join(root, AGENT_DB.replace('{agent}', agent));
    if (fs.existsSync(p)) candidates.push({role: 'agent', agent, path: p});
  }
}
const global = path.join(root, STATE_DB);
if (fs.existsSync(global)) candidates.push({role: 'global', agent: null, path: global});
const GLOBAL_ROWS = {device_identities: 'select identity_key, device_id, public_key_pem, created_at_ms from device_identities',
  migration_sources: 'select * from migration_sources'};
for (const c of candidates) {
  const item = {...c, tables: {}, columns: {}, error: null};
  try {
    const db = new DatabaseSync(c.path, {readOnly: true});
    const tables = db.prepare("select name, sql from sqlite_master where type='table'").all();
    for (const t of tables) {
      if ((t.sql || '').startsWith('CREATE VIRTUAL')) continue;
      try { item.tables[t.name] = db.prepare(`select count(*) as n from "${t.name}"`).get().n; }
      catch (e) { item.tables[t.name] = null; }
    }
    for (const t of SESSION_TABLES) {
      if (t in item.tables) item.columns[t] = db.prepare(`pragma table_info("${t}")`).all().map(r => r.name);
    }
    item.integrity = db.prepare('pragma integrity_check').all().map(r => Object.values(r)[0]);
    if ('schema_meta' in item.tables) item.schema_meta = db.prepare('select * from schema_meta').all();
    if (c.role === 'global') {
      item.rows = {};
      for (const [t, sql] of Object.entries(GLOBAL_ROWS)) {
        if (t in item.tables) { try { item.rows[t] = db.prepare(sql).all(); } catch (e) { item.rows[t] = String(e.message); } }
      }
    }
    if (full && c.role === 'agent' && 'session_nodes' in item.tables) {
      const archived = item.columns.session_nodes.includes('archived_at') ? 'archived_at' : 'null';
      item.sessions = db.prepare(Q.sessions.replace('{archived}', archived)).all();
      if ('session_entry_snapshots' in item.tables) item.entry_snapshots = item.tables.session_entry_snapshots;
      item.windows = db.prepare(Q.windows).all();
      const zstd = (item.columns.transcript_events || []).includes('event_zstd');
      const rows = db.prepare(Q.events.replace('{zstd}', zstd ? ', event_zstd' : '') + Q.events_order).all();
      item.events = rows.map(r => ({session_id: r.session_id, seq: r.seq, compressed: !!(zstd && r.event_zstd),
        event_json: (zstd && r.event_zstd) ? zlib.zstdDecompressSync(r.event_zstd).toString('utf8') : r.event_json}));
      if ('transcript_event_identities' in item.tables)
        item.identities = db.prepare(Q.identities).all();
    }
    db.close();
  } catch (e) { item.error = String(e && e.message || e); }
  out.databases.push(item);
}
console.log(JSON.stringify(out));
""".replace("__QUERIES__", json.dumps(QUERIES)).replace("__SESSION_TABLES__", json.dumps(SESSION_TABLES))
          .replace("__AGENT_DB__", json.dumps(AGENT_DB)).replace("__STATE_DB__", json.dumps(STATE_DB)))


@dataclass(frozen=True)
class SqliteEvent:
    session_id: str
    seq: int
    event_id: str | None  # the id inside event_json
    content_sha256: str
    compressed: bool
    value: Any
    raw: str | None = None  # event_json as stored (decompressed when it was zstd)
    identity: str | None = None  # the event_id of its transcript_event_identities row; None: no row

    def to_json(self) -> dict:
        return {"seq": self.seq, "id": self.event_id, "identity": self.identity, "sha256": self.content_sha256,
                "compressed": self.compressed}


@dataclass(frozen=True)
class AgentDatabase:
    agent: str
    path: str
    tables: dict[str, int | None]
    integrity: tuple[str, ...]
    error: str | None
    schema_version: int | None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # session table -> its columns
    sessions: dict[str, dict] = field(default_factory=dict)  # key -> {sessionId, archived_at, entry, entry_json}
    windows: dict[str, str] = field(default_factory=dict)  # sessionId -> key
    events: dict[str, tuple[SqliteEvent, ...]] = field(default_factory=dict)  # sessionId -> events

    def to_json(self) -> dict:
        return {
            "agent": self.agent, "path": self.path, "schema_version": self.schema_version, "error": self.error,
            "integrity": list(self.integrity), "tables": self.tables, "columns": {k: list(v) for k, v in self.columns.items()},
            "sessions": {k: {"sessionId": v["sessionId"], "archived_at": v["archived_at"],
                             "entry_sha256": content_hash(v["entry"]), "entry_keys": sorted(v["entry"] or {})}
                         for k, v in self.sessions.items()},
            "events": {sid: [e.to_json() for e in events] for sid, events in self.events.items()},
        }


@dataclass(frozen=True)
class SqliteSnapshot:
    agents: dict[str, AgentDatabase]
    global_db: dict | None

    def count(self, table: str) -> int:
        return sum((db.tables.get(table) or 0) for db in self.agents.values())

    def missing_columns(self, table: str, *columns: str) -> list[str]:
        """Columns the checks need that an agent DB lacks: a check must then say it cannot run, never default."""
        return [f"{db.agent}: {table}.{c}" for db in self.agents.values() if table in db.columns
                for c in columns if c not in db.columns[table]]

    def global_rows(self, table: str) -> list | None:
        return ((self.global_db or {}).get("rows") or {}).get(table)

    def session(self, key: str) -> tuple[AgentDatabase, dict] | None:
        for db in self.agents.values():
            if key in db.sessions:
                return db, db.sessions[key]
        return None

    def events_of(self, session_id: str) -> tuple[SqliteEvent, ...]:
        for db in self.agents.values():
            if session_id in db.events:
                return db.events[session_id]
        return ()

    def to_json(self) -> dict:
        return {"agents": {a: db.to_json() for a, db in self.agents.items()}, "global": self.global_db,
                "totals": {t: self.count(t) for t in ("session_nodes", "session_windows", "transcript_events")}}


def snapshot(runner: Runner, *, full: bool = True) -> SqliteSnapshot:
    raw = run_node_json(runner, SCRIPT, STATE_DIR, "full" if full else "counts")
    return parse_snapshot(raw)


def parse_snapshot(raw: dict) -> SqliteSnapshot:
    agents: dict[str, AgentDatabase] = {}
    global_db = None
    for item in raw["databases"]:
        version = next((row.get("schema_version") for row in item.get("schema_meta") or []), None)
        if item["role"] == "global":
            global_db = {"path": item["path"], "tables": item["tables"], "integrity": item.get("integrity"),
                         "error": item.get("error"), "schema_version": version, "rows": item.get("rows") or {}}
            continue
        ids = {(row["session_id"], row["seq"]): row["event_id"] for row in item.get("identities") or []}
        events: dict[str, list[SqliteEvent]] = {}
        for row in item.get("events") or []:
            try:
                value = json.loads(row["event_json"]) if row["event_json"] is not None else None
            except ValueError:
                value = row["event_json"]
            event_id = value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None
            events.setdefault(row["session_id"], []).append(
                SqliteEvent(row["session_id"], row["seq"], event_id, content_hash(value), row["compressed"], value,
                            row["event_json"], ids.get((row["session_id"], row["seq"]))))
        sessions = {}
        for row in item.get("sessions") or []:
            try:
                entry = json.loads(row["entry_json"])
            except (TypeError, ValueError):
                entry = None
            sessions[row["session_key"]] = {"sessionId": row["current_session_id"], "archived_at": row["archived_at"],
                                            "entry": entry, "entry_json": row["entry_json"]}
        agents[item["agent"]] = AgentDatabase(
            agent=item["agent"], path=item["path"], tables=item["tables"], integrity=tuple(item.get("integrity") or ()),
            error=item.get("error"), schema_version=version, sessions=sessions,
            columns={t: tuple(cols) for t, cols in (item.get("columns") or {}).items()},
            windows={row["session_id"]: row["session_key"] for row in item.get("windows") or []},
            events={sid: tuple(evs) for sid, evs in events.items()},
        )
    return SqliteSnapshot(agents, global_db)


DIGEST_SCRIPT = r"""
const {DatabaseSync} = require('node:sqlite'); const fs = require('fs'), path = require('path'), crypto = require('crypto');
const root = process.argv[1], wanted = JSON.parse(process.argv[2]), project = JSON.parse(process.argv[3] || '{}'), out = {};
const digest = r => crypto.createHash('sha256').update(JSON.stringify(r, (k, v) => typeof v === 'bigint' ? String(v)
  : (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))).digest('hex').slice(0, 24);
for (const rel of wanted) {
  const p = path.join(root, rel);
  if (!fs.existsSync(p)) continue;
  try {
    const db = new DatabaseSync(p, {readOnly: true}), tables = {};
    for (const t of db.prepare("select name from sqlite_master where type='table' and name not like 'sqlite_%'").all()) {
      const columns = db.prepare(`pragma table_info("${t.name}")`).all().map(c => c.name);
      const all = db.prepare(`select * from "${t.name}"`).all();
      tables[t.name] = {columns, rows: all.map(digest).sort()};
      // A reshaped table: its rows over the columns the original had (in the original's order), to compare content.
      const keep = (project[t.name] || null);
      if (keep && keep.every(c => columns.includes(c)) && keep.join() !== columns.join())
        tables[t.name].projected = {columns: keep, rows: all.map(r => digest(Object.fromEntries(keep.map(c => [c, r[c]])))).sort()};
    }
    db.close();
    out[rel] = {tables};
  } catch (e) { out[rel] = {error: String(e && e.message || e)}; }
}
console.log(JSON.stringify({databases: out}));
"""


def digests(runner: Runner, *paths: str, project: dict[str, list[str]] | None = None) -> dict[str, dict]:
    """Per database (path relative to the state dir): per table its columns and a hash of every row, read
    through SQLite (so a WAL's committed pages count). Compares content, not file bytes. `project` (table ->
    columns, the original's): a table that has them all plus others also gets its rows hashed over those columns
    only (`projected`), so a table a migration reshaped is compared by content, not by count."""
    return run_node_json(runner, DIGEST_SCRIPT, STATE_DIR, json.dumps(list(paths)), json.dumps(project or {}))["databases"]
