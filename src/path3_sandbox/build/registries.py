"""The user's package registries, read from the host's own configuration and passed into image builds.

    npm registry    NPM_CONFIG_REGISTRY / npm_config_registry, else what the host's npm is configured with
                    (`npm config get registry`, counted only when it differs from npm's built-in default)
    Debian mirror   PATH3_DEBIAN_MIRROR, else the Debian archive in the host's apt sources (/etc/apt/sources.list,
                    sources.list.d/*.list one-line and *.sources deb822), and its security archive alongside
    pip index       PIP_INDEX_URL, else index-url in pip's config files (no image build uses pip today: it is
                    passed only to a Dockerfile that declares ARG PIP_INDEX_URL)

Nothing configured means no build argument at all, so npm, apt and debootstrap use their own defaults: no
registry or mirror host is chosen here. Values are shown (progress lines, build logs, labels, evidence) only
through the redactor, so credentials in a URL (`https://user:pass@host/`) never appear.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..report.redaction import remember, scrub_text

APT_DIR = Path("/etc/apt")
# Debian's codenames and archive aliases: an Ubuntu (or other) archive cannot serve a Debian build.
DEBIAN_SUITES = frozenset(
    "jessie stretch buster bullseye bookworm trixie forky duke sid stable oldstable oldoldstable testing unstable".split())
BUILD_ARG_NAMES = {"npm": "NPM_REGISTRY", "debian_mirror": "DEBIAN_MIRROR",
                   "debian_security": "DEBIAN_SECURITY_MIRROR", "pip_index": "PIP_INDEX_URL"}
LABELS = {"npm": "npm registry", "debian_mirror": "Debian mirror", "debian_security": "Debian security mirror",
          "pip_index": "pip index"}
DEFAULTS = {"npm": "npm's default", "debian_mirror": "debootstrap's and the image's default",
            "debian_security": "the image's default", "pip_index": "pip's default"}


@dataclass(frozen=True)
class Registries:
    npm: str | None = None
    debian_mirror: str | None = None
    pip_index: str | None = None
    debian_security: str | None = None
    npm_source: str | None = None  # where each value came from: an env variable, a file:line, a command
    debian_mirror_source: str | None = None
    pip_index_source: str | None = None
    debian_security_source: str | None = None

    @classmethod
    def from_host(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        apt_dir: Path = APT_DIR,
        npm: str | None = "",
        pip_config_files: Iterable[Path] | None = None,
    ) -> Registries:
        """What this host is configured with. `npm` is the npm executable ("" finds it on PATH, None: no npm)."""
        npm_value, npm_source = _npm_registry(environ, shutil.which("npm") if npm == "" else npm)
        mirror, mirror_source, security, security_source = _debian_mirrors(environ, apt_dir)
        pip_value, pip_source = _pip_index(environ, pip_config_files)
        found = cls(npm_value, mirror, pip_value, security, npm_source, mirror_source, pip_source, security_source)
        remember(*(_userinfo(url) for url in (npm_value, mirror, pip_value, security) if url))
        return found

    def build_args(self, dockerfile: bytes | None = None) -> dict[str, str]:
        """Docker build args for the configured values only; with `dockerfile`, only the ARGs it declares."""
        declared = declared_args(dockerfile) if dockerfile is not None else None
        return {arg: value for field, arg in BUILD_ARG_NAMES.items()
                if (value := getattr(self, field)) and (declared is None or arg in declared)}

    def describe(self, dockerfile: bytes | None = None) -> str:
        """One redacted line for the progress output: each value the build can use and where it came from."""
        declared = declared_args(dockerfile) if dockerfile is not None else None
        parts = []
        for field, arg in BUILD_ARG_NAMES.items():
            if declared is not None and arg not in declared:
                continue
            value = getattr(self, field)
            parts.append(f"{LABELS[field]} {redact(value)} (from {getattr(self, field + '_source')})" if value
                         else f"{LABELS[field]}: {DEFAULTS[field]} (none configured)")
        return "; ".join(parts)

    def to_json(self) -> dict:
        """For evidence: every value redacted, with its source."""
        return {field: {"value": redact(getattr(self, field)), "source": getattr(self, field + "_source")}
                for field in BUILD_ARG_NAMES}


def redact(value: str | None) -> str | None:
    return scrub_text(value)[0] if value else value


def redacted_args(args: Mapping[str, str]) -> dict[str, str]:
    return {name: scrub_text(value)[0] for name, value in args.items()}


def declared_args(dockerfile: bytes) -> set[str]:
    return {name.decode() for name in re.findall(rb"(?im)^[ \t]*ARG[ \t]+([A-Za-z_][A-Za-z0-9_]*)", dockerfile)}


def effective_npm_registry(environ: Mapping[str, str] = os.environ, npm: str | None = "") -> str | None:
    """The registry npm would use here (configured, else npm's own default), or None without npm or config.

    For look-ups made from Python (resolving a dist-tag), which have no default of their own."""
    npm = shutil.which("npm") if npm == "" else npm
    configured, _ = _npm_registry(environ, npm)
    return configured or (_npm_get(npm, isolated=True) if npm else None)


def _npm_registry(environ: Mapping[str, str], npm: str | None) -> tuple[str | None, str | None]:
    for name in ("npm_config_registry", "NPM_CONFIG_REGISTRY"):  # npm's own precedence: env over .npmrc
        if environ.get(name, "").strip():
            return environ[name].strip(), f"{name} env"
    if not npm:
        return None, None
    configured, default = _npm_get(npm, isolated=False), _npm_get(npm, isolated=True)
    if configured and configured != default:
        return configured, "npm config get registry"
    return None, None


def _npm_get(npm: str, *, isolated: bool) -> str | None:
    """`npm config get registry`; isolated: with no user, global or project config and no npm_config_* env."""
    env = {k: v for k, v in os.environ.items() if not (isolated and k.lower().startswith("npm_config_"))}
    with tempfile.TemporaryDirectory(prefix="path3-npm-") as empty:
        for name in ("user-npmrc", "global-npmrc"):  # two files: npm refuses to load one file twice
            Path(empty, name).touch()
        extra = ["--userconfig", f"{empty}/user-npmrc", "--globalconfig", f"{empty}/global-npmrc"] if isolated else []
        try:
            done = subprocess.run([npm, "config", "get", "registry", *extra], capture_output=True, text=True,
                                  timeout=30, env=env, cwd=empty if isolated else None)
        except (OSError, subprocess.SubprocessError):
            return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and re.match(r"^https?://", value) else None


def _debian_mirrors(environ: Mapping[str, str], apt_dir: Path) -> tuple[str | None, str | None, str | None, str | None]:
    """(archive, its source, security archive, its source) of the host's Debian sources."""
    mirror = source = security = security_source = None
    if environ.get("PATH3_DEBIAN_MIRROR", "").strip():
        mirror, source = environ["PATH3_DEBIAN_MIRROR"].strip(), "PATH3_DEBIAN_MIRROR env"
    for entry in apt_sources(apt_dir):
        debian = [s for s in entry.suites if re.split(r"[-/]", s)[0] in DEBIAN_SUITES]
        if not debian or "main" not in entry.components or not entry.debian_keyring:
            continue
        uri = next((u for u in entry.uris if re.match(r"^https?://", u)), None)
        if uri is None:
            continue
        if any(s.endswith(("-security", "/updates")) for s in debian):
            if security is None:
                security, security_source = uri, entry.where
        elif mirror is None:
            mirror, source = uri, entry.where
    return mirror, source, security, security_source


@dataclass(frozen=True)
class AptSource:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None
    where: str  # file:line

    @property
    def debian_keyring(self) -> bool:
        """Signed by Debian's archive keyring, or by the keys apt trusts globally (what a plain mirror line uses);
        a third-party repository names its own keyring."""
        return self.signed_by is None or "debian-archive" in self.signed_by


def apt_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled `deb` entry, in apt's order: sources.list, then sources.list.d/ by name."""
    entries: list[AptSource] = []
    files = [apt_dir / "sources.list"]
    if (apt_dir / "sources.list.d").is_dir():
        files += sorted(p for p in (apt_dir / "sources.list.d").iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        entries += parse_deb822(text, str(path)) if path.suffix == ".sources" else parse_one_line(text, str(path))
    return entries


_ONE_LINE = re.compile(r"^deb\s+(?:\[(?P<options>[^\]]*)\]\s*)?(?P<uri>\S+)\s+(?P<suite>\S+)(?P<components>.*)$")


def parse_one_line(text: str, where: str = "sources.list") -> list[AptSource]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _ONE_LINE.match(line.split("#", 1)[0].strip())
        if not match:
            continue  # a comment, deb-src, or not an entry
        options = dict(o.split("=", 1) for o in (match["options"] or "").split() if "=" in o)
        entries.append(AptSource((match["uri"],), (match["suite"],), tuple(match["components"].split()),
                                 options.get("signed-by"), f"{where}:{number}"))
    return entries


def parse_deb822(text: str, where: str = "debian.sources") -> list[AptSource]:
    entries = []
    fields: dict[str, str] = {}
    start = key = None
    for number, line in enumerate([*text.splitlines(), ""], 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                entries += _deb822_entry(fields, f"{where}:{start}")
            fields, start, key = {}, None, None
        elif line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
            start = start or number
    return entries


def _deb822_entry(fields: dict[str, str], where: str) -> list[AptSource]:
    if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
        return []
    return [AptSource(tuple(fields.get("uris", "").split()), tuple(fields.get("suites", "").split()),
                      tuple(fields.get("components", "").split()), fields.get("signed-by"), where)]


def _pip_index(environ: Mapping[str, str], config_files: Iterable[Path] | None) -> tuple[str | None, str | None]:
    if environ.get("PIP_INDEX_URL", "").strip():
        return environ["PIP_INDEX_URL"].strip(), "PIP_INDEX_URL env"
    if config_files is None:
        home = Path(environ.get("HOME", "~")).expanduser()
        config_files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"), home / ".pip" / "pip.conf",
                        home / ".config" / "pip" / "pip.conf"]
        if environ.get("PIP_CONFIG_FILE"):
            config_files.append(Path(environ["PIP_CONFIG_FILE"]))
    value = source = None
    for path in config_files:  # pip's order: a later file overrides an earlier one, [install] overrides [global]
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_option(section, "index-url") and parser.get(section, "index-url").strip():
                value, source = parser.get(section, "index-url").strip(), f"{path} [{section}] index-url"
    return value, source


def _userinfo(url: str) -> str:
    """The credentials part of a URL, remembered by the redactor so they are caught wherever they appear."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts.password or ""
