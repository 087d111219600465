"""A recipe's steps over a Gateway's WebSocket RPC: for a capture (upgrades/capture.py) and an upgrade path's hops.

    turn_message(text, n)                 (marker, message): the text with the marker line the scripted provider answers
    send_turn(rpc, key, marker, message)  chat.send + agent.wait; the reply as chat.history holds it, checked by marker
    drive_recipe(recipe, turn, operation) every session's turns (long ones too), compactions, resets, turns after
    operation(rpc, release, method, …)    sessions.compact / sessions.reset where hello-ok offers it, with a record
    message_text(message)                 the text of a chat.history message
    carries_marker(text, marker)          the marker as a whole token (…-H1T1 is not in …-H1T10)
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import CaptureFailed, RpcError
from ..progress import say
from ..containers.rpc import GatewayRpc
from .recipe import MARKER_LINE, Recipe

MARKER_PREFIX = "P3-CAPTURE-T"
TURN_TIMEOUT_MS = 120_000


# -- a turn: sent with its marker, answered by the scripted provider -----------------------------------------
@dataclass(frozen=True)
class Turn:
    session_key: str
    marker: str
    sent: str
    reply: str
    wrapped: bool = False  # sent through something that rewrites the text (a cron job's run): found by marker and reply

    def to_json(self) -> dict:
        return {"sessionKey": self.session_key, "sent": self.sent, "reply": self.reply}


def turn_message(text: str, number: int) -> tuple[str, str]:
    """(marker, message): the recipe's text with the marker line the scripted provider answers."""
    marker = f"{MARKER_PREFIX}{number:02d}"
    return marker, f"{text}\n{MARKER_LINE} {marker}"


def send_turn(rpc: GatewayRpc, key: str, marker: str, message: str) -> str:
    """One turn through the Gateway's RPC (chat.send, agent.wait until done); returns the reply as chat.history holds it,
    which must be the scripted provider's answer to `marker`."""
    sent = rpc.call("chat.send", {"sessionKey": key, "message": message, "idempotencyKey": str(uuid.uuid4())})
    run_id = (sent or {}).get("runId")
    if not run_id:
        raise CaptureFailed(f"chat.send on {key} returned no runId: {str(sent)[:300]}")
    answer = rpc.wait_for_run(run_id, TURN_TIMEOUT_MS)
    status = answer.get("status") if isinstance(answer, dict) else answer
    if status != "ok":
        raise CaptureFailed(f"turn {marker} on {key}: agent.wait answered {str(answer)[:300]}",
                            hint="the scripted provider must be reachable from the container (host.docker.internal)")
    history = rpc.call("chat.history", {"sessionKey": key, "limit": 200})
    replies = [m for m in (history or {}).get("messages", []) if isinstance(m, dict) and m.get("role") == "assistant"]
    reply = message_text(replies[-1]) if replies else ""
    if not carries_marker(reply, marker):
        raise CaptureFailed(f"turn {marker} on {key}: the last reply in chat.history is {reply[:200]!r}, "
                            f"not the scripted provider's answer to {marker}")
    return reply


def carries_marker(text: str, marker: str) -> bool:
    """`text` names `marker` as a whole token: P3-PATH-H1T1 is not carried by a text that holds only P3-PATH-H1T10."""
    return re.search(rf"(?<![\w-]){re.escape(marker)}(?!\w)", text) is not None


def message_text(message: Any) -> str:
    """The text of a chat.history message: a string content, or its text parts joined."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return str(message.get("text") or "")


def drive_recipe(recipe: Recipe, turn: Callable[[str, str], Any], operation: Callable[[str, dict], Any]) -> None:
    """The recipe's steps in order: every session's turns, the long sessions' turns, the compactions, the resets,
    the turns after them."""
    for session in recipe.sessions + recipe.long:
        for text in session.turns:
            turn(session.key, text)
    for key in recipe.compact:
        operation("sessions.compact", {"key": key})
    for key in recipe.reset:
        operation("sessions.reset", {"key": key, "reason": "reset"})
    for session in recipe.after:
        for text in session.turns:
            turn(session.key, text)


def operation(rpc: GatewayRpc, release: str, method: str, params: dict, phase: str = "capture") -> dict:
    """A recipe operation (compact, reset) where the release offers it; the record says what happened."""
    record: dict[str, Any] = {"method": method, "params": params}
    if method not in rpc.methods:
        record.update(outcome="skipped", why=f"openclaw {release} does not offer {method} (hello-ok)")
    else:
        try:
            result = rpc.call(method, params, timeout_s=TURN_TIMEOUT_MS / 1000)
            record.update(outcome="ok", result=_summary(result))
        except RpcError as error:
            record.update(outcome="error", error=str(error)[:300])
    say(phase, f"{method} {json.dumps(params)}: {record['outcome']} "
                   f"{json.dumps(record.get('result', record.get('why', record.get('error'))), ensure_ascii=False)[:300]}")
    return record


def _summary(result: Any) -> Any:
    """An operation's answer as the manifest keeps it: scalar fields only (no transcript text, no nesting)."""
    if not isinstance(result, dict):
        return result if isinstance(result, (int, float, bool, str, type(None))) else type(result).__name__
    return {k: v for k, v in result.items() if isinstance(v, (int, float, bool, str, type(None)))}
