"""One size's import by the real Gateway, measured: the start (or the refusal, `doctor --fix` and the start), time to
ready, the Gateway's own import report and manifest, its log lines about the import, peak memory, the database after.

The whole of it runs within one time limit: a start that is not ready by then is a `timeout`, and what the import had
done by then (moves completed, rows committed, its last log lines) is read from the still-running Gateway before it
is stopped.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker

from ..containers.gateway import ExecResult, Gateway
from ..proof.contracts import StartKind
from ..progress import say
from ..proof.reports import parse_import_report
from ..proof.session import start_as_a_user
from .memory import CGROUP_PEAK_ARGV, MemoryPeak, PeakSampler, cgroup_peak_bytes
from .probe import ImportState, import_lines, read_import_state

IMPORTED = "imported"  # the start imported and became ready
DOCTOR_IMPORTED = "refused, doctor --fix imported"  # refused naming doctor --fix; doctor --fix imported; then ready
TIMEOUT = "timeout"  # not ready within the time limit
NO_IMPORT = "ready without import"  # ready, but no import report: nothing was imported, or nothing said so
REFUSED = "refused"  # still refused after doctor --fix, or doctor --fix failed
CRASHED = "crashed"  # exited without naming doctor --fix
ERROR = "error"  # the bench itself failed (a probe, a container): a harness failure, kept with its cause
DOCTOR_TIMEOUT_EXIT = 124  # Gateway.run_oneoff's code for a one-off that outlived its budget


@dataclass
class GatewayRun:
    """What the Gateway did with one generated state (filled as the run goes: a timeout keeps what was seen)."""

    outcome: str = ERROR
    starts: list[StartKind] = field(default_factory=list)
    doctor: dict | None = None  # {seconds, exit_code} when doctor --fix ran
    seconds_to_ready: float | None = None  # first launch to ready, refusal and doctor --fix included
    imported_entries: int | None = None  # the Gateway's import report
    imported_events: int | None = None
    state: ImportState | None = None
    memory: MemoryPeak | None = None
    cgroup_peak_bytes: int | None = None
    stdout_lines: list[dict] = field(default_factory=list)
    error: str | None = None  # outcome ERROR: what failed
    launched_at: float | None = None  # epoch seconds of the first launch: when the import began, relative to it

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "error": self.error, "launched_at": self.launched_at, "starts": [s.to_json() for s in self.starts], "doctor": self.doctor,
                "seconds_to_ready": self.seconds_to_ready, "imported_entries": self.imported_entries,
                "imported_events": self.imported_events, "memory": self.memory.to_json() if self.memory else None,
                "cgroup_peak_bytes": self.cgroup_peak_bytes, "import_state": self.state.to_json() if self.state else None,
                "stdout_import_lines": self.stdout_lines}


def measure_import(client: docker.DockerClient, gateway: Gateway, *, time_limit_s: float, folder: Path,
                   label: str) -> GatewayRun:
    """Start `gateway` on its seeded volume as a user would and measure it; always stops it before returning."""
    run = GatewayRun()
    deadline = time.monotonic() + time_limit_s
    gateway.ready_timeout_s = time_limit_s
    try:
        with PeakSampler(client, gateway.name) as sampler:  # the Gateway and its doctor --fix one-off
            try:
                _start(gateway, run, deadline, label)
            finally:
                run.memory = sampler.peak
        if run.outcome == TIMEOUT and run.imported_events is None:  # it may have reported an import, not yet ready
            if (report := parse_import_report(gateway.logs())) is not None:
                run.imported_entries, run.imported_events = report.sqlite_entries, report.imported_events
        running = gateway.status() == "running"
        if running:  # before any probe execs into it: they count in its cgroup
            with contextlib.suppress(Exception):
                run.cgroup_peak_bytes = cgroup_peak_bytes(gateway.exec(CGROUP_PEAK_ARGV).output)
        run.state = read_import_state(gateway.exec if running else gateway.run_oneoff)
    except Exception as error:  # a harness failure: recorded (the outcome stays ERROR unless the start was
        run.error = f"{type(error).__name__}: {error}"[:800]  # judged first), and the next size still runs
    finally:
        stdout = ""
        with contextlib.suppress(Exception):  # a container that never started has no output
            stdout = gateway.logs()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "gateway-stdout.log").write_text(stdout)
        run.stdout_lines = import_lines(stdout + "\n" + (run.doctor or {}).get("output", ""))
        with contextlib.suppress(Exception):
            gateway.stop()
        if run.doctor:
            (folder / "doctor-fix.log").write_text(run.doctor.pop("output", ""))
    return run


def _start(gateway: Gateway, run: GatewayRun, deadline: float, label: str) -> None:
    """Start as a user would (proof/session.start_as_a_user: a refusal naming doctor --fix, doctor --fix, a start), all
    within `deadline`, and say what each start did."""
    def on_start(number: int) -> None:
        if number == 1:
            run.launched_at = time.time()
            say("bench", f"{label}: starting the Gateway, waiting for ready (time limit {gateway.ready_timeout_s:.0f}s)")

    def doctor_when(kind: StartKind) -> bool:
        if kind.kind == "refused":
            say("bench", f"{label}: refused after {kind.seconds:.1f}s ({kind.refusal_reason}); openclaw doctor --fix")
        return kind.kind == "refused"

    def on_doctor(doctor: ExecResult) -> None:
        run.doctor = {"seconds": round(doctor.seconds, 2), "exit_code": doctor.exit_code, "output": doctor.output}
        if (report := parse_import_report(doctor.output)) is not None:
            run.imported_entries, run.imported_events = report.sqlite_entries, report.imported_events
        say("bench", f"{label}: doctor --fix exited {doctor.exit_code} in {doctor.seconds:.1f}s")

    starts = start_as_a_user(gateway, doctor_when=doctor_when, deadline=deadline, on_start=on_start, on_doctor=on_doctor)
    run.starts.extend(starts.kinds)
    kind = starts.last
    if starts.doctor is not None:
        if starts.doctor.exit_code == DOCTOR_TIMEOUT_EXIT or len(starts.kinds) == 1:  # out of time before a start
            run.outcome = TIMEOUT
            return
        if kind.came_up:
            run.outcome = DOCTOR_IMPORTED if run.imported_events is not None or kind.kind == "imported" else NO_IMPORT
    elif kind.kind == "imported":
        run.outcome = IMPORTED
    elif kind.kind == "ready-without-import":
        run.outcome = NO_IMPORT
    if kind.kind == "imported":
        run.imported_entries, run.imported_events = kind.imported_entries, kind.imported_events
    if kind.came_up:
        run.seconds_to_ready = starts.ended_at - starts.launched_at
    elif kind.kind == "hung":
        run.outcome = TIMEOUT
    elif kind.kind == "refused":
        run.outcome = REFUSED
    elif kind.kind == "crashed":
        run.outcome = CRASHED
