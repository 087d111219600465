"""SIGKILL a Gateway during its import: at a fixed offset after its start, or at an observed persistence point.

Observed points come from a watcher run inside the Gateway's container as it starts (`fs.watch`, recursive, on the
state directory): each distinct (event, path) under the import's paths is one point. At the Nth, the watcher freezes
every process of the container but init and itself (SIGSTOP: the state on disk is exactly the state at that point,
whatever the host's latency), prints the point, and the host then kills the container (SIGKILL, as a power cut of the
process would). When the Gateway is ready before the Nth point, the import finished untouched: a sweep over N ends.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field

from ..state.config import STATE_DIR
from ..containers.gateway import DOCTOR_FIX, Gateway
from ..errors import HarnessFailure

# Where an import writes: its run manifests, the import archive, the legacy folders it moves files out of, the
# per-agent databases. Anything else (logs, config, caches) is not an import persistence point.
IMPORT_PATHS = (r"^(session-sqlite-migration-runs/|agents/[^/]+/(session-sqlite-import-archive/|sessions/"
                r"|agent/openclaw-agent\.sqlite)|state/openclaw\.sqlite)")
WATCH_TIMEOUT_S = 10  # for the watcher to say it watches

WATCHER = r"""
const fs = require('fs'), path = require('path');
const root = process.argv[1], pattern = new RegExp(process.argv[2]), wanted = Number(process.argv[3]);
const seen = new Set(); let count = 0, fired = false;
const log = record => console.log('P3-FAULT ' + JSON.stringify({at: Date.now() / 1000, ...record}));
function walk(dir) {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [path.relative(root, p)];
  });
}
function freeze() {
  const stopped = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!pid || pid === 1 || pid === process.pid) continue;
    try { process.kill(pid, 'SIGSTOP'); stopped.push(pid); } catch (e) {}
  }
  return stopped;
}
fs.watch(root, {recursive: true}, (type, file) => {
  if (fired || !file) return;
  const rel = String(file);
  if (!pattern.test(rel)) return;
  const exists = fs.existsSync(path.join(root, rel));
  const key = `${type} ${rel} ${exists}`;
  if (seen.has(key)) return;
  seen.add(key); count += 1;
  if (count === wanted) {
    fired = true;
    const stopped = freeze();
    log({event: 'point', n: count, type, path: rel, exists, stopped});
  } else log({event: 'seen', n: count, type, path: rel, exists});
});
log({event: 'watching', preexisting: walk(root).filter(p => pattern.test(p))});
setInterval(() => {}, 1 << 30);
"""


@dataclass
class KillRecord:
    """What one injected kill did: where it hit, what the Gateway had done by then."""

    how: str
    hit: bool = False  # False: the Gateway was ready (or exited) before the kill point
    watching: bool = False  # the watcher said it watches: without it, no point can be met and "not hit" means nothing
    point: dict | None = None
    points_seen: list[dict] = field(default_factory=list)
    preexisting: list[str] = field(default_factory=list)
    seconds: float = 0.0
    start: dict | None = None
    doctor_output: str = ""

    def to_json(self) -> dict:
        return {"how": self.how, "hit": self.hit, "point": self.point, "points_seen": self.points_seen,
                "preexisting": self.preexisting, "seconds": round(self.seconds, 2), "start": self.start}


def _watch(container, gateway: Gateway, n: int, pattern: str, record: KillRecord) -> threading.Thread:
    """Run the watcher in `container`; kill the container at the Nth point. Returns the thread that follows it,
    once the watcher says it watches (or WATCH_TIMEOUT_S passed)."""
    argv = ["node", "-e", WATCHER, STATE_DIR, pattern, str(n)]
    gateway._record("exec", argv)
    output = container.exec_run(argv, user="node", stream=True).output
    watching = threading.Event()

    def follow() -> None:
        buffer = b""
        for chunk in output:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                if not text.startswith("P3-FAULT "):
                    continue
                event = json.loads(text.removeprefix("P3-FAULT "))
                if event["event"] == "watching":
                    record.preexisting = event["preexisting"]
                    watching.set()
                elif event["event"] == "seen":
                    record.points_seen.append(event)
                elif event["event"] == "point":
                    record.point = event
                    record.hit = True
                    container.kill()  # every process is frozen at the point: this is the crash
                    return

    reader = threading.Thread(target=follow, name="path3-fault-watcher", daemon=True)
    reader.start()
    record.watching = watching.wait(WATCH_TIMEOUT_S)
    return reader


def _watcher_started(record: KillRecord) -> None:
    """A watcher that never said it watches can meet no point: the case would read "not hit" and end its sweep
    green. That is the harness's failure, never the Gateway's pass."""
    if not record.watching:
        raise HarnessFailure(f"the fault watcher never said it watches within {WATCH_TIMEOUT_S}s of the start: no "
                             f"kill point could be met ({record.how})")


def kill_at_point(gateway: Gateway, n: int, pattern: str = IMPORT_PATHS) -> KillRecord:
    """Start the Gateway and SIGKILL it at the Nth observed import point."""
    record = KillRecord(f"SIGKILL at observed point {n} of {pattern}")
    started = time.monotonic()
    gateway.launch()
    reader = _watch(gateway.container, gateway, n, pattern, record)
    observation = gateway.observe_start()  # "exited" once killed; "ready" when the import outran the point
    reader.join(timeout=5)
    record.seconds = time.monotonic() - started
    record.start = observation.to_json()
    if not record.hit and gateway.status() == "running":
        gateway.stop()
    _watcher_started(record)
    return record


def kill_doctor_at_point(gateway: Gateway, n: int, pattern: str = IMPORT_PATHS, timeout_s: float = 300) -> KillRecord:
    """Run `openclaw doctor --fix` in a one-off container on the Gateway's volume and SIGKILL it at the Nth point."""
    record = KillRecord(f"SIGKILL of doctor --fix at observed point {n} of {pattern}")
    started = time.monotonic()
    argv = DOCTOR_FIX
    oneoff = gateway._on_volume(f"{gateway.name}-doctor", "oneoff", argv)
    gateway._record("oneoff", argv)
    try:
        container = oneoff.start().get_wrapped_container()
        reader = _watch(container, gateway, n, pattern, record)
        with contextlib.suppress(Exception):
            code = container.wait(timeout=timeout_s)["StatusCode"]
            record.start = {"outcome": "killed" if record.hit else "exited", "exit_code": code}
        reader.join(timeout=5)
        record.doctor_output = container.logs().decode(errors="replace")
    finally:
        oneoff.stop()
    record.seconds = time.monotonic() - started
    _watcher_started(record)
    return record


def kill_after(gateway: Gateway, seconds: float) -> KillRecord:
    """Start the Gateway and SIGKILL it `seconds` after the start, whatever it is doing."""
    record = KillRecord(f"SIGKILL {seconds:g}s after the start")
    started = time.monotonic()
    gateway.launch()
    time.sleep(seconds)
    record.hit = gateway.status() == "running"
    ready = gateway.probe_http("/readyz") if record.hit else None
    record.point = {"ready_before_kill": bool(ready and ready.get("status") == 200)}
    if record.hit:
        gateway.kill()
    record.seconds = time.monotonic() - started
    return record
