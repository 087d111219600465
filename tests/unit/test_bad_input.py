"""Every bad input a user can hand us ends with exit 2 and a message naming the problem and the fix:
never a traceback, never the code of a failed proof, never a file left behind, never Docker asked."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

import path3_sandbox.containers.docker_client as docker_client_module
from path3_sandbox.paths import REPORTED_DIR
from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.paths import FIXTURES_DIR


def state_tgz(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(resolve_fixture("minimal").state, arcname=".openclaw")
    return path


def truncated_tgz(tmp: Path) -> Path:
    whole = state_tgz(tmp / "whole.tgz").read_bytes()
    (tmp / "truncated.tgz").write_bytes(whole[: len(whole) // 2])
    return tmp / "truncated.tgz"


def corrupt_zip(tmp: Path) -> Path:
    path = tmp / "corrupt.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(".openclaw/agents/main/sessions/sessions.json", "{" + '"k": "v",' * 2000 + '"end": 1}')
    data = bytearray(path.read_bytes())
    data[60:70] = b"\xff" * 10  # inside the compressed data: the CRC or the stream breaks on extraction
    path.write_bytes(bytes(data))
    return path


def tar_member(tmp: Path, name: str, *, data: bytes = b"x", link: str | None = None, raw_name: bytes | None = None) -> Path:
    path = tmp / "member.tgz"
    with tarfile.open(path, "w:gz", encoding="utf-8", errors="surrogateescape") as tar:
        info = tarfile.TarInfo(raw_name.decode("utf-8", "surrogateescape") if raw_name else name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        else:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def zip_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(".openclaw/agents/main/sessions/big.jsonl", b"\n" * (50 * 1024**2))
    return path


def many_files(tmp: Path) -> Path:
    root = tmp / "many" / ".openclaw" / "agents" / "main" / "sessions"
    root.mkdir(parents=True)
    for i in range(12):
        (root / f"s{i}.jsonl").write_text('{"type":"session","id":"s%d"}\n' % i)
    return tmp / "many"


def dangling_link(tmp: Path) -> Path:
    (tmp / "dangling").symlink_to(tmp / "nowhere")
    return tmp / "dangling"


def not_a_state(tmp: Path) -> Path:
    (tmp / "photos").mkdir()
    (tmp / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    return tmp / "photos"


# input -> (how to make it, extra CLI options, what the message must say)
BAD_INPUTS = {
    "missing path": (lambda t: t / "no-such-state", [], "does not exist"),
    "dangling symlink as the state": (dangling_link, [], "dangling link"),
    "neither directory nor archive": (lambda t: (t / "x.bin").write_bytes(b"\x00garbage") and t / "x.bin", [],
                                      "neither a directory, a tar archive nor a zip file"),
    "truncated .tgz": (truncated_tgz, [], "cannot be unpacked"),
    "corrupt zip": (corrupt_zip, [], "cannot be unpacked"),
    "tar member escaping with ..": (lambda t: tar_member(t, "../../etc/evil"), [], "cannot be unpacked"),
    "tar symlink out of the state": (lambda t: tar_member(t, ".openclaw/agents/main/sessions/x.jsonl", link="/etc/passwd"),
                                     [], "cannot be unpacked"),
    "non-UTF-8 file name": (lambda t: tar_member(t, "", raw_name=b".openclaw/caf\xe9.jsonl"), [], "not UTF-8: .openclaw/caf\\xe9"),
    "zip bomb": (zip_bomb, [], "possible archive bomb"),
    "too many files": (many_files, ["--max-members", "5"], "more than 5 files"),
    "too large": (zip_bomb, ["--max-unpacked-mb", "10", "--max-ratio", "1000000"], "unpacks to more than 10 MB"),
    "not an OpenClaw state": (not_a_state, [], "is not an OpenClaw state"),
}


@pytest.fixture(autouse=True)
def no_docker(monkeypatch, tmp_path):
    monkeypatch.setattr(docker_client_module, "docker_client",
                        lambda: (_ for _ in ()).throw(AssertionError("bad input must be refused before Docker is asked")))
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))


@pytest.mark.parametrize("command", ["repro", "fixtures add"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_state_is_refused_with_exit_2_and_a_message_and_nothing_is_left(tmp_path, capsys, command, case):
    make, options, message = BAD_INPUTS[case]
    source = make(tmp_path)
    name = f"p3-bad-input-{os.getpid()}"
    argv = ["repro", str(source), *options] if command == "repro" else \
        ["fixtures", "add", str(source), "--name", name, *options]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err, err
    assert not (FIXTURES_DIR / name).exists() and not list(FIXTURES_DIR.glob(f".{name}-*"))
    leftovers = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert leftovers == [], f"user data left behind: {leftovers}"


def test_redact_of_a_missing_source_is_bad_input(tmp_path, capsys):
    assert main(["fixtures", "redact", str(tmp_path / "nope"), str(tmp_path / "out")]) == EXIT_USAGE
    assert "is not a directory" in capsys.readouterr().err


def test_a_directory_state_never_brings_a_file_from_outside_through_a_link(tmp_path):
    from path3_sandbox.state.unpack import unpack_state

    state = tmp_path / "home" / ".openclaw"
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    for path in resolve_fixture("minimal").state.rglob("*"):
        if path.is_file():
            (state / path.relative_to(resolve_fixture("minimal").state)).parent.mkdir(parents=True, exist_ok=True)
            (state / path.relative_to(resolve_fixture("minimal").state)).write_bytes(path.read_bytes())
    (tmp_path / "secret.txt").write_text("outside")
    (sessions / "leak.jsonl").symlink_to(tmp_path / "secret.txt")
    (sessions / "gone.jsonl").symlink_to(tmp_path / "nowhere")
    (state / "inside-link.json").symlink_to(sessions / "sessions.json")
    unpacked = unpack_state(state, tmp_path / "work")
    copied = {p.relative_to(unpacked.root).as_posix() for p in unpacked.root.rglob("*")}
    assert "agents/main/sessions/leak.jsonl" not in copied and "agents/main/sessions/gone.jsonl" not in copied
    assert not any("outside" in p.read_text(errors="replace") for p in unpacked.root.rglob("*") if p.is_file())
    assert (unpacked.root / "inside-link.json").read_bytes() == (sessions / "sessions.json").read_bytes()
    assert not (unpacked.root / "inside-link.json").is_symlink()
    assert sorted(n.split(" ")[2].split(" ")[0] for n in unpacked.notes()) == [
        "agents/main/sessions/gone.jsonl", "agents/main/sessions/leak.jsonl"]


def test_fixtures_add_refuses_a_state_that_still_holds_secrets_and_names_them(tmp_path, capsys):
    from tests.planted import plant_secrets

    name = f"p3-secrets-{os.getpid()}"
    assert main(["fixtures", "add", str(plant_secrets(tmp_path / "state")), "--name", name]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "still holds" in err and "openclaw.json:5: key token" in err and "fixtures redact" in err, err
    assert not (FIXTURES_DIR / name).exists() and not list(FIXTURES_DIR.glob(f".{name}-*"))


def test_a_redacted_state_is_added_and_its_manifest_checks_clean(tmp_path, capsys):
    from path3_sandbox.state.fixtures import Fixture, check
    from tests.planted import plant_secrets

    name = f"p3-redacted-{os.getpid()}"
    assert main(["fixtures", "redact", str(plant_secrets(tmp_path / "state")), str(tmp_path / "clean")]) == 0
    try:
        assert main(["fixtures", "add", str(tmp_path / "clean"), "--name", name]) == 0, capsys.readouterr().err
        added = Fixture.load(FIXTURES_DIR / name)
        assert check(added) == [] and "secrets_allowed" not in (FIXTURES_DIR / name / "fixture.json").read_text()
    finally:
        import shutil

        shutil.rmtree(FIXTURES_DIR / name, ignore_errors=True)


@pytest.mark.parametrize("command", [["image", "build"], ["smoke"], ["prove"], ["bench"], ["faults"]])
@pytest.mark.parametrize("spec, says", [("bad tag!", "is neither an exact OpenClaw version, a dist-tag, nor a .tgz"),
                                        ("./no-such-openclaw.tgz", "does not exist"),
                                        ("cut openclaw.tgz", "is not a readable npm package")])
def test_a_bad_target_is_exit_2_before_docker_is_asked_or_installed(command, spec, says, monkeypatch, capsys, tmp_path):
    """`image build --openclaw 'bad tag!'` used to ask for the Docker engine first (and, as root on a bare box, install
    one) before it looked at the target; a cut tarball was found out only by npm inside the image build."""
    import path3_sandbox.build.engine as engine

    if spec == "cut openclaw.tgz":  # package.json whole, the built Gateway after it cut in half
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in (("package/package.json", b'{"name": "openclaw", "version": "2026.9.6"}'),
                               ("package/dist/index.js", os.urandom(65536))):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        spec = str(tmp_path / "openclaw-2026.9.6.tgz")
        Path(spec).write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was looked for before the target was checked")

    monkeypatch.setattr(engine, "ensure_engine", no_engine)
    monkeypatch.setattr(docker_client_module, "ensure_engine", no_engine)
    assert main([*command, "--openclaw", spec]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert says in err and "fix:" in err and "Traceback" not in err, err
    assert not (tmp_path / "artifacts").exists() or not [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]


REPORTS = REPORTED_DIR  # fixtures/reported/<issue>/recovery-report.md


def report_without(tmp: Path, *drop: str) -> Path:
    lines = (REPORTS / "156382" / "recovery-report.md").read_text(encoding="utf-8").splitlines()
    (tmp / "edited.md").write_text("\n".join(l for l in lines if not l.startswith(drop)) + "\n", encoding="utf-8")
    return tmp / "edited.md"


def report_text(tmp: Path, text: str) -> Path:
    (tmp / "r.md").write_text(text, encoding="utf-8")
    return tmp / "r.md"


# a bad recovery report -> (how to make it, extra CLI options, what the message must say)
BAD_REPORTS = {
    "missing report": (lambda t: t / "no-such-report.md", [], "does not exist"),
    "a folder as the report": (lambda t: t, [], "is not a file"),
    "not UTF-8": (lambda t: (t / "r.md").write_bytes(b"# Session SQLite Migration Failure\n\xff\xfe") and t / "r.md", [],
                  "is not UTF-8 text"),
    "too large": (lambda t: (t / "r.md").write_bytes(b"x" * (1024**2 + 1)) and t / "r.md", [], "larger than 1024 KiB"),
    "empty": (lambda t: report_text(t, ""), [], "is not an OpenClaw session SQLite recovery report"),
    "a different issue": (lambda t: report_text(t, "### Bug type\n\nRegression\n"), [],
                          "no '- OpenClaw version: …' line"),
    "no targets": (lambda t: report_without(t, "## Targets", "### ", "- Store", "- SQLite", "- Planned", "- Completed",
                                            "- Validation", "- Issues", "  - ["), [], "names no target agent"),
    "no version and no --openclaw": (lambda t: report_without(t, "- OpenClaw version"), [], "names no OpenClaw version"),
    "a bad --openclaw": (lambda t: REPORTS / "156382" / "recovery-report.md", ["--openclaw", "bad tag!"], "is neither an exact OpenClaw version"),
    "a state as well": (lambda t: REPORTS / "156382" / "recovery-report.md", [str(REPORTS)], "either STATE or --from-report"),
}


@pytest.mark.parametrize("case", list(BAD_REPORTS))
def test_a_bad_recovery_report_is_refused_with_exit_2_before_docker_and_leaves_nothing(tmp_path, capsys, case):
    make, options, message = BAD_REPORTS[case]
    report = make(tmp_path)
    assert main(["repro", "--from-report", str(report), *options]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert message in captured.err and "fix:" in captured.err and "Traceback" not in captured.err, captured.err
    assert not (tmp_path / "artifacts").exists() or not [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]


def test_repro_without_a_state_or_a_report_is_exit_2(capsys):
    assert main(["repro"]) == EXIT_USAGE
    assert "needs the user's state or a recovery report" in capsys.readouterr().err


def test_from_report_prints_what_it_inferred_and_could_not_before_docker_is_asked(tmp_path, capsys, monkeypatch):
    """The inference is checked and printed, the built state handed to the repro STATE path on the report's release;
    the first thing that path asks Docker for is where this stops (the autouse no_docker)."""
    import tempfile

    made: list[str] = []
    real = tempfile.TemporaryDirectory

    def remembered(*args, **kwargs):
        folder = real(*args, **kwargs)
        made.append(folder.name)
        return folder

    monkeypatch.setattr(tempfile, "TemporaryDirectory", remembered)
    with pytest.raises(AssertionError, match="before Docker is asked"):
        main(["repro", "--from-report", str(REPORTS / "156382" / "recovery-report.md")])
    out = capsys.readouterr().out
    assert out.index("inferred:") < out.index("could not infer:") < out.index("release: 2026.9.5 (the report)")
    assert "plugins.entries.<id>.enabled = true for codex" in out and "40a7c366-4102-46a5-8b6f-216100e9f571.jsonl" in out
    assert made and not any(Path(folder).exists() for folder in made)  # the built state is gone with the run
    assert not [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]


def test_from_report_dry_run_prints_and_stops_and_openclaw_overrides_the_reports_release(capsys):
    assert main(["repro", "--from-report", str(REPORTS / "156401" / "recovery-report.md"), "--dry-run", "--openclaw", "2026.9.6"]) == 0
    out = capsys.readouterr().out
    assert "3 target(s): main, bob, seraph" in out and "release: 2026.9.6 (--openclaw)" in out
