"""Files the Gateway processes hold open, by their container paths.

Where the engine is local, the Gateway's host pid (docker inspect State.Pid, tini) and its children
are found with psutil and their /proc/<pid>/fd links read on the host (psutil's open_files() drops paths
that don't exist on the host filesystem, so container paths would vanish). Otherwise /proc is read
inside the container.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

from ..state.layout import is_live_legacy_path
from ._node import Runner, run_node_json

SCRIPT = r"""
const fs = require('fs'), out = [];
for (const pid of fs.readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
  let cmd = '';
  try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch (e) { continue; }
  if (pid === String(process.pid)) continue;
  let fds = [];
  try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch (e) { continue; }
  for (const fd of fds) { try { out.push({pid: Number(pid), cmd: cmd.slice(0, 80), path: fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}); } catch (e) {} }
}
console.log(JSON.stringify({handles: out}));
"""


@dataclass(frozen=True)
class Handles:
    method: str  # "host psutil" | "container /proc"
    paths: tuple[str, ...]  # distinct open file paths under the state dir
    processes: int

    def matching(self, *suffixes: str) -> list[str]:
        return [p for p in self.paths if p.endswith(suffixes)]

    def legacy(self, state_dir: str) -> list[str]:
        """Open legacy session files (agents/*/sessions/*, sessions/*, any sessions.json), not logs or archives."""
        prefix = state_dir.rstrip("/") + "/"
        return [p for p in self.paths if p.startswith(prefix) and is_live_legacy_path(p[len(prefix):])]

    def to_json(self) -> dict:
        return {"method": self.method, "processes": self.processes, "paths": list(self.paths)}


def snapshot(host_pid: int | None, runner: Runner, state_dir: str) -> Handles:
    if host_pid and os.path.isdir(f"/proc/{host_pid}/fd"):
        try:
            return _from_host(host_pid, state_dir)
        except (psutil.Error, PermissionError):
            pass
    raw = run_node_json(runner, SCRIPT)
    paths = sorted({h["path"] for h in raw["handles"] if h["path"].startswith(state_dir)})
    return Handles("container /proc", tuple(paths), len({h["pid"] for h in raw["handles"]}))


def _from_host(host_pid: int, state_dir: str) -> Handles:
    root = psutil.Process(host_pid)
    processes = [root, *root.children(recursive=True)]
    paths: set[str] = set()
    for process in processes:
        fd_dir = f"/proc/{process.pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith(state_dir):
                paths.add(target)
    return Handles("host psutil", tuple(sorted(paths)), len(processes))
