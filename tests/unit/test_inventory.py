import json
import shutil

import pytest

from path3_sandbox.state.inventory import build_inventory, content_hash, parse_transcript
from path3_sandbox.state.layout import is_legacy_path

HEADER = {"type": "session", "version": 3, "id": "s-1", "timestamp": "2026-11-20T09:00:00.000Z", "cwd": "/w"}
MESSAGE = {"type": "message", "id": "a1b2c3d4", "parentId": None, "timestamp": "2026-11-20T09:00:15.000Z",
           "message": {"role": "user", "content": [{"type": "text", "text": "hi"}]}}


def jsonl(*values) -> bytes:
    return ("\n".join(json.dumps(v) for v in values) + "\n").encode()


def test_content_hash_ignores_key_order_and_whitespace():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash(json.loads('{ "b": [1,2], "a": 1 }'))


def test_legacy_paths_are_agent_session_dirs_and_the_retired_top_level_dir():
    assert is_legacy_path("agents/main/sessions/sessions.json")
    assert is_legacy_path("agents/main/sessions/s-1.jsonl")
    assert is_legacy_path("sessions/s-2.jsonl")
    assert not is_legacy_path("logs/gateway.jsonl")
    assert not is_legacy_path("agents/main/session-sqlite-import-archive/x.jsonl.imported-1")


def test_a_transcript_yields_every_line_as_an_event_with_its_id_and_hash():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", jsonl(HEADER, MESSAGE))
    assert transcript.session_id == "s-1" and transcript.version == 3 and transcript.agent == "main"
    assert [(e.line, e.event_id, e.type) for e in transcript.events] == [(1, "s-1", "session"), (2, "a1b2c3d4", "message")]
    assert transcript.events[1].content_sha256 == content_hash(MESSAGE)


def test_a_v1_transcript_has_no_event_ids_and_takes_its_session_id_from_the_header():
    v1 = {k: v for k, v in HEADER.items() if k != "version"}
    message = {k: v for k, v in MESSAGE.items() if k not in ("id", "parentId")}
    transcript = parse_transcript("agents/main/sessions/other-name.jsonl", jsonl(v1, message))
    assert transcript.session_id == "s-1" and transcript.version == 1
    assert transcript.events[1].event_id is None


def test_byte_identical_duplicate_lines_count_once_as_distinct_events():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", jsonl(HEADER, MESSAGE, MESSAGE))
    assert len(transcript.events) == 3 and transcript.distinct_events == 2


def test_malformed_lines_are_reported_by_line_number():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", jsonl(HEADER) + b"{not json\n[1]\n")
    assert transcript.malformed_lines == (2, 3)


def test_inventory_reads_store_entries_including_ones_without_session_id():
    store = {"agent:main:main": {"sessionId": "s-1"}, "agent:main:cron:stub": {"updatedAt": 1}}
    inventory = build_inventory({
        "agents/main/sessions/sessions.json": (json.dumps(store).encode(), 1.0),
        "agents/main/sessions/s-1.jsonl": (jsonl(HEADER, MESSAGE), 2.0),
        "openclaw.json": (b"{}", 3.0),
    })
    assert [(e.key, e.session_id) for e in inventory.entries] == [("agent:main:main", "s-1"), ("agent:main:cron:stub", None)]
    # Every seeded file is inventoried: each needs a declared fate after the upgrade (fates.py).
    assert [f.path for f in inventory.files] == ["agents/main/sessions/s-1.jsonl", "agents/main/sessions/sessions.json",
                                                 "openclaw.json"]
    assert inventory.transcript_for("s-1").path == "agents/main/sessions/s-1.jsonl"


def test_a_store_that_is_not_a_json_object_is_reported_unreadable():
    inventory = build_inventory({"agents/main/sessions/sessions.json": (b"{ key: 'json5' }", 1.0)})
    assert len(inventory.unreadable) == 1 and inventory.unreadable[0].startswith("agents/main/sessions/sessions.json")


def test_live_legacy_paths_exclude_the_import_archive_and_logs():
    from path3_sandbox.state.layout import is_live_legacy_path

    assert is_live_legacy_path("agents/main/sessions/s-1.jsonl") and is_live_legacy_path("agents/main/sessions/sessions.json")
    assert not is_live_legacy_path("agents/main/session-sqlite-import-archive/legacy-store.sessions.json.imported-1")
    assert not is_live_legacy_path("logs/gateway.jsonl")


def test_a_line_that_is_not_valid_utf8_is_malformed_never_repaired():
    data = jsonl(HEADER) + b'{"type":"message","id":"x","message":{"content":"\xff"}}\n'
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", data)
    assert transcript.malformed_lines == (2,) and len(transcript.events) == 1


def test_lines_keep_their_raw_bytes_and_a_crlf_ending_is_not_part_of_them():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", b'{"type":"session","id":"s"}\r\n{"type":"x"}')
    assert [e.raw for e in transcript.events] == [b'{"type":"session","id":"s"}', b'{"type":"x"}']


def test_repeated_lines_are_those_the_gateway_stores_once():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", jsonl(HEADER, MESSAGE, MESSAGE))
    assert transcript.repeated_lines == (3,) and transcript.distinct_events == 2


NOT_STORES = ("workspace/proj/sessions.json", "agents/main/sessions/old/sessions.json", "agents/main/my-sessions.json",
              "agents/main/sessions/backup-sessions.json.txt")


def test_only_the_gateways_own_stores_are_live_legacy_files_not_a_users_sessions_json_elsewhere():
    from path3_sandbox.state.layout import is_legacy_store_path, is_live_legacy_path

    for path in ("agents/main/sessions/sessions.json", "sessions/sessions.json"):
        assert is_legacy_store_path(path) and is_live_legacy_path(path), path
    for path in NOT_STORES:
        assert not is_legacy_store_path(path) and not is_live_legacy_path(path), path
    # A store path the config names counts, wherever it is.
    assert is_legacy_store_path("stores/team.json", ("stores/team.json",))
    assert is_live_legacy_path("stores/team.json", ("stores/team.json",))


def test_a_users_sessions_json_outside_the_stores_is_inventoried_as_a_file_never_parsed_as_a_store():
    store = json.dumps({"agent:main:main": {"sessionId": "s-1"}}).encode()
    inventory = build_inventory({**{p: (store, 1.0) for p in NOT_STORES},
                                 "agents/main/sessions/sessions.json": (store, 1.0)})
    assert [e.store for e in inventory.entries] == ["agents/main/sessions/sessions.json"]
    assert len(inventory.files) == len(NOT_STORES) + 1


# What JSON.stringify(JSON.parse(text)) writes (node 20), for the spellings JSON allows.
JS_SPELLINGS = {"1.0": "1", "1e2": "100", "-0.0": "0", "1e21": "1e+21", "1e-7": "1e-7", "0.1": "0.1",
                "1.5e-5": "0.000015", "123456789012345678901234": "1.2345678901234569e+23", "2.5E+0": "2.5",
                "9007199254740993": "9007199254740992", "2.7890840981819507e+20": "278908409818195070000",
                "1e400": "null", "[1.50,-3e0]": "[1.5,-3]", '{"b":1,"10":2,"2":3,"01":4}': '{"2":3,"10":2,"b":1,"01":4}'}


def test_numbers_and_key_order_are_spelled_as_json_stringify_spells_them():
    from path3_sandbox.state.inventory import js_json

    assert {text: js_json(json.loads(text)) for text in JS_SPELLINGS} == JS_SPELLINGS
    assert content_hash(json.loads('{"n": 1.0, "e": 1e2}')) == content_hash({"n": 1, "e": 100})
    assert content_hash({"n": 1.5}) != content_hash({"n": 1})


def test_lines_equal_after_json_stringify_repeat_whatever_their_number_spelling():
    transcript = parse_transcript("agents/main/sessions/s-1.jsonl", jsonl(HEADER) + b'{"type":"x","n":1.0}\n{"type":"x","n":1}\n')
    assert transcript.repeated_lines == (3,)


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to compare with JSON.stringify")
def test_js_json_is_byte_for_byte_what_node_writes_for_random_doubles():
    import random
    import struct
    import subprocess

    from path3_sandbox.state.inventory import js_json

    rng = random.Random(23)
    doubles = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    texts = [repr(d) for d in doubles if d == d and abs(d) != float("inf")] + [str(rng.getrandbits(70)) for _ in range(300)]
    script = "const a = JSON.parse(require('fs').readFileSync(0, 'utf8')); console.log(JSON.stringify(a.map(t => JSON.stringify(JSON.parse(t)))))"
    written = json.loads(subprocess.run(["node", "-e", script], input=json.dumps(texts), capture_output=True, text=True,
                                        check=True, timeout=60).stdout)
    assert [js_json(json.loads(t)) for t in texts] == written


CUT_EMOJI = '{"type":"message","id":"m1","parentId":null,"message":{"role":"user","content":"cut \\ud83d"}}'


def test_a_lone_surrogate_neither_crashes_the_inventory_nor_hashes_unlike_the_sqlite_row_that_stores_it():
    from path3_sandbox.probes.sqlite import parse_snapshot
    from path3_sandbox.state.inventory import js_json

    inventory = build_inventory({"agents/main/sessions/s-1.jsonl": (jsonl(HEADER) + CUT_EMOJI.encode() + b"\n", 1.0)})
    [_, legacy] = inventory.transcripts[0].events
    # The row as the in-container probe hands it over: event_json as JSON.stringify stored it, inside the probe's JSON.
    probe_output = json.dumps({"databases": [{"role": "agent", "agent": "main", "path": "/db", "tables": {},
                                              "events": [{"session_id": "s-1", "seq": 1, "compressed": False,
                                                          "event_json": CUT_EMOJI}]}]})
    [row] = parse_snapshot(json.loads(probe_output)).events_of("s-1")
    assert legacy.content_sha256 == row.content_sha256 and js_json(legacy.value) == row.raw == CUT_EMOJI
    assert content_hash({"t": "\ud83d"}) != content_hash({"t": "\ud83e"})
