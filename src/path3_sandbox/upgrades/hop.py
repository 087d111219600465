"""A hop of an upgrade path: a release (an npm version), a release installed in place (`@npm-install=<version>`:
npm_install.py) or a user action (`@name`: actions.py), its number in the path, its role (writer, importer, downgrade
or action: path.py says what each does; plan.py gives each hop its own) and what it does, in words for the plan."""

from __future__ import annotations

from dataclasses import dataclass

WRITER, IMPORTER, DOWNGRADE, ACTION = "writer", "importer", "downgrade", "action"
NPM_INSTALL = "@npm-install="  # the spec's prefix: `@npm-install=2026.9.6`


@dataclass(frozen=True)
class Hop:
    number: int
    spec: str  # as given: "2026.7.35" or "@move-state-db-aside"
    role: str
    contract: str | None = None  # an importer's
    does: str = ""
    on_migrated: bool = False  # an importer on a state a SQLite release already claimed
    installs: str | None = None  # "npm": the release is installed in place, in the previous release's container

    @property
    def release(self) -> str:
        """The release this hop runs: the spec, or what `@npm-install=<version>` installs."""
        return self.spec.removeprefix(NPM_INSTALL)

    @property
    def label(self) -> str:
        return f"hop-{self.number}-{self.spec.lstrip('@').replace('=', '-')}"

    def to_json(self) -> dict:
        return {"hop": self.number, "spec": self.spec, "role": self.role, "contract": self.contract, "does": self.does,
                "on_migrated": self.on_migrated, **({"release": self.release, "installs": self.installs}
                                                    if self.installs else {})}
