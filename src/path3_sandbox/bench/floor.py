"""The floor: the same transcript rows bulk-inserted with node:sqlite, one transaction, in a one-off container of the
same image, into a table created from the Gateway's own transcript-table schema (read from the imported database).

What the Gateway's import could not beat on this machine: every line of every transcript, the header included,
as one row as the Gateway writes it (2026.9.6, read off its database): session_id, seq from 0, created_at the
event's timestamp in ms, event_utf8_bytes, the line as event_json; where the table has event_zstd and a nullable
event_json (9.6; 9.5's has neither), a line of COMPRESS_AT bytes or more zstd-compressed into event_zstd with
event_json NULL and a navigation projection of the event (the table's CHECK requires one). The table is created from the Gateway's own CREATE statement (STRICT, its CHECKs, its primary key)
and its indexes; its foreign key is not enforced (it points at session_windows, which the floor does not have).
Only this one table is written, so the gap to the Gateway is also its identities, FTS index and session rows.
Timed inside node: reading the files apart from BEGIN..COMMIT (parsing each line and compression included).
Pragmas: journal_mode=WAL (as the Gateway's agent databases), synchronous=NORMAL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..state.config import STATE_DIR
from ..probes._node import Runner, run_node_json
from .generate import SESSIONS_DIR

COMPRESS_AT = 1024  # openclaw.md §4: rows of 1 KiB or more are stored zstd-compressed
FLOOR_DB = "floor/floor.sqlite"  # in the floor's own volume

SCRIPT = r"""
const {DatabaseSync} = require('node:sqlite');
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const [dir, dbPath, specText] = process.argv.slice(1);
const spec = JSON.parse(specText);
const seconds = t => Number(process.hrtime.bigint() - t) / 1e9;
let t = process.hrtime.bigint();
const rows = [];
for (const name of fs.readdirSync(dir).filter(n => n.endsWith('.jsonl')).sort()) {
  const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(l => l.length);
  const sid = JSON.parse(lines[0]).id;
  lines.forEach((line, seq) => rows.push([sid, seq, line]));
}
const readSeconds = seconds(t);
fs.mkdirSync(path.dirname(dbPath), {recursive: true});
const db = new DatabaseSync(dbPath, {enableForeignKeyConstraints: false});
db.exec('pragma journal_mode = wal; pragma synchronous = normal;');
for (const sql of spec.ddl) db.exec(sql);
const columns = db.prepare(`pragma table_info("${spec.table}")`).all();
const now = Date.now();
const filler = c => /INT|REAL|FLOA|DOUB|NUM/i.test(c.type) ? 0 : /BLOB/i.test(c.type) ? Buffer.alloc(0) : '';
// A compressed row carries the event's navigation projection (its CHECK requires one): the event without content.
const navigation = (e, bytes) => {
  const size = Math.min(bytes, 4194304);
  const head = {type: e.type, id: e.id, parentId: e.parentId ?? null, timestamp: e.timestamp};
  const nav = e.message ? {...head, message: {role: e.message.role}} : head;
  return JSON.stringify({version: 1, report: {kind: 'canonical', hasParentId: 'parentId' in e, entry: head},
    navigation: nav, reset: nav, model: e.message ? {...nav, message: {role: e.message.role,
    timestamp: e.message.timestamp, content: []}} : nav, modelBytes: size, modelWithoutCheckpointBytes: size,
    withoutCustomDataBytes: size});
};
const value = {
  session_id: r => r.sid, seq: r => r.seq,
  event_json: r => r.zstd ? null : r.line,
  event_zstd: r => r.zstd,
  event_utf8_bytes: r => r.bytes.length,
  navigation_json: r => r.zstd ? navigation(r.event, r.bytes.length) : null,
  created_at: (r, c) => { const at = Date.parse(r.event.timestamp);
                          return /INT|REAL|NUM/i.test(c.type) ? (at || now) : new Date(at || now).toISOString(); },
};
const used = columns.filter(c => value[c.name] || (c.notnull && c.dflt_value === null));
const insert = db.prepare(`insert into "${spec.table}" (${used.map(c => `"${c.name}"`).join(', ')}) ` +
                          `values (${used.map(() => '?').join(', ')})`);
// Compressed only where the Gateway's table can hold it (9.6: event_zstd, a nullable event_json; 9.5 has neither).
const byName = Object.fromEntries(columns.map(c => [c.name, c]));
const canCompress = Boolean(byName.event_zstd && byName.event_json && !byName.event_json.notnull);
let compressed = 0;
t = process.hrtime.bigint();
db.exec('begin');
for (const [sid, seq, line] of rows) {
  const r = {sid, seq, line, bytes: Buffer.from(line, 'utf8'), event: JSON.parse(line)};
  r.zstd = canCompress && r.bytes.length >= spec.compressAt ? zlib.zstdCompressSync(r.bytes) : null;
  if (r.zstd) compressed++;
  insert.run(...used.map(c => value[c.name] ? value[c.name](r, c) : filler(c)));
}
db.exec('commit');
const insertSeconds = seconds(t);
db.close();
const size = p => { try { return fs.statSync(p).size; } catch (e) { return 0; } };
console.log(JSON.stringify({rows: rows.length, compressed, read_seconds: readSeconds, insert_seconds: insertSeconds,
  bytes: size(dbPath) + size(dbPath + '-wal'), columns: used.map(c => c.name), node: process.version,
  max_rss_bytes: process.resourceUsage().maxRSS * 1024}));
"""


@dataclass(frozen=True)
class FloorResult:
    rows: int
    compressed: int
    insert_seconds: float  # BEGIN..COMMIT, compression included
    read_seconds: float
    bytes: int
    columns: tuple[str, ...]
    node: str
    ddl: tuple[str, ...]
    max_rss_bytes: int  # node's own high-water mark (process.resourceUsage): exact, no sampling

    @property
    def peak_rss_mib(self) -> float:
        return self.max_rss_bytes / 2**20

    @property
    def events_per_second(self) -> float | None:
        return self.rows / self.insert_seconds if self.insert_seconds > 0 else None

    def to_json(self) -> dict:
        return {"rows": self.rows, "compressed": self.compressed, "seconds": round(self.insert_seconds, 3),
                "read_seconds": round(self.read_seconds, 3), "bytes": self.bytes, "columns": list(self.columns),
                "node": self.node, "peak_rss_mib": round(self.peak_rss_mib, 1), "ddl": list(self.ddl)}


def floor_ddl(schema: tuple[dict, ...]) -> tuple[str, ...]:
    """The table and its indexes, from sqlite_master rows of the Gateway's database; no triggers (they reach other
    tables). Every CREATE made idempotent, so the statements run on a fresh database as they are."""
    kept = [row["sql"] for row in schema if row.get("type") in ("table", "index") and row.get("sql")]
    return tuple(sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
                 .replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                 .replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1) for sql in kept)


def run_floor(runner: Runner, schema: tuple[dict, ...], table: str) -> FloorResult:
    """Bulk-insert the transcripts under the floor volume's sessions folder; `runner` runs in a one-off on it."""
    ddl = floor_ddl(schema)
    if not ddl or not any(sql.upper().startswith("CREATE TABLE") for sql in ddl):
        raise ValueError(f"no CREATE TABLE for {table} in the schema read from the Gateway's database")
    spec = {"ddl": list(ddl), "table": table, "compressAt": COMPRESS_AT}
    raw = run_node_json(runner, SCRIPT, f"{STATE_DIR}/{SESSIONS_DIR}", f"{STATE_DIR}/{FLOOR_DB}", json.dumps(spec))
    return FloorResult(raw["rows"], raw["compressed"], raw["insert_seconds"], raw["read_seconds"], raw["bytes"],
                       tuple(raw["columns"]), raw["node"], ddl, int(raw["max_rss_bytes"]))
