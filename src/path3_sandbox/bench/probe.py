"""What an import left, read inside the Gateway image (node:sqlite, read-only): per agent database its transcript
table's schema, rows and bytes on disk; the Gateway's migration-run manifests (its own record of when the import
started and completed, and how many moves it planned and completed); its file log's lines about the import.

Runs in the running Gateway (exec) after ready or at the time limit, or in a one-off on the volume when it exited.
A database mid-import is read through SQLite in WAL mode: it sees what the import committed so far.
"""

from __future__ import annotations

import json

import datetime as dt
import re
from dataclasses import dataclass

from ..state.config import GATEWAY_LOG_FILE, STATE_DIR
from ..probes._node import Runner, run_node_json
from ..state.layout import AGENT_DB

TRANSCRIPT_TABLE = "transcript_events"
# The file log's lines about the import: the session-sqlite subsystem, or a message naming an import or migration.
LOG_LINE_RE = r"session-sqlite|import|migrat|legacy"
MAX_LOG_LINES = 60

SCRIPT = r"""
const {DatabaseSync} = require('node:sqlite');
const fs = require('fs'), path = require('path');
const [root, table, logFile, lineRe, maxLines] = process.argv.slice(1), AGENT_DB = __AGENT_DB__;
const out = {databases: [], manifests: [], log: []};
const size = p => { try { return fs.statSync(p).size; } catch (e) { return null; } };
const agents = fs.existsSync(path.join(root, 'agents')) ? fs.readdirSync(path.join(root, 'agents')) : [];
for (const agent of agents) {
  const p = path.join(root, AGENT_DB.replace('{agent}', agent));
  if (!fs.existsSync(p)) continue;
  const item = {agent, path: path.relative(root, p), bytes: size(p), wal_bytes: size(p + '-wal'),
                shm_bytes: size(p + '-shm'), error: null};
  try {
    const db = new DatabaseSync(p, {readOnly: true});
    item.schema = db.prepare("select type, name, sql from sqlite_master where tbl_name = ? and sql is not null " +
                             "order by type = 'table' desc, name").all(table);
    item.columns = db.prepare(`pragma table_info("${table}")`).all();
    if (item.columns.length) {
      item.rows = db.prepare(`select count(*) as n from "${table}"`).get().n;
      if (item.columns.some(c => c.name === 'event_zstd'))
        item.compressed_rows = db.prepare(`select count(*) as n from "${table}" where event_zstd is not null`).get().n;
    }
    const has = t => db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(t);
    if (has('session_nodes')) item.sessions = db.prepare('select count(*) as n from session_nodes').get().n;
    item.page_bytes = db.prepare('pragma page_count').get().page_count * db.prepare('pragma page_size').get().page_size;
    db.close();
  } catch (e) { item.error = String(e && e.message || e); }
  out.databases.push(item);
}
const runs = path.join(root, 'session-sqlite-migration-runs');
for (const name of fs.existsSync(runs) ? fs.readdirSync(runs).sort() : []) {
  if (!name.endsWith('.json')) continue;
  try {
    const m = JSON.parse(fs.readFileSync(path.join(runs, name), 'utf8'));
    const targets = m.targets || [];
    const count = key => targets.reduce((n, t) => n + (t[key] || []).length, 0);
    out.manifests.push({file: name, runId: m.runId, startedAt: m.startedAt || null, completedAt: m.completedAt || null,
                        failedAt: m.failedAt || null, plannedMoves: count('plannedMoves'),
                        completedMoves: count('completedMoves'), issues: count('issues')});
  } catch (e) { out.manifests.push({file: name, error: String(e && e.message || e)}); }
}
if (fs.existsSync(logFile)) {
  const re = new RegExp(lineRe, 'i');
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line || !re.test(line)) continue;
    try {
      const r = JSON.parse(line);
      const fields = Object.keys(r).filter(k => /^\d+$/.test(k)).map(k => r[k]);
      const texts = fields.filter(f => typeof f === 'string' && !f.startsWith('{'));  // the first is the logger's name
      const data = fields.find(f => f && typeof f === 'object') || {};
      out.log.push({time: r.time || (r._meta || {}).date || null, level: (r._meta || {}).logLevelName || null,
                    text: texts.join(' ').slice(0, 300), operation: data.operation || data.reclamationKind || null,
                    elapsedMs: data.elapsedMs ?? null, queueWaitMs: data.queueWaitMs ?? null,
                    writerExecutionMs: data.writerExecutionMs ?? null});
    } catch (e) { out.log.push({time: null, level: null, text: line.slice(0, 300), operation: null, elapsedMs: null}); }
    if (out.log.length >= Number(maxLines)) break;
  }
}
console.log(JSON.stringify(out));
""".replace("__AGENT_DB__", json.dumps(AGENT_DB))


@dataclass(frozen=True)
class ImportState:
    databases: tuple[dict, ...]
    manifests: tuple[dict, ...]
    log: tuple[dict, ...]  # the file log's lines about the import

    @property
    def rows(self) -> int | None:
        counted = [d["rows"] for d in self.databases if d.get("rows") is not None]
        return sum(counted) if counted else None

    @property
    def sqlite_bytes(self) -> int | None:
        """The agent databases on disk: the main file and its WAL."""
        if not self.databases:
            return None
        return sum((d.get("bytes") or 0) + (d.get("wal_bytes") or 0) for d in self.databases)

    @property
    def schema(self) -> tuple[dict, ...]:
        """The transcript table's CREATE statements (table first, then its indexes and triggers) and its columns,
        from the first database that has the table: what the floor creates."""
        for database in self.databases:
            if database.get("columns"):
                return tuple(database.get("schema") or ())
        return ()

    @property
    def import_seconds(self) -> float | None:
        """From the Gateway's own record: the first manifest's start to the last one's completion."""
        started = [_ms(m.get("startedAt")) for m in self.manifests]
        completed = [_ms(m.get("completedAt")) for m in self.manifests]
        if not self.manifests or None in started or None in completed:
            return None
        return (max(completed) - min(started)) / 1000

    @property
    def import_started_at(self) -> float | None:
        """Epoch seconds the Gateway's first migration run started (its manifest's startedAt)."""
        started = [_ms(m.get("startedAt")) for m in self.manifests]
        return min(started) / 1000 if started and None not in started else None

    def progress(self) -> dict:
        """What the import had done by now: moves planned and completed, rows written."""
        return {"manifests": len(self.manifests),
                "planned_moves": sum(m.get("plannedMoves") or 0 for m in self.manifests),
                "completed_moves": sum(m.get("completedMoves") or 0 for m in self.manifests),
                "completed": bool(self.manifests) and all(m.get("completedAt") for m in self.manifests),
                "rows": self.rows, "sqlite_bytes": self.sqlite_bytes}

    def to_json(self) -> dict:
        return {"databases": list(self.databases), "manifests": list(self.manifests), "log": list(self.log),
                "import_seconds": self.import_seconds, "progress": self.progress()}


def read_import_state(runner: Runner) -> ImportState:
    raw = run_node_json(runner, SCRIPT, STATE_DIR, TRANSCRIPT_TABLE, GATEWAY_LOG_FILE, LOG_LINE_RE, str(MAX_LOG_LINES))
    return ImportState(tuple(raw["databases"]), tuple(raw["manifests"]), tuple(raw["log"]))


STDOUT_LINE_RE = re.compile(LOG_LINE_RE + r"|Legacy entries|Transcript events|Archived \d+|listening \(", re.I)
TIMESTAMP_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))\s+(.*)$")


def import_lines(stdout: str) -> list[dict]:
    """The Gateway's stdout lines about the import (its Session SQLite report box, session-sqlite lines, the HTTP
    server's start time), each with its timestamp when it has one and any elapsedMs=/…s timing it names."""
    found = []
    for line in stdout.replace("│", " ").splitlines():
        text = " ".join(line.split())
        if not text or not STDOUT_LINE_RE.search(text):
            continue
        at, body = (m.group(1), m.group(2)) if (m := TIMESTAMP_RE.match(text)) else (None, text)
        elapsed = re.search(r"elapsedMs=(\d+)", body)
        seconds = re.search(r"\((?:[^()]*; )?(\d+(?:\.\d+)?)s\)$", body)
        found.append({"time": at, "text": body[:300],
                      "seconds": int(elapsed.group(1)) / 1000 if elapsed else float(seconds.group(1)) if seconds else None})
    return found[:MAX_LOG_LINES]


def _ms(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None
