"""A target: the OpenClaw build under test, as an npm version spec or a packed `.tgz`.

    Target.parse("2026.9.6")            npm, exact version
    Target.parse("openclaw@latest")     npm, dist-tag, resolved to a version through the registry
    Target.parse("./openclaw-x.tgz")    a tarball from `npm pack` (what a PR build produces)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from .cacerts import ssl_context
from .version import is_version
from ..errors import EnvironmentProblem, TargetError
from .registries import effective_npm_registry, redact

PACKAGE = "openclaw"
DEFAULT_SPEC = "2026.9.6"
DIST_TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Target:
    spec: str  # as the user gave it
    version: str  # exact version ("" until a dist-tag is resolved)
    tarball: Path | None = None
    tarball_sha256: str | None = None

    @property
    def kind(self) -> str:
        return "tarball" if self.tarball else "npm"

    @property
    def identity(self) -> str:
        """What the image cache key needs to know about the target."""
        if self.tarball:
            return f"tarball:sha256:{self.tarball_sha256}"
        return f"npm:{PACKAGE}@{self.version}"

    @property
    def npm_install_arg(self) -> str:
        return "/build/target/openclaw.tgz" if self.tarball else f"{PACKAGE}@{self.version}"

    def to_json(self) -> dict:
        return {
            "spec": self.spec,
            "kind": self.kind,
            "version": self.version,
            "tarball": str(self.tarball) if self.tarball else None,
            "tarball_sha256": self.tarball_sha256,
        }

    @classmethod
    def parse(cls, spec: str) -> Target:
        text = spec.strip()
        looks_like_file = text.endswith((".tgz", ".tar.gz")) or os.sep in text or text.startswith(".")
        if looks_like_file:
            return cls._from_tarball(spec, Path(text).expanduser())
        bare = text[len(PACKAGE) + 1 :] if text.startswith(f"{PACKAGE}@") else text
        if is_version(bare):
            return cls(spec=spec, version=bare)
        if DIST_TAG_RE.match(bare):
            return cls(spec=spec, version="")  # a dist-tag such as "latest": resolve() fills it
        raise TargetError(
            f"target {spec!r} is neither an exact OpenClaw version, a dist-tag, nor a .tgz file",
            hint="use e.g. --openclaw 2026.9.6, --openclaw latest, or --openclaw ./openclaw-2026.9.6.tgz",
        )

    @classmethod
    def _from_tarball(cls, spec: str, path: Path) -> Target:
        if not path.is_file():
            raise TargetError(f"target tarball {path} does not exist", hint="pass the .tgz that `npm pack` wrote")
        try:
            with tarfile.open(path, "r:gz") as archive:
                member = archive.extractfile("package/package.json")
                manifest = json.loads(member.read()) if member else None
                # Read to the end: a cut download or copy still has its package.json up front, and would fail only
                # when npm installs it, after a base and an image were built for it.
                members = archive.getmembers()
        except (tarfile.TarError, OSError, KeyError, json.JSONDecodeError, EOFError, zlib.error) as error:
            raise TargetError(
                f"target tarball {path} is not a readable npm package ({type(error).__name__}: {error})",
                hint="make it with `npm pack` (or `pnpm pack`) in an OpenClaw checkout",
            ) from None
        if not isinstance(manifest, dict) or manifest.get("name") != PACKAGE:
            name = manifest.get("name") if isinstance(manifest, dict) else None
            raise TargetError(
                f"target tarball {path} is the npm package {name!r}, not {PACKAGE!r}",
                hint="pass the tarball packed from the OpenClaw repository",
            )
        if not any(m.name.startswith("package/dist/") for m in members):
            raise TargetError(f"target tarball {path} holds openclaw {manifest.get('version')!r} without its dist/ "
                              "(the built Gateway)", hint="build before packing: OpenClaw's packer "
                              "(scripts/package-openclaw-for-docker.mjs) runs the full build, then npm pack")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(spec=spec, version=str(manifest.get("version", "")), tarball=path.resolve(), tarball_sha256=digest)

    def needs_resolution(self) -> bool:
        return not self.tarball and not self.version

    def resolve(self) -> Target:
        """Ask the npm registry which version this spec names; raise TargetError if it has none."""
        if self.tarball:
            return self
        bare = self.spec.strip().removeprefix(f"{PACKAGE}@")
        version = registry_version(bare)
        return Target(spec=self.spec, version=version)


def registry_url() -> str:
    """The registry npm uses on this host (its configuration, else npm's own default); none is chosen here."""
    url = effective_npm_registry()
    if not url:
        raise EnvironmentProblem(
            "no npm registry is configured and npm is not on PATH, so the version cannot be looked up",
            hint="set NPM_CONFIG_REGISTRY, install npm, or pass an exact version (e.g. --openclaw 2026.9.6)",
        )
    return url.rstrip("/")


def registry_version(version_or_tag: str) -> str:
    """The exact version the registry serves for a version or dist-tag."""
    return str(_registry_get(f"{PACKAGE}/{version_or_tag}", f"{PACKAGE}@{version_or_tag}").json()["version"])


def registry_publish_times() -> dict[str, str]:
    """Every published version with its publish time (ISO 8601), from the package document (`npm view openclaw
    time`), without the document's own `created` and `modified` keys."""
    document = _registry_get(PACKAGE, PACKAGE, timeout=120).json()
    versions = document.get("versions") or {}  # `time` keeps unpublished versions too; they cannot be installed
    times = {version: str(when) for version, when in (document.get("time") or {}).items()
             if version not in ("created", "modified") and (not versions or version in versions)}
    if not times:
        raise EnvironmentProblem(f"the npm registry's document for {PACKAGE} lists no publish times",
                                 hint="list the releases instead, comma-separated, e.g. --releases 2026.9.5,2026.9.6")
    return times


def _registry_get(path: str, what: str, *, timeout: float = 20) -> httpx.Response:
    url = f"{registry_url()}/{path}"
    shown = redact(url)
    try:
        response = httpx.get(url, verify=ssl_context(), timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as error:
        raise EnvironmentProblem(
            f"cannot ask the npm registry about {what}: {redact(str(error))}",
            hint="check the network, or pass an exact version (it is then checked by npm during the build)",
        ) from None
    if response.status_code == 404:
        answer = response.text.strip()[:200] or "(no body)"
        raise TargetError(
            f"npm has no {what}: {shown} answered 404 {answer}",
            hint=f"pick a published version (`npm view {PACKAGE} versions`) or a dist-tag such as latest",
        )
    if response.status_code != 200:
        raise EnvironmentProblem(f"the npm registry answered {response.status_code} for {shown}", hint="retry later")
    return response
