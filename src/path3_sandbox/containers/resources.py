"""Everything a run creates in Docker, labelled with its run id and removed in a `finally`.

Containers and named volumes carry `path3-sandbox.run-id`, plus the host and pid of the process that
owns them, so `path3-sandbox clean` can tell a live run's resources from a dead run's leftovers.
(Ryuk-style reapers ignore named volumes; we don't rely on one.)
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from typing import Self

import docker
import psutil
import docker.errors
import requests

from ..progress import say
from ..signals import cleanup_shielded

LABEL_RUN = "path3-sandbox.run-id"
LABEL_ROLE = "path3-sandbox.role"
LABEL_OWNER_HOST = "path3-sandbox.owner-host"
LABEL_OWNER_PID = "path3-sandbox.owner-pid"
LABEL_OWNER_STARTED = "path3-sandbox.owner-started"  # the owner's start time: a reused pid is not the owner


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def run_labels(run_id: str, role: str) -> dict[str, str]:
    return {LABEL_RUN: run_id, LABEL_ROLE: role, LABEL_OWNER_HOST: socket.gethostname(), LABEL_OWNER_PID: str(os.getpid()),
            LABEL_OWNER_STARTED: f"{psutil.Process().create_time():.2f}"}


class RunResources:
    """Creates labelled volumes, tracks containers, and removes them all on close unless `keep`."""

    def __init__(self, client: docker.DockerClient, run_id: str, *, keep: bool = False) -> None:
        self.client = client
        self.run_id = run_id
        self.keep = keep
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.failed: list[str] = []

    def volume(self, purpose: str) -> str:
        name = f"path3-{self.run_id}-{purpose}"
        self.volumes.append(name)  # recorded first: a signal between create and append must not leak it
        self.client.volumes.create(name=name, labels=run_labels(self.run_id, f"volume:{purpose}"))
        return name

    def network(self, purpose: str, *, internal: bool) -> str:
        name = f"path3-{self.run_id}-{purpose}"
        self.networks.append(name)
        self.client.networks.create(name, driver="bridge", internal=internal,
                                    labels=run_labels(self.run_id, f"network:{purpose}"))
        return name

    def track(self, container_name: str) -> None:
        self.containers.append(container_name)

    def close(self) -> list[str]:
        """Remove every container, then every network and volume; a resource already gone is removed, any other error is
        recorded in `failed` and the removal goes on. No signal interrupts it (signals.cleanup_shielded)."""
        if self.keep:
            return []
        removed: list[str] = []
        with cleanup_shielded():
            for kind, name in [("container", n) for n in reversed(self.containers)] + \
                              [("network", n) for n in reversed(self.networks)] + \
                              [("volume", n) for n in reversed(self.volumes)]:
                try:
                    if kind == "container":
                        self.client.containers.get(name).remove(force=True, v=True)
                    elif kind == "network":
                        self.client.networks.get(name).remove()
                    else:
                        self.client.volumes.get(name).remove(force=True)
                    removed.append(f"{kind} {name}")
                except docker.errors.NotFound:
                    pass
                except (docker.errors.DockerException, requests.RequestException) as error:
                    self.failed.append(f"{kind} {name}: {getattr(error, 'explanation', None) or error}")
        return removed

    def keep_instructions(self) -> str:
        alive = [c.name for c in self.client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={self.run_id}"})]
        lines = [f"kept for inspection (run {self.run_id}):"]
        for name in alive:
            lines += [f"  docker start {name} && docker exec -it {name} bash", f"  docker logs {name}"]
        lines += [f"  docker run --rm -it -v {volume}:/home/node/.openclaw --entrypoint bash <image>" for volume in self.volumes]
        lines.append(f"remove with: path3-sandbox clean --run {self.run_id}")
        lines.append(f"  (or: docker rm -f {' '.join(alive) or '-'}; docker network rm {' '.join(self.networks) or '-'}; "
                     f"docker volume rm {' '.join(self.volumes) or '-'})")
        return "\n".join(lines)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        removed = self.close()
        if self.failed:
            say("cleanup", f"could NOT remove {len(self.failed)} resource(s) of run {self.run_id}: "
                           + "; ".join(self.failed) + f"\n  retry with: path3-sandbox clean --run {self.run_id}")
        if self.keep and (self.containers or self.volumes):
            say("cleanup", self.keep_instructions())
        elif removed:
            say("cleanup", f"removed {len(removed)} resources of run {self.run_id}")
