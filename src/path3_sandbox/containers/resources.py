"""Everything a run creates in Docker, labelled with its run id and removed in a `finally`.

One factory per resource: `volume()`, `network()` and `container()` (a testcontainers `DockerContainer`, not yet
started), and `commit()` (a container's filesystem as an image, for one-offs after an in-place install). Each carries `path3-sandbox.run-id` plus the host, pid and start time of the process that owns it, so
`path3-sandbox clean` can tell a live run's resources from a dead run's leftovers, and testcontainers' session
label, so Ryuk (where it runs, see reaper.py) reaps volumes and networks too, not only containers.
Every name is recorded before the resource is created: a signal in between must not leak it.
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import time
from typing import Self

import docker
import docker.errors
import psutil
import requests
from testcontainers.core.container import DockerContainer
from testcontainers.core.labels import create_labels
from testcontainers.core.network import Network

from ..state.config import STATE_DIR
from ..progress import say
from ..signals import cleanup_shielded
from . import reaper

LABEL_RUN = "path3-sandbox.run-id"
LABEL_ROLE = "path3-sandbox.role"
LABEL_OWNER_HOST = "path3-sandbox.owner-host"
LABEL_OWNER_PID = "path3-sandbox.owner-pid"
LABEL_OWNER_STARTED = "path3-sandbox.owner-started"  # the owner's start time: a reused pid is not the owner
API_TIMEOUT_S = 900  # a container's docker client: a `wait` on a one-off can take minutes


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def run_labels(run_id: str, role: str) -> dict[str, str]:
    return {LABEL_RUN: run_id, LABEL_ROLE: role, LABEL_OWNER_HOST: socket.gethostname(), LABEL_OWNER_PID: str(os.getpid()),
            LABEL_OWNER_STARTED: f"{psutil.Process().create_time():.2f}"}


class RunResources:
    """Creates labelled volumes, networks and containers, and removes them all on close unless `keep`."""

    def __init__(self, client: docker.DockerClient, run_id: str, *, keep: bool = False) -> None:
        self.client = client
        self.run_id = run_id
        self.keep = keep
        self.reaper: reaper.ReaperChoice | None = None  # decided before the first testcontainers object
        self._numbers = itertools.count()  # next() is atomic: fixtures proved side by side never share a name
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.images: list[str] = []
        self.failed: list[str] = []

    def unique_name(self, purpose: str) -> str:
        """`path3-<run>-<purpose>-<n>`, n never repeated in this run, whichever thread asks."""
        return f"path3-{self.run_id}-{purpose}-{next(self._numbers)}"

    def volume(self, purpose: str, *, driver_opts: dict[str, str] | None = None) -> str:
        """A labelled named volume; `driver_opts` for the local driver, e.g. a size-capped tmpfs."""
        name = f"path3-{self.run_id}-{purpose}"
        self.volumes.append(name)  # recorded first: a signal between create and append must not leak it
        self.client.volumes.create(name=name, driver_opts=driver_opts or None,
                                   labels=create_labels("", run_labels(self.run_id, f"volume:{purpose}")))
        return name

    def _decide_reaper(self) -> None:
        if self.reaper is None:
            self.reaper = reaper.configure(self.client, keep=self.keep)

    def network(self, purpose: str, *, internal: bool) -> Network:
        self._decide_reaper()
        network = Network(docker_network_kw={"driver": "bridge", "internal": internal,
                                             "labels": run_labels(self.run_id, f"network:{purpose}")})
        network.name = f"path3-{self.run_id}-{purpose}"  # ours, not a random uuid: `docker network ls` says whose
        self.networks.append(network.name)
        return network.create()

    def container(self, name: str, role: str, image: str, command: list[str], *, state_volume: str | None = None,
                  volume_mode: str = "rw", network: str = "none", **create_kwargs: object) -> DockerContainer:
        """A labelled, tracked, not yet started container. `network` is always explicit ("none", "bridge" or a
        network's name): testcontainers would otherwise guess one when it runs inside a container."""
        self._decide_reaper()
        self.containers.append(name)
        container = DockerContainer(image, docker_client_kw={"timeout": API_TIMEOUT_S}).with_name(name).with_command(command)
        container.image = image  # a locally built tag: never TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX + tag
        if state_volume:
            container.with_volume_mapping(state_volume, STATE_DIR, volume_mode)  # testcontainers' default is "ro"
        return container.with_kwargs(labels=run_labels(self.run_id, role), network=network, **create_kwargs)

    def commit(self, container, purpose: str) -> str:
        """Commit a docker-py container to `path3-sandbox/run-image:<run id>-<purpose>`, labelled; removed on close."""
        repository, tag = "path3-sandbox/run-image", f"{self.run_id}-{purpose}"
        self.images.append(f"{repository}:{tag}")  # recorded first, as every resource is
        container.commit(repository=repository, tag=tag, conf={"Labels": run_labels(self.run_id, f"image:{purpose}")})
        return f"{repository}:{tag}"

    def close(self) -> list[str]:
        """Remove every container, then every network, volume and committed image; a resource already gone is removed, any other error is
        recorded in `failed` and the removal goes on. No signal interrupts it (signals.cleanup_shielded)."""
        if self.keep:
            return []
        removed: list[str] = []
        with cleanup_shielded():
            for kind, name in [("container", n) for n in reversed(self.containers)] + \
                              [("network", n) for n in reversed(self.networks)] + \
                              [("volume", n) for n in reversed(self.volumes)] + \
                              [("image", n) for n in reversed(self.images)]:
                try:
                    if kind == "container":
                        self.client.containers.get(name).remove(force=True, v=True)
                    elif kind == "network":
                        self.client.networks.get(name).remove()
                    elif kind == "image":
                        self.client.images.remove(name, force=True)
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
