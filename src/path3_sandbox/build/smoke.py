"""Start the Gateway image on an empty state volume, check it is ready and what it says it is, stop it.

The smallest end-to-end check of an image: what `make prove-upgrade` did before the proof existed,
and still the quickest way to see that a target boots at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..state.config import CONFIG_NAME
from ..containers.resources import RunResources
from ..containers.volumes import VolumeFile
from ..containers.waits import StartObservation
from ..errors import GatewayNotReady
from .images import GatewayImage
from ..progress import say
from ..proof.session import StateSession


@dataclass(frozen=True)
class SmokeResult:
    image: str
    start: StartObservation
    cli_version: str
    stop_seconds: float

    def to_json(self) -> dict:
        return {"image": self.image, "start": self.start.to_json(), "cli_version": self.cli_version,
                "stop_seconds": round(self.stop_seconds, 2)}


def smoke(image: GatewayImage, resources: RunResources, log_dir: Path) -> SmokeResult:
    session = StateSession(resources, image.tag)
    volume = session.volume("state", [VolumeFile(CONFIG_NAME, json.dumps(session.config(), indent=2).encode(),
                                                 time.time(), 0o600)])
    gateway = session.gateway(volume, f"path3-{resources.run_id}-gateway")
    say("gateway", f"starting {image.tag} on the empty volume {volume}")
    start = gateway.start()
    gateway.keep_output(log_dir)
    if start.outcome != "ready":
        tail = "\n".join(gateway.logs().splitlines()[-20:])
        raise GatewayNotReady(
            f"the Gateway did not become ready ({start.outcome} after {start.seconds:.1f}s, exit code {start.exit_code}); "
            f"last lines of its output:\n{tail}",
            hint=f"full output kept in {log_dir / 'gateway-stdout.log'}; rerun with --keep to inspect the container",
        )
    say("gateway", f"ready in {start.seconds:.1f}s: /healthz {start.healthz['body']}, /readyz {start.readyz['body']}")
    version = gateway.version()
    stop_started = time.monotonic()
    gateway.stop()
    stopped = time.monotonic() - stop_started
    say("gateway", f"openclaw --version inside: {version}; stopped cleanly in {stopped:.1f}s (exit {gateway.exit_code()})")
    return SmokeResult(image.tag, start, version, stopped)
