"""The Gateway image for a target, and the base it is built on.

The tag is a hash of everything that goes into the image (the Dockerfile, the base image id,
the target's exact version or tarball sha256), so a present image is reused and anything that
changes one of those inputs builds a new one. The base is the public node image when it is
present or can be pulled, otherwise a local one (see localbase.py); the output says which.

The npm registry and Debian mirrors are the host's (registries.py), passed as build args and recorded
(redacted) in the build log, the image's labels and the evidence. They are not in the cache key: a mirror
serves the same packages, so a different one must not rebuild a ~90 s image (how they are used is in the
Dockerfile, which the key hashes).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from .building import build_context, stream_build
from ..errors import BuildError
from .cacerts import host_ca_bundle
from ..errors import BaseImageUnavailable, EnvironmentProblem, ImageBuildFailed, TargetError
from .localbase import ensure_local_base
from ..paths import DOCKER_DIR
from ..progress import say
from .registries import Registries, redacted_args
from .target import Target

DEFAULT_BASE = "node:24-bookworm-slim"
CACHE_KEY_VERSION = "1"  # bump when the build changes in a way the inputs below don't show
GATEWAY_REPOSITORY = "path3-sandbox/gateway"
BUILD_ARGS_LABEL = "path3-sandbox.build-args"  # the build args an image was built with, redacted, as JSON
NPM_TARGET_ERRORS = re.compile(r"npm (?:error|ERR!) (?:code (?:E404|ETARGET|EINVALIDPACKAGENAME)|404|notarget)", re.I)


@dataclass(frozen=True)
class BaseImage:
    ref: str
    image_id: str
    origin: str  # how we got it, for the output and the evidence

    def to_json(self) -> dict:
        return {"ref": self.ref, "image_id": self.image_id, "origin": self.origin}


@dataclass(frozen=True)
class GatewayImage:
    tag: str
    image_id: str
    target: Target
    base: BaseImage
    cache_key: str
    built: bool
    seconds: float
    build_log: Path | None
    build_args: dict[str, str] | None = None  # redacted; read back from the label for a cached image

    def to_json(self) -> dict:
        return {
            "tag": self.tag, "image_id": self.image_id, "target": self.target.to_json(),
            "base": self.base.to_json(), "cache_key": self.cache_key, "built": self.built,
            "seconds": round(self.seconds, 2), "build_log": str(self.build_log) if self.build_log else None,
            "build_args": self.build_args,
        }


def cache_key(dockerfile: bytes, base_image_id: str, target_identity: str) -> str:
    digest = hashlib.sha256()
    for part in (CACHE_KEY_VERSION.encode(), dockerfile, base_image_id.encode(), target_identity.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def gateway_tag(target: Target, key: str) -> str:
    label = target.version if target.kind == "npm" else f"{target.version or 'unknown'}-tgz"
    return f"{GATEWAY_REPOSITORY}:{label}-{key[:12]}"


def base_plan(requested: str, present: bool, pull_error: str | None) -> str:
    """How to get the base: "present", "pulled", or "local" (build one here).

    Only the default public base may be replaced by a local one: a base the user named
    explicitly is theirs, and silently swapping it would prove something else.
    """
    if present:
        return "present"
    if pull_error is None:
        return "pulled"
    if requested == DEFAULT_BASE:
        return "local"
    raise BaseImageUnavailable(
        f"the base image {requested} is not present and cannot be pulled: {pull_error}",
        hint=f"pull or build {requested} first, or drop --base to use {DEFAULT_BASE} (built locally when unreachable)",
    )


def resolve_base(client: docker.DockerClient, requested: str, log_dir: Path,
                 registries: Registries | None = None) -> BaseImage:
    present_id = _image_id(client, requested)
    pull_error = None
    if present_id is None:
        say("base", f"pulling {requested}")
        try:
            client.images.pull(requested)
        except docker.errors.APIError as error:
            pull_error = str(error.explanation or error)
            say("base", f"cannot pull {requested}: {pull_error[:160]}")
    plan = base_plan(requested, present_id is not None, pull_error)
    if plan == "present":
        return BaseImage(requested, present_id, "public image, present locally")
    if plan == "pulled":
        return BaseImage(requested, client.images.get(requested).id, "public image, pulled")
    tag, image_id, built = ensure_local_base(client, log_dir, registries=registries)
    origin = f"local base (registry unreachable), {'built now' if built else 'cached'}"
    say("base", f"using {tag}: {origin}")
    return BaseImage(tag, image_id, origin)


def ensure_gateway_image(
    client: docker.DockerClient,
    target: Target,
    *,
    log_dir: Path,
    base: str = DEFAULT_BASE,
    rebuild: bool = False,
    registries: Registries | None = None,
) -> GatewayImage:
    """The Gateway image for `target`, built when absent. `registries`: the host's unless given (tests)."""
    started = time.monotonic()
    if target.needs_resolution():
        target = target.resolve()
        say("image", f"{target.spec} is openclaw@{target.version}")
    base_image = resolve_base(client, base, log_dir, registries)
    dockerfile = (DOCKER_DIR / "gateway" / "Dockerfile").read_bytes()
    key = cache_key(dockerfile, base_image.image_id, target.identity)
    tag = gateway_tag(target, key)
    if not rebuild and (image_id := _image_id(client, tag)):
        say("image", f"reusing {tag} (cached; base: {base_image.origin})")
        return GatewayImage(tag, image_id, target, base_image, key, False, time.monotonic() - started, None,
                            _recorded_build_args(client, tag))
    if target.kind == "npm":
        _check_published(target)
    log_path = log_dir / f"gateway-{tag.split(':')[1]}.build.log"
    registries = registries or Registries.from_host()
    buildargs = {"BASE_IMAGE": base_image.ref, "OPENCLAW_PACKAGE": target.npm_install_arg,
                 **registries.build_args(dockerfile)}
    shown = redacted_args(buildargs)
    say("image", f"building {tag} for {target.npm_install_arg} on {base_image.ref} (log: {log_path})")
    say("image", f"registries: {registries.describe(dockerfile)}")
    files = {"Dockerfile": dockerfile, "build-ca.pem": host_ca_bundle()}
    files["target/openclaw.tgz" if target.tarball else "target/.keep"] = target.tarball.read_bytes() if target.tarball else b""
    building = time.monotonic()
    with build_context(files) as context:
        try:
            image_id = stream_build(
                client, context=context, tag=tag, log_path=log_path, phase="image",
                buildargs=buildargs,
                labels={"path3-sandbox.role": "gateway", "path3-sandbox.cache-key": key,
                        "path3-sandbox.target": target.identity, "org.opencontainers.image.version": target.version,
                        BUILD_ARGS_LABEL: json.dumps(shown, sort_keys=True)},
            )
        except BuildError as error:
            raise _classify_build_failure(error, target, log_path) from None
    seconds = time.monotonic() - started
    say("image", f"built {tag} in {time.monotonic() - building:.0f}s")  # the base's time is in its own lines
    return GatewayImage(tag, image_id, target, base_image, key, True, seconds, log_path, shown)


def _recorded_build_args(client: docker.DockerClient, tag: str) -> dict[str, str] | None:
    """What a cached image was built with, from its label (None for an image built before the label)."""
    try:
        recorded = json.loads((client.images.get(tag).labels or {}).get(BUILD_ARGS_LABEL) or "null")
    except (docker.errors.DockerException, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, dict) else None


def _check_published(target: Target) -> None:
    """Fail fast, with npm's own answer, for a version the registry doesn't have."""
    try:
        target.resolve()
    except TargetError:
        raise
    except EnvironmentProblem as problem:
        say("image", f"could not check the version with the registry ({problem.message}); npm will tell")


def _classify_build_failure(error: BuildError, target: Target, log_path: Path) -> Exception:
    npm_lines = [line for line in error.log_tail if line.lstrip().startswith(("npm error", "npm ERR!"))]
    shown = "\n".join(npm_lines[-12:] or error.log_tail[-15:])
    if any(NPM_TARGET_ERRORS.search(line) for line in npm_lines):
        return TargetError(f"npm could not install {target.npm_install_arg}; npm answered:\n{shown}",
                           hint=f"check the target spec or tarball; full log: {log_path}")
    return ImageBuildFailed(f"building the Gateway image for {target.npm_install_arg} failed: {error}\n{shown}",
                            hint=f"read the full build log: {log_path}")


def _image_id(client: docker.DockerClient, ref: str) -> str | None:
    try:
        return client.images.get(ref).id
    except docker.errors.ImageNotFound:
        return None
