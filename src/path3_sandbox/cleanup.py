"""`path3-sandbox clean`: remove containers and volumes left by runs that are no longer alive."""

from __future__ import annotations

import socket

import docker
import docker.errors
import psutil

from .resources import LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN


def owner_alive(labels: dict[str, str]) -> bool:
    """A run is alive when its owner process still runs on this host (other hosts: assume alive)."""
    if labels.get(LABEL_OWNER_HOST) != socket.gethostname():
        return True
    try:
        return psutil.pid_exists(int(labels.get(LABEL_OWNER_PID, "0")))
    except ValueError:
        return False


def clean(client: docker.DockerClient, *, run_id: str | None = None, everything: bool = False) -> list[str]:
    """Remove what dead runs left. A resource that is already gone is success (a run's one-off containers
    remove themselves, possibly between our listing and our removal); any other API error is reported
    and the clean goes on."""
    selector = f"{LABEL_RUN}={run_id}" if run_id else LABEL_RUN
    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": selector}):
        if run_id or everything or not owner_alive(container.labels):
            name = f"container {container.name} (run {container.labels.get(LABEL_RUN)})"
            try:
                container.remove(force=True, v=True)
                removed.append(name)
            except docker.errors.NotFound:
                removed.append(f"{name}: already gone")
            except docker.errors.APIError as error:
                removed.append(f"{name} NOT removed: {error.explanation}")
    for volume in client.volumes.list(filters={"label": selector}):
        labels = volume.attrs.get("Labels") or {}
        if run_id or everything or not owner_alive(labels):
            try:
                volume.remove(force=True)
                removed.append(f"volume {volume.name} (run {labels.get(LABEL_RUN)})")
            except docker.errors.NotFound:
                removed.append(f"volume {volume.name} (run {labels.get(LABEL_RUN)}): already gone")
            except docker.errors.APIError as error:  # still mounted by a container another run owns
                removed.append(f"volume {volume.name} NOT removed: {error.explanation}")
    return removed
