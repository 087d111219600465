"""After a release hop of an upgrade path (path.py), every message any hop wrote must still be reachable through that
release's Gateway: in `chat.history` of its session and that session in `sessions.list`; on a SQLite release, also in
the session's transcript rows. A message that is not is a finding naming the message, the hop and the key; an
unreachable one says whether SQLite still holds it elsewhere. `Written` is a turn some hop wrote: what must stay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..containers.gateway import Gateway
from ..containers.rpc import GatewayRpc
from ..probes import files as files_probe
from ..probes import sqlite as sqlite_probe
from ..report.evidence import Assertion, Evidence
from ..state.layout import TRANSCRIPT_COPY_PATTERN, holds_transcript_copy
from .turns import carries_marker, message_text
from .hop import IMPORTER, Hop


@dataclass(frozen=True)
class Written:
    """A turn some hop wrote: what must stay reachable."""

    hop: int
    key: str
    marker: str
    sent: str
    reply: str
    hidden: str = ""  # why its own writer's chat.history no longer showed it (a recipe's compact or reset)

    def to_json(self) -> dict:
        return {"hop": self.hop, "key": self.key, "marker": self.marker, "sent": self.sent, "reply": self.reply,
                "hidden": self.hidden}


def reachable(hop: Hop, gateway: Gateway, rpc: GatewayRpc, *, written: list[Written], last_import: int,
              evidence: Evidence, folder: Path) -> str:
    """Every message any hop wrote must be reachable through this release: in chat.history of its key, its key
    in sessions.list, and (SQLite releases) in that session's transcript rows. A file-backed release cannot read
    what an importer moved into SQLite: there, the messages written since the last import must be reachable and
    every earlier one must still be on the volume (SQLite rows or archived transcripts). Returns "n/N"."""
    # 2026.7.35 takes `archived` as a boolean only; the SQLite releases also take "all"
    params = {"archived": "all", "limit": 1000} if hop.role == IMPORTER else {"limit": 1000}
    listed = {s["key"] for s in rpc.list_sessions(params)}
    snapshot = sqlite_probe.snapshot(gateway.exec)
    required = [w for w in written if not w.hidden and (hop.role == IMPORTER or w.hop > last_import)]
    lost: list[str] = []
    histories: dict[str, list[tuple[str, str]]] = {}
    for item in required:
        if item.key not in histories:
            messages = (rpc.call("chat.history", {"sessionKey": item.key, "limit": 1000}) or {}).get("messages", [])
            histories[item.key] = [(m.get("role"), message_text(m)) for m in messages if isinstance(m, dict)]
        history = histories[item.key]
        where = []
        if item.key not in listed:
            where.append("sessions.list")
        if not any(role == "user" and carries_marker(text, item.marker) for role, text in history):
            where.append("chat.history (sent)")
        if not any(role == "assistant" and carries_marker(text, item.marker) for role, text in history):
            where.append("chat.history (reply)")
        if hop.role == IMPORTER:
            found = snapshot.session(item.key)
            events = snapshot.events_of(found[1]["sessionId"]) if found else ()
            if sum(carries_marker(e.raw or "", item.marker) for e in events) < 2:
                where.append("its session's SQLite transcript rows")
        if where:
            lost.append(f"{item.marker} (written by hop {item.hop} on {item.key}): not in {', '.join(where)}; "
                        + _rows_elsewhere(snapshot, item.marker))
    (folder / "written.json").write_text(json.dumps([w.to_json() for w in written], indent=2, ensure_ascii=False))
    evidence.check(hop.label, Assertion(
        f"after hop {hop.number}, every message {'any hop' if hop.role == IMPORTER else 'written since the last import'}"
        f" wrote is reachable through openclaw {hop.spec}", not lost, [], lost[:20],
        f"{len(required) - len(lost)}/{len(required)} reachable"))
    earlier = [w for w in written if w not in required]
    if earlier:
        # Transcripts and their copies only: the Gateway's own logs/*.jsonl echo every message it handled.
        texts = "\n".join(text for path, text in files_probe.read_texts(gateway.exec, TRANSCRIPT_COPY_PATTERN).items()
                          if holds_transcript_copy(path))
        rows = "\n".join(e.raw or "" for db in snapshot.agents.values() for events in db.events.values() for e in events)
        gone = [w.marker for w in earlier if not carries_marker(texts, w.marker) and not carries_marker(rows, w.marker)]
        evidence.check(hop.label, Assertion(
            "every message written before the last import (a file-backed release cannot read SQLite) or hidden by "
            "its own writer's compact/reset is still on the volume", not gone, [], gone, f"{len(earlier) - len(gone)}/{len(earlier)} in SQLite rows or "
                                           "transcript files"))
    return f"{len(required) - len(lost)}/{len(required)}"


def _rows_elsewhere(snapshot: sqlite_probe.SqliteSnapshot, marker: str) -> str:
    """Where else SQLite holds a marker: an unreachable row is a different finding from no row at all."""
    holders = sorted({f"{db.agent}:{sid}" for db in snapshot.agents.values() for sid, events in db.events.items()
                      if any(carries_marker(e.raw or "", marker) for e in events)})
    return f"rows kept under session(s) {', '.join(holders)} (unreachable)" if holders else "no SQLite row holds it"
