"""A user's state as they attach it to a bug report, turned into a fixture the proof can run.

    unpack_state(source, workdir)   a directory, .tar.gz/.tgz/.tar or .zip of ~/.openclaw (bare tree or with a
                                    top-level .openclaw/ folder, any home prefix) -> the state root, written as
                                    folders and regular files only, within UnpackLimits (see "Hostile input")
    copy_without_links_out(s, t)    a directory copied the same way (also the first step of `fixtures redact`)
    infer_manifest(state, name)     what the state holds, as a fixture.json: agents, sessions, events, orphans,
                                    invalid entries, the warnings they imply, the author's state dir; a store,
                                    transcript line or config the harness parses that is nested deeper than
                                    inventory.MAX_JSON_DEPTH (or a document bigger than MAX_JSON_BYTES) is refused
    write_fixture(state, dest, …)   fixture.json + state/ at dest; a link in the state is refused, never followed
    read_tree(state)                every regular file's bytes and mtime

Hostile input. No archive goes through tarfile's or zipfile's extractall: the tar `data` filter of CPython 3.11.7
(and of every release before the CVE-2025-4517 fix; pyproject.toml allows any 3.11+) trusts os.path.realpath,
which stops expanding links at PATH_MAX, so a chain of long directory links lets a member be written outside the
destination. Here every member's place is worked out lexically, in the archive's own namespace, before a byte is
written, so the check does not depend on the Python it runs on:
  - a name that is absolute, holds `..` or a NUL, or is not UTF-8 refuses the archive; so does a member that lies
    under a link member or under a file (writing it would follow the link)
  - no link is ever created on disk. A link (symbolic or hard) is resolved in the namespace, following other link
    members (at most MAX_LINK_HOPS) and never above its root: a link to a regular file is written as a copy of it;
    a link to a folder, a dangling link or a loop is skipped with a note; a link out of the archive (absolute, or
    `..` above its top) refuses it, as the `data` filter did: what it names is not in the archive, a link out is
    how an archive writes outside, and the message names the link to remove (or to store with `tar -h`). In a
    directory such a link is the user's own setup (a folder kept elsewhere): skipped with a note, never followed
  - devices, fifos and sockets are skipped with a note
  - every byte written, each copy of a link included, counts against UnpackLimits: writing stops as soon as they
    are passed (declared sizes are checked first, so a bomb is refused before anything is written)
Every refusal is a FixtureError (exit 2) and leaves nothing of the unpacked tree behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from ..errors import FixtureError
from .inventory import MAX_JSON_DEPTH, build_inventory, nested_deeper_than

STATE_DIR_RE = re.compile(r"(/[^\"\s]*?/\.openclaw)/(?:agents|sessions)/")
MAX_LINK_HOPS = 40  # Linux's MAXSYMLINKS: a longer chain is a loop to any system that would follow it
LINKS = ("symlink", "hardlink")
CHUNK = 1024**2
TAR_HINT = "re-create it with `tar -czf state.tgz -C ~ .openclaw`"
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


@dataclass(frozen=True)
class _Member:
    """One entry of an archive or directory, at its lexically normalised place."""

    parts: tuple[str, ...]
    kind: str  # "file", "dir", "symlink", "hardlink" or "special"
    size: int = 0  # a file's declared size
    link: str = ""  # a link's target as stored: relative to its folder (symbolic) or to the top (hard)
    mtime: float | None = None
    ref: Any = None  # what opens its bytes: a TarInfo, a ZipInfo or a Path

    @property
    def name(self) -> str:
        return _short("/".join(self.parts) or ".")

    @property
    def target(self) -> str:
        return _short(self.link)


@dataclass(frozen=True)
class _Plan:
    """What will be written, decided before anything is."""

    dirs: tuple[tuple[str, ...], ...]
    files: tuple[_Member, ...]
    copies: tuple[tuple[_Member, _Member], ...]  # (a link, the regular file it resolves to): written as a copy
    skipped_links: tuple[str, ...]
    skipped_files: tuple[str, ...]

    @property
    def declared_bytes(self) -> int:
        return sum(m.size for m in self.files) + sum(file.size for _, file in self.copies)


class _Out(Exception):
    """A link's target leaves the namespace."""


class _Loop(Exception):
    """More than MAX_LINK_HOPS links on the way."""


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


def _writer_for(source: Path, limits: UnpackLimits) -> Callable[[Path], _Plan]:
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


def _copy_dir(source: Path, target: Path, limits: UnpackLimits, anchors: tuple[PurePosixPath, ...]) -> _Plan:
    try:
        members = _collect(_dir_members(source), limits, source)
        return _materialise(members, target, _open_no_follow, limits, source, None, anchors=anchors, links_out="skip")
    except OSError as error:
        raise FixtureError(f"{source} cannot be copied: {error}", hint="check that the state is readable") from None


def _extract_tar(source: Path, target: Path, limits: UnpackLimits) -> _Plan:
    try:
        with tarfile.open(source) as archive:
            members = _collect(_tar_members(archive, source), limits, source)  # the whole index first: a truncated
            return _materialise(members, target, lambda m: archive.extractfile(m.ref), limits, source,  # archive
                                source.stat().st_size, links_out="refuse")  # fails before anything is written
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}", hint=TAR_HINT) from None


def _extract_zip(source: Path, target: Path, limits: UnpackLimits) -> _Plan:
    try:
        with zipfile.ZipFile(source) as archive:
            members = _collect(_zip_members(archive, source), limits, source)
            return _materialise(members, target, lambda m: archive.open(m.ref), limits, source, source.stat().st_size,
                                links_out="refuse")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        # NotImplementedError: a compression zipfile lacks; RuntimeError: an encrypted member
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}", hint=ZIP_HINT) from None


def _tar_members(archive: tarfile.TarFile, source: Path) -> Iterator[_Member]:
    for info in archive:
        kind = ("file" if info.isreg() else "dir" if info.isdir() else "symlink" if info.issym()
                else "hardlink" if info.islnk() else "special")
        yield _Member(_parts(info.name, source, kind), kind, info.size if kind == "file" else 0, info.linkname,
                      info.mtime, info)


def _zip_members(archive: zipfile.ZipFile, source: Path) -> Iterator[_Member]:
    for info in archive.infolist():
        mode = info.external_attr >> 16  # Unix mode, when a Unix zip wrote it; 0 otherwise (a regular file)
        kind = ("dir" if info.is_dir() or stat.S_ISDIR(mode) else "symlink" if stat.S_ISLNK(mode)
                else "file" if stat.S_IFMT(mode) in (0, stat.S_IFREG) else "special")
        link = _zip_link(archive, info) if kind == "symlink" else ""
        yield _Member(_parts(info.filename, source, kind), kind, info.file_size if kind == "file" else 0, link, None, info)


def _zip_link(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A zip link's target is its content; one longer than any path is left unresolvable (skipped as dangling)."""
    with archive.open(info) as stream:
        data = stream.read(4097)
    return data.decode("utf-8", "surrogateescape") if len(data) <= 4096 else "\0"


def _dir_members(source: Path) -> Iterator[_Member]:
    for directory, dirs, files in os.walk(source):  # followlinks=False: a link to a folder is listed, never entered
        dirs.sort()
        here = Path(directory)
        for name in sorted(dirs + files):
            path = here / name
            info = path.lstat()
            kind = ("symlink" if stat.S_ISLNK(info.st_mode) else "dir" if stat.S_ISDIR(info.st_mode)
                    else "file" if stat.S_ISREG(info.st_mode) else "special")
            yield _Member(_parts(path.relative_to(source).as_posix(), source, kind),
                          kind, info.st_size if kind == "file" else 0,
                          os.readlink(path) if kind == "symlink" else "", info.st_mtime, path)


def _open_no_follow(member: _Member) -> BinaryIO:
    return open(member.ref, "rb", opener=lambda path, flags: os.open(path, flags | os.O_NOFOLLOW))


def _parts(name: str, source: Path, kind: str) -> tuple[str, ...]:
    """A member's place below the destination, from its name alone; an unsafe name refuses the whole source."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise FixtureError(f"{source} holds a file name that is not UTF-8: {_shown(name)}",
                           hint="OpenClaw writes UTF-8 names; rename or remove that file, then attach the state again") from None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    why = ("holds a NUL" if "\0" in name else "is absolute" if name.startswith("/") else "climbs out with `..`"
           if ".." in parts else f"is empty, for a {kind}" if not parts and kind != "dir" else None)
    if why:
        raise FixtureError(f"{source} cannot be unpacked: the member name {_short(_shown(name))!r} {why}",
                           hint="an archive of ~/.openclaw never holds one; " + TAR_HINT)
    return parts


def _short(path: str) -> str:
    """A path for a message: a component longer than any real one (CVE-2025-4517's are 254) shown by its length."""
    return "/".join(p if len(p) <= 40 else f"{p[:8]}…({len(p)} characters)" for p in path.split("/"))


def _shown(name: str) -> str:
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace").replace("\0", "\\0")
    except UnicodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _collect(members: Iterable[_Member], limits: UnpackLimits, source: Path) -> list[_Member]:
    collected = []
    for member in members:
        collected.append(member)
        _within(limits, source, 0, len(collected), None)  # stops reading a huge index as soon as it is too long
    return collected


def _materialise(members: list[_Member], target: Path, open_member: Callable[[_Member], BinaryIO], limits: UnpackLimits,
                 source: Path, archive_bytes: int | None, *, anchors: tuple[PurePosixPath, ...] = (),
                 links_out: str) -> _Plan:
    """Plan, check the declared sizes, then write: folders, regular files, then links as copies of the files
    already written (read back from the destination, which holds no link)."""
    plan = _plan(members, source, anchors, links_out)
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


def _plan(members: list[_Member], source: Path, anchors: tuple[PurePosixPath, ...], links_out: str) -> _Plan:
    namespace = {m.parts: m for m in members if m.parts}  # a later member replaces an earlier one, as tar does
    live = [m for m in members if m.parts and namespace[m.parts] is m]
    for member in live:
        _refuse_under_non_folder(namespace, member, source)
    folders = {m.parts[:i] for m in live for i in range(1, len(m.parts))} | {m.parts for m in live if m.kind == "dir"}
    files, copies, skipped_links, skipped_files = [], [], [], []
    for member in live:
        if member.kind == "file":
            files.append(member)
        elif member.kind == "special":
            skipped_files.append(f"{member.name} (a device, fifo or socket: not a regular file)")
        elif member.kind in LINKS:
            verdict, resolved = _resolve(namespace, folders, member, anchors)
            if verdict == "file":
                copies.append((member, namespace[resolved]))
            elif verdict == "out" and links_out == "refuse":
                raise FixtureError(f"{source} cannot be unpacked: its link {member.name} -> {member.target} leads out of "
                                   "the archive", hint="what it names is not in the archive: remove that link from the "
                                   "state (or archive with `tar -czhf`, which stores what links point to), then attach it again")
            else:
                why = "points out of the state" if verdict == "out" else verdict  # never followed: skipped
                skipped_links.append(f"{member.name} -> {member.target} ({why})")
    return _Plan(tuple(sorted(m.parts for m in live if m.kind == "dir")), tuple(files), tuple(copies),
                 tuple(skipped_links), tuple(skipped_files))


def _refuse_under_non_folder(namespace: dict[tuple[str, ...], _Member], member: _Member, source: Path) -> None:
    """A member below a link would be written through it (CVE-2025-4517's way out); below a file, nowhere."""
    for depth in range(1, len(member.parts)):
        above = namespace.get(member.parts[:depth])
        if above is not None and above.kind != "dir":
            what = "the link" if above.kind in LINKS else "the file"
            raise FixtureError(f"{source} cannot be unpacked: {member.name} lies under {what} {above.name}"
                               + (": writing it would follow that link" if above.kind in LINKS else ""),
                               hint="tar never stores anything under a link or a file; " + TAR_HINT)


def _resolve(namespace: dict[tuple[str, ...], _Member], folders: set[tuple[str, ...]], link: _Member,
             anchors: tuple[PurePosixPath, ...]) -> tuple[str, tuple[str, ...]]:
    """("file", its place) when `link` leads to a regular file of the namespace, else why it is not followed:
    "out", "a loop or a chain of more than 40 links", "a folder: never followed", "dangling"."""
    start = link.parts[:-1] if link.kind == "symlink" else ()  # a hard link names a member from the top
    try:
        parts = _follow(namespace, start, link.link, anchors, [MAX_LINK_HOPS])
    except _Out:
        return "out", ()
    except _Loop:
        return f"a loop or a chain of more than {MAX_LINK_HOPS} links", ()
    through_file = any(parts[:i] in namespace and namespace[parts[:i]].kind != "dir" for i in range(1, len(parts)))
    hit = namespace.get(parts)
    if through_file or (hit is None and parts not in folders and parts):
        return "dangling", parts
    if hit is not None and hit.kind == "file":
        return "file", parts
    if hit is not None and hit.kind == "special":
        return "a device, fifo or socket", parts
    return "a folder: never followed", parts


def _follow(namespace: dict[tuple[str, ...], _Member], start: tuple[str, ...], target: str,
            anchors: tuple[PurePosixPath, ...], budget: list[int]) -> tuple[str, ...]:
    """Where `target`, read from the folder `start`, leads: each link member met on the way is replaced by where
    it leads, as the kernel would, but in the namespace only (no file system is asked)."""
    if target.startswith("/"):  # in a directory, an absolute link may still name a place inside it
        inside = [PurePosixPath(target).parts[len(a.parts):] for a in anchors if PurePosixPath(target).is_relative_to(a)]
        if not inside:
            raise _Out
        start, target = (), "/".join(inside[0])
    current = list(start)
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                raise _Out
            current.pop()
            continue
        current.append(part)
        member = namespace.get(tuple(current))
        if member is not None and member.kind in LINKS:
            budget[0] -= 1
            if budget[0] < 0:
                raise _Loop
            base = tuple(current[:-1]) if member.kind == "symlink" else ()
            current = list(_follow(namespace, base, member.link, anchors, budget))
    return tuple(current)


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


def read_tree(state: Path) -> dict[str, tuple[bytes, float]]:
    """Every regular file under `state` (a link is not one: never read through)."""
    return {str(p.relative_to(state)): (p.read_bytes(), p.stat().st_mtime) for p in sorted(state.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def infer_manifest(state: Path, name: str, *, catches: str, origin: str) -> dict:
    tree = read_tree(state)
    _refuse_deep_config(tree)
    inventory = build_inventory(tree)  # a store or transcript line too deep or too big: FixtureError
    if inventory.unreadable:
        raise FixtureError(f"{state}: unreadable session store(s): {'; '.join(inventory.unreadable)}",
                           hint="JSON5 or corrupt stores are their own bug; attach the state and report it as is")
    agents: dict[str, dict] = {}
    invalid: dict[str, list[str]] = {}
    warnings: set[str] = set()
    referenced: set[str] = set()
    for entry in inventory.entries:
        agent = entry.agent or "main"
        if not entry.session_id:
            invalid.setdefault(agent, []).append(entry.key)
            warnings.add("entry_invalid")
            continue
        referenced.add(entry.session_id)
        transcript = inventory.transcript_for(entry.session_id, entry.session_file)
        if transcript is None:
            warnings.add("transcript_missing")
        else:
            referenced.add(transcript.session_id)
        spec = {"sessionId": entry.session_id, "events": transcript.distinct_events if transcript else 0}
        if transcript and transcript.repeated_lines:
            spec["duplicates"] = list(transcript.repeated_lines)
        if entry.key != entry.key.lower():
            spec["sqliteKey"] = entry.key.lower()  # 2026.9.x stores keys lowercased
        agents.setdefault(agent, {"sessions": {}})["sessions"][entry.key] = spec
    for transcript in inventory.transcripts:
        if ".checkpoint." in transcript.path or transcript.session_id in referenced:
            continue
        if PurePosixPath(transcript.path).stem in referenced:
            continue
        agent = transcript.agent or "main"  # strays in the retired top-level sessions/ go to the default agent
        agents.setdefault(agent, {"sessions": {}})["sessions"][f"agent:{agent}:recovered:{transcript.session_id}"] = {
            "sessionId": transcript.session_id, "events": transcript.distinct_events, "archived": True,
            **({"duplicates": list(transcript.repeated_lines)} if transcript.repeated_lines else {})}
    if not agents and not invalid:
        raise FixtureError(f"{state} holds no legacy sessions to upgrade", hint="check that this is the pre-upgrade state")
    written = Counter(m.group(1) for e in inventory.entries if e.session_file and (m := STATE_DIR_RE.search(e.session_file)))
    versions = Counter(f"v{t.version}" for t in inventory.transcripts if ".checkpoint." not in t.path)
    manifest = {"name": name, "catches": catches, "origin": origin,
                "state_dir_as_written": written.most_common(1)[0][0] if written else None,
                "retime": False, "legacy_transcript_versions": dict(sorted(versions.items())), "agents": agents}
    if invalid:
        manifest["invalid_entries"] = invalid
    manifest["expected_warnings"] = sorted(warnings)
    manifest["log_allowlist"] = []
    return manifest


def _refuse_deep_config(tree: dict[str, tuple[bytes, float]]) -> None:
    """The JSON files seeding parses besides the session stores (the config, an agent's models.json and
    auth-profiles.json), held to the inventory's depth limit here, before any engine is asked for."""
    from .config import CONFIG_NAME
    from .seeding import AUTH_PROFILES_RE, MODELS_JSON_RE

    for path, (data, _) in tree.items():
        parsed = path == CONFIG_NAME or AUTH_PROFILES_RE.match(path) or MODELS_JSON_RE.match(path)
        if parsed and nested_deeper_than(data, MAX_JSON_DEPTH):
            raise FixtureError(f"{path} nests JSON more than {MAX_JSON_DEPTH} deep, deeper than this harness parses",
                               hint="no OpenClaw state holds one: remove that file from the state, or report the "
                                    "state as its own bug, then attach it again")


def write_fixture(state: Path, dest: Path, manifest: dict) -> Path:
    """fixture.json + a copy of `state` at dest. The state is a tree unpack_state wrote (or a capture): folders
    and regular files only. A link in it is refused, never followed: copying through `la -> .` never ends."""
    if dest.exists() and any(dest.iterdir()):
        raise FixtureError(f"{dest} already exists", hint="pick another --name, or remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _copy_plain_tree(state, dest / "state")
    except BaseException:
        shutil.rmtree(dest / "state", ignore_errors=True)
        raise
    (dest / "fixture.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def _copy_plain_tree(source: Path, target: Path) -> None:
    def fail(error: OSError) -> None:
        raise error

    for directory, dirs, files in os.walk(source, onerror=fail):  # followlinks=False: a folder link is never entered
        here = Path(directory)
        (target / here.relative_to(source)).mkdir(parents=True, exist_ok=True)
        for name in sorted(dirs + files):
            path = here / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise FixtureError(f"{path} is a link or a special file: a fixture's state holds folders and regular "
                                   "files only", hint="make the fixture with `path3-sandbox fixtures add STATE`, which "
                                   "copies a link to a file and skips any other")
            shutil.copy2(path, target / path.relative_to(source), follow_symlinks=False)
