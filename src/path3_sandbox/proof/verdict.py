"""One fixture's verdict (proof.py's FixtureProof gives it): pass or fail, the first failure, the observed contract,
the phases' seconds, every failed assertion split into the Gateway's findings and the harness's failures, and the
time split: the Gateway's own seconds beside ours."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..containers.gateway import Gateway
from ..containers.rpc import GatewayRpc
from ..report.evidence import GATEWAY


@dataclass(frozen=True)
class FixtureVerdict:
    fixture: str
    passed: bool
    first_failure: str | None
    observed_contract: str | None
    seconds: float
    phases: dict[str, float]
    evidence: Path
    counts: dict
    scenario: dict | None = None
    phase_results: tuple[dict, ...] = ()
    failures: tuple[dict, ...] = ()  # every failed assertion: blame (gateway | harness), message, evidence line
    network: dict | None = None  # network.json: hermetic (with the names the Gateway looked up) or open
    gateway_time: dict | None = None  # the Gateway's own seconds (starts, cli, rpc) and ours beside them (time_split)

    @property
    def findings(self) -> list[dict]:
        return [f for f in self.failures if f["blame"] == GATEWAY]

    @property
    def harness_failures(self) -> list[dict]:
        return [f for f in self.failures if f["blame"] != GATEWAY]

    def to_json(self) -> dict:
        return {"fixture": self.fixture, "verdict": "pass" if self.passed else "fail", "first_failure": self.first_failure,
                "observed_contract": self.observed_contract, "seconds": round(self.seconds, 1),
                "phases": {k: round(v, 1) for k, v in self.phases.items()}, "evidence": str(self.evidence),
                "gateway_findings": self.findings, "harness_failures": self.harness_failures,
                "counts": self.counts, "scenario": self.scenario, "phases_checked": list(self.phase_results),
                "network": {k: v for k, v in (self.network or {}).items() if k != "dns_lookups"},
                "time": self.gateway_time}


def time_split(gateway: Gateway | None, rpc: GatewayRpc | None, seconds: float) -> dict | None:
    """The Gateway's own seconds (its starts until ready, the openclaw commands it ran, its RPC answers, the wait
    for its restart recovery) and the rest, which is ours: seeding, probes, containers, waits.
    overhead = ours / the Gateway's."""
    if gateway is None:
        return None
    busy = gateway.busy_seconds()
    busy["rpc"] = round(sum(call.seconds for call in (rpc.calls if rpc else [])), 1)
    total = sum(busy.values())
    ours = max(0.0, seconds - total)
    return {"gateway": busy, "gateway_seconds": round(total, 1), "harness_seconds": round(ours, 1),
            "overhead": round(ours / total, 2) if total else None}
