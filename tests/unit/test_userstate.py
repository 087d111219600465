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
