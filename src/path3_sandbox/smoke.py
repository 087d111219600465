"""Start the Gateway image on an empty state volume, check it is ready and what it says it is, stop it.

The smallest end-to-end check of an image: what `make prove-upgrade` did before the proof existed,
and still the quickest way to see that a target boots at all.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path


from .config import CONFIG_NAME, harness_config
from .errors import GatewayNotReady
from .containers.gateway import Gateway
from .containers.waits import StartObservation
from .images import GatewayImage
from .containers.network import HermeticNetwork
from .progress import say
from .containers.resources import RunResources
from .containers.volumes import VolumeFile, put_files


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
    token = secrets.token_hex(16)
    volume = resources.volume("state")
    config = json.dumps(harness_config(token), indent=2).encode()
    put_files(resources, image.tag, volume,
              [VolumeFile(CONFIG_NAME, config, time.time(), 0o600)])
    name = f"path3-{resources.run_id}-gateway"
    network = HermeticNetwork(resources, image.tag, name).create()
    gateway = Gateway(resources, image.tag, volume, token, name=name, network=network)
    say("gateway", f"starting {image.tag} on the empty volume {volume}")
    start = gateway.start()
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "gateway-stdout.log").write_text(gateway.logs())
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
