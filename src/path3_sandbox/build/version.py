"""One reading of an OpenClaw release number, for every command (target, contracts, compat, capture recipes).

npm's grammar, which is semver's: MAJOR.MINOR.PATCH, then an optional pre-release after `-` (`2026.7.2-beta.7`,
`2026.3.23-1`, `2026.9.6-0.pr123`: any `-` suffix is a pre-release). Order is semver's precedence: a pre-release
sorts before its release; its dot-separated identifiers compare numerically when numeric, numbers before words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError

VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


@dataclass(frozen=True)
class Version:
    text: str
    major: int
    minor: int
    patch: int
    pre: str = ""  # the pre-release identifiers, "" for a release

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """The version `text` spells, or None when it is not one (a dist-tag, a typo)."""
        match = VERSION_RE.match(text)
        if not match or (match.group(4) is not None and "" in match.group(4).split(".")):
            return None
        major, minor, patch, pre = match.groups()
        return cls(text, int(major), int(minor), int(patch), pre or "")

    @classmethod
    def of(cls, text: str) -> Version:
        """The version `text` spells; a UsageError when it is not one."""
        version = cls.parse(text)
        if version is None:
            raise UsageError(f"cannot read the release number {text!r}",
                             hint="an exact release such as 2026.9.6 or 2026.7.2-beta.7 (or pass --contract)")
        return version

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre)

    @property
    def key(self) -> tuple:
        """Sortable by semver precedence: 2026.7.2-beta.2 < 2026.7.2-beta.10 < 2026.7.2 < 2026.8.1."""
        pre = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.pre.split(".")) if self.pre else ()
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)


def is_version(text: str) -> bool:
    return Version.parse(text) is not None


def is_prerelease(text: str) -> bool:
    """True for a version with a pre-release part; False for a release and for what is not a version at all."""
    version = Version.parse(text)
    return bool(version and version.is_prerelease)
