"""Put files into a named volume, owned by the Gateway's uid, with the mtimes we choose.

A created-but-never-started container mounts the volume and receives a tar through the engine API
(`docker cp` semantics), so this works the same with a local or a remote engine, and the helper
container never runs anything or touches the network.
"""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass

import docker

from .config import STATE_DIR
from .resources import RunResources, run_labels

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


def put_files(client: docker.DockerClient, resources: RunResources, image: str, volume: str,
              files: list[VolumeFile]) -> None:
    name = f"path3-{resources.run_id}-seed-{len(resources.containers)}"
    container = client.containers.create(
        image, command=["true"], name=name, network_mode="none", user="node",
        volumes={volume: {"bind": STATE_DIR, "mode": "rw"}}, labels=run_labels(resources.run_id, "seed"),
    )
    resources.track(name)
    try:
        if not container.put_archive(STATE_DIR, state_tar(files)):
            raise RuntimeError(f"the engine refused to copy {len(files)} files into volume {volume}")
    finally:
        container.remove(force=True)
