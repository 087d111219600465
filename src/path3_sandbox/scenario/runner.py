"""The step runner: probe before and after every step, hold each step to what it declares.

Each step declares what it needs (RPC methods), the turns it drives (accounted by content, see turns.py),
how session_nodes and session_windows must move, and its own checks. Around every step the runner
records one assertion per table, the turn accounting, "every imported row unchanged", "no legacy file
created or modified", "no hot legacy handle" and "no unallowed log line since the previous step".
A step the target can't run is recorded as skipped, with the reason.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ..proof import oracle
from ..state.config import STATE_DIR
from ..errors import RpcError
from ..report.evidence import GATEWAY, HARNESS, Assertion, Evidence, skipped
from ..state.fixtures import Fixture
from ..containers.gateway import Gateway
from ..state.inventory import Inventory
from ..state.layout import IMPORT_ARCHIVE_DIR
from ..probes import files as files_probe
from ..probes import handles as handles_probe
from ..probes import logs as logs_probe
from ..probes import sqlite as sqlite_probe
from ..probes.files import FilesSnapshot
from ..probes.sqlite import SqliteSnapshot
from ..plan import FAILED, PASSED, SKIPPED, Plan
from ..progress import say
from .provider import ScriptedProvider
from ..containers.rpc import GatewayRpc
from . import turns as turn_accounting
from .turns import TurnSpec

READ_METHODS = frozenset({"health", "status", "sessions.list", "sessions.describe", "sessions.get", "chat.history",
                          "sessions.branches.list"})
TRACKED_TABLES = sqlite_probe.SESSION_TABLES
TURN_TIMEOUT_MS = 90_000


@dataclass(frozen=True)
class Probe:
    sqlite: SqliteSnapshot
    files: FilesSnapshot
    handles: handles_probe.Handles
    logs: dict[str, str]  # source -> text: the Gateway's stdout and its file log(s)

    @property
    def log_lines(self) -> dict[str, int]:
        """The cursor: how many lines of each source this probe saw."""
        return {source: len(text.splitlines()) for source, text in self.logs.items()}

    def counts(self) -> dict[str, int]:
        return {table: self.sqlite.count(table) for table in TRACKED_TABLES}


@dataclass
class Context:
    gateway: Gateway
    rpc: GatewayRpc
    provider: ScriptedProvider
    evidence: Evidence
    fixture: Fixture
    inventory: Inventory
    run_id: str
    allowlist: tuple[str, ...]
    imported: dict  # oracle.imported_rows right after the import: must stay byte-identical
    keep_artifacts: bool = False
    proof_key: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    turned: set[str] = field(default_factory=set)  # imported sessions that took turns (may grow)

    def run_inside(self, argv: list[str]):
        """The probes' runner: a command inside the running Gateway container."""
        return self.gateway.exec(argv, timeout_s=120)

    def snapshot(self) -> SqliteSnapshot:
        """SQLite as the Gateway holds it now (live mode reads it on the host instead: live/steps.py)."""
        return sqlite_probe.snapshot(self.run_inside)

    def marker(self, step: str) -> str:
        """Unique per run, fixture and step: the provider is shared by every fixture of a run."""
        fixture_tag = hashlib.sha256(self.fixture.name.encode()).hexdigest()[:4]
        return f"P3-{self.run_id[-6:]}-{fixture_tag}-{step}".upper()

    def requests_for(self, marker: str) -> list:
        return [r for r in self.provider.requests if r.marker == marker]

    def turn(self, session_key: str, marker: str, *, hold: bool = False, wait: bool = True) -> dict:
        """One chat turn: chat.send, then (unless not waiting) agent.wait until it ends."""
        if hold:
            self.provider.hold(marker)
        sent = self.rpc.call("chat.send", {"sessionKey": session_key, "message": f"path3 scenario turn {marker}",
                                           "idempotencyKey": str(uuid.uuid4())})
        result = {"send": sent}
        if wait:
            result["wait"] = self.wait(sent["runId"])
        return result

    def wait(self, run_id: str, timeout_ms: int = TURN_TIMEOUT_MS) -> dict:
        """agent.wait until the run ends; a run queued behind another answers "pending" and is waited again."""
        return self.rpc.wait_for_run(run_id, timeout_ms)


@dataclass(frozen=True)
class StepOutcome:
    checks: list[Assertion]
    deltas: dict[str, int | None]  # table -> exact change; transcript tables: derived from `turns` unless given
    turns: tuple[TurnSpec, ...] = ()
    declared_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # session key -> {event type: count}
    legacy_changes_allowed: bool = False
    skipped_methods: tuple[tuple[str, str], ...] = ()
    allowed_logs: tuple[str, ...] = ()  # log lines this step is known to cause (recorded as allowed, not hidden)


@dataclass(frozen=True)
class Step:
    name: str
    requires: tuple[str, ...]  # RPC methods; a target without one skips the step, saying which
    run: Callable[[Context, Probe], StepOutcome]
    does: str = ""  # one line, for the numbered plan
    # A step that writes only the proof session and reads nothing imported says nothing more on a second fixture of
    # the same target: one fixture of a prove run takes it, the others record it skipped naming that fixture.
    per_run: bool = False


def probe(ctx: Context) -> Probe:
    runner = ctx.run_inside
    logs = {"stdout": ctx.gateway.logs(), **files_probe.read_texts(runner, r"^logs/.*\.jsonl$")}
    pid = ctx.gateway.container.attrs["State"].get("Pid") or None
    return Probe(sqlite_probe.snapshot(runner), files_probe.snapshot(runner),
                 handles_probe.snapshot(pid, runner, STATE_DIR), logs)


def run_scenario(ctx: Context, steps: list[Step], *, per_run_on: str | None = None) -> dict:
    """Run `steps` in order on a proof's Gateway; returns per-step timings and outcomes for the evidence.
    `per_run_on`: the fixture of this run that takes the per-run steps (None: this one takes them all)."""
    report: dict[str, Any] = {"steps": [], "rpc": {}}
    first = probe(ctx)
    for check in preflight(ctx, first):
        ctx.evidence.check("preflight", check)
    run_steps(ctx, steps, first, report, StepPolicy(
        who=ctx.fixture.name, title=f"scenario on {ctx.fixture.name}", probe=lambda: probe(ctx),
        checks_after=lambda step, outcome, before, after: invariant_checks(ctx, step, outcome, before, after),
        why_not=lambda step: per_run_skip(step, ctx.fixture.name, per_run_on)))
    # Round trips of read calls only: turns, compaction and deletes measure the Gateway's work, not the socket.
    reads = sorted(c.seconds for c in ctx.rpc.calls if c.ok and c.method in READ_METHODS)
    report["rpc"] = {"calls": len(ctx.rpc.calls), "read_calls": len(reads),
                     "median_round_trip_s": round(reads[len(reads) // 2], 4) if reads else None}
    return report


def per_run_skip(step: Step, fixture: str, per_run_on: str | None) -> str | None:
    if not step.per_run or per_run_on in (None, fixture):
        return None
    return (f"taken once per run, by fixture {per_run_on}: it writes only the proof session and reads nothing "
            "imported (--every-fixture takes it on each)")


@dataclass(frozen=True)
class StepPolicy:
    """What differs between the runs that take scenario steps: a proof's (a probe inside the container, the
    invariants of an imported state) and a live run's (SQLite read on the host, every other session untouched)."""
    who: str  # the progress lines' prefix
    title: str  # the plan's
    probe: Callable[[], Any]  # what each step starts from and leaves: scenario.Probe, live's HostProbe
    checks_after: Callable[[Step, StepOutcome, Any, Any], list[Assertion]]  # (step, outcome, before, after)
    why_not: Callable[[Step], str | None] = lambda step: None  # a reason to skip besides a missing RPC method


def run_steps(ctx: Context, steps: list[Step], first: Any, report: dict, policy: StepPolicy) -> Any:
    """The one step loop: the numbered plan printed, then each step run (or skipped, with why), probed after, held to
    what it declares and to the policy's checks, and marked in the plan; a step that breaks is a failed step and the
    next ones still run (cleanup above all). Returns the last probe; the marked plan goes into the evidence."""
    plan = Plan.of(policy.title, [(step.name, step.does) for step in steps])
    plan.announce(policy.who)
    # A step is skipped when the target does not offer its methods: a hello-ok that lists none would skip them all
    # and leave nothing to fail. A Gateway that says nothing of its methods has not told us what it can do.
    ctx.evidence.check("preflight", Assertion("hello-ok lists the methods the Gateway offers", bool(ctx.rpc.methods),
                                              "a non-empty features.methods", sorted(ctx.rpc.methods)[:5]))
    previous = first
    for planned, step in zip(plan.steps, steps):
        phase = f"step-{planned.number}-{step.name}"
        missing = [m for m in step.requires if m not in ctx.rpc.methods]
        why = policy.why_not(step) or (f"the target does not offer {', '.join(missing)} (not in hello-ok's method "
                                       f"list)" if missing else None)
        if why:
            ctx.evidence.check(phase, skipped(f"step {step.name}", why))
            report["steps"].append({"step": step.name, "outcome": "skipped", "why": why,
                                    **({"missing": missing} if missing else {})})
            plan.mark(planned, SKIPPED, why=why)
            continue
        say(f"{policy.who}/{phase}", f"running (step {plan.label(planned)})")
        started, failed_before = time.monotonic(), ctx.evidence.failed_count
        try:
            outcome = step.run(ctx, previous)
        except Exception as error:  # a step that breaks is a failed step, recorded; the next steps still run
            # The Gateway's own error answer (chat.send refused, a malformed sessions.list) is its finding; a
            # socket that timed out or closed, or an error in our code, is the harness's.
            blame = GATEWAY if isinstance(error, RpcError) and error.answered else HARNESS
            outcome = StepOutcome([Assertion(f"step {step.name} ran", False, "no error", f"{type(error).__name__}: {error}",
                                             blame=blame)], {})
        seconds = time.monotonic() - started
        after = policy.probe()
        for check in [*outcome.checks, *(skipped(name, why) for name, why in outcome.skipped_methods),
                      *policy.checks_after(step, outcome, previous, after)]:
            ctx.evidence.check(phase, check)
        failed = ctx.evidence.failed_count - failed_before
        counts = {"counts_before": _counts(previous), "counts_after": _counts(after)}
        ctx.evidence.event(phase, "step", seconds=round(seconds, 2), failed=failed, **counts)
        report["steps"].append({"step": step.name, "outcome": "failed" if failed else "passed", "seconds": round(seconds, 2),
                                **counts})
        plan.mark(planned, FAILED if failed else PASSED, seconds=seconds)
        say(f"{policy.who}/{phase}", f"{'FAILED' if failed else 'ok'} in {seconds:.1f}s")
        previous = after
    ctx.evidence.write_json("steps-plan.json", {"title": plan.title, "steps": plan.to_json()})
    say(policy.who, plan.text())
    return previous


def _counts(found: Any) -> dict[str, int]:
    """Rows per session table of a probe (scenario.Probe or live's HostProbe: both hold .sqlite)."""
    return {table: found.sqlite.count(table) for table in TRACKED_TABLES}


def preflight(ctx: Context, first: Probe) -> list[Assertion]:
    """Before any step: the Gateway is healthy over HTTP and RPC, and is the version the CLI inside says."""
    healthz = ctx.gateway.probe_http("/healthz")
    health = ctx.rpc.call("health")
    status = ctx.rpc.call("status")
    cli_version = ctx.gateway.version()
    ctx.evidence.write_json("scenario-preflight.json", {
        "healthz": healthz, "rpc_protocol": ctx.rpc.protocol, "server_version": ctx.rpc.server_version,
        "methods": len(ctx.rpc.methods), "status_runtime_version": status.get("runtimeVersion"), "cli_version": cli_version,
        "counts": first.counts(), "log_lines": first.log_lines, "handles": first.handles.to_json(),
        "legacy_files": [f.path for f in first.files.legacy_shaped()]})
    return [
        Assertion("/healthz is live", bool(healthz and healthz["status"] == 200 and healthz["body"].get("ok")),
                  {"ok": True}, healthz),
        Assertion("the health RPC answers", isinstance(health, dict), "an object", type(health).__name__),
        Assertion("the CLI inside the container is the version the Gateway reports", cli_version == ctx.rpc.server_version,
                  ctx.rpc.server_version, cli_version, f"status.runtimeVersion={status.get('runtimeVersion')}"),
        oracle.imported_rows_unchanged(ctx.imported, first.sqlite, ctx.fixture, when="before the first step"),
    ]


def table_checks(ctx: Context, step: Step, outcome: StepOutcome, before: SqliteSnapshot,
                 after: SqliteSnapshot) -> list[Assertion]:
    """The step's turns accounted by content, and every session table moved by exactly what the step declares."""
    accounted, added, records = turn_accounting.account(before, after, outcome.turns, outcome.declared_rows)
    if records:
        ctx.evidence.event("turns", "rows", step=step.name, rows=records)
    checks = list(accounted)
    derived = {"transcript_events": added, "transcript_event_identities": added}
    for table in TRACKED_TABLES:
        declared = outcome.deltas.get(table, derived.get(table, 0))
        moved = after.count(table) - before.count(table)
        if declared is None:
            continue
        checks.append(Assertion(f"{table} moved by {declared:+d}", moved == declared, declared, moved,
                                f"table {table}: {before.count(table)} -> {after.count(table)}"))
    return checks


def invariant_checks(ctx: Context, step: Step, outcome: StepOutcome, before: Probe, after: Probe) -> list[Assertion]:
    checks = table_checks(ctx, step, outcome, before.sqlite, after.sqlite)
    ctx.turned |= {t.session_key for t in outcome.turns}
    checks.append(oracle.imported_rows_unchanged(ctx.imported, after.sqlite, ctx.fixture, turned=ctx.turned,
                                                 when=f"after step {step.name}"))
    if not outcome.legacy_changes_allowed:
        checks.append(legacy_quiet(before.files, after.files))
    hot = after.handles.legacy(STATE_DIR)
    checks.append(Assertion("no hot legacy handles", not hot, [], hot, after.handles.method))
    scan = logs_probe.scan(after.logs, ctx.allowlist + outcome.allowed_logs, start_lines=before.log_lines)
    if scan.matches:
        ctx.evidence.event("logs", "matches", step=step.name, matches=[m.to_json() for m in scan.matches])
    checks.append(Assertion("no unallowed log lines since the previous step", not scan.unallowed, 0,
                            [f"{m.source}:{m.line_number} [{m.pattern}] {m.line[:200]}" for m in scan.unallowed[:10]]))
    return checks


def legacy_quiet(before: FilesSnapshot, after: FilesSnapshot) -> Assertion:
    """No .jsonl or sessions.json created or modified outside the archive, and archived files unchanged."""
    def watched(snapshot: FilesSnapshot) -> dict[str, tuple]:
        picked = {f.path: (f.size, f.sha256) for f in snapshot.legacy_shaped()}
        picked.update({f.path: (f.size, f.sha256) for f in snapshot.files.values()
                       if IMPORT_ARCHIVE_DIR in f.path})
        return picked

    old, new = watched(before), watched(after)
    changed = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
    return Assertion("no legacy or archived file created, modified or removed", not changed, [], changed)
