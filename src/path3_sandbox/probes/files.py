"""Every file in the state directory with its size, mtime and sha256, read inside the container.

Every file is hashed, SQLite databases too: a stopped Gateway's database is judged by its bytes (a
migrated `state/openclaw.sqlite` must leave a byte-identical backup); under a running Gateway their
hashes only describe that moment, and SQLite itself is the way to read them. The Gateway's scratch folders directly
under the state dir (layout.SCRATCH_DIRS) are skipped, and only there: seeding leaves out the same ones, and a
`cache/`, `tmp/` or `node_modules/` deeper down (a workspace project's) is seeded, so it is probed like any file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..state.config import STATE_DIR
from ..state.layout import SCRATCH_DIRS, is_live_legacy_path
from ._node import Runner, run_node_json

SCRIPT = r"""
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const root = process.argv[1], files = [];
const SKIP_DIRS = new Set(__SCRATCH_DIRS__);
function walk(dir) {
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name), rel = path.relative(root, p);
    if (e.isDirectory()) { if (!(dir === root && SKIP_DIRS.has(e.name))) walk(p); continue; }
    if (!e.isFile()) continue;
    try {
      const st = fs.statSync(p);
      files.push({path: rel, size: st.size, mtime: st.mtimeMs / 1000, nlink: st.nlink,
        sha256: crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')});
    } catch (err) { if (err.code !== 'ENOENT') throw err; }  // a -journal a live Gateway removed meanwhile
  }
}
if (fs.existsSync(root)) walk(root);
console.log(JSON.stringify({files}));
""".replace("__SCRATCH_DIRS__", json.dumps(SCRATCH_DIRS))


@dataclass(frozen=True)
class StateFile:
    path: str
    size: int
    mtime: float
    sha256: str | None

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime": self.mtime, "sha256": self.sha256}


@dataclass(frozen=True)
class FilesSnapshot:
    files: dict[str, StateFile]

    def by_hash(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for item in self.files.values():
            if item.sha256:
                index.setdefault(item.sha256, []).append(item.path)
        return index

    def legacy_shaped(self) -> list[StateFile]:
        """Files a Gateway that serves from SQLite should neither create nor modify outside its archive."""
        return [f for f in self.files.values() if is_live_legacy_path(f.path)]

    def to_json(self) -> dict:
        return {"files": [f.to_json() for f in sorted(self.files.values(), key=lambda f: f.path)]}


def snapshot(runner: Runner) -> FilesSnapshot:
    return parse_snapshot(run_node_json(runner, SCRIPT, STATE_DIR))


def parse_snapshot(raw: dict) -> FilesSnapshot:
    return FilesSnapshot({f["path"]: StateFile(f["path"], f["size"], f["mtime"], f["sha256"]) for f in raw["files"]})


READ_SCRIPT = r"""
const fs = require('fs'), path = require('path');
const root = process.argv[1], wanted = JSON.parse(process.argv[2]), out = {};
const SKIP_DIRS = __SCRATCH_DIRS__;
function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return dir === root && SKIP_DIRS.includes(e.name) ? [] : walk(p);
    return [path.relative(root, p)];
  });
}
const all = walk(root);
for (const pattern of wanted) {
  const re = new RegExp(pattern);
  for (const rel of all.filter(r => re.test(r))) out[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
}
console.log(JSON.stringify({files: out}));
""".replace("__SCRATCH_DIRS__", json.dumps(SCRATCH_DIRS))


def read_texts(runner: Runner, *patterns: str) -> dict[str, str]:
    """Contents of the state files whose relative path matches any of `patterns` (regexes)."""
    return run_node_json(runner, READ_SCRIPT, STATE_DIR, json.dumps(list(patterns)))["files"]
