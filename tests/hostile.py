"""Hostile attachments, built by script (never committed as binaries): each holds the `minimal` fixture's state
under .openclaw/, so that only the hostile part can be what the unpacker refuses.

    realpath_limit_tar(dest, unpack_dir)  CVE-2025-4517, built like CPython's test_realpath_limit_attack: a chain of
                                          directory links with long names, then a link through it out of the
                                          destination and a file written through that link
    link_loop_tar(dest)                   la -> . and lb -> . next to the state: copying that follows them never ends
    link_multiplier_tar(dest, …)          one 1 MiB file of random bytes and 60 links to it (hard or symbolic)
    deep_json_tar(dest, …)                a sessions.json (or a transcript line, or a config) nested 100,000 deep
    links_out_tar(dest)                   a link to /etc/passwd and one to ../../outside
    member_tar(dest, *infos)              the state plus the given TarInfo members, for one-off cases
"""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

from path3_sandbox.state.fixtures import resolve_fixture

PREFIX = ".openclaw"


def add_state(archive: tarfile.TarFile, prefix: str = PREFIX) -> None:
    archive.add(resolve_fixture("minimal").state, arcname=prefix)


def add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def add_link(archive: tarfile.TarFile, name: str, target: str, *, hard: bool = False) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    archive.addfile(info)


def add_dir(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o777
    archive.addfile(info)


def realpath_limit_tar(dest: Path, unpack_dir: Path | str, *, up: int = 1) -> Path:
    """The link chain sized for `unpack_dir` (where the archive will be unpacked), so that each link's own path
    fits in PATH_MAX but its expansion does not: os.path.realpath(strict=False) then stops expanding, and the
    3.11.7 `data` filter takes `escape` (`up` folders above `unpack_dir`) for a link inside the destination."""
    steps = "abcdefghijklmnop"
    path_max = os.pathconf("/", "PC_PATH_MAX")
    component = "d" * ((path_max - len(str(unpack_dir)) - 1) // (len(steps) + 1))
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        path = ""
        for step in steps:
            add_dir(archive, os.path.join(path, component))
            add_link(archive, os.path.join(path, step), component)
            path = os.path.join(path, component)
        linkpath = os.path.join(*steps, "l" * 254)
        add_link(archive, linkpath, os.path.join(*[".."] * len(steps)))
        add_link(archive, "escape", os.path.join(linkpath, *[".."] * up))
        add_file(archive, "escape/newfile", b"written outside the destination\n")
    return dest


def link_loop_tar(dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        add_link(archive, f"{PREFIX}/la", ".")
        add_link(archive, f"{PREFIX}/lb", ".")
    return dest


def link_multiplier_tar(dest: Path, *, links: int = 60, size: int = 1024**2, hard: bool = True) -> Path:
    """Random bytes: they do not compress, so the archive is as big as the file and no ratio limit applies."""
    blob = f"{PREFIX}/blob.bin"
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        add_file(archive, blob, random.Random(4517).randbytes(size))
        for number in range(links):
            add_link(archive, f"{PREFIX}/copy-{number}.bin", blob if hard else "blob.bin", hard=hard)
    return dest


def deep_json_tar(dest: Path, *, depth: int = 100_000, name: str = "sessions.json") -> Path:
    """`name` nested `depth` deep: sessions.json, a transcript (its second line), or any other JSON file of the
    state (e.g. openclaw.json, relative to the state root)."""
    nested = "[" * depth + "]" * depth
    if name.endswith(".jsonl"):
        data = '{"type":"session","version":3,"id":"deep"}\n{"type":"message","id":"m1","x":' + nested + "}\n"
    else:
        data = '{"agent:main:main": ' + nested + "}"
    path = f"agents/main/sessions/{name}" if name == "sessions.json" or name.endswith(".jsonl") else name
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        add_file(archive, f"{PREFIX}/{path}", data.encode())
    return dest


def links_out_tar(dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        add_link(archive, f"{PREFIX}/passwd", "/etc/passwd")
        add_link(archive, f"{PREFIX}/agents/outside", "../../outside")
    return dest


def member_tar(dest: Path, *infos: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        add_state(archive)
        for info, data in infos:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return dest
