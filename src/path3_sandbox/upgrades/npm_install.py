"""`@npm-install=<release>`: the release installed the way users install it, in place.

In the container of the release hop before it (same filesystem, same state volume), while that Gateway still runs,
as root (what a user's `sudo` does, HOME=/root), into the image's prefix:

    npm install --global --prefix /opt/openclaw --registry http://<registry>:4873/ --no-fund --no-audit
        --loglevel=http openclaw@<release>

then the Gateway is stopped (SIGTERM) and the same container started again, as a service manager restarts it: the
container's writable layer, and with it the new package, stays. The release then plays its role as any release hop
(runner.py): its contract's start (a refusal: doctor --fix from the container's own filesystem, committed to an image
of the run), turns, reachability.

The packages come from a registry the run controls: Verdaccio (build/registry_image.py), seeded when its image was
built and serving offline, started on the Gateway's own network (the hermetic network is internal: the registry
joins it and npm is pointed at its address; nothing else is reachable). Its request log is the evidence of what the
install fetched: `registry-requests.jsonl` (every request as Verdaccio logged it), `npm-fetched.json` (packuments,
tarballs, failures) and `npm-install.log` (npm's own output, one line per fetch) in the hop's folder.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..build.registry_image import REGISTRY_PORT
from ..containers.waits import poll_until
from ..errors import ContainerFailed
from ..report.evidence import HARNESS, Assertion

if TYPE_CHECKING:
    from ..containers.gateway import Gateway
    from ..containers.resources import RunResources
    from ..report.evidence import Evidence
    from .hop import Hop

PREFIX = "/opt/openclaw"  # where the Gateway images install openclaw (docker/gateway/Dockerfile); on PATH
NPM_TIMEOUT_S = 900
REGISTRY_READY_TIMEOUT_S = 60
# As root with root's home (sudo -H): npm's cache starts empty, so every package comes from the registry. Install
# scripts allowed, as the Gateway images install (npm 11 skips dependency scripts otherwise).
NPM_ENV = {"HOME": "/root", "npm_config_dangerously_allow_all_scripts": "true"}
TARBALL_RE = re.compile(r"^/(?P<name>(?:@[^/]+/)?[^/]+)/-/(?:@[^/]+/)?[^/]+?-(?P<version>\d[^/]*)\.tgz$")


def npm_argv(release: str, registry_url: str) -> list[str]:
    return ["npm", "install", "--global", "--prefix", PREFIX, "--registry", registry_url, "--no-fund", "--no-audit",
            "--loglevel=http", f"openclaw@{release}"]


def parse_requests(log: str) -> list[dict]:
    """Verdaccio's request lines (JSON log): method, url, status, bytes out. Verdaccio 6.8 logs an answered request
    twice (the headers, 0 bytes out; then the body sent): the lines are kept as logged, `fetched` counts URLs."""
    found = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        request = record.get("request")
        if isinstance(request, dict) and "status" in record:
            found.append({"at": record.get("time"), "method": request.get("method"), "url": request.get("url"),
                          "status": record.get("status"), "bytes_out": (record.get("bytes") or {}).get("out")})
    return found


def tarball_of(url: str) -> str | None:
    """'/@scope%2fname/-/name-1.2.3.tgz' -> '@scope/name@1.2.3'; None for anything but a tarball."""
    match = TARBALL_RE.match(unquote(url or "").split("?", 1)[0])
    return f"{match['name']}@{match['version']}" if match else None


def fetched(requests: list[dict]) -> dict[str, Any]:
    """What an install fetched, from the registry's side: each packument and tarball once, and every failure (each
    failed URL once)."""
    tarballs = sorted({t for r in requests if r["method"] == "GET" and r["status"] in (200, 304)
                       and (t := tarball_of(r["url"]))})
    packuments = sorted({unquote(r["url"]) for r in requests if r["method"] == "GET" and r["status"] in (200, 304)
                         and not tarball_of(r["url"])})
    failed = list({(r["method"], r["url"], r["status"]): r for r in requests
                   if not isinstance(r["status"], int) or r["status"] >= 400}.values())
    return {"log_lines": len(requests), "urls": len({(r["method"], r["url"]) for r in requests}),
            "packuments": packuments, "tarballs": tarballs, "failed": failed}


@dataclass
class PrivateRegistry:
    """The seeded registry's container on `network` (the Gateway's), its address there and its request log."""

    resources: RunResources
    image: str
    network: str  # the Gateway's hermetic network, or "bridge" on --network open
    name: str
    container: Any = None  # docker-py's, once started
    ip: str = ""
    started_in: float = 0.0
    log: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{REGISTRY_PORT}/"

    def start(self) -> PrivateRegistry:
        started = time.monotonic()
        wrapped = self.resources.container(self.name, "npm-registry", self.image, [], network=self.network)
        self.container = wrapped.start().get_wrapped_container()
        listening = poll_until(lambda: True if "http address" in self.logs() or self._exited() else None,
                               timeout_s=REGISTRY_READY_TIMEOUT_S, interval_s=0.3)
        if not listening or self._exited():
            raise ContainerFailed(f"the npm registry ({self.image}) did not start: {self.logs()[-800:]}")
        self.container.reload()
        self.ip = self.container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        self.started_in = time.monotonic() - started
        return self

    def _exited(self) -> bool:
        self.container.reload()
        return self.container.status == "exited"

    def logs(self) -> str:
        return self.container.logs(stdout=True, stderr=True).decode(errors="replace") if self.container else ""

    def stop(self) -> None:
        """Stopped once the install is done (the run removes it); its log is kept first."""
        if self.container is not None:
            self.log = self.logs()
            self.container.stop(timeout=2)


def install_in_place(resources: RunResources, registry_image: str, gateway: Gateway, hop: Hop, row: dict,
                     evidence: Evidence, folder: Path, stop_timeout_s: int) -> None:
    """Install hop.release into the running Gateway's container, keep the registry's log and npm's output, check what
    landed, then stop the Gateway (its container is started again by the hop, as a service manager does)."""
    network = gateway.network.name if gateway.network is not None else "bridge"
    registry = PrivateRegistry(resources, registry_image, network, f"{gateway.name}-npm-registry-hop{hop.number}")
    old = gateway.version()
    try:
        registry.start()
        result = gateway.exec(npm_argv(hop.release, registry.url), timeout_s=NPM_TIMEOUT_S, user="root",
                              environment=NPM_ENV)
    finally:
        registry.stop()
        requests = parse_requests(registry.log)
        (folder / "registry-requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in requests))
        (folder / "registry.log").write_text(registry.log)
    (folder / "npm-install.log").write_text(result.output)
    got = fetched(requests)
    (folder / "npm-fetched.json").write_text(json.dumps(got, indent=2) + "\n")
    running = gateway.status() == "running"
    new = gateway.version() if running else "not read: the old Gateway's container stopped during the install"
    row["in_place"] = {"from": old, "installed": new, "argv": " ".join(npm_argv(hop.release, "<registry>")),
                       "registry": {"image": registry_image, "network": network, "started_s": round(registry.started_in, 1)},
                       "npm_exit_code": result.exit_code, "npm_seconds": round(result.seconds, 1),
                       "log_lines": got["log_lines"], "urls": got["urls"], "packuments": len(got["packuments"]),
                       "tarballs": len(got["tarballs"]), "failed_requests": len(got["failed"]),
                       "old_gateway_after_install": "running" if running else f"exited ({gateway.exit_code()})"}
    row["installed"] = f"openclaw@{hop.release}: {len(got['tarballs'])} tarballs fetched, npm exit {result.exit_code}"
    evidence.check(hop.label, Assertion(f"npm install -g openclaw@{hop.release} in place succeeded",
                                        result.exit_code == 0, 0, result.exit_code, f"{hop.label}/npm-install.log: "
                                        + " | ".join(result.output.strip().splitlines()[-3:])[:300], blame=HARNESS))
    evidence.check(hop.label, Assertion("every package the install fetched came from the run's registry, none "
                                        "refused", bool(got["tarballs"]) and f"openclaw@{hop.release}" in got["tarballs"]
                                        and not got["failed"], f"openclaw@{hop.release} among the tarballs, 0 failures",
                                        {"tarballs": len(got["tarballs"]), "failed": got["failed"][:5]},
                                        f"{hop.label}/registry-requests.jsonl", blame=HARNESS))
    if running:
        evidence.check(hop.label, Assertion(f"openclaw {hop.release} is what `openclaw` runs now", new == hop.release,
                                            hop.release, new, f"before the install: {old}", blame=HARNESS))
    gateway.stop(timeout_s=stop_timeout_s)  # SIGTERM: the service manager's restart, its start is the hop's
