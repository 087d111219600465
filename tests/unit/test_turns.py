"""Turn accounting by content: what a step's turns may add, named when it is something else."""

import json

from path3_sandbox.probes.sqlite import parse_snapshot
from path3_sandbox.scenario.turns import COMPLETED, KILLED_IN_FLIGHT, TurnSpec, account

KEY = "agent:main:main"


def snapshot(*events):
    return parse_snapshot({"databases": [{
        "role": "agent", "agent": "main", "path": "/db", "tables": {}, "integrity": ["ok"],
        "sessions": [{"session_key": KEY, "current_session_id": "s-1", "archived_at": None, "entry_json": "{}"}],
        "events": [{"session_id": "s-1", "seq": i, "compressed": False, "event_json": json.dumps(e)} for i, e in enumerate(events)],
        "identities": [{"session_id": "s-1", "event_id": e["id"], "seq": i} for i, e in enumerate(events) if "id" in e],
    }]})


OLD = {"type": "message", "id": "o1", "message": {"role": "user", "content": "legacy"}}


def message(role, text, id_):
    return {"type": "message", "id": id_, "message": {"role": role, "content": [{"type": "text", "text": text}]}}


SNAPSHOT = {"type": "custom", "customType": "model-snapshot", "id": "c1"}
BOOT = {"type": "custom", "customType": "openclaw:bootstrap-context:full", "id": "c2"}


def failed(checks):
    return [c for c in checks if c.outcome == "failed"]


def test_a_turn_with_either_four_or_five_rows_passes_when_every_row_is_its_message_or_a_known_side_event():
    turn = (TurnSpec(KEY, "P3-A", COMPLETED),)
    four = snapshot(OLD, message("user", "turn P3-A", "u"), SNAPSHOT, message("assistant", "P3-A ok", "a"), BOOT)
    five = snapshot(OLD, message("user", "turn P3-A", "u"), {"type": "thinking_level_change", "id": "t"}, SNAPSHOT,
                    message("assistant", "P3-A ok", "a"), BOOT)
    for after in (four, five):
        checks, added, _ = account(snapshot(OLD), after, turn)
        assert failed(checks) == [] and added == len(after.events_of("s-1")) - 1


def test_an_unclassified_row_fails_naming_it():
    after = snapshot(OLD, message("user", "turn P3-A", "u"), message("assistant", "P3-A ok", "a"), {"type": "mystery", "id": "m"})
    [failure] = failed(account(snapshot(OLD), after, (TurnSpec(KEY, "P3-A", COMPLETED),))[0])
    assert failure.observed["unclassified"] == ["seq 3 type=mystery"]


def test_a_completed_turn_without_its_reply_fails_and_a_killed_turn_may_lack_it():
    after = snapshot(OLD, message("user", "turn P3-A", "u"))
    [failure] = failed(account(snapshot(OLD), after, (TurnSpec(KEY, "P3-A", COMPLETED),))[0])
    assert failure.observed == [1, 0, 0]
    assert failed(account(snapshot(OLD), after, (TurnSpec(KEY, "P3-A", KILLED_IN_FLIGHT),))[0]) == []


def test_rows_in_a_session_the_step_did_not_touch_fail():
    after = snapshot(OLD, message("user", "turn P3-A", "u"))
    [failure] = failed(account(snapshot(OLD), after, ())[0])
    assert "did not touch" in failure.name


def test_a_marker_is_matched_as_a_whole_word():
    after = snapshot(OLD, message("user", "turn P3-A-S7B", "u"), message("assistant", "P3-A-S7B ok", "a"))
    turns = (TurnSpec(KEY, "P3-A-S7", KILLED_IN_FLIGHT), TurnSpec(KEY, "P3-A-S7B", COMPLETED))
    checks, _, records = account(snapshot(OLD), after, turns)
    assert failed(checks) == [] and [r["as"] for r in records] == ["user of P3-A-S7B", "assistant of P3-A-S7B"]


def test_a_killed_turn_re_run_by_restart_recovery_carries_its_recovery_prompt():
    prompt = message("user", "[System] Your previous turn was interrupted by a gateway restart while …", "r")
    after = snapshot(OLD, message("user", "turn P3-A", "u"), prompt, message("assistant", "P3-A ok", "a"), BOOT)
    assert failed(account(snapshot(OLD), after, (TurnSpec(KEY, "P3-A", KILLED_IN_FLIGHT),))[0]) == []
    # The same prompt on a turn that was never killed is unclassified.
    [failure] = failed(account(snapshot(OLD), after, (TurnSpec(KEY, "P3-A", COMPLETED),))[0])
    assert failure.observed["unclassified"] == ["seq 2 type=message role=user"]


def test_a_killed_turn_whose_request_reached_the_model_may_not_vanish_without_a_row():
    from path3_sandbox.scenario.turns import killed_in_flight

    assert (0, 0, 0) in killed_in_flight(reached_the_model=False)
    assert (0, 0, 0) not in killed_in_flight(reached_the_model=True)
    assert set(killed_in_flight(True)) == set(KILLED_IN_FLIGHT) - {(0, 0, 0)}


def test_a_restart_may_append_to_the_proof_session_but_never_change_or_drop_an_event():
    from path3_sandbox.scenario.steps import _rows_kept

    before = snapshot(OLD, message("user", "P3-X", "u1"))
    proof = ("s-1", {})
    assert _rows_kept(before, snapshot(OLD, message("user", "P3-X", "u1"), message("assistant", "ok", "a1")),
                      proof, proof)[0]
    changed = _rows_kept(before, snapshot(OLD, message("user", "P3-Y", "u1")), proof, proof)
    assert changed == (False, ["seq 2: u1"])
    dropped = _rows_kept(before, snapshot(OLD), proof, proof)
    assert dropped[0] is False and "1 event(s) fewer" in dropped[1][0]
    assert _rows_kept(before, before, proof, ("s-2", {}))[0] is False
