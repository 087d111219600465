"""Where each member of an attached state goes, decided before a byte is written: lexically, in the archive's own
namespace, never by asking the file system (state/unpack.py, "Hostile input", says why).

    member_parts(name, source, kind)   a member's place below the destination; an unsafe name refuses the source
    plan_writes(members, source, …)    the Plan: folders, regular files, and links written as copies of the regular
                                       file they resolve to (following other link members, at most MAX_LINK_HOPS,
                                       never above the root); what is skipped, with why. A member under a link or a
                                       file, or (from an archive) a link out of it, is a FixtureError
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import FixtureError

MAX_LINK_HOPS = 40  # Linux's MAXSYMLINKS: a longer chain is a loop to any system that would follow it
LINKS = ("symlink", "hardlink")
TAR_HINT = "re-create it with `tar -czf state.tgz -C ~ .openclaw`"


@dataclass(frozen=True)
class Member:
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
class Plan:
    """What will be written, decided before anything is."""

    dirs: tuple[tuple[str, ...], ...]
    files: tuple[Member, ...]
    copies: tuple[tuple[Member, Member], ...]  # (a link, the regular file it resolves to): written as a copy
    skipped_links: tuple[str, ...]
    skipped_files: tuple[str, ...]

    @property
    def declared_bytes(self) -> int:
        return sum(m.size for m in self.files) + sum(file.size for _, file in self.copies)


class _Out(Exception):
    """A link's target leaves the namespace."""


class _Loop(Exception):
    """More than MAX_LINK_HOPS links on the way."""


def member_parts(name: str, source: Path, kind: str) -> tuple[str, ...]:
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


def plan_writes(members: list[Member], source: Path, anchors: tuple[PurePosixPath, ...], links_out: str) -> Plan:
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
    return Plan(tuple(sorted(m.parts for m in live if m.kind == "dir")), tuple(files), tuple(copies),
                tuple(skipped_links), tuple(skipped_files))


def _refuse_under_non_folder(namespace: dict[tuple[str, ...], Member], member: Member, source: Path) -> None:
    """A member below a link would be written through it (CVE-2025-4517's way out); below a file, nowhere."""
    for depth in range(1, len(member.parts)):
        above = namespace.get(member.parts[:depth])
        if above is not None and above.kind != "dir":
            what = "the link" if above.kind in LINKS else "the file"
            raise FixtureError(f"{source} cannot be unpacked: {member.name} lies under {what} {above.name}"
                               + (": writing it would follow that link" if above.kind in LINKS else ""),
                               hint="tar never stores anything under a link or a file; " + TAR_HINT)


def _resolve(namespace: dict[tuple[str, ...], Member], folders: set[tuple[str, ...]], link: Member,
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


def _follow(namespace: dict[tuple[str, ...], Member], start: tuple[str, ...], target: str,
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
