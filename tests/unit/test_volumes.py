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


def test_a_tars_files_are_listed_by_path_with_the_sha256_of_their_bytes():
    import hashlib

    from path3_sandbox.containers.volumes import VolumeFile, state_tar, tar_digests

    tar = state_tar([VolumeFile("agents/main/sessions/b.jsonl", b"b", 1.0), VolumeFile("agents/main/sessions/a.json", b"a", 1.0)])
    assert tar_digests(tar) == {"agents/main/sessions/a.json": hashlib.sha256(b"a").hexdigest(),
                                "agents/main/sessions/b.jsonl": hashlib.sha256(b"b").hexdigest()}, "files only, by path"


def test_helper_names_never_repeat_when_fixtures_are_seeded_side_by_side():
    from concurrent.futures import ThreadPoolExecutor

    from path3_sandbox.containers.resources import RunResources

    resources = RunResources(None, "run-1")
    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda _: resources.unique_name("seed"), range(400)))
    assert len(set(names)) == 400 and all(n.startswith("path3-run-1-seed-") for n in names)
