import io
import tarfile

from path3_sandbox.containers.volumes import VolumeFile, state_tar


def test_state_tar_owns_files_and_parent_directories_by_the_gateway_user():
    data = state_tar([VolumeFile("agents/main/sessions/a.jsonl", b"{}\n", 1_700_000_000.0)])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert list(members) == ["agents", "agents/main", "agents/main/sessions", "agents/main/sessions/a.jsonl"]
        assert {(m.uid, m.gid) for m in members.values()} == {(1000, 1000)}
        transcript = members["agents/main/sessions/a.jsonl"]
        assert transcript.mtime == 1_700_000_000 and archive.extractfile(transcript).read() == b"{}\n"
