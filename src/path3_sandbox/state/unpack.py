"""A user's state as they attach it to a bug report, unpacked safely: folders and regular files only.

    unpack_state(source, workdir)   a directory, .tar.gz/.tgz/.tar or .zip of ~/.openclaw (bare tree or with a
                                    top-level .openclaw/ folder, any home prefix) -> the state root, written as
                                    folders and regular files only, within UnpackLimits (see "Hostile input")
    copy_without_links_out(s, t)    a directory copied the same way (also the first step of `fixtures redact`)
    find_state_root(tree, source)   the shallowest folder under `tree` that looks like ~/.openclaw

Where each member goes (names, links) is planned in state/unpack_plan.py; this module reads the source (directory,
tar or zip), checks the plan against UnpackLimits and writes it.

Hostile input. No archive goes through tarfile's or zipfile's extractall: the tar `data` filter of CPython 3.11.7
(and of every release before the CVE-2025-4517 fix; pyproject.toml allows any 3.11+) trusts os.path.realpath,
which stops expanding links at PATH_MAX, so a chain of long directory links lets a member be written outside the
destination. Here every member's place is worked out lexically, in the archive's own namespace, before a byte is
written, so the check does not depend on the Python it runs on:
  - a name that is absolute, holds `..` or a NUL, or is not UTF-8 refuses the archive; so does a member that lies
    under a link member or under a file (writing it would follow the link)
  - no link is ever created on disk. A link (symbolic or hard) is resolved in the namespace, following other link
    members (at most unpack_plan.MAX_LINK_HOPS) and never above its root: a link to a regular file is written as a
    copy of it; a link to a folder, a dangling link or a loop is skipped with a note; a link out of the archive
    (absolute, or `..` above its top) refuses it, as the `data` filter did: what it names is not in the archive, a
    link out is how an archive writes outside, and the message names the link to remove (or to store with `tar -h`).
    In a directory such a link is the user's own setup (a folder kept elsewhere): skipped with a note, never followed
  - devices, fifos and sockets are skipped with a note
  - every byte written, each copy of a link included, counts against UnpackLimits: writing stops as soon as they
    are passed (declared sizes are checked first, so a bomb is refused before anything is written)
Every refusal is a FixtureError (exit 2) and leaves nothing of the unpacked tree behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator

from ..errors import FixtureError
from .unpack_plan import TAR_HINT, Member, Plan, member_parts, plan_writes

CHUNK = 1024**2
ZIP_HINT = "re-create it with `cd ~ && zip -r state.zip .openclaw`"


@dataclass(frozen=True)
class UnpackLimits:
    """What an attached state may expand to; a bigger one is refused before it fills the disk (override with the
    CLI's --max-unpacked-mb, --max-members, --max-ratio). Bytes are counted as written: a link copied is counted
    each time."""

    max_bytes: int = 2 * 1024**3
    max_members: int = 100_000
    max_ratio: float = 200.0  # unpacked bytes per archive byte: JSONL compresses ~10-30x; a bomb, thousands


@dataclass(frozen=True)
class Unpacked:
    root: Path
    skipped_links: tuple[str, ...] = ()  # links to folders, dangling or looping (in a directory, also out of it)
    skipped_files: tuple[str, ...] = ()  # devices, fifos, sockets: not part of a state

    def notes(self) -> list[str]:
        return [f"skipped link {link}" for link in self.skipped_links] + [f"skipped {f}" for f in self.skipped_files]


def unpack_state(source: Path, workdir: Path, limits: UnpackLimits = UnpackLimits()) -> Unpacked:
    """The state root inside `source`, copied or extracted to `workdir`/unpacked as folders and regular files only
    (module docstring). Every refusal is a FixtureError (exit 2), and removes what was written."""
    if not source.exists() and not source.is_symlink():
        raise FixtureError(f"{source} does not exist", hint="pass a state directory, .tar.gz or .zip of ~/.openclaw")
    target = workdir / "unpacked"
    if target.exists():  # removed again on failure: it must be this call's own
        raise FixtureError(f"{target} already exists", hint="unpack into a new folder")
    write = _writer_for(source, limits)
    try:
        plan = write(target)
        return Unpacked(find_state_root(target, source), plan.skipped_links, plan.skipped_files)
    except BaseException:  # a refusal, a full disk or Ctrl-C: no half-unpacked state stays
        shutil.rmtree(target, ignore_errors=True)
        raise


def _writer_for(source: Path, limits: UnpackLimits) -> Callable[[Path], Plan]:
    if source.is_dir():
        anchors = tuple(dict.fromkeys(PurePosixPath(p) for p in (os.path.abspath(source), source.resolve())))
        return lambda target: _copy_dir(source.resolve(), target, limits, anchors)
    if not source.is_file():
        raise FixtureError(f"{source} is not a file or directory (a dangling link?)", hint="pass the state itself")
    try:
        if tarfile.is_tarfile(source):
            return lambda target: _extract_tar(source, target, limits)
        if zipfile.is_zipfile(source):
            return lambda target: _extract_zip(source, target, limits)
    except OSError as error:
        raise FixtureError(f"{source} cannot be read: {error}", hint="check its permissions") from None
    raise FixtureError(f"{source} is neither a directory, a tar archive nor a zip file",
                       hint="pass ~/.openclaw itself, or a .tar.gz/.zip of it")


def copy_without_links_out(source: Path, target: Path, limits: UnpackLimits = UnpackLimits()) -> list[str]:
    """Copy a directory as folders and regular files: a link to a file inside it becomes a copy of that file, any
    other link (to a folder, out of it, dangling) and any device, fifo or socket is skipped and listed."""
    plan = _copy_dir(source, target, limits, (PurePosixPath(source),))
    return [*plan.skipped_links, *plan.skipped_files]


def _copy_dir(source: Path, target: Path, limits: UnpackLimits, anchors: tuple[PurePosixPath, ...]) -> Plan:
    try:
        members = _collect(_dir_members(source), limits, source)
        return _materialise(members, target, _open_no_follow, limits, source, None, anchors=anchors, links_out="skip")
    except OSError as error:
        raise FixtureError(f"{source} cannot be copied: {error}", hint="check that the state is readable") from None


def _extract_tar(source: Path, target: Path, limits: UnpackLimits) -> Plan:
    try:
        with tarfile.open(source) as archive:
            members = _collect(_tar_members(archive, source), limits, source)  # the whole index first: a truncated
            return _materialise(members, target, lambda m: archive.extractfile(m.ref), limits, source,  # archive
                                source.stat().st_size, links_out="refuse")  # fails before anything is written
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}", hint=TAR_HINT) from None


def _extract_zip(source: Path, target: Path, limits: UnpackLimits) -> Plan:
    try:
        with zipfile.ZipFile(source) as archive:
            members = _collect(_zip_members(archive, source), limits, source)
            return _materialise(members, target, lambda m: archive.open(m.ref), limits, source, source.stat().st_size,
                                links_out="refuse")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        # NotImplementedError: a compression zipfile lacks; RuntimeError: an encrypted member
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}", hint=ZIP_HINT) from None


def _tar_members(archive: tarfile.TarFile, source: Path) -> Iterator[Member]:
    for info in archive:
        kind = ("file" if info.isreg() else "dir" if info.isdir() else "symlink" if info.issym()
                else "hardlink" if info.islnk() else "special")
        yield Member(member_parts(info.name, source, kind), kind, info.size if kind == "file" else 0, info.linkname,
                     info.mtime, info)


def _zip_members(archive: zipfile.ZipFile, source: Path) -> Iterator[Member]:
    for info in archive.infolist():
        mode = info.external_attr >> 16  # Unix mode, when a Unix zip wrote it; 0 otherwise (a regular file)
        kind = ("dir" if info.is_dir() or stat.S_ISDIR(mode) else "symlink" if stat.S_ISLNK(mode)
                else "file" if stat.S_IFMT(mode) in (0, stat.S_IFREG) else "special")
        link = _zip_link(archive, info) if kind == "symlink" else ""
        yield Member(member_parts(info.filename, source, kind), kind, info.file_size if kind == "file" else 0, link,
                     None, info)


def _zip_link(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A zip link's target is its content; one longer than any path is left unresolvable (skipped as dangling)."""
    with archive.open(info) as stream:
        data = stream.read(4097)
    return data.decode("utf-8", "surrogateescape") if len(data) <= 4096 else "\0"


def _dir_members(source: Path) -> Iterator[Member]:
    for directory, dirs, files in os.walk(source):  # followlinks=False: a link to a folder is listed, never entered
        dirs.sort()
        here = Path(directory)
        for name in sorted(dirs + files):
            path = here / name
            info = path.lstat()
            kind = ("symlink" if stat.S_ISLNK(info.st_mode) else "dir" if stat.S_ISDIR(info.st_mode)
                    else "file" if stat.S_ISREG(info.st_mode) else "special")
            yield Member(member_parts(path.relative_to(source).as_posix(), source, kind),
                         kind, info.st_size if kind == "file" else 0,
                         os.readlink(path) if kind == "symlink" else "", info.st_mtime, path)


def _open_no_follow(member: Member) -> BinaryIO:
    return open(member.ref, "rb", opener=lambda path, flags: os.open(path, flags | os.O_NOFOLLOW))


def _collect(members: Iterable[Member], limits: UnpackLimits, source: Path) -> list[Member]:
    collected = []
    for member in members:
        collected.append(member)
        _within(limits, source, 0, len(collected), None)  # stops reading a huge index as soon as it is too long
    return collected


def _materialise(members: list[Member], target: Path, open_member: Callable[[Member], BinaryIO], limits: UnpackLimits,
                 source: Path, archive_bytes: int | None, *, anchors: tuple[PurePosixPath, ...] = (),
                 links_out: str) -> Plan:
    """Plan, check the declared sizes, then write: folders, regular files, then links as copies of the files
    already written (read back from the destination, which holds no link)."""
    plan = plan_writes(members, source, anchors, links_out)
    _within(limits, source, plan.declared_bytes, 0, archive_bytes)
    counter = _Written(limits, source, archive_bytes)
    created = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for folder in plan.dirs:
            target.joinpath(*folder).mkdir(parents=True, exist_ok=True)
        for member in plan.files:
            with open_member(member) as stream:
                _write_file(stream, target.joinpath(*member.parts), member.mtime, counter)
        for link, file in plan.copies:
            with open(target.joinpath(*file.parts), "rb") as stream:
                _write_file(stream, target.joinpath(*link.parts), file.mtime, counter)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise
    return plan


class _Written:
    """Bytes actually written, against the limits: the declared sizes of an archive may lie."""

    def __init__(self, limits: UnpackLimits, source: Path, archive_bytes: int | None) -> None:
        self.limits, self.source, self.archive_bytes, self.total = limits, source, archive_bytes, 0

    def add(self, count: int) -> None:
        self.total += count
        _within(self.limits, self.source, self.total, 0, self.archive_bytes)


def _write_file(stream: BinaryIO, path: Path, mtime: float | None, counter: _Written) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as out:  # x: never onto (or through) anything already there
        while chunk := stream.read(CHUNK):
            counter.add(len(chunk))  # before the write: a file over the limit is never completed
            out.write(chunk)
    if mtime is not None:
        try:
            os.utime(path, (mtime, mtime))
        except (OverflowError, ValueError, OSError):
            pass  # an absurd mtime in a header: the file keeps the time it was written


def _within(limits: UnpackLimits, source: Path, total: int, members: int, archive_bytes: int | None) -> None:
    if members > limits.max_members:
        raise FixtureError(f"{source} holds more than {limits.max_members} files", hint="raise --max-members if it is genuine")
    if total > limits.max_bytes:
        raise FixtureError(f"{source} unpacks to more than {limits.max_bytes // 1024**2} MB",
                           hint="raise --max-unpacked-mb if the state is genuinely that large")
    if archive_bytes and total > 1024**2 and total / archive_bytes > limits.max_ratio:
        raise FixtureError(f"{source} expands {total / archive_bytes:.0f}x ({archive_bytes} bytes to {total}), more than "
                           f"the {limits.max_ratio:.0f}x a state compresses to: refused as a possible archive bomb",
                           hint="raise --max-ratio if the state is genuinely that repetitive")


def find_state_root(tree: Path, source: Path) -> Path:
    """The shallowest directory that looks like ~/.openclaw: it has agents/*/sessions/ or sessions/."""
    candidates = sorted((p for p in [tree, *tree.rglob("*")] if p.is_dir() and _looks_like_state(p)),
                        key=lambda p: len(p.parts))
    if not candidates:
        raise FixtureError(f"{source} is not an OpenClaw state: no agents/<id>/sessions/ or sessions/ folder with "
                           "sessions.json or .jsonl transcripts was found",
                           hint="attach the whole ~/.openclaw folder (or OPENCLAW_STATE_DIR), not a part of it")
    return candidates[0]


def _looks_like_state(path: Path) -> bool:
    session_dirs = [*path.glob("agents/*/sessions"), path / "sessions"]
    return any(d.is_dir() and any(f.suffix in (".json", ".jsonl") for f in d.iterdir()) for d in session_dirs)
