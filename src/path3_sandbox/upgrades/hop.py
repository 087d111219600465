"""A hop of an upgrade path: a release (an npm version), a release installed in place (`@npm-install=<version>`,
`@openclaw-update=<version>`: npm_install.py) or a user action (`@name`: actions.py), its number in the path, its role
(writer, importer, downgrade or action: path.py says what each does; plan.py gives each hop its own) and what it does,
in words for the plan.

An in-place hop may carry options after its version, comma-separated (INSTALL_OPTIONS):
`@openclaw-update=2026.9.5,old-gateway-turn` (the old Gateway, still running, takes a turn after the install and
before the restart), `,kill-at-doctor` (the updater is killed when its post-install doctor starts: an interrupted
update; `@openclaw-update=` only), `,as-user` (the updater runs as the Gateway's own user, its prefix chowned to it
first: a user-owned npm prefix such as nvm's, no sudo; `@openclaw-update=` only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

WRITER, IMPORTER, DOWNGRADE, ACTION = "writer", "importer", "downgrade", "action"
NPM_INSTALL = "@npm-install="  # the spec's prefix: `@npm-install=2026.9.6`
OPENCLAW_UPDATE = "@openclaw-update="  # `@openclaw-update=2026.9.5`: the previous release's own updater
INSTALLERS = {NPM_INSTALL: "npm", OPENCLAW_UPDATE: "update"}  # spec prefix -> Hop.installs
OLD_GATEWAY_TURN, KILL_AT_DOCTOR, AS_USER = "old-gateway-turn", "kill-at-doctor", "as-user"
INSTALL_OPTIONS = {OLD_GATEWAY_TURN: ("npm", "update"), KILL_AT_DOCTOR: ("update",),
                   AS_USER: ("update",)}  # option -> installers taking it


def installer_of(spec: str) -> str | None:
    """"npm" or "update" for an in-place spec (its prefix, with or without "="), None for anything else."""
    return next((kind for prefix, kind in INSTALLERS.items() if spec.startswith(prefix.rstrip("="))), None)


@dataclass(frozen=True)
class Hop:
    number: int
    spec: str  # as given: "2026.7.35" or "@move-state-db-aside"
    role: str
    contract: str | None = None  # an importer's
    does: str = ""
    on_migrated: bool = False  # an importer on a state a SQLite release already claimed
    installs: str | None = None  # "npm" or "update": the release is installed in place, in the previous release's container
    options: tuple[str, ...] = ()  # an in-place hop's INSTALL_OPTIONS

    @property
    def release(self) -> str:
        """The release this hop runs: the spec, or what `@npm-install=<version>[,options]` installs."""
        for prefix in INSTALLERS:
            if self.spec.startswith(prefix):
                return self.spec.removeprefix(prefix).split(",", 1)[0]
        return self.spec

    @property
    def label(self) -> str:
        return f"hop-{self.number}-{re.sub(r'[^A-Za-z0-9._-]+', '-', self.spec.lstrip('@')).strip('-')}"

    def to_json(self) -> dict:
        return {"hop": self.number, "spec": self.spec, "role": self.role, "contract": self.contract, "does": self.does,
                "on_migrated": self.on_migrated, **({"release": self.release, "installs": self.installs}
                                                    if self.installs else {}),
                **({"options": list(self.options)} if self.options else {})}
