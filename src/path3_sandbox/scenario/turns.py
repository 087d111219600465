"""What a step's agent turns wrote, accounted by content, never by a count fitted to one fixture.

The rows a step added to a session (seq above the session's last seq before the step) must be exactly:
per turn, its user message and its assistant reply (both carrying the turn's marker, in a shape the turn
allows), plus side events of the kinds in SIDE_EVENTS, plus the rows the step itself declares (e.g. one
compaction). Anything unclassified, or a turn in a shape it does not allow, fails naming the row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..report.evidence import Assertion
from ..probes.sqlite import SqliteEvent, SqliteSnapshot

# Side events a turn may write, and why the Gateway writes them (measured on 2026.9.6; the conditions are
# in its agent harness). Which of them appear depends on the session's recorded model and thinking level.
SIDE_EVENTS: dict[tuple[str, str | None], str] = {
    ("session", None): "a new session's transcript header, written with its first turn",
    ("thinking_level_change", None): "the run's thinking level differs from the branch's (always on a new session)",
    ("model_change", None): "the run's model differs from the one the branch last recorded",
    ("custom", "model-snapshot"): "provider/api/model of the run differ from the branch's last model snapshot",
    ("custom", "openclaw:bootstrap-context:full"): "a clean full-bootstrap turn finished (no error, abort or compaction)",
    ("custom", "openclaw.cache-ttl"): "a turn finished on a provider/model that cache-TTL context pruning applies to: a "
                                      "timestamp marker for pruning, never part of the model's context (seen on a user "
                                      "state that configures its own openai provider)",
}

# The prompt the Gateway's restart recovery appends before it re-runs an interrupted turn (2026.9.6).
RECOVERY_PROMPT_RE = re.compile(r"^\[System\] Your previous turn was interrupted by a gateway restart")

# Shapes: (user messages carrying the marker, assistant replies carrying it, restart-recovery prompts).
COMPLETED = {(1, 1, 0): "the turn completed"}
# A turn in flight when the Gateway was SIGKILLed, then restarted on the same volume.
KILLED_IN_FLIGHT = {
    (0, 0, 0): "killed before the user message was stored",
    (1, 0, 0): "the user message was stored; the run died with the process and was not re-run",
    (1, 1, 1): "the Gateway's restart recovery prompted a re-run, which completed the turn",
}


def killed_in_flight(reached_the_model: bool) -> dict[tuple[int, int, int], str]:
    """The shapes a killed turn may leave. Once its request reached the model provider the Gateway had accepted the
    message and begun the run: a turn that then left no row at all is an accepted message that vanished."""
    if not reached_the_model:
        return KILLED_IN_FLIGHT
    return {shape: why for shape, why in KILLED_IN_FLIGHT.items() if shape != (0, 0, 0)}


@dataclass(frozen=True)
class TurnSpec:
    session_key: str
    marker: str
    shapes: dict[tuple[int, int, int], str]  # allowed (user, reply, recovery prompt) counts -> what it means

    @property
    def may_recover(self) -> bool:
        return any(shape[2] for shape in self.shapes)


def kind_of(value: Any) -> tuple[str, str | None]:
    if not isinstance(value, dict):
        return (type(value).__name__, None)
    return (str(value.get("type")), value.get("customType") if value.get("type") == "custom" else None)


def role_of(value: Any) -> str | None:
    message = value.get("message") if isinstance(value, dict) else None
    return message.get("role") if isinstance(message, dict) else None


def text_of(value: Any) -> str:
    message = value.get("message") if isinstance(value, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    parts = [content] if isinstance(content, str) else [c.get("text") for c in content or [] if isinstance(c, dict)]
    return "\n".join(p for p in parts if isinstance(p, str))


def carries(value: Any, marker: str) -> bool:
    """The message's content names `marker` as a whole word (…-S7 is not carried by a …-S7B message)."""
    message = value.get("message") if isinstance(value, dict) else None
    text = json.dumps(message.get("content") if isinstance(message, dict) else None, ensure_ascii=False)
    return re.search(re.escape(marker) + r"(?![A-Za-z0-9])", text) is not None


def added_rows(before: SqliteSnapshot, after: SqliteSnapshot) -> dict[str, list[SqliteEvent]]:
    """Per session id, the rows `after` has beyond the last seq `before` had."""
    added: dict[str, list[SqliteEvent]] = {}
    for db in after.agents.values():
        for session_id, rows in db.events.items():
            last = max((e.seq for e in before.events_of(session_id)), default=-1)
            if new := [e for e in rows if e.seq > last]:
                added[session_id] = new
    return added


def session_id_of(snapshot: SqliteSnapshot, key: str) -> str | None:
    found = snapshot.session(key)
    return found[1]["sessionId"] if found else None


def account(before: SqliteSnapshot, after: SqliteSnapshot, turns: tuple[TurnSpec, ...],
            declared: dict[str, dict[str, int]] | None = None) -> tuple[list[Assertion], int, list[dict]]:
    """Check every row the step added against its turns. Returns the assertions, how many rows were
    accounted for, and a record per added row (session, seq, kind, what it was classified as)."""
    declared = declared or {}
    added = added_rows(before, after)
    keys = {session_id_of(after, key) or session_id_of(before, key): key
            for key in {t.session_key for t in turns} | set(declared)}
    checks, records = [], []
    for session_id, rows in added.items():
        key = keys.get(session_id)
        if key is None:
            checks.append(Assertion(f"no rows added to session {session_id}, which the step did not touch", False, 0,
                                    [f"seq {r.seq} {kind_of(r.value)}" for r in rows[:10]]))
            continue
        mine = [t for t in turns if t.session_key == key]
        counts = {t.marker: [0, 0, 0] for t in mine}
        recoverable = [t for t in mine if t.may_recover]
        others = dict(declared.get(key, {}))
        unclassified = []
        for row in rows:
            kind, role = kind_of(row.value), role_of(row.value)
            turn = next((t for t in mine if kind[0] == "message" and carries(row.value, t.marker)), None)
            if turn and role in ("user", "assistant"):
                counts[turn.marker][0 if role == "user" else 1] += 1
                what = f"{role} of {turn.marker}"
            elif role == "user" and recoverable and RECOVERY_PROMPT_RE.match(text_of(row.value)):
                counts[recoverable[0].marker][2] += 1
                what = f"restart-recovery prompt for {recoverable[0].marker}"
            elif kind in SIDE_EVENTS:
                what = f"side event: {SIDE_EVENTS[kind]}"
            elif others.get(kind[0], 0) > 0:
                others[kind[0]] -= 1
                what = f"declared by the step: {kind[0]}"
            else:
                what = "unclassified"
                unclassified.append(f"seq {row.seq} type={kind[0]}" + (f"/{kind[1]}" if kind[1] else "")
                                    + (f" role={role}" if role else ""))
            record = {"session": key, "seq": row.seq, "kind": list(kind), "role": role, "as": what,
                      "identity": row.identity is not None}
            if what == "unclassified":  # a row the Gateway wrote during our step: what it says, to classify it
                record["preview"] = json.dumps(row.value, ensure_ascii=False)[:400]
            records.append(record)
        for turn in mine:
            shape = tuple(counts[turn.marker])
            checks.append(Assertion(f"turn {turn.marker} on {key} left an allowed shape (user, reply, recovery prompt)",
                                    shape in turn.shapes, {str(list(k)): v for k, v in turn.shapes.items()},
                                    list(shape), turn.shapes.get(shape, "a shape this turn does not allow")))
        missing_declared = {k: v for k, v in others.items() if v > 0}
        checks.append(Assertion(f"every row the step added to {key} is a turn's message, a known side event or declared",
                                not unclassified and not missing_declared, "no unclassified row, declared rows present",
                                {"unclassified": unclassified, "declared but missing": missing_declared}
                                if unclassified or missing_declared else "all accounted",
                                f"{len(rows)} row(s) added"))
        no_identity = [f"seq {r.seq}" for r in rows if r.event_id and r.identity != r.event_id]
        checks.append(Assertion(f"every row the step added to {key} has its identity row", not no_identity, [],
                                no_identity))
    for turn in turns:  # a turn whose session got no rows at all
        sid = session_id_of(after, turn.session_key)
        if sid not in added and (0, 0, 0) not in turn.shapes:
            checks.append(Assertion(f"turn {turn.marker} on {turn.session_key} wrote its messages", False, "user + reply",
                                    "no row added to the session"))
    return checks, sum(len(rows) for rows in added.values()), records
