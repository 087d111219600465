import json

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
