"""Put files into a named volume, owned by the Gateway's uid, with the mtimes we choose; copy a volume's
tree out again.

A helper container (testcontainers, no network, running only `true`) mounts the volume and receives (or sends) a
tar through the engine API (`docker cp` semantics), so this works the same with a local or a remote engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from ..errors import ContainerFailed
from ..state.config import STATE_DIR
from .resources import RunResources

GATEWAY_UID = 1000
GATEWAY_GID = 1000


@dataclass(frozen=True)
class VolumeFile:
    path: str  # relative to the state directory
    data: bytes
    mtime: float
    mode: int = 0o644


def state_tar(files: list[VolumeFile]) -> bytes:
    """A tar of `files` (and their parent directories) owned by uid/gid 1000."""
    buffer = io.BytesIO()
    directories: set[str] = set()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for item in files:
            parts = item.path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in directories:
                    directories.add(directory)
                    info = tarfile.TarInfo(directory)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
                    info.uid, info.gid = GATEWAY_UID, GATEWAY_GID
                    archive.addfile(info)
            info = tarfile.TarInfo(item.path)
            info.size, info.mode, info.mtime = len(item.data), item.mode, item.mtime
            info.uid, info.gid = GATEWAY_UID, GATEWAY_GID
            archive.addfile(info, io.BytesIO(item.data))
    return buffer.getvalue()


def put_files(resources: RunResources, image: str, volume: str, files: list[VolumeFile]) -> None:
    put_tar(resources, image, volume, state_tar(files))


def put_tar(resources: RunResources, image: str, volume: str, data: bytes) -> None:
    """Unpack a tar (paths relative to the state directory, owners as in the tar) into `volume`."""
    helper = resources.container(resources.unique_name("seed"), "seed", image, ["true"],
                                 state_volume=volume, user="node")
    try:
        if not helper.start().get_wrapped_container().put_archive(STATE_DIR, data):
            raise ContainerFailed(f"the engine refused to copy a {len(data)}-byte tar into volume {volume}")
    finally:
        helper.stop()  # removes it


@contextlib.contextmanager
def _state_archive(resources: RunResources, image: str, volume: str) -> Iterator[tuple[tarfile.TarFile, list]]:
    """The state directory of `volume` as a tar read from a read-only helper: (archive, members), each member's name
    relative to the state directory (the directory itself left out). Only for a volume no container is writing to:
    a live SQLite database copied mid-transaction is garbage."""
    helper = resources.container(resources.unique_name("copy"), "copy", image, ["true"],
                                 state_volume=volume, volume_mode="ro", user="node")
    try:
        stream, _ = helper.start().get_wrapped_container().get_archive(STATE_DIR)
        with tempfile.TemporaryFile() as spool:
            for chunk in stream:
                spool.write(chunk)
            spool.seek(0)
            with tarfile.open(fileobj=spool, mode="r:") as archive:
                members = []
                for member in archive.getmembers():
                    parts = PurePosixPath(member.name).parts[1:]  # the archive's root is the state dir itself
                    if parts:
                        member.name = "/".join(parts)
                        members.append(member)
                yield archive, members
    finally:
        helper.stop()  # removes it


def get_tar(resources: RunResources, image: str, volume: str, keep: Callable[[str], bool]) -> bytes:
    """A tar of the regular files and folders of `volume` whose state-relative path `keep` accepts, owners and
    mtimes as they are (what a user's `tar` of those files would hold)."""
    out = io.BytesIO()
    with _state_archive(resources, image, volume) as (archive, members), tarfile.open(fileobj=out, mode="w") as kept:
        for member in members:
            if (member.isfile() or member.isdir()) and keep(member.name):
                kept.addfile(member, archive.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def tar_digests(data: bytes) -> dict[str, str]:
    """The regular files in a tar, path -> sha256 of their bytes, sorted by path."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {m.name: hashlib.sha256(archive.extractfile(m).read()).hexdigest()
                for m in sorted(archive.getmembers(), key=lambda m: m.name) if m.isfile()}


def get_tree(resources: RunResources, image: str, volume: str, dest: Path) -> list[str]:
    """Copy the whole state directory out of `volume` into `dest`, regular files and folders with their mtimes.

    Links are left out (an OpenClaw state links plugin skills into the installed package, outside the tree);
    returns them as "path -> target"."""
    with _state_archive(resources, image, volume) as (archive, members):
        links = [f"{m.name} -> {m.linkname}" for m in members if m.issym() or m.islnk()]
        dest.mkdir(parents=True, exist_ok=True)
        archive.extractall(dest, members=[m for m in members if m.isfile() or m.isdir()], filter="data")
    return links
