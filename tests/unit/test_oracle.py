import json

from path3_sandbox import oracle
from path3_sandbox.fixtures import ExpectedSession, Fixture
from path3_sandbox.inventory import build_inventory
from path3_sandbox.probes.files import FilesSnapshot, StateFile
from path3_sandbox.probes.sqlite import parse_snapshot

HEADER = {"type": "session", "version": 3, "id": "s-1", "timestamp": "2026-11-20T09:00:00.000Z"}
M1 = {"type": "message", "id": "m1", "parentId": None, "message": {"role": "user", "content": "hi"}}
M2 = {"type": "message", "id": "m2", "parentId": "m1", "message": {"role": "assistant", "content": "yo"}}


def lines(*values):
    return ("\n".join(json.dumps(v) for v in values) + "\n").encode()


def inventory(*events):
    return build_inventory({
        "agents/main/sessions/sessions.json": (json.dumps({"agent:main:main": {"sessionId": "s-1"}}).encode(), 1.0),
        "agents/main/sessions/s-1.jsonl": (lines(*events), 1.0),
    })


def sqlite(*events, archived_at=None):
    return parse_snapshot({"databases": [{
        "role": "agent", "agent": "main", "path": "/db", "tables": {"session_nodes": 1, "transcript_events": len(events)},
        "integrity": ["ok"], "sessions": [{"session_key": "agent:main:main", "current_session_id": "s-1",
                                           "archived_at": archived_at, "entry_json": "{}"}],
        "windows": [{"session_id": "s-1", "session_key": "agent:main:main"}],
        "events": [{"session_id": "s-1", "seq": i, "compressed": False, "event_json": json.dumps(e)} for i, e in enumerate(events)],
    }]})


def fixture(events):
    return Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None,
                   sessions=(ExpectedSession("main", "agent:main:main", "s-1", events),))


def failed(assertions):
    return [a for a in assertions if a.outcome == "failed"]


def test_a_complete_import_passes_every_check():
    inv, after = inventory(HEADER, M1, M2), sqlite(HEADER, M1, M2)
    checks = (oracle.sessions_present(fixture(3), after) + oracle.legacy_entries_covered(inv, after, fixture(3))
              + oracle.events_present(fixture(3), inv, after))
    assert failed(checks) == [] and len(checks) == 5


def test_a_manifest_expecting_one_event_more_fails_naming_the_session_and_the_missing_event():
    inv, after = inventory(HEADER, M1, M2), sqlite(HEADER, M1, M2)
    [failure] = failed(oracle.events_present(fixture(4), inv, after))
    assert (failure.expected, failure.observed) == (4, 3)
    assert "agent:main:main (s-1)" in failure.detail and "event #4 after seq 2" in failure.detail


def test_a_legacy_event_missing_from_sqlite_is_named_by_line_and_id():
    inv, after = inventory(HEADER, M1, M2), sqlite(HEADER, M1)
    failures = failed(oracle.events_present(fixture(2), inv, after))
    assert failures[0].observed == ["line 3 id=m2 type=message"]


def test_an_event_whose_content_changed_is_missing_even_with_the_same_id():
    tampered = {**M2, "message": {"role": "assistant", "content": "changed"}}
    failures = failed(oracle.events_present(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M1, tampered)))
    assert failures and failures[0].observed == ["line 3 id=m2 type=message"]


def test_id_less_v1_lines_match_rows_that_gained_synthetic_ids():
    bare = {"type": "message", "message": {"role": "user", "content": "hi"}}
    with_id = {**bare, "id": "synthetic", "parentId": None}
    assert failed(oracle.events_present(fixture(2), inventory(HEADER, bare), sqlite(HEADER, with_id))) == []


def test_a_duplicate_line_stored_once_still_counts_as_present():
    assert failed(oracle.events_present(fixture(3), inventory(HEADER, M1, M1, M2), sqlite(HEADER, M1, M2))) == []


def test_a_session_expected_active_but_archived_fails():
    [failure] = failed(oracle.sessions_present(fixture(3), sqlite(HEADER, M1, M2, archived_at=5)))
    assert failure.observed["archived"] is True


def test_legacy_bytes_are_preserved_when_their_hash_exists_anywhere_and_consumed_otherwise():
    inv = inventory(HEADER, M1)
    transcript = next(f for f in inv.files if f.path.endswith(".jsonl"))
    archive = "agents/main/session-sqlite-import-archive/agent_main_main.s-1.jsonl.imported-1"
    kept = FilesSnapshot({archive: StateFile(archive, 1, 1.0, transcript.sha256),
                          "agents/main/session-sqlite-import-archive/legacy-store.sessions.json.imported-1":
                              StateFile("x", 1, 1.0, "rewritten")})
    checks, fates = oracle.legacy_bytes_kept(inv, kept)
    assert failed(checks) == []
    assert {f["path"]: f["fate"] for f in fates} == {transcript.path: "preserved",
                                                     "agents/main/sessions/sessions.json": "transformed"}
    checks, fates = oracle.legacy_bytes_kept(inv, FilesSnapshot({}))
    assert {f["fate"] for f in fates} == {"consumed"} and len(failed(checks)) == 2


def test_warnings_must_match_exactly():
    fx = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=(),
                 expected_warnings=("transcript_missing",))
    assert oracle.warnings_as_expected(fx, {"transcript_missing"}).passed
    assert not oracle.warnings_as_expected(fx, {"transcript_missing", "entry_invalid"}).passed
    assert not oracle.warnings_as_expected(fx, set()).passed


def test_an_old_session_header_may_have_its_version_raised_but_nothing_else():
    v1_header = {"type": "session", "id": "s-1", "timestamp": "t"}
    raised = {**v1_header, "version": 3}
    assert failed(oracle.events_present(fixture(1), inventory(v1_header), sqlite(raised))) == []
    renamed = {**raised, "id": "other"}
    assert failed(oracle.events_present(fixture(1), inventory(v1_header), sqlite(renamed)))
