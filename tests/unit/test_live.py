"""Live mode's logic without a Gateway: the host-side read-only SQLite probe, the per-session hashes and the naming
of a changed session, the provider's address from the Gateway's config, and every bad input (exit 2, no evidence)."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE, UsageError
from path3_sandbox.live import check_state_dir, start_provider, untouched
from path3_sandbox.probes.host_sqlite import changed_sessions, connect_ro, read_state
from path3_sandbox.probes.sqlite import QUERIES, SCRIPT, SESSION_TABLES

PROOF = "agent:main:path3-live-e2e:20261130-000000-abcdef"
SCHEMA = """
create table session_nodes (session_key text primary key, current_session_id text, entry_json text, archived_at integer,
                            label text);
create table session_windows (session_id text primary key, session_key text);
create table transcript_events (session_id text, seq integer, event_json text, event_zstd blob, primary key (session_id, seq));
create table transcript_event_identities (session_id text, event_id text, seq integer);
create table schema_meta (schema_version integer);
insert into schema_meta values (23);
"""


def add_session(db: sqlite3.Connection, key: str, sid: str, events: int, label: str | None = None) -> None:
    db.execute("insert into session_nodes values (?, ?, ?, null, ?)", (key, sid, json.dumps({"sessionId": sid}), label))
    db.execute("insert into session_windows values (?, ?)", (sid, key))
    for seq in range(events):
        event = {"type": "message", "id": f"{sid[:4]}{seq}", "message": {"role": "user", "content": f"turn {seq}"}}
        db.execute("insert into transcript_events values (?, ?, ?, null)", (sid, seq, json.dumps(event)))
        db.execute("insert into transcript_event_identities values (?, ?, ?)", (sid, event["id"], seq))


@pytest.fixture
def state(tmp_path) -> Path:
    path = tmp_path / "state" / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("pragma journal_mode=wal")
        db.executescript(SCHEMA)
        add_session(db, "agent:main:main", "aaaa-1", 3)
        add_session(db, "agent:main:notes", "bbbb-2", 0, label="mine")
        add_session(db, PROOF, "pppp-9", 2)
    return tmp_path / "state"


def write(state: Path, sql: str, *params) -> None:
    with sqlite3.connect(state / "agents/main/agent/openclaw-agent.sqlite") as db:
        db.execute(sql, params)


def test_the_probe_hashes_every_session_and_reads_the_proof_sessions_rows_only(state):
    probe = read_state(state, proof_key=PROOF)
    assert set(probe.sessions) == {"agent:main:main", "agent:main:notes", PROOF}
    assert set(probe.sessions["agent:main:main"]) == set(SESSION_TABLES)
    assert probe.sessions["agent:main:main"]["transcript_events"].startswith("3:")
    assert set(probe.sessions["agent:main:notes"]) == {"session_nodes", "session_windows"}
    assert probe.proof_session_ids == {"pppp-9"}
    # The snapshot is the in-container probe's shape: every table's count, the proof session's rows only.
    assert probe.sqlite.count("transcript_events") == 5 and probe.sqlite.count("session_nodes") == 3
    assert list(probe.sqlite.agents["main"].sessions) == [PROOF]
    assert [e.seq for e in probe.sqlite.events_of("pppp-9")] == [0, 1]
    assert probe.sqlite.events_of("pppp-9")[1].identity == "pppp1"
    assert probe.sqlite.events_of("aaaa-1") == ()
    assert probe.sqlite.agents["main"].schema_version == 23


def test_reading_is_read_only_and_leaves_the_database_bytes_as_they_were(state):
    database = state / "agents/main/agent/openclaw-agent.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("pragma wal_checkpoint(truncate)")
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    read_state(state, proof_key=PROOF)
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connect_ro(database).execute("delete from session_nodes")


def test_a_changed_session_is_named_with_the_tables_that_changed_and_the_proof_session_is_ignored(state):
    before = read_state(state, proof_key=PROOF)
    write(state, "update session_nodes set label = 'touched' where session_key = 'agent:main:notes'")
    write(state, "insert into transcript_events values ('pppp-9', 2, '{}', null)")  # the proof session may change
    after = read_state(state, proof_key=PROOF)
    changes = changed_sessions(before.sessions, after.sessions, ignore={PROOF, *after.proof_session_ids})
    assert [(c["session"], c["change"], list(c["tables"])) for c in changes] == [("agent:main:notes", "changed", ["session_nodes"])]


def test_an_event_added_to_another_session_a_new_session_and_a_removed_one_are_all_named(state):
    before = read_state(state, proof_key=PROOF)
    write(state, "insert into transcript_events values ('aaaa-1', 3, '{}', x'00ff')")
    write(state, "insert into session_nodes values ('agent:main:new', 'nnnn-3', '{}', null, null)")
    write(state, "delete from session_windows where session_key = 'agent:main:notes'")
    write(state, "delete from session_nodes where session_key = 'agent:main:notes'")
    after = read_state(state, proof_key=PROOF)
    changes = {c["session"]: (c["change"], list(c["tables"])) for c in changed_sessions(before.sessions, after.sessions,
                                                                                        ignore={PROOF})}
    assert changes == {"agent:main:main": ("changed", ["transcript_events"]), "agent:main:new": ("appeared", ["session_nodes"]),
                       "agent:main:notes": ("removed", ["session_nodes", "session_windows"])}


def test_rows_left_without_their_session_are_named_by_session_id_unless_they_are_the_proof_sessions(state):
    before = read_state(state, proof_key=PROOF)
    write(state, "delete from session_windows where session_key = ?", PROOF)
    write(state, "delete from session_nodes where session_key = ?", PROOF)  # deleted, but its events stay behind
    write(state, "insert into transcript_events values ('zzzz-0', 0, '{}', null)")  # nobody's
    after = read_state(state, proof_key=PROOF, proof_session_ids=before.proof_session_ids)
    ignore = {PROOF, *after.proof_session_ids}
    assert [c["session"] for c in changed_sessions(before.sessions, after.sessions, ignore=ignore)] == ["session_id:zzzz-0"]


def test_the_assertion_names_each_changed_session_in_its_message(state):
    before = read_state(state, proof_key=PROOF)
    write(state, "update session_nodes set entry_json = '{\"x\": 1}' where session_key = 'agent:main:main'")
    after = read_state(state, proof_key=PROOF)
    ctx = SimpleNamespace(proof_key=PROOF, proof_ids=after.proof_session_ids)
    check = untouched(before, after, ctx, "during step chat-turn")
    assert not check.passed
    assert check.observed == ["agent:main:main"]
    assert "agent:main:main changed (session_nodes)" in check.message()
    assert untouched(after, after, ctx, "at the end").passed


def test_the_session_tables_and_queries_are_one_list_shared_with_the_in_container_probe():
    assert "__QUERIES__" not in SCRIPT and "__SESSION_TABLES__" not in SCRIPT
    assert json.dumps(QUERIES) in SCRIPT and json.dumps(SESSION_TABLES) in SCRIPT


class FakeRpc:
    def __init__(self, config: dict | None = None, keys: tuple[str, ...] = ()) -> None:
        self.config, self.keys = config or {}, keys

    def call(self, method: str, params: dict | None = None):
        if method == "sessions.list":
            return {"sessions": [{"key": key} for key in self.keys]}
        assert method == "config.get"
        return {"config": self.config}


def test_a_state_dir_that_is_not_the_gateways_is_a_usage_error_naming_what_it_lacks(state):
    check_state_dir(FakeRpc(keys=("agent:main:main", "agent:main:notes", "agent:work:elsewhere")), state, "main")
    with pytest.raises(UsageError, match=r"not the state of the Gateway answering.*agent:main:other"):
        check_state_dir(FakeRpc(keys=("agent:main:main", "agent:main:other")), state, "main")


def providers(base_url: str) -> dict:
    return {"models": {"providers": {"path3-scripted": {"baseUrl": base_url}}}}


def test_the_provider_is_served_where_the_gateways_config_points_on_loopback_only():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = start_provider(FakeRpc(providers(f"http://localhost:{port}/v1")))
    try:
        assert (provider.host, provider.port) == ("127.0.0.1", port)
    finally:
        provider.stop()
    with pytest.raises(UsageError, match="no models.providers.path3-scripted"):
        start_provider(FakeRpc({"models": {"providers": {"openai": {}}}}))
    with pytest.raises(UsageError, match="loopback only"):
        start_provider(FakeRpc(providers("http://host.docker.internal:4000/v1")))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case, arguments, says", [
    ("missing token file", lambda t: ["--url", "ws://127.0.0.1:1", "--token-file", str(t / "nope"), "--state-dir", str(t / "state")],
     "does not exist"),
    ("empty token file", lambda t: ["--url", "ws://127.0.0.1:1", "--token-file", str(t / "empty"), "--state-dir", str(t / "state")],
     "no Gateway token"),
    ("not a websocket url", lambda t: ["--url", "http://127.0.0.1:18789", "--token-file", str(t / "token"),
                                       "--state-dir", str(t / "state")], "not a Gateway WebSocket URL"),
    ("state dir without a database", lambda t: ["--url", "ws://127.0.0.1:1", "--token-file", str(t / "token"),
                                                "--state-dir", str(t)], "holds no SQLite database for agent main"),
    ("an agent the state dir has no database for", lambda t: ["--url", "ws://127.0.0.1:1", "--token-file", str(t / "token"),
                                                              "--state-dir", str(t / "state"), "--agent", "work"],
     "holds no SQLite database for agent work"),
    ("unreachable url", lambda t: ["--url", f"ws://127.0.0.1:{closed_port()}", "--token-file", str(t / "token"),
                                   "--state-dir", str(t / "state")], "no Gateway answers at"),
])
def test_bad_input_is_a_usage_error_naming_the_problem_with_no_evidence_written(case, arguments, says, state, tmp_path,
                                                                               capsys, monkeypatch):
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("OPENCLAW_GATEWAY_TOKEN", raising=False)
    (tmp_path / "token").write_text("a-token\n")
    (tmp_path / "empty").write_text("\n")
    assert main(["live", *arguments(tmp_path)]) == EXIT_USAGE, case
    err = capsys.readouterr().err
    assert says in err and "fix:" in err and "Traceback" not in err
    assert not (tmp_path / "artifacts" / "path3-live-e2e").exists()


def test_a_compressed_row_is_read_whether_or_not_its_frame_carries_its_size():
    import zstandard

    from path3_sandbox.probes.host_sqlite import _decompress

    event = '{"type":"message","message":{"content":"' + "é" * 800 + '"}}'
    stream = zstandard.ZstdCompressor().compressobj()
    for blob in (zstandard.ZstdCompressor().compress(event.encode()), stream.compress(event.encode()) + stream.flush()):
        assert _decompress(blob) == event
