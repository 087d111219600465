"""Every imported session reachable through the Gateway, not only listed by it.

A key in `sessions.list` says a row exists; a user reaches a conversation through `chat.history`. So for each active
imported session (at most MOST_SESSIONS, each read once with a bounded limit): `session_windows` maps its session id
to its key, `chat.history` of its key shows messages, every message it shows is one SQLite holds for that session in
the same order (nothing from another session), and the newest user or assistant message SQLite holds is among them.
The upgrade paths check their own markers the same way (upgrades/reachability.py).
"""

from __future__ import annotations

from typing import Any

from ..containers.rpc import GatewayRpc
from ..errors import RpcError
from ..probes.sqlite import SqliteSnapshot
from ..report.evidence import GATEWAY, HARNESS, Assertion
from ..state.fixtures import Fixture

HISTORY_LIMIT = 200  # messages read per session: its newest ones are the ones a user sees first
MOST_SESSIONS = 40  # sessions read: bounded, so a state with thousands stays quick (the rest are in sessions.list)
SHOWN_ROLES = ("user", "assistant")


def shown_ids(history: Any) -> list[str]:
    """The ids chat.history shows (each message's `__openclaw.id`), in its order."""
    messages = history.get("messages") if isinstance(history, dict) else None
    return [m["__openclaw"]["id"] for m in messages or []
            if isinstance(m, dict) and isinstance(m.get("__openclaw"), dict) and m["__openclaw"].get("id")]


def session_reachable(key: str, session_id: str, after: SqliteSnapshot, history: Any) -> list[str]:
    """What keeps `key` from being reachable as SQLite holds it; [] when it is."""
    found = after.session(key)
    problems = []
    if found is None or found[0].windows.get(session_id) != key:
        problems.append(f"no session_windows row maps {session_id} to {key}")
    rows = after.events_of(session_id)
    order = {row.event_id: n for n, row in enumerate(rows) if row.event_id}
    newest = next((row.event_id for row in reversed(rows) if isinstance(row.value, dict)
                   and row.value.get("type") == "message"
                   and (row.value.get("message") or {}).get("role") in SHOWN_ROLES), None)
    shown = shown_ids(history)
    foreign = [i for i in shown if i not in order]
    positions = [order[i] for i in shown if i in order]
    if foreign:
        problems.append(f"chat.history shows {len(foreign)} message(s) SQLite does not hold for it: {foreign[:3]}")
    if positions != sorted(positions):
        problems.append("chat.history shows its messages out of SQLite's order")
    if newest is not None and newest not in shown:
        problems.append(f"chat.history does not show its newest message {newest} "
                        f"({len(shown)} shown of {len(rows)} rows)")
    return problems


def imported_sessions_reachable(rpc: GatewayRpc, fixture: Fixture, after: SqliteSnapshot) -> Assertion:
    """Every active imported session (bounded) reachable through chat.history and session_windows."""
    problems: list[str] = []
    ours = 0  # problems that are the harness's (a socket that failed), not the Gateway's
    sessions = [s for s in fixture.sessions if not s.archived]
    for expected in sessions[:MOST_SESSIONS]:
        found = after.session(expected.stored_key)
        if found is None:
            continue  # sessions_present names it
        session_id = found[1]["sessionId"]
        try:
            history = rpc.call("chat.history", {"sessionKey": expected.stored_key, "limit": HISTORY_LIMIT})
        except RpcError as error:
            problems.append(f"{expected.stored_key}: chat.history failed: {error}")
            ours += not error.answered
            continue
        problems += [f"{expected.stored_key}: {p}" for p in session_reachable(expected.stored_key, session_id, after, history)]
    read = min(len(sessions), MOST_SESSIONS)
    return Assertion("every imported session is reachable: chat.history shows its newest message, session_windows maps it",
                     not problems, f"{read} session(s) reachable", problems[:10] or f"{read} reachable",
                     f"{len(sessions) - read} more listed only (bounded at {MOST_SESSIONS})" if len(sessions) > read
                     else "", blame=HARNESS if problems and ours == len(problems) else GATEWAY)
