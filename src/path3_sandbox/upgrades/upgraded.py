"""A Gateway upgraded over a legacy state and handed to someone else's test: the pytest plugin's `upgraded_gateway`.

Not a proof: it seeds the fixture, starts the Gateway the way the target's contract says its users upgrade
(`startup-import`: the first start imports; `refuse-then-doctor`: the first start refuses, `openclaw doctor --fix`,
then a second start), and gives the caller the running Gateway, an RPC client, a read-only SQLite view and the
evidence folder. What the caller asserts is theirs; `path3-sandbox prove` is the full proof.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..containers.gateway import Gateway
from ..containers.network import HERMETIC
from ..containers.resources import RunResources
from ..containers.rpc import GatewayRpc
from ..proof.contracts import REFUSE_THEN_DOCTOR, ContractChoice, StartKind
from ..errors import UpgradeFailed
from ..state.fixtures import Fixture
from ..build.images import GatewayImage
from ..probes import sqlite as sqlite_probe
from ..scenario.provider import ScriptedProvider
from ..proof.session import StateSession, never, refused, start_as_a_user


@dataclass(frozen=True)
class SessionView:
    """One session as SQLite holds it: its entry's fields read as attributes (`.label`), its events in order."""

    key: str
    session_id: str
    entry: dict
    events: tuple[Any, ...]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.entry[name]
        except KeyError:
            raise AttributeError(f"session {self.key} has no field {name!r}; its fields: "
                                 f"{', '.join(sorted(self.entry)) or 'none'}") from None


class SqliteView:
    """Read-only: every call reads the per-agent databases as they are now (read-only handles, inside the container)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def snapshot(self) -> sqlite_probe.SqliteSnapshot:
        return sqlite_probe.snapshot(self._gateway.exec)

    def session(self, key: str) -> SessionView:
        now = self.snapshot()
        found = now.session(key)
        if found is None:
            keys = sorted(k for db in now.agents.values() for k in db.sessions)
            raise KeyError(f"no session {key!r} in SQLite; the sessions there: {', '.join(keys) or 'none'}")
        _, row = found
        return SessionView(key, row["sessionId"], row["entry"] or {},
                           tuple(e.value for e in now.events_of(row["sessionId"])))

    def session_keys(self) -> list[str]:
        return sorted(k for db in self.snapshot().agents.values() for k in db.sessions)

    def count(self, table: str) -> int:
        return self.snapshot().count(table)


@dataclass
class UpgradedGateway:
    gateway: Gateway
    fixture: Fixture
    image: GatewayImage
    contract: ContractChoice
    starts: list[StartKind]
    evidence: Path
    provider: ScriptedProvider | None = None  # the scripted model: chat turns work, and it records every request
    _rpc: GatewayRpc | None = field(default=None, repr=False)

    @property
    def rpc(self) -> GatewayRpc:
        """Connected on first use, with operator scopes (through the Gateway's own loopback)."""
        if self._rpc is None:
            self._rpc = self.gateway.rpc()
        return self._rpc

    @property
    def sqlite(self) -> SqliteView:
        return SqliteView(self.gateway)

    def close(self) -> None:
        """Keep what the run leaves as evidence: the Gateway's output and every command that touched the state."""
        if self._rpc is not None:
            self._rpc.close()
        self.gateway.keep_output(self.evidence)


def upgrade(resources: RunResources, image: GatewayImage, fixture: Fixture, contract: ContractChoice,
            evidence: Path, provider: ScriptedProvider | None = None) -> UpgradedGateway:
    session = StateSession(resources, image.tag, network=HERMETIC, provider=provider)
    seed = session.seed(fixture)
    # One volume per Gateway, never shared: two upgrades of one fixture in a test get two states.
    volume = session.volume(f"state-{len(resources.volumes)}-{fixture.name[:40]}", seed.files)
    gateway = session.gateway(volume, f"path3-{resources.run_id}-{len(resources.volumes)}")
    upgraded = UpgradedGateway(gateway, fixture, image, contract, [], evidence, provider)

    def keep_doctor(doctor) -> None:
        evidence.mkdir(parents=True, exist_ok=True)
        (evidence / "doctor-fix.log").write_text(doctor.output)

    try:
        upgraded.starts = start_as_a_user(
            gateway, doctor_when=refused if contract.contract == REFUSE_THEN_DOCTOR else never, on_doctor=keep_doctor).kinds
    except BaseException:  # whatever broke, the Gateway's output is kept before its container goes
        with contextlib.suppress(Exception):
            upgraded.close()
        raise
    last = upgraded.starts[-1]
    if not last.came_up:
        upgraded.close()
        raise UpgradeFailed(f"openclaw {image.target.version} did not come up on fixture {fixture.name} "
                            f"(contract {contract.contract}): starts {[s.kind for s in upgraded.starts]}, "
                            f"last: {last.message or 'no message'}; its output is in {evidence / 'gateway-stdout.log'}")
    return upgraded
