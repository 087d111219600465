"""Find the Docker engine, or start one where this machine allows it.

On a laptop or a hosted runner an engine already answers, and this module only reports it.
On a bare Debian/Ubuntu box where we are root (these CI machines), it installs Debian's
`docker.io` + `iptables` and starts `dockerd` in the background, logging to ENGINE_LOG.
It never stops, restarts or reconfigures an engine that already runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker

from ..containers.waits import poll_until
from ..errors import EngineUnavailable
from ..progress import say

ENGINE_LOG = Path("/var/log/path3-sandbox/dockerd.log")
APT_PACKAGES = ("docker.io", "iptables")
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EngineInfo:
    version: str
    api_version: str
    how: str  # "already running" | "started" | "installed and started"

    def describe(self) -> str:
        return f"Docker engine {self.version} (API {self.api_version}), {self.how}"


@dataclass(frozen=True)
class HostFacts:
    is_root: bool
    has_apt: bool
    os_ids: tuple[str, ...]  # ID and ID_LIKE from /etc/os-release
    has_dockerd: bool
    docker_host: str | None  # DOCKER_HOST, when the user points at an engine elsewhere

    @classmethod
    def read(cls) -> HostFacts:
        ids: list[str] = []
        try:
            for line in Path("/etc/os-release").read_text().splitlines():
                key, _, value = line.partition("=")
                if key in ("ID", "ID_LIKE"):
                    ids.extend(value.strip('"').split())
        except OSError:
            pass
        return cls(
            is_root=os.geteuid() == 0,
            has_apt=shutil.which("apt-get") is not None,
            os_ids=tuple(ids),
            has_dockerd=shutil.which("dockerd") is not None,
            docker_host=os.environ.get("DOCKER_HOST") or None,
        )


def plan(host: HostFacts) -> str:
    """What to do when no engine answers: "start", "install", or raise with how to get one."""
    if host.docker_host and not host.docker_host.startswith("unix:///var/run/docker.sock"):
        raise EngineUnavailable(
            f"DOCKER_HOST={host.docker_host} does not answer",
            hint="start that engine, or unset DOCKER_HOST to use (or let path3-sandbox start) a local one",
        )
    if not host.is_root:
        raise EngineUnavailable(
            "no Docker engine answers, and path3-sandbox only starts one when run as root",
            hint="start Docker (Docker Desktop, `sudo systemctl start docker`, or `sudo make engine`)",
        )
    if host.has_dockerd:
        return "start"
    if host.has_apt and {"debian", "ubuntu"} & set(host.os_ids):
        return "install"
    raise EngineUnavailable(
        "no Docker engine answers, dockerd is not installed, and this is not a Debian/Ubuntu host with apt",
        hint="install Docker Engine (https://docs.docker.com/engine/install/) and start it",
    )


def probe() -> EngineInfo | None:
    """The engine that answers right now, or None."""
    try:
        client = docker.from_env(timeout=5)
        try:
            version = client.version()
        finally:
            client.close()
    except Exception:  # docker-py raises several unrelated types for "nothing there"
        return None
    return EngineInfo(version["Version"], version["ApiVersion"], "already running")


def ensure_engine() -> EngineInfo:
    found = probe()
    if found:
        say("engine", found.describe())
        return found
    action = plan(HostFacts.read())
    if action == "install":
        _apt_install(APT_PACKAGES)
    _start_dockerd()
    found = _wait_until_answering(START_TIMEOUT_S)
    how = "installed and started" if action == "install" else "started"
    info = EngineInfo(found.version, found.api_version, f"{how} by path3-sandbox (log: {ENGINE_LOG})")
    say("engine", info.describe())
    return info


def _apt_install(packages: tuple[str, ...]) -> None:
    say("engine", f"no engine answers; installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineUnavailable(
                f"`{' '.join(argv)}` failed (exit {done.returncode}): {done.stderr.strip()[-800:]}",
                hint="install Docker Engine yourself and start it, then run again",
            )


def _start_dockerd() -> None:
    ENGINE_LOG.parent.mkdir(parents=True, exist_ok=True)
    say("engine", f"starting dockerd in the background (log: {ENGINE_LOG})")
    log = ENGINE_LOG.open("ab")
    # A session of its own, so the engine outlives this command and the test run that follows it.
    subprocess.Popen(["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()


def _wait_until_answering(timeout_s: float) -> EngineInfo:
    found = poll_until(lambda: probe() or None, timeout_s=timeout_s, interval_s=0.5)
    if found:
        return found
    tail = _tail(ENGINE_LOG, 15)
    raise EngineUnavailable(
        f"dockerd did not answer within {timeout_s:.0f}s; last lines of {ENGINE_LOG}:\n{tail}",
        hint="read the engine log; on a host without iptables or overlayfs support, run Docker elsewhere",
    )


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
