"""The live run: inputs checked, the Gateway connected, every other session hashed (preflight), the steps, the
after-checks (the last hash against the first, no import, the proof session gone), doctor validate (informational),
and the proof session deleted however the run ended."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import traceback
from pathlib import Path
from typing import Callable

from websockets.exceptions import WebSocketException

from ..containers.resources import new_run_id
from ..containers.rpc import GatewayRpc
from ..errors import RpcError
from ..paths import artifacts_root
from ..probes import logs as logs_probe
from ..probes.host_sqlite import HostProbe
from ..state.layout import SESSION_TABLES
from ..progress import say
from ..proof import reports
from ..report.evidence import HARNESS, Assertion, Evidence, skipped
from ..scenario.runner import READ_METHODS, Step, StepOutcome, StepPolicy, run_steps, table_checks
from ..state.fixtures import Fixture
from .gateway import check_state_dir, connect, read_config, remember_state_secrets, start_provider
from .inputs import Destination, LiveOptions, check_inputs
from .steps import STEPS, LiveContext, untouched
from .summary import LiveResult, _finish, log_line, redacted_config

PROOF_NAME = "path3-live-e2e"  # the proof session's key part and the evidence folder
DOCTOR_ARGS = ("doctor", "--session-sqlite", "validate", "--session-sqlite-all-agents", "--json")
DOCTOR_TIMEOUT_S = 180
DOCTOR_SKIPPED = ("no OpenClaw CLI to run it: no RPC method runs it (the Gateway offers doctor.memory.* only) and "
                  "`openclaw` is not on this host's PATH; give --doctor-cli CMD (e.g. \"docker exec GATEWAY openclaw\")")


def live(options: LiveOptions, *, argv: list[str], root: Path | None = None,
         between_hashes: Callable[[LiveContext], None] | None = None) -> LiveResult:
    """Run the scenario on the operator's Gateway. `between_hashes` is a test-only hook: it runs once, after the
    baseline hash of every session and before the first step, so a test can touch another session on purpose."""
    state_dir, token, destination = check_inputs(options)
    rpc = connect(options.url, token)
    run_id = new_run_id()
    proof_key = f"agent:{options.agent}:{PROOF_NAME}:{run_id}"
    try:
        check_state_dir(rpc, state_dir, options.agent)  # not the Gateway's state: exit 2 before any step
        remember_state_secrets(state_dir)
        config = read_config(rpc)
        provider = start_provider(config)
        root = root or artifacts_root() / PROOF_NAME / run_id
        evidence = Evidence(root, "live")
    except BaseException:
        rpc.close()
        raise
    evidence.write_json("gateway-config.json", redacted_config(config))
    ctx = LiveContext(None, rpc, provider, evidence, Fixture("live", state_dir, "live mode", options.url, None, ()),
                      None, run_id, (), {}, keep_artifacts=options.keep_artifacts, proof_key=proof_key,
                      state_dir=state_dir, url=options.url, token=token)
    say("live", f"openclaw {rpc.server_version} at {options.url}, agent {options.agent}; proof session {proof_key}; "
                f"evidence in {root}")
    if not destination.loopback:
        say("live", f"the Gateway token went to {destination.host}, another host, over TLS (--allow-remote)")
    started, report, phases = time.monotonic(), {"steps": [], "rpc": {}}, {}
    try:
        _run(ctx, options, report, phases, between_hashes, destination)
    except Exception as error:  # a broken run is a failed proof with its traceback kept, never a silent pass
        evidence.write_text("traceback.txt", traceback.format_exc())
        evidence.check("internal", Assertion("the live run ran to completion", False, "no error",
                                             f"{type(error).__name__}: {error}"[:800], "see traceback.txt", blame=HARNESS))
    finally:
        _delete_if_left(ctx, report)
        ctx.rpc.close()
        provider.stop()
        evidence.write_json("provider-requests.json", {"requests": [r.to_json(with_body=options.keep_artifacts)
                                                                    for r in provider.requests]})
        evidence.close()
    return _finish(ctx, options, report, phases, time.monotonic() - started, argv, destination)


def _run(ctx: LiveContext, options: LiveOptions, report: dict, phases: dict, hook, destination: Destination) -> None:
    baseline = _preflight(ctx, options, destination)
    if hook:
        hook(ctx)
        ctx.evidence.event("preflight", "test-hook", note="a test touched the Gateway between the baseline hash and step 1")

    def why_not(step: Step) -> str | None:
        if step.name == "restart" and not options.allow_restart:
            return "not asked: live never restarts the operator's Gateway without --allow-restart"
        return "--keep-artifacts keeps the proof session" if step.name == "cleanup" and options.keep_artifacts else None

    run_steps(ctx, STEPS, baseline, report, StepPolicy(
        who="live", title=f"live run on {options.url}", probe=ctx.probe, checks_after=_checks_after(ctx), why_not=why_not))
    phases.update({f"step-{number}-{row['step']}": row["seconds"]
                   for number, row in enumerate(report["steps"], start=1) if "seconds" in row})
    _after(ctx, options, baseline, report)


def _preflight(ctx: LiveContext, options: LiveOptions, destination: Destination) -> HostProbe:
    """The baseline: every session hashed before anything is sent, and what the Gateway is."""
    baseline = ctx.probe()
    ctx.evidence.write_json("sessions-before.json", baseline.sessions)
    ctx.evidence.write_json("live-preflight.json", {
        "url": options.url, "agent": options.agent, "state_dir": str(ctx.state_dir), "proof_session": ctx.proof_key,
        "server_version": ctx.rpc.server_version, "protocol": ctx.rpc.protocol,
        "boot_id": (ctx.rpc.hello.get("server") or {}).get("bootId"), "methods": len(ctx.rpc.methods),
        "sessions_hashed": len(baseline.sessions), "counts": {t: baseline.sqlite.count(t) for t in SESSION_TABLES},
        "migration_runs": baseline.migration_runs, "provider": f"{ctx.provider.host}:{ctx.provider.port}",
        "token_sent_to": destination.to_json(),
        "gateway_state_dir": (ctx.rpc.hello.get("snapshot") or {}).get("stateDir")})
    ctx.evidence.check("preflight", Assertion("the proof session is new", ctx.proof_key not in baseline.sessions,
                                              "absent", ctx.proof_key))
    if not _logs(ctx.state_dir):
        ctx.evidence.check("preflight", skipped("the Gateway's file log is scanned after every step",
                                                "no logs/*.jsonl in the state dir: its logging.file is elsewhere"))
    say("live", f"{len(baseline.sessions)} other session(s) hashed; {len(STEPS)} steps")
    return baseline


def _checks_after(ctx: LiveContext) -> Callable[[Step, StepOutcome, HostProbe, HostProbe], list[Assertion]]:
    """What a live step is held to besides its own checks: its rows as it declares, every other session exactly as it
    was, and no unallowed line in the Gateway's file log since the previous step (the cursor is kept here)."""
    cursor = {"logs": _logs(ctx.state_dir)}

    def checks(step: Step, outcome: StepOutcome, before: HostProbe, after: HostProbe) -> list[Assertion]:
        found = [*table_checks(ctx, step, outcome, before.sqlite, after.sqlite),
                 untouched(before, after, ctx, f"by the end of step {step.name}")]
        now, seen = _logs(ctx.state_dir), cursor["logs"]
        if now:
            scan = logs_probe.scan(now, outcome.allowed_logs, start_lines={k: len(v.splitlines()) for k, v in seen.items()})
            found.append(Assertion("no unallowed line in the Gateway's file log since the previous step",
                                   not scan.unallowed, 0,
                                   [f"{m.source}:{m.line_number} [{m.pattern}] {log_line(m.line)}" for m in scan.unallowed[:10]]))
        cursor["logs"] = now
        return found
    return checks


def _after(ctx: LiveContext, options: LiveOptions, baseline: HostProbe, report: dict) -> None:
    """The last hash against the first, no import, and the proof session gone (unless kept)."""
    _doctor_validate(ctx, options, report)
    final = ctx.probe()
    ctx.evidence.write_json("sessions-after.json", final.sessions)
    report["counts"] = {t: final.sqlite.count(t) for t in SESSION_TABLES}
    checks = [untouched(baseline, final, ctx, "from the first hash to the last"),
              Assertion("no import ran during the live run (migration_runs unchanged)",
                        final.migration_runs == baseline.migration_runs, baseline.migration_runs, final.migration_runs)]
    if options.keep_artifacts:
        checks.append(skipped("the proof session is gone", f"--keep-artifacts keeps {ctx.proof_key}"))
    else:
        listed = {s["key"] for s in ctx.rpc.list_sessions({"archived": "all", "limit": 10000})}
        left = [where for where, there in (("SQLite", final.sqlite.session(ctx.proof_key) is not None),
                                           ("sessions.list", ctx.proof_key in listed)) if there]
        checks.append(Assertion("the proof session is gone (SQLite and sessions.list)", not left, [], left))
    for check in checks:
        ctx.evidence.check("after", check)
    reads = sorted(c.seconds for c in ctx.rpc.calls if c.ok and c.method in READ_METHODS)
    report["rpc"] = {"protocol": ctx.rpc.protocol, "calls": len(ctx.rpc.calls), "read_calls": len(reads),
                     "median_round_trip_s": round(reads[len(reads) // 2], 4) if reads else None}


def _doctor_validate(ctx: LiveContext, options: LiveOptions, report: dict) -> None:
    """Informational: the operator's CLI validates its own state; its exit code and issues are evidence, not verdict."""
    cli = shlex.split(options.doctor_cli) if options.doctor_cli else ["openclaw"] if shutil.which("openclaw") else None
    if not cli:
        ctx.evidence.check("diagnostics", skipped("openclaw doctor --session-sqlite validate (informational)",
                                                  DOCTOR_SKIPPED))
        report["doctor_validate"] = {"ran": False, "why": DOCTOR_SKIPPED}
        return
    started = time.monotonic()
    try:
        done = subprocess.run([*cli, *DOCTOR_ARGS], capture_output=True, text=True, timeout=DOCTOR_TIMEOUT_S,
                              env={**os.environ, "OPENCLAW_STATE_DIR": str(ctx.state_dir)})
        code, output = done.returncode, done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        code, output = None, f"{type(error).__name__}: {error}"
    issues = reports.validate_issues(output)
    ctx.evidence.write_text("doctor-session-sqlite-validate.json", output)
    record = {"ran": True, "command": [*cli, *DOCTOR_ARGS], "exit_code": code, "issues": issues,
              "seconds": round(time.monotonic() - started, 2), "informational": True}
    ctx.evidence.event("diagnostics", "doctor", **record)
    report["doctor_validate"] = record
    say("live", f"doctor --session-sqlite validate (informational): exit {code}, issues {issues}")


def _delete_if_left(ctx: LiveContext, report: dict) -> None:
    """A run that broke before its cleanup step still deletes its proof session (unless it is to be kept)."""
    if ctx.keep_artifacts:  # otherwise always looked for: a cleanup step that ran may still have failed
        return
    try:
        if ctx.probe().sqlite.session(ctx.proof_key) is not None or _listed(ctx, ctx.proof_key):
            try:
                ctx.rpc.call("sessions.delete", {"key": ctx.proof_key, "deleteTranscript": True})
            except (RpcError, OSError, WebSocketException) as error:  # the socket died (a restart that was slow
                if isinstance(error, RpcError) and error.code not in ("CLOSED", "CLIENT_TIMEOUT"):  # to come back)
                    raise
                ctx.rpc = GatewayRpc.connect(ctx.url, ctx.token)
                ctx.rpc.call("sessions.delete", {"key": ctx.proof_key, "deleteTranscript": True})
            ctx.evidence.event("cleanup", "proof-session-deleted", key=ctx.proof_key, why="the run ended before its cleanup step")
    except Exception as error:  # reported, never hiding the verdict
        ctx.evidence.event("cleanup", "error", message=f"{type(error).__name__}: {error}")
        say("live", f"could NOT delete the proof session {ctx.proof_key}: {error}")


def _listed(ctx: LiveContext, key: str) -> bool:
    """Whether the Gateway still lists `key` (a proof session SQLite in --state-dir does not show, e.g. a stale copy of
    the Gateway's state, is still deleted); a socket that is gone answers False here, and the SQLite check stands."""
    try:
        rows = ctx.rpc.list_sessions({"archived": "all", "limit": 10000})
    except (RpcError, OSError, WebSocketException):
        return False
    return any(row["key"] == key for row in rows)


def _logs(state_dir: Path) -> dict[str, str]:
    """The Gateway's file log, when its config keeps it in the state dir (logging.file)."""
    return {f"logs/{p.name}": p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((state_dir / "logs").glob("*.jsonl")) if p.is_file()}
