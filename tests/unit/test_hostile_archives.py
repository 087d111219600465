"""Hostile attachments (built by tests/hostile.py, never committed) and bad input to the unpacking path: each is
refused with exit 2, a message and a fix, writes nothing outside its destination, and leaves nothing behind;
or, when harmless (a link loop), is unpacked without following anything."""

from __future__ import annotations

import os
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

import path3_sandbox.containers.docker_client as docker_client_module
import path3_sandbox.paths as paths
from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE, FixtureError
from path3_sandbox.state.fixtures import Fixture, check, resolve_fixture
from path3_sandbox.state.inventory import MAX_JSON_DEPTH, build_inventory
from path3_sandbox.state.unpack import UnpackLimits, unpack_state
from path3_sandbox.state.userstate import write_fixture
from tests import hostile

RUN_ID_LENGTH = len("20260101-000000-abcdef")  # containers.resources.new_run_id()
MINIMAL_FILES = sorted(p.relative_to(resolve_fixture("minimal").state).as_posix()
                       for p in resolve_fixture("minimal").state.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def sandboxed(monkeypatch, tmp_path):
    """Fixtures, evidence and temporary folders all under tmp_path, so that a leftover anywhere is seen; Docker
    must never be asked."""
    monkeypatch.setattr(docker_client_module, "docker_client",
                        lambda: (_ for _ in ()).throw(AssertionError("bad input must be refused before Docker is asked")))
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setattr(paths, "FIXTURES_DIR", tmp_path / "fixtures")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def refused(argv: list[str], capsys, tmp_path: Path, *, says: str) -> str:
    """Run the CLI on bad input: exit 2, the message and a fix, no traceback, and tmp_path as it was before."""
    before = tree(tmp_path)
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert says in err and "fix:" in err and "Traceback" not in err, err
    assert tree(tmp_path) == before, f"left behind: {sorted(tree(tmp_path) - before)}"
    return err


def fixtures_add(archive: Path, *options: str) -> list[str]:
    return ["fixtures", "add", str(archive), "--name", "x", *options]


# CVE-2025-4517 ------------------------------------------------------------------------------------------------

def test_the_realpath_limit_archive_escapes_the_tar_data_filter_of_this_python(tmp_path):
    """The builder's archive is the real attack: where tarfile's filter is unfixed (3.11.7) it writes outside."""
    dest = tmp_path / "sandbox" / "dest"
    archive = hostile.realpath_limit_tar(tmp_path / "cve.tgz", dest, up=1)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    except (OSError, tarfile.TarError, KeyError):
        pass
    if not (tmp_path / "sandbox" / "newfile").exists():
        pytest.skip("this Python's tarfile refuses the archive: CVE-2025-4517 is fixed here")


def test_a_link_chain_past_path_max_is_refused_by_unpack_state_and_writes_nothing_outside(tmp_path):
    work = tmp_path / "work"
    archive = hostile.realpath_limit_tar(tmp_path / "cve.tgz", work / "unpacked", up=2)
    with pytest.raises(FixtureError, match="lies under the link a: writing it would follow that link"):
        unpack_state(archive, work)
    assert not list(tmp_path.rglob("newfile")) and not (work / "unpacked").exists()


def test_a_link_chain_past_path_max_is_refused_by_fixtures_add_and_writes_nothing_outside(tmp_path, capsys):
    unpack_dir = tmp_path / "tmp" / f"path3-add-{'x' * 8}" / "unpacked"  # tempfile's names: 8 characters
    archive = hostile.realpath_limit_tar(tmp_path / "cve.tgz", unpack_dir, up=2)
    err = refused(fixtures_add(archive), capsys, tmp_path, says="lies under the link a")
    assert "llllllll…(254 characters)" in err  # the 254-character component is not printed whole


def test_a_link_chain_past_path_max_is_refused_by_repro_and_writes_nothing_outside(tmp_path, capsys):
    unpack_dir = tmp_path / "artifacts" / "path3-repro" / ("x" * RUN_ID_LENGTH) / "unpacked"
    archive = hostile.realpath_limit_tar(tmp_path / "cve.tgz", unpack_dir, up=4)
    refused(["repro", str(archive)], capsys, tmp_path, says="lies under the link a")


def test_a_hard_link_through_a_link_out_of_the_archive_is_refused(tmp_path, capsys):
    """CPython's flaglink: a hard link whose target path goes through a symbolic link leading out."""
    escape, flaglink = tarfile.TarInfo(".openclaw/escape"), tarfile.TarInfo(".openclaw/flaglink")
    escape.type, escape.linkname = tarfile.SYMTYPE, "../.."
    flaglink.type, flaglink.linkname = tarfile.LNKTYPE, ".openclaw/escape/flag"
    archive = hostile.member_tar(tmp_path / "flag.tgz", (escape, None), (flaglink, None))
    refused(fixtures_add(archive), capsys, tmp_path, says="its link .openclaw/escape -> ../.. leads out of the archive")


@pytest.mark.parametrize("link", ["/etc/passwd", "../../../../../outside"])
def test_a_link_out_of_an_archive_refuses_it(tmp_path, capsys, link):
    info = tarfile.TarInfo(".openclaw/agents/main/sessions/leak.jsonl")
    info.type, info.linkname = tarfile.SYMTYPE, link
    archive = hostile.member_tar(tmp_path / "out.tgz", (info, None))
    refused(fixtures_add(archive), capsys, tmp_path, says=f"leak.jsonl -> {link} leads out of the archive")


def test_a_member_under_a_link_member_is_refused_even_when_the_link_stays_inside(tmp_path):
    link, under = tarfile.TarInfo(".openclaw/sessions"), tarfile.TarInfo(".openclaw/sessions/s.jsonl")
    link.type, link.linkname = tarfile.SYMTYPE, "agents/main/sessions"
    under.size = 2
    archive = hostile.member_tar(tmp_path / "under.tgz", (link, None), (under, b"{}"))
    with pytest.raises(FixtureError, match="s.jsonl lies under the link .openclaw/sessions"):
        unpack_state(archive, tmp_path / "work")
    assert not (tmp_path / "work" / "unpacked").exists()


# links: never created, never followed to a folder, copied when they name a file ----------------------------------

def test_a_link_loop_is_skipped_and_the_fixture_holds_the_state_once(tmp_path, capsys):
    assert main(fixtures_add(hostile.link_loop_tar(tmp_path / "loop.tgz"))) == 0
    err = capsys.readouterr().err
    assert "skipped link .openclaw/la -> . (a folder: never followed)" in err and "lb -> ." in err, err
    written = tmp_path / "fixtures" / "x" / "state"
    assert sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file()) == MINIMAL_FILES
    assert not any(p.is_symlink() for p in written.rglob("*"))


def test_write_fixture_refuses_a_link_in_the_state_rather_than_following_it(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "la").symlink_to(".")
    with pytest.raises(FixtureError, match="la is a link or a special file"):
        write_fixture(state, tmp_path / "fixture", {"name": "x"})
    assert not (tmp_path / "fixture" / "state").exists()


@pytest.mark.parametrize("hard", [True, False], ids=["hard links", "symbolic links"])
def test_links_count_against_the_size_limit_each_time_they_are_copied(tmp_path, capsys, hard):
    archive = hostile.link_multiplier_tar(tmp_path / "links.tgz", hard=hard)
    assert archive.stat().st_size < 2 * 1024**2  # the archive itself is within the limit
    refused(fixtures_add(archive, "--max-unpacked-mb", "2"), capsys, tmp_path, says="unpacks to more than 2 MB")


def test_the_size_limit_counts_bytes_as_written_not_as_declared(tmp_path):
    """Two links to a 1 MiB file make 3 MiB on disk: refused under 2 MiB, written as plain copies under 4."""
    archive = hostile.link_multiplier_tar(tmp_path / "links.tgz", links=2)
    with pytest.raises(FixtureError, match="unpacks to more than 2 MB"):
        unpack_state(archive, tmp_path / "small", UnpackLimits(max_bytes=2 * 1024**2))
    root = unpack_state(archive, tmp_path / "big", UnpackLimits(max_bytes=4 * 1024**2)).root
    copies = [root / "copy-0.bin", root / "copy-1.bin"]
    assert all(not p.is_symlink() and p.read_bytes() == (root / "blob.bin").read_bytes() for p in copies)
    assert sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) > 3 * 1024**2


def test_a_link_to_a_file_inside_becomes_a_copy_and_links_to_folders_or_nowhere_are_noted(tmp_path):
    sessions = ".openclaw/agents/main/sessions"
    members = []
    for name, target, kind in [("alias.json", "sessions.json", tarfile.SYMTYPE),
                               ("hard.json", f"{sessions}/sessions.json", tarfile.LNKTYPE),
                               ("chain.json", "alias.json", tarfile.SYMTYPE),
                               ("folder", "..", tarfile.SYMTYPE),
                               ("gone.jsonl", "nowhere.jsonl", tarfile.SYMTYPE),
                               ("ping", "pong", tarfile.SYMTYPE), ("pong", "ping", tarfile.SYMTYPE)]:
        info = tarfile.TarInfo(f"{sessions}/{name}")
        info.type, info.linkname = kind, target
        members.append((info, None))
    unpacked = unpack_state(hostile.member_tar(tmp_path / "links.tgz", *members), tmp_path / "work")
    here = unpacked.root / "agents/main/sessions"
    for name in ("alias.json", "hard.json", "chain.json"):
        assert not (here / name).is_symlink() and (here / name).read_bytes() == (here / "sessions.json").read_bytes()
    assert not any(p.is_symlink() for p in unpacked.root.rglob("*"))
    assert not (here / "folder").exists() and not (here / "gone.jsonl").exists() and not (here / "ping").exists()
    assert unpacked.notes() == [
        f"skipped link {sessions}/folder -> .. (a folder: never followed)",
        f"skipped link {sessions}/gone.jsonl -> nowhere.jsonl (dangling)",
        f"skipped link {sessions}/ping -> pong (a loop or a chain of more than 40 links)",
        f"skipped link {sessions}/pong -> ping (a loop or a chain of more than 40 links)"]


def test_a_fifo_or_device_member_is_skipped_with_a_note(tmp_path):
    fifo = tarfile.TarInfo(".openclaw/gateway.fifo")
    fifo.type = tarfile.FIFOTYPE
    unpacked = unpack_state(hostile.member_tar(tmp_path / "fifo.tgz", (fifo, None)), tmp_path / "work")
    assert unpacked.notes() == ["skipped .openclaw/gateway.fifo (a device, fifo or socket: not a regular file)"]
    assert not (unpacked.root / "gateway.fifo").exists()


def zip_with_link(path: Path, name: str, target: str) -> Path:
    state = resolve_fixture("minimal").state
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(state.rglob("*")):
            if file.is_file():
                archive.write(file, f".openclaw/{file.relative_to(state).as_posix()}")
        info = zipfile.ZipInfo(name)
        info.create_system, info.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
    return path


def test_a_zip_link_to_a_file_inside_becomes_a_copy(tmp_path):
    archive = zip_with_link(tmp_path / "in.zip", ".openclaw/alias.json", "agents/main/sessions/sessions.json")
    root = unpack_state(archive, tmp_path / "work").root
    assert not (root / "alias.json").is_symlink()
    assert (root / "alias.json").read_bytes() == (root / "agents/main/sessions/sessions.json").read_bytes()


def test_a_zip_link_out_of_the_archive_refuses_it(tmp_path, capsys):
    archive = zip_with_link(tmp_path / "out.zip", ".openclaw/leak.json", "../../../etc/passwd")
    refused(fixtures_add(archive), capsys, tmp_path, says="leak.json -> ../../../etc/passwd leads out of the archive")


@pytest.mark.parametrize("name, why", [("/etc/evil", "is absolute"), (".openclaw/../../evil", "climbs out with `..`")])
def test_a_zip_member_with_an_unsafe_name_refuses_it(tmp_path, capsys, name, why):
    archive = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(zipfile.ZipInfo(name), b"x")
    refused(fixtures_add(archive), capsys, tmp_path, says=why)


# deep or huge JSON --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["fixtures add", "repro"])
@pytest.mark.parametrize("name, where", [("sessions.json", "agents/main/sessions/sessions.json"),
                                         ("deep.jsonl", "agents/main/sessions/deep.jsonl line 2"),
                                         ("openclaw.json", "openclaw.json"),
                                         ("agents/main/agent/models.json", "agents/main/agent/models.json")])
def test_json_nested_100000_deep_is_exit_2_not_a_recursion_error(tmp_path, capsys, command, name, where):
    archive = hostile.deep_json_tar(tmp_path / "deep.tgz", name=name)
    argv = fixtures_add(archive) if command == "fixtures add" else ["repro", str(archive)]
    refused(argv, capsys, tmp_path, says=f"{where} nests JSON more than {MAX_JSON_DEPTH} deep")


def test_json_as_deep_as_the_limit_is_parsed_and_brackets_inside_strings_do_not_count():
    deep = b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1)  # inside the line's own {}: the limit exactly
    text = '{"type":"message","id":"m","text":"' + "[" * 10_000 + '","x":' + deep.decode() + "}"
    inventory = build_inventory({"agents/main/sessions/s.jsonl": (text.encode() + b"\n", 1.0)})
    assert inventory.transcripts[0].events[0].event_id == "m"


def test_a_json_document_bigger_than_the_parser_takes_is_exit_2(tmp_path, monkeypatch):
    import path3_sandbox.state.inventory as inventory

    monkeypatch.setattr(inventory, "MAX_JSON_BYTES", 1000)
    with pytest.raises(FixtureError, match="sessions.json is a JSON document of 0 MB, more than the 0 MB"):
        build_inventory({"agents/main/sessions/sessions.json": (b'{"k": "' + b"x" * 2000 + b'"}', 1.0)})


# a refused repro leaves no run folder ---------------------------------------------------------------------------

def not_a_state(tmp: Path) -> Path:
    (tmp / "photos").mkdir()
    (tmp / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    return tmp / "photos"


REFUSED_REPROS = {
    "not a state": (not_a_state, [], "is not an OpenClaw state"),
    "a hostile archive": (lambda t: hostile.links_out_tar(t / "out.tgz"), [], "leads out of the archive"),
    "a deep sessions.json": (lambda t: hostile.deep_json_tar(t / "deep.tgz"), [], "nests JSON more than"),
    "a missing --openclaw tarball": (lambda t: resolve_fixture("minimal").state,
                                     ["--openclaw", "./no-such-openclaw.tgz"], "does not exist"),
}


@pytest.mark.parametrize("case", list(REFUSED_REPROS))
def test_a_refused_repro_leaves_no_run_folder(tmp_path, capsys, case):
    make, options, says = REFUSED_REPROS[case]
    refused(["repro", str(make(tmp_path)), *options], capsys, tmp_path, says=says)
    assert not (tmp_path / "artifacts").exists()


def test_a_repro_whose_fixture_was_made_but_whose_image_failed_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    import path3_sandbox.commands.common as common
    from path3_sandbox.errors import ImageBuildFailed

    def no_image(args, target=None):
        assert (tmp_path / "artifacts" / "path3-repro").is_dir()  # the fixture was written: the run had begun
        raise ImageBuildFailed("the build failed", hint="look at the build log")

    monkeypatch.setattr(common, "gateway_image", no_image)
    assert main(["repro", str(resolve_fixture("minimal").state), "--openclaw", "2026.9.6"]) == 3
    assert "the build failed" in capsys.readouterr().err
    assert not (tmp_path / "artifacts").exists()


def test_a_repro_whose_proof_ran_keeps_its_run_folder(tmp_path, capsys, monkeypatch):
    import path3_sandbox.commands.common as common
    import path3_sandbox.proof.run as run

    def proof_stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "gateway_image", lambda args, target=None: object())
    monkeypatch.setattr(docker_client_module, "docker_client", lambda: object())
    monkeypatch.setattr(run, "prove", proof_stopped)
    assert main(["repro", str(resolve_fixture("minimal").state), "--openclaw", "2026.9.6"]) == 130
    runs = list((tmp_path / "artifacts" / "path3-repro").iterdir())
    assert len(runs) == 1 and (runs[0] / "fixture" / "fixture.json").is_file()  # evidence of a run that started
    assert not (runs[0] / "unpacked").exists()  # the user's data does not outlive the run


# names and limits: checked before anything is read or written ----------------------------------------------------

@pytest.mark.parametrize("name", ["a/b", "../../evil", "..", "", "Upper", ".hidden", "x" * 65, "nul\0"])
def test_a_fixture_name_is_one_lowercase_folder_name(tmp_path, capsys, name):
    state = resolve_fixture("minimal").state
    refused(["fixtures", "add", str(state), "--name", name], capsys, tmp_path, says="is not a fixture name")
    assert not list(tmp_path.parent.glob("evil*"))


def test_every_shipped_fixture_name_is_a_valid_name(tmp_path, capsys):
    for name in sorted(p.name for p in (Path(paths.PROJECT_ROOT) / "fixtures" / "legacy-stores").iterdir()):
        assert main(["fixtures", "add", str(tmp_path / "no-such-state"), "--name", name]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert "does not exist" in err and "not a fixture name" not in err, err


@pytest.mark.parametrize("command", ["fixtures add", "repro", "compat"])
@pytest.mark.parametrize("option, value", [("--max-unpacked-mb", "-5"), ("--max-unpacked-mb", "0"),
                                           ("--max-members", "0"), ("--max-members", "1.5"), ("--max-ratio", "-1"),
                                           ("--max-ratio", "0"), ("--max-ratio", "nan"), ("--max-ratio", "inf")])
def test_a_limit_of_zero_or_less_is_exit_2_before_anything_runs(tmp_path, capsys, command, option, value):
    state = str(resolve_fixture("minimal").state)
    argv = {"fixtures add": ["fixtures", "add", state, "--name", "x"], "repro": ["repro", state],
            "compat": ["compat", state, "--releases", "2026.9.6"]}[command]
    before = tree(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main([*argv, option, value])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"argument {option}: '{value}': a limit must be" in err and f"e.g. {option} " in err, err
    assert tree(tmp_path) == before


def test_a_fixture_added_from_a_plain_archive_still_checks_clean(tmp_path, capsys):
    archive = tmp_path / "state.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(resolve_fixture("minimal").state, arcname="home/alice/.openclaw")
    assert main(fixtures_add(archive)) == 0, capsys.readouterr().err
    assert check(Fixture.load(tmp_path / "fixtures" / "x")) == []
    assert sorted(os.listdir(tmp_path / "tmp")) == []
