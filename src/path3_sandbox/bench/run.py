"""`path3-sandbox bench`: how the real Gateway's import scales with the size of a legacy state.

    path3-sandbox bench --openclaw 2026.9.6 --sessions 10,100,1000,5000 --events 20 [--time-limit 15m]

For each size, in the order given: generate the state (generate.py), seed a fresh volume with it and the harness
config, start the target's Gateway on it as a user would and measure the import (measure.py), then the floor: the
same rows in one node:sqlite transaction (floor.py). A size that is not ready within the time limit is a `timeout`,
with what the import had done by then; the next sizes still run. Containers and volumes are removed whatever
happens (RunResources).

    .artifacts/path3-bench/<run>/bench.json, bench.md, bench.png, <sessions>x<events>/ (gateway-stdout.log,
        doctor-fix.log, gateway.json: starts, report, manifests, log lines; floor.json; state.json)
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import psutil

from ..state.config import CONFIG_NAME
from ..containers.network import OPEN
from ..containers.resources import RunResources
from ..containers.volumes import VolumeFile
from ..proof.contracts import ContractChoice
from ..errors import UsageError, exit_for
from ..build.images import GatewayImage
from ..progress import say
from ..proof.session import StateSession
from .floor import FloorResult, run_floor
from .generate import LegacyState, generate
from .measure import ERROR, GatewayRun, measure_import
from .plot import plot
from .probe import TRANSCRIPT_TABLE
from .report import MIB, BenchRow, write

@dataclass(frozen=True)
class BenchOptions:
    sessions: tuple[int, ...]
    events: int
    time_limit_s: float
    seed: int = 0
    keep: bool = False


def parse_sizes(text: str) -> tuple[int, ...]:
    """"10,100,1000" -> (10, 100, 1000): whole numbers of sessions, at least 1 each, each once."""
    parts = [p.strip() for p in text.split(",")]
    sizes = []
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise UsageError(f"--sessions {text!r}: {part!r} is not a number of sessions (a whole number, 1 or more)",
                             hint="e.g. --sessions 10,100,1000,5000")
        sizes.append(int(part))
    if len(set(sizes)) != len(sizes):
        raise UsageError(f"--sessions {text!r} names a size twice", hint="list each size once, e.g. --sessions 10,100")
    return tuple(sizes)


def parse_events(value: int) -> int:
    if value < 1:
        raise UsageError(f"--events {value}: a session needs at least one message event", hint="e.g. --events 20")
    return value


_LIMIT_RE = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def parse_time_limit(text: str) -> float:
    """"15m", "90s", "1h", or a bare number of minutes -> seconds."""
    match = _LIMIT_RE.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"--time-limit {text!r} is not a duration", hint="e.g. --time-limit 15m, 90s or 1h")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "": 60}[match.group(2)]


def run_bench(client: docker.DockerClient, image: GatewayImage, contract: ContractChoice, options: BenchOptions, *,
              run_id: str, root: Path) -> list[BenchRow]:
    started = time.monotonic()
    meta = {"openclaw": image.target.version, "image": image.tag, "contract": contract.contract, "run_id": run_id,
            "sessions": list(options.sessions), "events_per_session": options.events,
            "time_limit_s": options.time_limit_s, "seed": options.seed, "cpus": os.cpu_count(),
            "host_memory_mib": round(psutil.virtual_memory().total / MIB), "seconds": None}
    rows: list[BenchRow] = []
    say("bench", f"openclaw {meta['openclaw']}: sizes {', '.join(map(str, options.sessions))} sessions × "
                 f"{options.events} events, time limit {options.time_limit_s:.0f}s each; evidence in {root}")
    schema: tuple[dict, ...] = ()  # the Gateway's transcript table, kept for a later size's floor after a timeout
    with RunResources(client, run_id, keep=options.keep) as resources:
        for sessions in options.sessions:
            row, seen = _measure_size(client, resources, image, options, sessions, root, schema)
            schema = seen or schema
            rows.append(row)
            meta["seconds"] = round(time.monotonic() - started, 1)
            write(root, meta, rows)
            say("bench", summary_line(row))
    meta["seconds"] = round(time.monotonic() - started, 1)
    write(root, meta, rows)
    why_not = plot(rows, root / "bench.png", title=f"openclaw {meta['openclaw']}: import scaling "
                                                   f"({options.events} events per session)",
                   time_limit_s=options.time_limit_s)
    if why_not:
        say("bench", f"bench.png not written: {why_not}")
    return rows


def _measure_size(client: docker.DockerClient, resources: RunResources, image: GatewayImage, options: BenchOptions,
                  sessions: int, root: Path, schema: tuple[dict, ...]) -> tuple[BenchRow, tuple[dict, ...]]:
    label = f"{sessions}x{options.events}"
    folder = root / label
    folder.mkdir(parents=True, exist_ok=True)
    made = time.monotonic()
    state = generate(sessions, options.events, seed=options.seed, now_ms=int(time.time() * 1000))
    (folder / "state.json").write_text(json.dumps(state.to_json(), indent=2) + "\n")
    say("bench", f"{label}: generated {state.sessions} sessions, {state.events} transcript rows, "
                 f"{state.bytes / MIB:.1f} MiB in {time.monotonic() - made:.1f}s; seeding a fresh volume")
    session = StateSession(resources, image.tag)  # hermetic, as the proof's Gateways: the import is timed offline
    try:
        volume = session.volume(f"bench-{label}", [_config(session, state), *state.files])
    except Exception as error:  # e.g. no room for the state: this size is not measured, the next ones still run
        failed = f"seeding the volume failed: {short(f'{type(error).__name__}: {error}')}"
        return BenchRow.of(state, GatewayRun(error=failed), None, harness_error=failed, evidence=label), ()
    gateway = session.gateway(volume, f"path3-{resources.run_id}-bench-{label}-gateway")
    run = measure_import(client, gateway, time_limit_s=options.time_limit_s, folder=folder, label=label)
    (folder / "gateway.json").write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n")
    failures = [f"measuring the Gateway failed: {short(run.error)}"] if run.error else []
    seen = run.state.schema if run.state else ()
    floor, note = None, None
    if seen or schema:
        say("bench", f"{label}: floor: {state.events} rows in one node:sqlite transaction")
        try:
            floor = _floor(session, state, seen or schema, label, options)
            (folder / "floor.json").write_text(json.dumps(floor.to_json(), indent=2) + "\n")
        except Exception as error:  # a harness failure: kept whole in floor-error.txt, the Gateway's row stays
            (folder / "floor-error.txt").write_text(f"{type(error).__name__}: {error}\n")
            failures.append(f"the floor failed: {short(f'{type(error).__name__}: {error}')} (floor-error.txt)")
    else:
        note = "floor skipped: no transcript table schema was read from a Gateway database yet"
    row = BenchRow.of(state, run, floor, note=note, harness_error="; ".join(failures) or None, evidence=label)
    return row, seen


def _floor(session: StateSession, state: LegacyState, schema: tuple[dict, ...], label: str,
           options: BenchOptions) -> FloorResult:
    """The floor on its own volume holding the transcripts only, in a one-off of the same image (a one-off has no
    network: the Gateway object only names the volume and the image)."""
    volume = session.volume(f"bench-{label}-floor", state.transcripts)
    oneoff = session.gateway(volume, f"path3-{session.resources.run_id}-bench-{label}-floor", network=OPEN)
    return run_floor(lambda argv: oneoff.run_oneoff(argv, timeout_s=options.time_limit_s), schema, TRANSCRIPT_TABLE)


def _config(session: StateSession, state: LegacyState) -> VolumeFile:
    """The harness config (config.harness_config), so the Gateway starts quiet and offline as in the proof."""
    newest = max(f.mtime for f in state.files)
    data = (json.dumps(session.config(), indent=2) + "\n").encode()
    return VolumeFile(CONFIG_NAME, data, newest, 0o600)


def summary_line(row: BenchRow) -> str:
    def f(value, digits=1):
        return "-" if value is None else f"{value:.{digits}f}"

    return (f"{row.label}: {row.outcome}; ready {f(row.seconds_to_ready)}s, import {f(row.import_seconds)}s "
            f"({f(row.events_per_s, 0)} events/s), {f(row.imported_events, 0)}/{row.events} events imported, "
            f"peak RSS {f(row.peak_rss_mib, 0)} MiB, SQLite {f((row.sqlite_bytes or 0) / MIB)} MiB; "
            f"floor {f(row.floor_seconds, 2)}s ({f(row.floor_events_per_s, 0)} events/s)"
            + (f"; {row.note}" if row.note else "") + (f"; HARNESS: {row.harness_error}" if row.harness_error else ""))


def short(error: str) -> str:
    """An error in one line: a node script's `Error: …` line when it printed one, else the first line."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    named = next((line for line in lines if re.match(r"^\w*Error: ", line)), None)
    return ((named or (lines[0] if lines else error)))[:300]


def exit_code(rows: list[BenchRow]) -> int:
    """0 when every size imported every event or reached the time limit (a measurement) and the bench measured it
    (the Gateway and the floor); 1 when a size is the Gateway's finding; 4 when only the bench failed."""
    return exit_for(bool(rows) and all(r.ok for r in rows), findings=not rows or any(not r.gateway_ok and r.outcome != ERROR
                                                                                      for r in rows))
