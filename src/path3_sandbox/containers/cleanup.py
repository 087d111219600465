"""`path3-sandbox clean`: remove containers, networks and volumes left by runs that are no longer alive, and, with
`--artifacts --older-than 7d`, the evidence folders of old runs."""

from __future__ import annotations

import re
import shutil
import socket
import time
from pathlib import Path

import docker
import docker.errors
import psutil

from .resources import LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_OWNER_STARTED, LABEL_RUN


def owner_alive(labels: dict[str, str]) -> bool:
    """A run is alive when its owner process still runs on this host (other hosts: assume alive): the same pid,
    started at the same time (a pid the system gave to another process since is not the owner)."""
    if labels.get(LABEL_OWNER_HOST) != socket.gethostname():
        return True
    try:
        process = psutil.Process(int(labels.get(LABEL_OWNER_PID, "0")))
        started = labels.get(LABEL_OWNER_STARTED)
        return started is None or abs(process.create_time() - float(started)) < 1.0
    except (ValueError, psutil.Error):
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
    for network in client.networks.list(filters={"label": selector}):
        labels = network.attrs.get("Labels") or {}
        if run_id or everything or not owner_alive(labels):
            try:
                network.remove()
                removed.append(f"network {network.name} (run {labels.get(LABEL_RUN)})")
            except docker.errors.NotFound:
                removed.append(f"network {network.name} (run {labels.get(LABEL_RUN)}): already gone")
            except docker.errors.APIError as error:  # a container another run owns is still attached
                removed.append(f"network {network.name} NOT removed: {error.explanation}")
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
    # Images a run committed (an in-place install's container, for its one-offs): only they carry a run id.
    for image in client.images.list(filters={"label": selector}) if hasattr(client, "images") else []:
        labels = image.labels or {}
        if run_id or everything or not owner_alive(labels):
            for tag in image.tags or [image.id]:
                try:
                    client.images.remove(tag, force=True)
                    removed.append(f"image {tag} (run {labels.get(LABEL_RUN)})")
                except docker.errors.NotFound:
                    removed.append(f"image {tag} (run {labels.get(LABEL_RUN)}): already gone")
                except docker.errors.APIError as error:
                    removed.append(f"image {tag} NOT removed: {error.explanation}")
    return removed


EVIDENCE_KINDS = ("path3-upgrade", "path3-repro", "path3-path", "path3-matrix", "path3-compat", "path3-faults", "path3-bench",
                  "path3-live-e2e", "smoke")  # one folder per run below each (path3-live-e2e: live.PROOF_NAME)
_AGE_RE = re.compile(r"^(\d+(?:\.\d+)?)([dhm])$")


def parse_age(text: str) -> float:
    """'7d', '12h', '30m' -> seconds."""
    from ..errors import UsageError

    match = _AGE_RE.match(text.strip())
    if not match:
        raise UsageError(f"--older-than {text!r} is not an age", hint="use e.g. 7d, 12h or 30m")
    return float(match.group(1)) * {"d": 86400, "h": 3600, "m": 60}[match.group(2)]


def prune_artifacts(root: Path, older_than: float, *, now: float | None = None) -> list[str]:
    """Remove run folders under `root` whose newest file is older than `older_than` seconds."""
    now = time.time() if now is None else now
    removed = []
    for kind in EVIDENCE_KINDS:
        for run in sorted((root / kind).glob("*")) if (root / kind).is_dir() else []:
            if not run.is_dir():
                continue
            newest = max((p.stat().st_mtime for p in [run, *run.rglob("*")] if not p.is_symlink()), default=0)
            if now - newest > older_than:
                shutil.rmtree(run)
                removed.append(f"evidence {run.relative_to(root)} ({(now - newest) / 86400:.1f} days old)")
    return removed
