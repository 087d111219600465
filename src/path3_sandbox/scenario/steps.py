"""The Path 3 scenario's steps: each drives the Gateway through its public RPC and returns what it
declares (its turns, how the session tables move, its own checks); runner.py probes around each one.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..report.evidence import Assertion
from ..state.inventory import LegacyTranscript
from ..probes.sqlite import SqliteSnapshot
from ..containers.waits import poll_until
from ..errors import RpcError
from ..proof import reports
from ..proof.reports import NOT_MARKED, recovery_outcome
from .runner import TURN_TIMEOUT_MS, Context, Probe, Step, StepOutcome, probe
from .side_by_side import step_side_by_side
from .turns import COMPLETED, TurnSpec, killed_in_flight

# -- the steps ---------------------------------------------------------------------------------------

def _proof_session(ctx: Context, snapshot: SqliteSnapshot) -> tuple[str, dict] | None:
    found = snapshot.session(ctx.proof_key)
    return (found[1]["sessionId"], found[1]) if found else None


def _brief(value: Any) -> Any:
    """A response for the evidence without the conversation text it may echo (summaries, messages)."""
    if isinstance(value, dict):
        return {k: ("<text>" if k in ("summary", "text", "messages") else _brief(v)) for k, v in value.items()}
    return value


def _message_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def step_chat_turn(ctx: Context, before: Probe) -> StepOutcome:
    marker = ctx.marker("S1")
    result = ctx.turn(ctx.proof_key, marker)
    history = ctx.rpc.call("chat.history", {"sessionKey": ctx.proof_key, "limit": 50})
    ctx.notes["history"] = history
    status = (result.get("wait") or {}).get("status")
    return StepOutcome([
        Assertion("chat.send accepted the turn", bool(result["send"].get("runId")), "a runId", result["send"]),
        Assertion("agent.wait reports the turn ended ok", status == "ok", "ok", status),
        Assertion("chat.history shows the provider's marker", marker in _message_text(history), marker,
                  f"{len(history.get('messages', []))} messages"),
        Assertion("the provider served the turn", bool(ctx.requests_for(marker)), marker,
                  [r.marker for r in ctx.provider.requests]),
    ], {"session_nodes": 1, "session_windows": 1}, turns=(TurnSpec(ctx.proof_key, marker, COMPLETED),))


def step_transcript_identity(ctx: Context, before: Probe) -> StepOutcome:
    marker = ctx.marker("S1")
    found = _proof_session(ctx, before.sqlite)
    if not found:
        return StepOutcome([Assertion("the proof session is in SQLite", False, ctx.proof_key, None)], {})
    session_id, _ = found
    events = before.sqlite.events_of(session_id)
    with_marker = [e for e in events if marker in _message_text(e.value)]
    identities = [e for e in with_marker if e.event_id]
    messages = ctx.notes.get("history", {}).get("messages", [])
    history_ids = [m.get("__openclaw", {}).get("id") for m in messages if isinstance(m, dict)]
    history_ids = [i for i in history_ids if i]
    sqlite_ids = [e.event_id for e in events if isinstance(e.value, dict) and e.value.get("type") == "message"]
    tail = len(history_ids)
    return StepOutcome([
        Assertion("the marker is in transcript_events", bool(with_marker), marker, f"{len(with_marker)} event(s)"),
        Assertion("the marker's event has an identity row", bool(identities), "event_id",
                  [e.event_id for e in with_marker]),
        Assertion("chat.history's ids equal the SQLite transcript tail", bool(tail) and history_ids == sqlite_ids[-tail:],
                  sqlite_ids[-tail:] if tail else "ids", history_ids),
    ], {})


def model_context(transcript: LegacyTranscript) -> tuple[list[str], str]:
    """The texts the model must receive from a legacy session, in order, and how they were chosen.

    As the Gateway builds context (buildSessionContext, iterateSessionContextEntries): the active path from
    the last entry up its parentId chain (file order when ids are missing); after the last compaction or
    reset on it, the compaction's summary, then the entries from its firstKeptEntryId (when that is before
    it), then everything after it. Messages, custom messages and branch summaries carry text.
    """
    entries = [e.value for e in transcript.events if isinstance(e.value, dict) and e.type != "session"]
    by_id = {e.get("id"): e for e in entries if isinstance(e.get("id"), str)}
    path, how = entries, "file order (no ids)"
    if entries and all(isinstance(e.get("id"), str) for e in entries):
        path, node, seen = [], entries[-1], set()
        while node is not None and node.get("id") not in seen:
            seen.add(node.get("id"))
            path.append(node)
            node = by_id.get(node.get("parentId"))
        path.reverse()
        how = "active path by parentId"
    boundary = max((i for i, e in enumerate(path) if e.get("type") in ("compaction", "reset")), default=None)
    texts: list[str] = []
    if boundary is not None:
        cut = path[boundary]
        if cut.get("type") == "compaction" and cut.get("summary"):
            texts.append(cut["summary"])
        kept_from = next((i for i, e in enumerate(path[:boundary]) if e.get("id") == cut.get("firstKeptEntryId")), boundary)
        if cut.get("type") == "reset":
            kept_from = boundary
        path = path[kept_from:boundary] + path[boundary + 1:]
        how += f"; after the {cut.get('type')} at id {cut.get('id')}: summary + kept entries"
    for entry in path:
        if entry.get("type") == "branch_summary" and entry.get("summary"):
            texts.append(entry["summary"])
        elif entry.get("type") in ("message", "custom_message"):
            message = entry.get("message") if entry.get("type") == "message" else entry
            if (message or {}).get("excludeFromContext"):
                continue
            content = (message or {}).get("content")
            parts = [content] if isinstance(content, str) else [
                c.get("text") for c in content or [] if isinstance(c, dict) and c.get("type") == "text"]
            texts += [t for t in parts if isinstance(t, str) and t]
    return texts, how


def _in_order(texts: list[str], sent: str) -> tuple[list[str], list[str]]:
    """(texts not found, texts found out of order) in a request body (JSON text)."""
    missing, disorder, position = [], [], -1
    for text in texts:
        needle = json.dumps(text, ensure_ascii=False)[1:-1]
        found = sent.find(needle, position + 1)
        if found == -1:
            (disorder if needle in sent else missing).append(text[:60])
        else:
            position = found
    return missing, disorder


def step_continue_legacy(ctx: Context, before: Probe) -> StepOutcome:
    target = next((s for s in ctx.fixture.sessions if not s.archived and s.events > 2
                   and ctx.inventory.transcript_for(s.session_id) is not None), None)
    if target is None:
        return StepOutcome([], {}, skipped_methods=(("continue an imported session",
                                                     "the fixture has no active imported session with history"),))
    texts, how = model_context(ctx.inventory.transcript_for(target.session_id))
    marker = ctx.marker("S3")
    result = ctx.turn(target.stored_key, marker)
    requests = [r for r in ctx.requests_for(marker) if r.body is not None]
    sent = requests[0].text() if requests else ""
    missing, disorder = _in_order(texts, sent)
    status = (result.get("wait") or {}).get("status")
    return StepOutcome([
        Assertion(f"a turn on the imported session {target.stored_key} ended ok", status == "ok", "ok", status),
        Assertion("the provider served this turn's request", bool(requests), "a request carrying the marker",
                  [r.index for r in requests], f"marker {marker} (unique to this fixture and step)"),
        Assertion("the model request carried the imported history the Gateway must send, in order",
                  bool(texts) and requests != [] and not missing and not disorder,
                  f"{len(texts)} text(s): {how}",
                  {"missing": missing, "out_of_order": disorder} if missing or disorder else f"all {len(texts)} in order",
                  f"request #{requests[0].index}" if requests else "no request carried the marker"),
    ], {}, turns=(TurnSpec(target.stored_key, marker, COMPLETED),))


def step_metadata(ctx: Context, before: Probe) -> StepOutcome:
    listed = {s["key"]: s for s in ctx.rpc.list_sessions({"archived": "all", "limit": 1000})}
    checks = []
    imported = [s for s in ctx.fixture.sessions if not s.archived][:3]
    # An imported session answers with its legacy entry's values (SQLite's row could already be lossy); the proof
    # session, created by this run, with its SQLite row. Only fields no turn writes (metadata.TURN_FIELDS).
    entries = ctx.inventory.entries if ctx.inventory is not None else ()  # live mode has no legacy state
    legacy = {(e.agent, e.key): e.fields for e in entries if isinstance(e.fields, dict)}
    sources = [(ctx.proof_key, "SQLite", None)] + [(s.stored_key, "its legacy entry", legacy.get((s.agent, s.key), {}))
                                                   for s in imported]
    getter = "sessions.get" if "sessions.get" in ctx.rpc.methods else "sessions.describe"
    for key, source, fields in sources:
        found = before.sqlite.session(key)
        row = found[1] if found else None
        if fields is None:
            fields = {"sessionId": row["sessionId"], "label": (row.get("entry") or {}).get("label")} if row else None
        item = listed.get(key)
        names = ("sessionId", "label", "displayName") if fields and "displayName" in fields else ("sessionId", "label")
        want = {name: fields.get(name) for name in names} if fields else None
        got = {name: item.get(name) for name in names} if item else None
        checks.append(Assertion(f"sessions.list row for {key} agrees with {source}", want is not None and want == got,
                                want, got))
        described = ctx.rpc.call(getter, {"key": key})
        text = json.dumps(described, ensure_ascii=False)
        checks.append(Assertion(f"{getter} for {key} names its SQLite sessionId", bool(row) and row["sessionId"] in text,
                                row["sessionId"] if row else None, "present" if row and row["sessionId"] in text else text[:200]))
    return StepOutcome(checks, {})


def step_patch(ctx: Context, before: Probe) -> StepOutcome:
    label = f"path3 label {ctx.run_id}"
    patched = ctx.rpc.call("sessions.patch", {"key": ctx.proof_key, "label": label})
    mid = ctx.snapshot()
    mid_label = ((mid.session(ctx.proof_key) or (None, {}))[1].get("entry") or {}).get("label")
    reverted = ctx.rpc.call("sessions.patch", {"key": ctx.proof_key, "label": None})
    end = ctx.snapshot()
    end_label = ((end.session(ctx.proof_key) or (None, {}))[1].get("entry") or {}).get("label")
    response_label = (patched.get("entry") or patched).get("label") if isinstance(patched, dict) else None
    return StepOutcome([
        Assertion("sessions.patch answered with the new label", response_label == label, label, response_label),
        Assertion("SQLite holds the patched label", mid_label == label, label, mid_label),
        Assertion("the revert cleared the label in SQLite", end_label is None, None, end_label,
                  f"revert answered {str(reverted)[:120]}"),
    ], {})


COMPACTION_METHODS = ("sessions.compaction.list", "sessions.compaction.get", "sessions.compaction.branch",
                      "sessions.compaction.restore")


def step_compaction(ctx: Context, before: Probe) -> StepOutcome:
    checks: list[Assertion] = []
    retired = tuple((m, f"{m} is retired in this target (not in hello-ok's method list)")
                    for m in COMPACTION_METHODS if m not in ctx.rpc.methods)
    if "sessions.compaction.list" in ctx.rpc.methods:
        listed = ctx.rpc.call("sessions.compaction.list", {"key": ctx.proof_key})
        checks.append(Assertion("sessions.compaction.list answers for the proof session", isinstance(listed, dict), "object", listed))
    compacted = ctx.rpc.call("sessions.compact", {"key": ctx.proof_key}, timeout_s=120)
    checks.append(Assertion("sessions.compact answered ok for the proof session",
                            isinstance(compacted, dict) and compacted.get("ok") is True, "ok", _brief(compacted)))
    # A compaction appends one compaction event to the transcript; a no-op appends nothing.
    appended = 1 if isinstance(compacted, dict) and compacted.get("compacted") else 0
    if "sessions.branches.list" in ctx.rpc.methods:
        branches = ctx.rpc.call("sessions.branches.list", {"sessionKey": ctx.proof_key})
        items = branches.get("branches") if isinstance(branches, dict) else None
        checks.append(Assertion("sessions.branches.list lists the proof session's branch", bool(items), ">= 1 branch",
                                len(items) if items is not None else branches))
    return StepOutcome(checks, {}, declared_rows={ctx.proof_key: {"compaction": appended}} if appended else {},
                       skipped_methods=retired)


RECOVERY_WAIT_S = TURN_TIMEOUT_MS / 1000  # how long the step waits for the recovery's report


def _await_recovery(ctx: Context, since_line: int) -> tuple[str, str]:
    """Wait until the restarted Gateway reports what its recovery did for the proof session (the killed turn's):
    its own log lines, not a fixed wait, so the step's rows are read once the recovery's reply is stored."""
    started, seen = time.monotonic(), [""]

    def reported() -> str | None:
        seen[0] = "\n".join(ctx.gateway.logs().splitlines()[since_line:])
        return recovery_outcome(seen[0], ctx.proof_key)

    outcome = poll_until(reported, timeout_s=RECOVERY_WAIT_S, interval_s=0.25)
    ctx.gateway.awaited("restart recovery", time.monotonic() - started)
    return outcome or f"no recovery outcome reported within {RECOVERY_WAIT_S:.0f}s", seen[0]


def step_restart_recovery(ctx: Context, before: Probe) -> StepOutcome:
    marker = ctx.marker("S7")
    inflight = ctx.turn(ctx.proof_key, marker, hold=True, wait=False)
    held = poll_until(lambda: any(r.held for r in ctx.requests_for(marker)) or None, timeout_s=60, interval_s=0.2) or False
    before_kill = probe(ctx).sqlite
    proof_before = _proof_session(ctx, before_kill)
    stdout_lines = len(ctx.gateway.logs().splitlines())
    ctx.rpc.close()
    ctx.gateway.kill()
    ctx.provider.release()
    start = ctx.gateway.start()
    reconnected = ctx.gateway.rpc()  # the old socket died with the killed Gateway
    reconnected.calls[:0] = ctx.rpc.calls
    ctx.rpc = reconnected
    inflight_status, restart_output = _await_recovery(ctx, stdout_lines)
    if inflight_status == NOT_MARKED:
        try:  # no recovery of its own: the killed run's id answers "timeout" unless the Gateway still ran it
            waited = ctx.wait(inflight["send"]["runId"], timeout_ms=5_000)
            inflight_status = waited.get("status") if isinstance(waited, dict) else str(waited)
        except RpcError as error:
            inflight_status = f"error {error.code}"
    after = probe(ctx)
    proof_after = _proof_session(ctx, after.sqlite)
    kept, lost = _rows_kept(before_kill, after.sqlite, proof_before, proof_after)
    recovery = [line for line in restart_output.splitlines() if "restart-recovery" in line or "restart recovery" in line]
    ctx.evidence.event("restart", "recovery", inflight_status=inflight_status, recovery_lines=recovery[-5:])
    fresh_marker = ctx.marker("S7B")
    fresh = ctx.turn(ctx.proof_key, fresh_marker)
    again = reports.parse_import_report(restart_output)
    imported_again = reports.imports_again(restart_output)
    return StepOutcome([
        Assertion("the provider held the in-flight turn when the Gateway was killed", held, marker, held),
        Assertion("the Gateway became ready after SIGKILL + restart on the same volume", start.outcome == "ready",
                  "ready", start.outcome, f"{start.seconds:.1f}s"),
        Assertion("the restart did not re-import", not imported_again, "no import report, or one that imported 0 events",
                  again.to_json() if again else imported_again),
        Assertion("the proof session's rows are intact after the restart (same session, every event it had, in "
                  "order and byte for byte)", kept, proof_before[0] if proof_before else None, lost,
                  "a restart may append (the recovery's prompt and reply), never change or drop"),
        Assertion("the in-flight turn was recovered or cleanly failed",
                  inflight_status not in ("error CLIENT_TIMEOUT", "error CLOSED")
                  and not inflight_status.startswith("no recovery outcome"),
                  "recovered (the Gateway's recovery report) or cleanly failed (timeout / an error code)", inflight_status),
        Assertion("a new turn works after the restart", (fresh.get("wait") or {}).get("status") == "ok", "ok",
                  (fresh.get("wait") or {}).get("status")),
    ], {"session_nodes": 0, "session_windows": 0},
        turns=(TurnSpec(ctx.proof_key, marker, killed_in_flight(held)), TurnSpec(ctx.proof_key, fresh_marker, COMPLETED)),
        # After SIGKILL the dead process still owns the state-lifecycle lock for a moment; 9.6 logs the
        # device-pair cleanup it skips because of that at ERROR level, then carries on.
        allowed_logs=(r"device pair setup cleanup failed: another OpenClaw process owns state-lifecycle",))


def _rows_kept(before: SqliteSnapshot, after: SqliteSnapshot, proof_before: tuple[str, dict] | None,
               proof_after: tuple[str, dict] | None) -> tuple[bool, Any]:
    """Whether the proof session is the same session after the restart and its events before the kill are the first
    events after it, ids and bytes alike; with what differs when not."""
    if not proof_before or not proof_after:
        return False, {"before": bool(proof_before), "after": bool(proof_after)}
    if proof_before[0] != proof_after[0]:
        return False, {"sessionId": proof_after[0]}
    old = [(e.event_id, e.content_sha256) for e in before.events_of(proof_before[0])]
    new = [(e.event_id, e.content_sha256) for e in after.events_of(proof_after[0])]
    changed = [f"seq {i + 1}: {o[0]}" for i, (o, n) in enumerate(zip(old, new)) if o != n]
    if len(new) < len(old):
        changed.append(f"{len(old) - len(new)} event(s) fewer after the restart ({len(old)} -> {len(new)})")
    return not changed, changed[:10] or f"all {len(old)} event(s) kept, {len(new) - len(old)} appended"


def step_cleanup(ctx: Context, before: Probe) -> StepOutcome:
    found = _proof_session(ctx, before.sqlite)
    if ctx.keep_artifacts:
        return StepOutcome([], {}, skipped_methods=(("delete the proof session", "--keep-artifacts keeps it"),))
    windows = sum(1 for db in before.sqlite.agents.values() for key in db.windows.values() if key == ctx.proof_key)
    events = len(before.sqlite.events_of(found[0])) if found else 0
    deleted = ctx.rpc.call("sessions.delete", {"key": ctx.proof_key, "deleteTranscript": True})
    after = ctx.snapshot()
    left_rows = after.session(ctx.proof_key)
    left_events = after.events_of(found[0]) if found else ()
    return StepOutcome([
        Assertion("sessions.delete answered ok", isinstance(deleted, dict) and deleted.get("ok", True) is not False, "ok", deleted),
        Assertion("the proof session's session_nodes row is gone", left_rows is None, None, bool(left_rows)),
        Assertion("the proof session's transcript events are gone", not left_events, 0, len(left_events)),
    ], {"session_nodes": -1, "session_windows": -windows, "transcript_events": -events,
        "transcript_event_identities": -events})


STEPS = [
    Step("chat-turn", ("chat.send", "agent.wait", "chat.history"), step_chat_turn,
         "a new proof session takes one turn; chat.history shows the provider's reply"),
    Step("transcript-identity", ("chat.history",), step_transcript_identity,
         "the turn is in transcript_events with an identity row; chat.history's ids are the SQLite tail"),
    Step("continue-legacy", ("chat.send", "agent.wait"), step_continue_legacy,
         "an imported session takes a turn; the model is sent its legacy history, in order"),
    Step("metadata", ("sessions.list",), step_metadata,
         "sessions.list agrees with SQLite for the proof session and with the legacy entries for imported ones"),
    Step("patch", ("sessions.patch",), step_patch, "set the proof session's label, then clear it"),
    Step("compaction", ("sessions.compact",), step_compaction, "compact the proof session"),
    Step("side-by-side", ("chat.send", "agent.wait"), step_side_by_side,
         "a Gateway turn held at the model while the CLI's embedded turn (`openclaw agent --local`) appends to the "
         "same session; each message once, one parentId chain, no SQLITE_BUSY", per_run=True),
    Step("restart-recovery", ("chat.send", "agent.wait"), step_restart_recovery,
         "kill the Gateway mid-turn, start it again; its recovery settles the killed turn"),
    Step("cleanup", ("sessions.delete",), step_cleanup, "delete the proof session and its rows"),
]
