"""The private npm registry image a path's `@npm-install=<release>` hops install from (docker/registry/Dockerfile).

Verdaccio, seeded at build time with every package `npm install -g openclaw@<release>` fetches, through the user's
npm registry (registries.py) and the host's CA bundle (cacerts.py), exactly as the Gateway images are built; at run
time it serves those packages offline. Built like a Gateway image: the tag is a hash of the Dockerfile, its two
configs, the base image id and the releases, so a present image is reused.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from ..errors import BuildError, ImageBuildFailed
from ..paths import DOCKER_DIR
from ..progress import say
from .building import build_context, stream_build
from .cacerts import host_ca_bundle
from .images import BUILD_ARGS_LABEL, DEFAULT_BASE, _image_id, resolve_base
from .registries import Registries, redacted_args

REGISTRY_REPOSITORY = "path3-sandbox/npm-registry"
VERDACCIO_VERSION = "6.8.0"
REGISTRY_PORT = 4873
CONTEXT_FILES = ("Dockerfile", "seed.yaml", "serve.yaml")
RELEASES_LABEL = "path3-sandbox.seeded-releases"


@dataclass(frozen=True)
class RegistryImage:
    tag: str
    image_id: str
    releases: tuple[str, ...]
    built: bool
    seconds: float
    build_log: Path | None

    def to_json(self) -> dict:
        return {"tag": self.tag, "image_id": self.image_id, "releases": list(self.releases), "built": self.built,
                "seconds": round(self.seconds, 1), "build_log": str(self.build_log) if self.build_log else None,
                "verdaccio": VERDACCIO_VERSION}


def registry_key(files: dict[str, bytes], base_image_id: str, releases: tuple[str, ...]) -> str:
    """The content hash: the context files (by name), the base and the seeded releases (order-free)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    digest.update(base_image_id.encode() + b"\0" + " ".join(sorted(set(releases))).encode())
    return digest.hexdigest()


def registry_tag(releases: tuple[str, ...], key: str) -> str:
    return f"{REGISTRY_REPOSITORY}:{'_'.join(sorted(set(releases)))}-{key[:12]}"


def ensure_registry_image(client: docker.DockerClient, releases: tuple[str, ...], *, log_dir: Path,
                          base: str = DEFAULT_BASE, registries: Registries | None = None) -> RegistryImage:
    """The registry image seeded with `releases` (exact versions), built when absent."""
    started = time.monotonic()
    releases = tuple(sorted(set(releases)))
    base_image = resolve_base(client, base, log_dir, registries)
    files = {name: (DOCKER_DIR / "registry" / name).read_bytes() for name in CONTEXT_FILES}
    key = registry_key(files, base_image.image_id, releases)
    tag = registry_tag(releases, key)
    if image_id := _image_id(client, tag):
        say("registry", f"reusing {tag} (cached)")
        return RegistryImage(tag, image_id, releases, False, time.monotonic() - started, None)
    registries = registries or Registries.from_host()
    buildargs = {"BASE_IMAGE": base_image.ref, "OPENCLAW_RELEASES": " ".join(releases),
                 "VERDACCIO_VERSION": VERDACCIO_VERSION, **registries.build_args(files["Dockerfile"])}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"npm-registry-{tag.split(':')[1]}.build.log"
    say("registry", f"building {tag}: verdaccio@{VERDACCIO_VERSION} seeded with openclaw@{', '.join(releases)} "
                    f"(log: {log_path})")
    say("registry", f"registries: {registries.describe(files['Dockerfile'])}")
    with build_context({**files, "build-ca.pem": host_ca_bundle()}) as context:
        try:
            image_id = stream_build(client, context=context, tag=tag, log_path=log_path, phase="registry",
                                    buildargs=buildargs,
                                    labels={"path3-sandbox.role": "npm-registry", "path3-sandbox.cache-key": key,
                                            RELEASES_LABEL: " ".join(releases),
                                            BUILD_ARGS_LABEL: json.dumps(redacted_args(buildargs), sort_keys=True)})
        except BuildError as error:
            raise ImageBuildFailed(f"building the npm registry image for openclaw@{', '.join(releases)} failed: "
                                   f"{error}\n" + "\n".join(error.log_tail[-15:]),
                                   hint=f"read the full build log: {log_path}") from None
    say("registry", f"built {tag} in {time.monotonic() - started:.0f}s")
    return RegistryImage(tag, image_id, releases, True, time.monotonic() - started, log_path)
