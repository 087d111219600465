import io
import tarfile
import zipfile

import pytest

from path3_sandbox.errors import FixtureError
from path3_sandbox.state.fixtures import Fixture, check, resolve_fixture
from path3_sandbox.state.unpack import unpack_state
from path3_sandbox.state.userstate import infer_manifest, write_fixture


def tar_with_prefix(fixture_name: str, prefix: str, dest):
    state = resolve_fixture(fixture_name).state
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(state, arcname=prefix)
    return dest


def test_a_tarball_with_a_home_prefix_unpacks_to_the_state_root(tmp_path):
    archive = tar_with_prefix("minimal", "home/alice/.openclaw", tmp_path / "state.tgz")
    root = unpack_state(archive, tmp_path / "work").root
    assert root.name == ".openclaw" and (root / "agents/main/sessions/sessions.json").is_file()


def test_a_zip_of_the_bare_tree_unpacks(tmp_path):
    state = resolve_fixture("stray-orphan").state
    archive = tmp_path / "state.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in state.rglob("*"):
            if path.is_file():
                z.write(path, path.relative_to(state).as_posix())
    root = unpack_state(archive, tmp_path / "work").root
    assert (root / "sessions").is_dir() and (root / "agents").is_dir()


def test_something_that_is_not_an_openclaw_state_is_refused_clearly(tmp_path):
    (tmp_path / "src" / "photos").mkdir(parents=True)
    (tmp_path / "src" / "photos" / "a.txt").write_text("hi")
    with pytest.raises(FixtureError, match="is not an OpenClaw state: no agents/<id>/sessions/"):
        unpack_state(tmp_path / "src", tmp_path / "work")


def test_an_archive_escaping_its_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(FixtureError, match="cannot be unpacked: the member name '../../etc/evil' climbs out with `..`"):
        unpack_state(archive, tmp_path / "work")
    assert not (tmp_path / "work" / "unpacked").exists() and not (tmp_path.parent / "etc" / "evil").exists()


@pytest.mark.parametrize("name", ["minimal", "multi-agent", "stray-orphan", "invalid-missing", "duplicate-event", "unicode"])
def test_the_inferred_manifest_agrees_with_the_hand_written_one(tmp_path, name):
    shipped = resolve_fixture(name)
    manifest = infer_manifest(shipped.state, name, catches="x", origin="y")
    inferred = {(a, k): (v["sessionId"], v["events"], v.get("archived", False))
                for a, body in manifest["agents"].items() for k, v in body["sessions"].items()}
    expected = {(s.agent, s.key): (s.session_id, s.events, s.archived) for s in shipped.sessions}
    assert inferred == expected
    assert manifest["expected_warnings"] == sorted(shipped.expected_warnings)
    assert manifest["state_dir_as_written"] == "/home/alice/.openclaw" and manifest["retime"] is False
    written = write_fixture(shipped.state, tmp_path / name, manifest)
    assert check(Fixture.load(written)) == []


def test_the_inferred_manifest_counts_legacy_transcript_versions():
    manifest = infer_manifest(resolve_fixture("compaction-v1").state, "c", catches="", origin="")
    assert manifest["legacy_transcript_versions"] == {"v1": 1, "v2": 1, "v3": 1}


def legacy_state(root, transcript: bytes):
    sessions = root / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "sessions.json").write_text('{"agent:main:main": {"sessionId": "s-1"}}')
    (sessions / "s-1.jsonl").write_bytes(transcript)
    return root


HEAD = b'{"type":"session","version":3,"id":"s-1","timestamp":"t","cwd":"/w"}\n'
LINE = b'{"type":"message","id":"m1","parentId":null,"message":{"role":"user","content":"hi"}}\n'


def test_a_transcript_whose_last_line_was_cut_is_expected_to_import_its_readable_lines_with_transcript_malformed(tmp_path):
    from path3_sandbox.proof import oracle

    state = legacy_state(tmp_path / "state", HEAD + LINE + LINE[:30])
    manifest = infer_manifest(state, "cut", catches="", origin="")
    assert manifest["expected_warnings"] == ["transcript_malformed"]
    assert manifest["agents"]["main"]["sessions"]["agent:main:main"]["events"] == 2
    fixture = Fixture.load(write_fixture(state, tmp_path / "cut", manifest))
    assert oracle.warnings_as_expected(fixture, {"transcript_malformed"}).passed
    whole = infer_manifest(legacy_state(tmp_path / "whole", HEAD + LINE), "whole", catches="", origin="")
    assert whole["expected_warnings"] == []


def test_session_rows_an_agent_database_already_holds_are_declared_and_the_before_check_honours_them(tmp_path):
    import json
    import sqlite3

    from path3_sandbox.probes.sqlite import parse_snapshot
    from path3_sandbox.proof import oracle

    state = legacy_state(tmp_path / "state", HEAD + LINE)
    (state / "agents/main/agent").mkdir(parents=True)
    with sqlite3.connect(state / "agents/main/agent/openclaw-agent.sqlite") as db:
        db.execute("create table session_nodes (session_key text, entry_json text)")
        db.execute("create table transcript_events (session_id text, seq int, event_json text)")
        db.executemany("insert into session_nodes values (?, '{}')", [("agent:main:done",), ("agent:main:also",)])
        db.executemany("insert into transcript_events values ('s-0', ?, '{}')", [(1,), (2,), (3,)])
    db.close()
    manifest = infer_manifest(state, "partly", catches="", origin="")
    assert (manifest["preexisting_sessions"], manifest["preexisting_events"]) == (["agent:main:also", "agent:main:done"], 3)
    assert not (state / "agents/main/agent/openclaw-agent.sqlite-shm").exists(), "the user's database was opened"
    fixture = Fixture.load(write_fixture(state, tmp_path / "partly", manifest))
    before = parse_snapshot({"databases": [{"role": "agent", "agent": "main", "path": "/db", "integrity": ["ok"],
                                            "tables": {"session_nodes": 2, "transcript_events": 3}}]})
    assert oracle.no_session_state_before(before, fixture).passed
    undeclared = {k: v for k, v in manifest.items() if not k.startswith("preexisting")}
    (tmp_path / "partly" / "fixture.json").write_text(json.dumps(undeclared))
    assert not oracle.no_session_state_before(before, Fixture.load(tmp_path / "partly")).passed
