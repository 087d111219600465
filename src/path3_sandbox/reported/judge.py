"""Did a release do what a reported case expects of it? A red expectation holds only when the proof failed on the
Gateway's findings (not the harness's) AND every name the case gives is said by the Gateway itself (its doctor,
validate and inspect output, its logs, its import reports) or by a finding (a lost message, an exit code): the
reported symptom, not any red. A green expectation holds when the proof passed. A run the harness could not judge
holds neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..proof.verdict import FixtureVerdict
from ..report.evidence import GATEWAY
from .case import GREEN, RED, Expectation

HARNESS = "harness"  # observed: the proof failed on the harness's failures only; nothing can be said
# What the Gateway wrote or printed, as the proof keeps it (never the state we seeded, never our own command list).
GATEWAY_OUTPUT = ("doctor-fix*.log", "doctor-session-sqlite-*.json", "gateway-stdout*.log", "gateway-reports.json",
                  "state/logs/*")


@dataclass(frozen=True)
class Observation:
    """What one run showed, from a proof (`repro`) or an upgrade path (`path`: its hops' folders hold the output)."""
    passed: bool
    findings: tuple[dict, ...]  # failures blamed on the Gateway
    evidence: Path
    first_failure: str | None = None

    @classmethod
    def of_proof(cls, verdict: FixtureVerdict) -> "Observation":
        return cls(verdict.passed, tuple(verdict.findings), Path(verdict.evidence), verdict.first_failure)

    @classmethod
    def of_path(cls, result: dict, root: Path) -> "Observation":
        findings = tuple(f for f in result.get("failures") or [] if f.get("blame") == GATEWAY)
        return cls(result.get("verdict") == "pass", findings, root, result.get("first_failure"))

    def files(self):
        """The Gateway's own output files: in the proof's folder, or in each hop's folder of a path."""
        for pattern in GATEWAY_OUTPUT:
            yield from sorted(self.evidence.glob(pattern))
            yield from sorted(self.evidence.glob(f"hop-*/{pattern}"))


@dataclass(frozen=True)
class Outcome:
    issue: int
    release: str
    expected: str
    observed: str  # red | green | harness | skipped (reported --build: the case cannot run on that build)
    seconds: float
    evidence: str
    first_failure: str | None = None
    said: dict[str, str] = field(default_factory=dict)  # a name -> where the Gateway said it
    unsaid: tuple[str, ...] = ()  # names expected and nowhere said

    @property
    def ok(self) -> bool:
        return self.observed == self.expected and not self.unsaid

    def line(self) -> str:
        if self.ok:
            said = "; ".join(f"{name!r} in {where}" for name, where in self.said.items())
            return f"{self.observed} as expected" + (f" ({said})" if said else "")
        if self.observed == HARNESS:
            return f"not judged: the harness failed ({self.first_failure})"
        if self.observed == "skipped":
            return f"skipped: {self.first_failure}"
        if self.observed != self.expected:
            return f"{self.observed}, expected {self.expected}" + (f": {self.first_failure}" if self.first_failure else "")
        return f"red, but the Gateway never said {', '.join(map(repr, self.unsaid))}: not the reported symptom"

    def to_json(self) -> dict:
        return {"issue": self.issue, "release": self.release, "expected": self.expected, "observed": self.observed,
                "ok": self.ok, "seconds": round(self.seconds, 1), "evidence": self.evidence,
                "first_failure": self.first_failure, "said": self.said, "unsaid": list(self.unsaid)}


def observed(seen: Observation) -> str:
    if seen.passed:
        return GREEN
    return RED if seen.findings else HARNESS


def where_said(name: str, seen: Observation) -> str | None:
    """The first place `name` is said: a file of the Gateway's own output, else a finding about the Gateway."""
    for path in seen.files():
        try:
            if name in path.read_text(encoding="utf-8", errors="replace"):
                return str(path.relative_to(seen.evidence))
        except OSError:
            continue
    for finding in seen.findings:
        if name in finding.get("message", ""):
            return f"finding ({finding.get('evidence') or 'events.jsonl'})"
    return None


def judge(issue: int, expectation: Expectation, run: Observation | FixtureVerdict, seconds: float) -> Outcome:
    run = run if isinstance(run, Observation) else Observation.of_proof(run)
    seen = observed(run)
    said: dict[str, str] = {}
    unsaid: list[str] = []
    if expectation.verdict == RED and seen == RED:
        for name in expectation.names:
            where = where_said(name, run)
            if where:
                said[name] = where
            else:
                unsaid.append(name)
    return Outcome(issue, expectation.release, expectation.verdict, seen, seconds, str(run.evidence),
                   run.first_failure, said, tuple(unsaid))
