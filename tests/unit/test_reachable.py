"""proof/reachable.py: an imported session is reachable when chat.history shows it as SQLite holds it."""

from __future__ import annotations

import json

from path3_sandbox.probes.sqlite import parse_snapshot
from path3_sandbox.proof.reachable import session_reachable

KEY, SID = "agent:main:main", "s-1"


def snapshot(*events, window=True):
    return parse_snapshot({"databases": [{
        "role": "agent", "agent": "main", "path": "/db", "tables": {}, "integrity": ["ok"],
        "sessions": [{"session_key": KEY, "current_session_id": SID, "archived_at": None, "entry_json": "{}"}],
        "windows": [{"session_id": SID, "session_key": KEY}] if window else [],
        "events": [{"session_id": SID, "seq": i, "compressed": False, "event_json": json.dumps(e)}
                   for i, e in enumerate(events)],
        "identities": [],
    }]})


def message(role, id_):
    return {"type": "message", "id": id_, "message": {"role": role, "content": [{"type": "text", "text": id_}]}}


HEADER = {"type": "session", "id": SID, "version": 3}
ROWS = (HEADER, message("user", "u1"), message("assistant", "a1"), message("user", "u2"), message("assistant", "a2"),
        {"type": "custom", "customType": "model-snapshot", "id": "c1"})


def history(*ids):
    return {"messages": [{"role": "user", "content": i, "__openclaw": {"id": i}} for i in ids]}


def test_a_session_whose_history_shows_its_newest_message_in_sqlites_order_is_reachable():
    assert session_reachable(KEY, SID, snapshot(*ROWS), history("a1", "u2", "a2")) == []


def test_a_history_without_the_newest_message_or_with_another_sessions_message_or_out_of_order_is_not():
    after = snapshot(*ROWS)
    assert session_reachable(KEY, SID, after, history("u1", "a1")) == [
        "chat.history does not show its newest message a2 (2 shown of 6 rows)"]
    assert "SQLite does not hold for it: ['x9']" in session_reachable(KEY, SID, after, history("x9", "a2"))[0]
    assert session_reachable(KEY, SID, after, history("a2", "u2")) == ["chat.history shows its messages out of SQLite's order"]
    assert session_reachable(KEY, SID, after, {"messages": []})[0].startswith("chat.history does not show its newest")


def test_a_session_no_window_maps_to_its_key_is_not_reachable_even_when_its_history_is_whole():
    assert session_reachable(KEY, SID, snapshot(*ROWS, window=False), history("u1", "a1", "u2", "a2")) == [
        f"no session_windows row maps {SID} to {KEY}"]
