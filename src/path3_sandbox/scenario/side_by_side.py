"""Writers side by side, as users run them (issue 24 §5): a Gateway turn and the CLI's embedded turn on one session.

Why: the review that blocked OpenClaw's first SQLite migration (https://github.com/openclaw/openclaw/pull/78595,
chatgpt-codex-connector, 2026-05-06, "Restore cross-process locking for transcript appends") found that
`appendSessionTranscriptMessage` (src/config/sessions/transcript-append.ts) serialized appends only through the
in-memory `transcriptAppendQueues` map (`withTranscriptAppendQueue`, keyed `${agentId}\\0${sessionId}`): it loads the
session's events, picks `parentId` = the newest parent-linked event (`latestParentLinkedEntryId`) and the idempotency
match from that list, then inserts, so a Gateway and another process (the CLI's `openclaw agent --local`, a cron
worker) appending to one session at once can both read the same pre-append list: duplicated idempotent messages and
two events with the same parent. The JSONL era had a cross-process file lock besides the queue
(`acquireSessionWriteLock`, src/agents/session-write-lock.ts). Later sources choose the parent inside the SQLite write
transaction (`appendSqliteSessionTranscriptEvent(..., parentMode: "database-tail")` -> `withDatabaseTailParent`, in
`runOpenClawAgentWriteTransaction`, src/config/sessions/transcript-store.sqlite.ts); which releases carry that is what
this step measures. Busy errors across processes: #113622, #117262, #139469 (2026-09-05, "database is locked" between
transcript writers).

The CLI (src/cli/program/register.agent-turn.ts, src/commands/agent-via-gateway.ts; docs.openclaw.ai/cli/agent):
`openclaw agent` runs a turn *through the Gateway* (RPC method `agent`) by default and falls back to the embedded
runtime only when the Gateway call fails; `--local` runs the embedded agent in the CLI's own process, so that process
appends to the session's SQLite transcript itself. The session is named by `--session-key agent:<id>:<key>` (newer
CLIs), `--session-id <id>`, `--to <E.164>` or `--agent <id>` (its main session); `-m/--message`, `--json` (stdout
reserved for the JSON answer), `--timeout <s>`, `--model` on newer CLIs. The model comes from the config the CLI reads
in the same container and state dir as the Gateway: provider.provider_config's default points at the scripted provider.

The step: hold a Gateway turn on the proof session at the provider, run the CLI's embedded turn (its own marker,
answered at once) on the same session, release the held turn, then judge by content: each turn's message and reply
once (turns.py), the rows the step added extend one parentId chain (no fork, no repeated id or message), and no
SQLITE_BUSY / "database is locked" in the CLI's output or the Gateway's logs since the step began.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Iterable

from ..containers.gateway import ExecResult
from ..containers.waits import poll_until
from ..probes import files as files_probe
from ..probes.sqlite import SqliteEvent
from ..report.evidence import GATEWAY, HARNESS, Assertion
from .runner import Context, Probe, StepOutcome
from .turns import COMPLETED, TurnSpec

HELD_WAIT_S = 60  # for the Gateway's turn to reach the provider and be held
CLI_TIMEOUT_S = 150  # the CLI's whole turn (node start, plugin registry preload, one scripted reply)
OVERLAP_WAIT_S = 15  # for the CLI's turn to reach the model while the Gateway's is held (else it queues behind it)
BUSY_RE = re.compile(r"SQLITE_BUSY|database is locked", re.IGNORECASE)
# 2026.9.6's CLI refuses an embedded turn while a Gateway runs for the same state dir ("Run without --local to use
# it, or stop the Gateway first"): the second writing process is kept out. Its refusal is logged at error level.
GUARD_RE = re.compile(r"A Gateway is running for this state directory")
GUARD_LOGS = (r"A Gateway is running for this state directory", r"\[openclaw\] (The CLI command failed|Reason: |Debug: set "
              r"OPENCLAW_DEBUG|Try: openclaw doctor|Help: openclaw --help)")
FLAG_RE = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")

# The CLI's turn when it exited non-zero: what it may have left (its own assertion fails either way).
CLI_FAILED = {(0, 0, 0): "the CLI failed before it stored its message",
              (1, 0, 0): "the CLI stored its message, then failed"}


def agent_flags(help_text: str) -> frozenset[str]:
    """The long options `openclaw agent --help` lists."""
    return frozenset(FLAG_RE.findall(help_text))


def cli_argv(flags: Iterable[str], *, session_key: str, session_id: str, marker: str,
             timeout_s: float = CLI_TIMEOUT_S, local: bool = True) -> list[str] | None:
    """`openclaw agent --local` on the session, carrying `marker` as the provider reads it; None when this CLI has no
    embedded mode. By key where the CLI names sessions by key, else by the session's id (older CLIs). `local`
    False: the same turn through the Gateway (for a release that keeps a second writer out)."""
    flags = set(flags)
    if "--local" not in flags:
        return None
    argv = ["openclaw", "agent", *(["--local"] if local else []), "--message", f"path3 scenario turn {marker}"]
    argv += ["--session-key", session_key] if "--session-key" in flags else ["--session-id", session_id]
    if "--json" in flags:
        argv.append("--json")
    if "--timeout" in flags:  # the CLI ends its own turn before `timeout` kills it
        argv += ["--timeout", str(int(timeout_s) - 30)]
    return argv


def busy_lines(text: str) -> list[str]:
    """Lines that surface a SQLite writer lock (SQLITE_BUSY, "database is locked") to whoever reads them."""
    return [line.strip()[:300] for line in text.splitlines() if BUSY_RE.search(line)]


def _linked(event: SqliteEvent) -> bool:
    """A parent-linked entry, as OpenClaw's own append picks the parent (latestParentLinkedEntryId): not the session
    header, with a string id and a parentId key."""
    value = event.value
    return (isinstance(value, dict) and value.get("type") != "session" and isinstance(value.get("id"), str)
            and "parentId" in value)


def _message_key(value: Any) -> str | None:
    message = value.get("message") if isinstance(value, dict) and value.get("type") == "message" else None
    if not isinstance(message, dict):
        return None
    return json.dumps([message.get("role"), message.get("content"), message.get("idempotencyKey")], sort_keys=True,
                      ensure_ascii=False)


def chain_faults(events: Iterable[SqliteEvent], since_seq: int = -1) -> list[str]:
    """What breaks one parentId chain among a session's events, for the events after `since_seq` (older rows are not
    this step's to judge): an event whose parent is not the event before it, two events with the same parent (a fork,
    naming both), an id stored twice, a message stored twice. Empty: the new rows extend one chain."""
    ordered = sorted(events, key=lambda e: e.seq)
    faults: list[str] = []
    children: dict[Any, list[SqliteEvent]] = {}
    first_seq: dict[str, int] = {}
    previous: SqliteEvent | None = None
    for event in (e for e in ordered if _linked(e)):
        node_id, parent = event.value["id"], event.value["parentId"]
        children.setdefault(parent, []).append(event)
        if event.seq > since_seq:
            if node_id in first_seq:
                faults.append(f"id {node_id} stored twice (seq {first_seq[node_id]} and {event.seq})")
            want = previous.value["id"] if previous else None
            if parent != want and len(children[parent]) == 1:  # a shared parent is reported once, as a fork
                faults.append(f"seq {event.seq} id {node_id}: parent {parent}, not the event before it ({want})")
        first_seq.setdefault(node_id, event.seq)
        previous = event
    for parent, kids in children.items():
        if len(kids) > 1 and any(k.seq > since_seq for k in kids):
            faults.append(f"fork: {', '.join(str(k.value['id']) for k in kids)} share the parent {parent}")
    seen: dict[str, SqliteEvent] = {}
    for event in ordered:
        key = _message_key(event.value)
        if key is None:
            continue
        if key in seen and event.seq > since_seq:
            faults.append(f"message stored twice: seq {seen[key].seq} and {event.seq} ({key[:80]})")
        seen.setdefault(key, event)
    return faults


def _logs_since(ctx: Context, before: Probe) -> dict[str, str]:
    """The Gateway's stdout and file log(s) past the lines `before` saw (the CLI logs to the same file log)."""
    logs = {"stdout": ctx.gateway.logs(), **files_probe.read_texts(ctx.run_inside, r"^logs/.*\.jsonl$")}
    start = before.log_lines
    return {source: "\n".join(text.splitlines()[start.get(source, 0):]) for source, text in logs.items()}


def _run_cli_beside(ctx: Context, argv: list[str], gateway_marker: str, cli_marker: str) -> tuple[bool, Any, ExecResult | None]:
    """With the Gateway's turn held: the CLI's turn in a thread, the release once the CLI's turn reached the model (or
    the CLI ended, or OVERLAP_WAIT_S passed: a CLI that waits for the Gateway's turn ends only after the release).
    Returns (held, overlapped, the CLI's result or None when it never returned)."""
    held = bool(poll_until(lambda: any(r.held for r in ctx.requests_for(gateway_marker)) or None,
                           timeout_s=HELD_WAIT_S, interval_s=0.2))
    done: list[ExecResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            done.append(ctx.gateway.exec(argv, timeout_s=CLI_TIMEOUT_S))
        except BaseException as error:  # reported by the step, not lost in the thread
            errors.append(error)

    cli = threading.Thread(target=run, name="path3-cli-beside", daemon=True)
    try:
        cli.start()
        overlapped = poll_until(lambda: True if ctx.requests_for(cli_marker) else (False if done or errors else None),
                                timeout_s=OVERLAP_WAIT_S, interval_s=0.2)
    finally:
        ctx.provider.release()  # never leave the Gateway's turn held, whatever happened here
    cli.join(CLI_TIMEOUT_S + 15)
    if errors:
        raise errors[0]
    return held, overlapped, done[0] if done else None


def _round(ctx: Context, argv: list[str], gateway_marker: str, cli_marker: str) -> tuple[bool, Any, ExecResult | None, Any]:
    """One round: a Gateway turn held at the model, the CLI's turn beside it, the held turn released and waited for.
    Returns (held, overlapped, the CLI's result, the Gateway turn's status)."""
    inflight = ctx.turn(ctx.proof_key, gateway_marker, hold=True, wait=False)
    held, overlapped, cli = _run_cli_beside(ctx, argv, gateway_marker, cli_marker)
    waited = ctx.wait(inflight["send"]["runId"])
    return held, overlapped, cli, waited.get("status") if isinstance(waited, dict) else waited


def step_side_by_side(ctx: Context, before: Probe) -> StepOutcome:
    found = before.sqlite.session(ctx.proof_key)
    if not found:
        return StepOutcome([Assertion("the proof session is in SQLite", False, ctx.proof_key, None)], {})
    session_id = found[1]["sessionId"]
    since_seq = max((e.seq for e in before.sqlite.events_of(session_id)), default=-1)
    helped = ctx.gateway.exec(["openclaw", "agent", "--help"], timeout_s=60)
    gateway_marker, cli_marker, flags = ctx.marker("S9"), ctx.marker("S9B"), agent_flags(helped.output)
    argv = cli_argv(flags, session_key=ctx.proof_key, session_id=session_id, marker=cli_marker)
    if argv is None:
        return StepOutcome([], {}, skipped_methods=((
            "a CLI turn beside a Gateway turn on one session",
            f"this target's `openclaw agent` has no --local (embedded) mode (help exited {helped.exit_code})"),))
    held, overlapped, cli, status = _round(ctx, argv, gateway_marker, cli_marker)
    turns = [TurnSpec(ctx.proof_key, gateway_marker, COMPLETED)]
    guard = next((line.strip() for line in (cli.output if cli else "").splitlines() if GUARD_RE.search(line)), None)
    if cli is not None and cli.exit_code != 0 and guard:
        # Kept out: the embedded writer stored nothing. Two turns on one session at once still happen when the CLI
        # goes through the Gateway (no --local): the one process's own serialization is then what is judged.
        ctx.evidence.event("side-by-side", "guarded", argv=argv, refusal=guard)
        turns.append(TurnSpec(ctx.proof_key, cli_marker, {(0, 0, 0): "refused: a Gateway runs for this state"}))
        gateway_marker, cli_marker = ctx.marker("S9C"), ctx.marker("S9D")
        argv = cli_argv(flags, session_key=ctx.proof_key, session_id=session_id, marker=cli_marker, local=False)
        held, overlapped, cli, status = _round(ctx, argv, gateway_marker, cli_marker)
        turns.append(TurnSpec(ctx.proof_key, gateway_marker, COMPLETED))
    output = cli.output if cli else ""
    busy = [f"cli: {line}" for line in busy_lines(output)]
    busy += [f"{source}: {line}" for source, text in _logs_since(ctx, before).items() for line in busy_lines(text)]
    faults = chain_faults(ctx.snapshot().events_of(session_id), since_seq)
    how = {True: "the CLI's turn reached the model while the Gateway's was held (the two overlapped)",
           False: "the CLI ended before its turn reached the model", None: "the CLI's turn waited for the Gateway's"
           f" (not at the model within {OVERLAP_WAIT_S}s of the hold)"}[overlapped]
    how += f"; {'through the Gateway: ' + guard if guard else 'embedded (--local)'}"
    ctx.evidence.event("side-by-side", "writers", argv=argv, held=held, overlapped=overlapped, guarded=guard,
                       cli_exit=cli.exit_code if cli else None, cli_seconds=round(cli.seconds, 1) if cli else None,
                       gateway_status=status, chain_faults=faults[:10], busy=busy[:10])
    cli_ok = cli is not None and cli.exit_code == 0
    return StepOutcome([
        Assertion("the provider held the Gateway's turn while the CLI ran", held, gateway_marker, held, blame=HARNESS),
        Assertion("the CLI's turn on the same session ended ok", cli_ok, "exit 0",
                  f"exit {cli.exit_code}: {output.strip()[-300:]}" if cli else "the CLI never returned", how,
                  blame=GATEWAY if cli else HARNESS),  # the target's own CLI failing is a finding
        Assertion("the CLI's turn was answered with its marker", cli_ok and cli_marker in output, cli_marker,
                  "present" if cli_marker in output else output.strip()[-200:]),
        Assertion("the Gateway's held turn ended ok once released", status == "ok", "ok", status),
        Assertion("the rows the two writers added extend one parentId chain (no fork, no id or message twice)",
                  not faults, [], faults[:10], f"session {session_id}, rows after seq {since_seq}"),
        Assertion("no SQLITE_BUSY / database is locked surfaced (the CLI's output, the Gateway's logs)", not busy, [],
                  busy[:10]),
    ], {"session_nodes": 0, "session_windows": 0},
        turns=(*turns, TurnSpec(ctx.proof_key, cli_marker, COMPLETED if cli_ok else CLI_FAILED)),
        allowed_logs=GUARD_LOGS if guard else ())
