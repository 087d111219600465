"""bench.json and bench.md: one row per size, the Gateway's figures beside the floor's.

    seconds to ready   the first launch to ready (a refusing release: the refusal, doctor --fix and the start)
    import seconds     the Gateway's own record: its migration-run manifests, startedAt to completedAt
    import began       seconds from the first launch to that startedAt (what the Gateway does before it imports)
    events/s           the events the Gateway reports imported over its import seconds (over seconds to ready when
                       it wrote no manifest: `events_per_s_basis` says which)
    peak RSS           memory.py: the Gateway's processes (and its doctor --fix one-off), sampled at 2 Hz; the
                       floor's: node's own maxRSS
    SQLite bytes       the agent databases and their WAL on disk once ready (or at the time limit)
    floor              floor.py: the same rows, one transaction, node:sqlite, the Gateway's table schema
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .floor import FloorResult
from .generate import LegacyState
from .measure import DOCTOR_IMPORTED, IMPORTED, TIMEOUT, GatewayRun
from .memory import PSUTIL

MIB = 2**20


@dataclass(frozen=True)
class BenchRow:
    sessions: int
    events_per_session: int
    events: int  # rows the import must write: every transcript line, the session header included
    legacy_bytes: int
    big_events: int
    outcome: str
    seconds_to_ready: float | None
    import_seconds: float | None
    import_began_s: float | None  # seconds from the first launch to the import's start (its manifest)
    imported_entries: int | None  # the Gateway's import report
    imported_events: int | None
    rows_in_sqlite: int | None  # counted through SQLite after the import (or at the time limit)
    peak_rss_mib: float | None
    memory_source: str | None
    cgroup_peak_mib: float | None
    sqlite_bytes: int | None
    events_per_s: float | None
    events_per_s_basis: str | None
    floor_seconds: float | None
    floor_events_per_s: float | None
    floor_bytes: int | None
    floor_peak_rss_mib: float | None
    refusal_seconds: float | None = None  # a refusing release: its first start
    doctor_seconds: float | None = None
    at_time_limit: dict | None = None  # a timeout: what the import had done by then
    import_log: tuple[dict, ...] = ()  # the Gateway's lines about the import (stdout, then its file log)
    note: str | None = None  # a skipped floor: why
    harness_error: str | None = None  # the bench itself failed (a probe, the floor): the run fails, the cause kept
    evidence: str = ""

    @property
    def label(self) -> str:
        return f"{self.sessions}x{self.events_per_session}"

    @property
    def complete(self) -> bool:
        """The Gateway says it imported every generated event, and SQLite holds them."""
        return self.imported_events == self.events and self.rows_in_sqlite == self.events

    @property
    def gateway_ok(self) -> bool:
        """No finding: every event imported, or the time limit reached (itself the answer)."""
        return self.outcome == TIMEOUT or (self.outcome in (IMPORTED, DOCTOR_IMPORTED) and self.complete)

    @property
    def ok(self) -> bool:
        """No finding, and the bench measured it all (the Gateway and the floor)."""
        return self.gateway_ok and self.harness_error is None

    @classmethod
    def of(cls, state: LegacyState, run: GatewayRun, floor: FloorResult | None, *, note: str | None = None,
           harness_error: str | None = None, evidence: str) -> BenchRow:
        import_state = run.state
        import_seconds = import_state.import_seconds if import_state else None
        began = import_state.import_started_at if import_state else None
        if run.imported_events and import_seconds:
            rate, basis = run.imported_events / import_seconds, "import seconds (the Gateway's manifest)"
        elif run.imported_events and run.seconds_to_ready:
            rate, basis = run.imported_events / run.seconds_to_ready, "seconds to ready (no manifest times)"
        else:
            rate, basis = None, None
        refused = run.starts[0] if run.starts and run.starts[0].kind == "refused" else None
        log = tuple(run.stdout_lines) + tuple(import_state.log if import_state else ())
        return cls(
            sessions=state.sessions, events_per_session=state.events_per_session, events=state.events,
            legacy_bytes=state.bytes, big_events=state.big_events, outcome=run.outcome,
            seconds_to_ready=_round(run.seconds_to_ready, 2), import_seconds=_round(import_seconds, 3),
            import_began_s=_round(began - run.launched_at, 1) if began and run.launched_at else None,
            imported_entries=run.imported_entries, imported_events=run.imported_events,
            rows_in_sqlite=import_state.rows if import_state else None,
            peak_rss_mib=_round(run.memory.peak_mib, 1) if run.memory and run.memory.samples else None,
            memory_source=run.memory.source if run.memory else None,
            cgroup_peak_mib=_round(run.cgroup_peak_bytes / MIB, 1) if run.cgroup_peak_bytes else None,
            sqlite_bytes=import_state.sqlite_bytes if import_state else None,
            events_per_s=_round(rate, 1), events_per_s_basis=basis,
            floor_seconds=_round(floor.insert_seconds, 3) if floor else None,
            floor_events_per_s=_round(floor.events_per_second, 1) if floor else None,
            floor_bytes=floor.bytes if floor else None, floor_peak_rss_mib=_round(floor.peak_rss_mib, 1) if floor else None,
            refusal_seconds=_round(refused.seconds, 2) if refused else None,
            doctor_seconds=(run.doctor or {}).get("seconds"),
            at_time_limit=import_state.progress() if import_state and run.outcome == TIMEOUT else None,
            import_log=log, note=note, harness_error=harness_error, evidence=evidence)

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "import_log"}
        return {"size": self.label, **data, "complete": self.complete, "import_log": list(self.import_log)}


def bench_json(meta: dict, rows: list[BenchRow]) -> str:
    return json.dumps({**meta, "sizes": [r.to_json() for r in rows]}, indent=2, ensure_ascii=False) + "\n"


def bench_markdown(meta: dict, rows: list[BenchRow]) -> str:
    lines = [f"# Import scaling: openclaw {meta['openclaw']} ({meta['contract']})", "",
             f"{meta['events_per_session']} message events per session (plus the session header: "
             f"{meta['events_per_session'] + 1} rows each), one ~200 KiB event in every 50th session; time limit "
             f"{meta['time_limit_s']:.0f}s per size; {meta['cpus']} CPUs. Seconds to ready count from the first "
             "launch (a refusing release: its refusal, doctor --fix and the start); import seconds are the Gateway's "
             "own (its migration-run manifest, start to completion), and began that many seconds after the launch; events/s = events the Gateway reports imported "
             "/ import seconds. The floor: the same rows in one node:sqlite transaction into the Gateway's "
             "transcript table (floor.py).", "",
             "| sessions | events | legacy MiB | outcome | ready s | import s (began at s) | events imported | peak RSS MiB | "
             "SQLite MiB | events/s | floor s | floor events/s | × floor |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        times_floor = (r.import_seconds / r.floor_seconds) if r.import_seconds and r.floor_seconds else None
        imported = _n(r.imported_events) + ("" if r.complete or r.imported_events is None else " ⚠")
        lines.append(f"| {r.sessions} | {r.events} | {_f(r.legacy_bytes / MIB, 1)} | {_outcome(r)} | "
                     f"{_f(r.seconds_to_ready, 1)} | {_f(r.import_seconds, 1)}{_began(r)} | {imported} | {_f(r.peak_rss_mib, 0)} | "
                     f"{_f(r.sqlite_bytes / MIB if r.sqlite_bytes else None, 1)} | {_f(r.events_per_s, 0)} | "
                     f"{_f(r.floor_seconds, 2)} | {_f(r.floor_events_per_s, 0)} | {_f(times_floor, 0)} |")
    notes = []
    sources = {r.memory_source for r in rows if r.memory_source}
    notes += [f"- Peak RSS: {s}" + ("; the Gateway container's cgroup high-water mark (page cache included) is "
              "`cgroup_peak_mib` in bench.json." if s == PSUTIL else ".") for s in sorted(sources)]
    for r in rows:
        if r.refusal_seconds is not None:
            notes.append(f"- {r.label}: refused in {r.refusal_seconds:.1f}s, then doctor --fix "
                         f"{_f(r.doctor_seconds, 1)}s, then the start; ready {_f(r.seconds_to_ready, 1)}s after the first launch.")
        if r.at_time_limit:
            p = r.at_time_limit
            notes.append(f"- {r.label}: **not ready within {meta['time_limit_s']:.0f}s**. By then: "
                         f"{p['completed_moves']}/{p['planned_moves']} moves of {p['manifests']} migration run(s) "
                         f"completed{' (the run completed)' if p['completed'] else ''}, {_n(p['rows'])} transcript rows "
                         f"committed of {r.events}, {_f((p['sqlite_bytes'] or 0) / MIB, 1)} MiB of SQLite.")
        if timings := gateway_timings(r.import_log):
            notes.append(f"- {r.label}: the Gateway's own timings: {timings}.")
        if r.imported_events is not None and not r.complete:
            notes.append(f"- {r.label}: the Gateway reports {r.imported_events} events imported and SQLite holds "
                         f"{_n(r.rows_in_sqlite)} rows; {r.events} were generated.")
        if r.note:
            notes.append(f"- {r.label}: {r.note}")
        if r.harness_error:
            notes.append(f"- {r.label}: **harness failure**: {r.harness_error}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def gateway_timings(log: tuple[dict, ...]) -> str:
    """What the Gateway logged with a duration: its session-sqlite operations ("slow SQLite session write" of
    `session.import.batch`, …) from its file log, and its stdout's own (the HTTP server's start)."""
    found = []
    for line in log:
        if line.get("operation") and line.get("elapsedMs") is not None:
            queued = (line.get("queueWaitMs") or 0) / 1000
            waited = f", {queued:.1f}s of it queued" if queued >= 0.1 else ""
            found.append(f"`{line['operation']}` {line['elapsedMs'] / 1000:.1f}s{waited}")
        elif line.get("seconds") is not None and "listening" in line.get("text", ""):
            found.append(f"HTTP server listening after {line['seconds']:.1f}s")
    return "; ".join(dict.fromkeys(found))


def write(root: Path, meta: dict, rows: list[BenchRow]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "bench.json").write_text(bench_json(meta, rows), encoding="utf-8")
    (root / "bench.md").write_text(bench_markdown(meta, rows), encoding="utf-8")


def _began(row: BenchRow) -> str:
    return f" ({row.import_began_s:.1f})" if row.import_began_s is not None else ""


def _outcome(row: BenchRow) -> str:
    return f"**{row.outcome}**" if not row.gateway_ok else row.outcome


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _f(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
