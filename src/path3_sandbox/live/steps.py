"""The scenario's steps on an operator's Gateway: the Context that reads SQLite on the host, the steps live mode adds
(the proof session pinned to the scripted model, a restart asked over RPC), their order (STEPS), and the check every
step is held to: no session but the proof session changed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from websockets.exceptions import WebSocketException

from ..containers.waits import poll_until
from ..containers.rpc import GatewayRpc
from ..errors import RpcError
from ..probes.host_sqlite import HostProbe, changed_sessions, read_state
from ..report.evidence import Assertion
from ..scenario.provider import MODEL_ID, PROVIDER_ID
from ..scenario.runner import Context, Step, StepOutcome
from ..scenario.steps import (step_chat_turn, step_cleanup, step_compaction, step_metadata, step_patch,
                              step_transcript_identity)
from ..scenario.turns import COMPLETED, TurnSpec

RESTART_METHOD = "gateway.restart.request"
RESTART_TIMEOUT_S = 240.0


@dataclass
class LiveContext(Context):
    """The scenario's Context on an operator's Gateway: SQLite is read on the host; there is no container."""
    state_dir: Path = Path()
    url: str = ""
    token: str = field(default="", repr=False)
    proof_ids: frozenset[str] = frozenset()

    def probe(self) -> HostProbe:
        found = read_state(self.state_dir, proof_key=self.proof_key, proof_session_ids=self.proof_ids)
        self.proof_ids = found.proof_session_ids
        return found

    def snapshot(self):
        return self.probe().sqlite


# -- the steps live mode adds (the others are the scenario's own) ---------------------------------------------

def step_pin_model(ctx: Context, before: HostProbe) -> StepOutcome:
    """Create the proof session pinned to the scripted model: the operator's default model is never called."""
    answer = ctx.rpc.call("sessions.patch", {"key": ctx.proof_key, "model": f"{PROVIDER_ID}/{MODEL_ID}"})
    resolved = (answer or {}).get("resolved") or {}
    found = ctx.snapshot().session(ctx.proof_key)
    entry = (found[1].get("entry") or {}) if found else {}
    want = f"{PROVIDER_ID}/{MODEL_ID}"
    return StepOutcome([
        Assertion("sessions.patch created the proof session on the scripted model",
                  f"{resolved.get('modelProvider')}/{resolved.get('model')}" == want, want,
                  f"{resolved.get('modelProvider')}/{resolved.get('model')}"),
        Assertion("SQLite holds the proof session with that model override",
                  f"{entry.get('providerOverride')}/{entry.get('modelOverride')}" == want, want,
                  f"{entry.get('providerOverride')}/{entry.get('modelOverride')}" if found else None),
    ], {"session_nodes": 1, "session_windows": 1})


def step_live_chat_turn(ctx: Context, before: HostProbe) -> StepOutcome:
    """The scenario's first turn, on the session the pin step already created."""
    return replace(step_chat_turn(ctx, before), deltas={"session_nodes": 0, "session_windows": 0})


def step_restart(ctx: Context, before: HostProbe) -> StepOutcome:
    """Ask the Gateway to restart itself over RPC, wait for a new boot, check nothing was re-imported, take a turn."""
    old_boot = (ctx.rpc.hello.get("server") or {}).get("bootId")
    answer = ctx.rpc.call(RESTART_METHOD, {"reason": "path3-sandbox live: restart asked with --allow-restart"})
    started = time.monotonic()
    ctx.rpc.close()
    seen_down = [False]

    def came_back() -> GatewayRpc | None:
        try:
            rpc = GatewayRpc.connect(ctx.url, ctx.token, timeout_s=10)
        except (OSError, EOFError, TimeoutError, WebSocketException, RpcError):  # down, or "gateway starting"
            seen_down[0] = True
            return None
        boot = (rpc.hello.get("server") or {}).get("bootId")
        if (boot and boot != old_boot) or (not boot and seen_down[0]):
            return rpc
        rpc.close()  # the old boot still answering: not restarted yet
        return None

    reconnected = poll_until(came_back, timeout_s=RESTART_TIMEOUT_S, interval_s=1)
    seconds = time.monotonic() - started
    new_boot = (reconnected.hello.get("server") or {}).get("bootId") if reconnected else None
    if reconnected is None:
        return StepOutcome([Assertion("the Gateway came back after the restart it was asked for", False,
                                      f"a new bootId within {RESTART_TIMEOUT_S:.0f}s", "no new boot",
                                      f"{RESTART_METHOD} answered {str(answer)[:200]}")], {"session_nodes": None,
                           "session_windows": None, "transcript_events": None, "transcript_event_identities": None})
    reconnected.calls[:0] = ctx.rpc.calls
    ctx.rpc = reconnected
    after = ctx.probe()
    marker = ctx.marker("R1")
    fresh = ctx.turn(ctx.proof_key, marker)
    proof_before, proof_after = before.sqlite.session(ctx.proof_key), after.sqlite.session(ctx.proof_key)
    return StepOutcome([
        Assertion(f"{RESTART_METHOD} was accepted", isinstance(answer, dict) and answer.get("ok") is True,
                  "ok: scheduled, deferred or coalesced", (answer or {}).get("status") if isinstance(answer, dict) else answer),
        Assertion("the Gateway came back with a new boot", bool(new_boot and new_boot != old_boot) or
                  (not new_boot and seen_down), f"a bootId other than {old_boot}" if old_boot else "down, then up",
                  new_boot or ("down, then up" if seen_down else "never down"), f"{seconds:.1f}s after the request"),
        Assertion("the restart imported nothing (migration_runs unchanged)", after.migration_runs == before.migration_runs,
                  before.migration_runs, after.migration_runs),
        Assertion("the proof session's rows are intact after the restart",
                  bool(proof_before and proof_after) and proof_before[1]["sessionId"] == proof_after[1]["sessionId"],
                  proof_before[1]["sessionId"] if proof_before else None, proof_after[1]["sessionId"] if proof_after else None),
        Assertion("a new turn works after the restart", (fresh.get("wait") or {}).get("status") == "ok", "ok",
                  (fresh.get("wait") or {}).get("status")),
    ], {"session_nodes": 0, "session_windows": 0}, turns=(TurnSpec(ctx.proof_key, marker, COMPLETED),))


STEPS = [
    Step("pin-model", ("sessions.patch",), step_pin_model,
         "create the proof session pinned to the scripted model (the operator's model is never called)"),
    Step("chat-turn", ("chat.send", "agent.wait", "chat.history"), step_live_chat_turn,
         "the proof session takes one turn; chat.history shows the provider's reply"),
    Step("transcript-identity", ("chat.history",), step_transcript_identity,
         "the turn is in transcript_events with an identity row; chat.history's ids are the SQLite tail"),
    Step("metadata", ("sessions.list",), step_metadata, "sessions.list and sessions.get agree with SQLite"),
    Step("patch", ("sessions.patch",), step_patch, "set the proof session's label, then clear it"),
    Step("compaction", ("sessions.compact",), step_compaction, "compact the proof session"),
    Step("restart", (RESTART_METHOD, "chat.send", "agent.wait"), step_restart,
         "ask the Gateway to restart over RPC (--allow-restart only); nothing re-imported; one more turn"),
    Step("cleanup", ("sessions.delete",), step_cleanup, "delete the proof session and its rows"),
]


def untouched(before: HostProbe, after: HostProbe, ctx: LiveContext, when: str) -> Assertion:
    """Every session but the proof session has exactly the rows it had; a failure names each session that changed."""
    changes = changed_sessions(before.sessions, after.sessions, ignore={ctx.proof_key, *ctx.proof_ids})
    named = "; ".join(f"{c['session']} {c['change']} ({', '.join(c['tables'])})" for c in changes[:10])
    others = len([k for k in after.sessions if k != ctx.proof_key])
    return Assertion(f"no session but the proof session changed {when}", not changes, [],
                     [c["session"] for c in changes],
                     f"changed: {named}; written by the Gateway or by another client during the run" if changes
                     else f"{others} other session(s) identical")
