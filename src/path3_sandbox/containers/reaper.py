"""Who removes a run's containers, networks and volumes when this process dies without cleaning up.

Where testcontainers' reaper (Ryuk) can run, it does: it removes everything labelled with this process's
testcontainers session once the process is gone, even after a SIGKILL. Ryuk is an image testcontainers must pull;
an air-gapped or registry-less host cannot, so there it is disabled with testcontainers' documented setting
(`testcontainers_config.ryuk_disabled`, the same as TESTCONTAINERS_RYUK_DISABLED=true) and our label-based
`path3-sandbox clean` is the fallback. Either way our own `finally` removes what a run created; the reaper is only
for a process that could not run it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import docker
import docker.errors
import requests
from testcontainers.core.config import testcontainers_config

from ..progress import say

FALLBACK = "path3-sandbox clean removes what a killed run leaves (by its labels)"


@dataclass(frozen=True)
class ReaperChoice:
    ryuk: bool
    reason: str

    def to_json(self) -> dict:
        return {"ryuk": self.ryuk, "image": testcontainers_config.ryuk_image, "reason": self.reason}


def decide(client: docker.DockerClient, *, keep: bool, user_disabled: bool | None) -> ReaperChoice:
    """Ryuk when the user did not disable it, nothing is to be kept, and its image is here or can be pulled."""
    image = testcontainers_config.ryuk_image
    if user_disabled:
        return ReaperChoice(False, f"disabled by TESTCONTAINERS_RYUK_DISABLED / ryuk.disabled; {FALLBACK}")
    if keep:
        return ReaperChoice(False, f"--keep: Ryuk would remove what you asked to keep when this process exits; {FALLBACK}")
    try:
        client.images.get(image)
        return ReaperChoice(True, f"{image} is present locally")
    except docker.errors.ImageNotFound:
        pass
    except (docker.errors.DockerException, requests.RequestException) as error:
        return ReaperChoice(False, f"cannot look up {image}: {error}; {FALLBACK}")
    try:
        client.images.pull(image)
        return ReaperChoice(True, f"{image} pulled")
    except (docker.errors.DockerException, requests.RequestException) as error:
        reason = str(getattr(error, "explanation", None) or error).splitlines()[0][:200]
        return ReaperChoice(False, f"cannot pull {image} ({reason}); {FALLBACK}")


_chosen: ReaperChoice | None = None


def configure(client: docker.DockerClient, *, keep: bool = False) -> ReaperChoice:
    """Decide once per process, before the first container starts, and tell testcontainers."""
    global _chosen
    if _chosen is not None and (keep and _chosen.ryuk):
        # Ryuk already watches this process: it would remove a kept run at exit. Say so rather than pretend.
        say("reaper", "Ryuk already runs in this process: what --keep keeps is removed when the process exits")
    if _chosen is None:
        user_disabled = _user_disabled()
        _chosen = decide(client, keep=keep, user_disabled=user_disabled)
        testcontainers_config.ryuk_disabled = not _chosen.ryuk
        if _chosen.ryuk:
            _chosen = _start_ryuk(_chosen)
        say("reaper", ("Ryuk (testcontainers) reaps this process's resources: " if _chosen.ryuk else "Ryuk off: ")
            + _chosen.reason)
    return _chosen


def _start_ryuk(choice: ReaperChoice) -> ReaperChoice:
    """Start Ryuk now, not inside the first container's start: where it cannot run (a rootless socket path, SELinux,
    an unreachable port), fall back to `clean` with the reason instead of failing the run."""
    from testcontainers.core.container import Reaper

    try:
        Reaper.get_instance()
        return choice
    except Exception as error:  # docker-py, socket and testcontainers errors alike: each means "no Ryuk here"
        testcontainers_config.ryuk_disabled = True
        reason = str(getattr(error, "explanation", None) or error).splitlines()[0][:200] if str(error) else type(error).__name__
        return ReaperChoice(False, f"{testcontainers_config.ryuk_image} is here but did not start ({reason}); {FALLBACK}")


def _user_disabled() -> bool | None:
    value = os.environ.get("TESTCONTAINERS_RYUK_DISABLED")
    if value is None:
        value = testcontainers_config.tc_properties.get("ryuk.disabled")
    return None if value is None else value.strip().lower() in ("yes", "true", "t", "y", "1")
