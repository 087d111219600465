"""What one fault case (case.py) comes to: CaseResult, its verdict (pass, fail, not hit or skipped) and its row for
faults.json and faults.md (run.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass

from .fault import Fault
from .judge import Tally


@dataclass
class CaseResult:
    name: str  # the fault, with its point for a sweep: kill-mid-import@2
    fault: Fault
    outcome: str
    passed: bool
    counts: Tally | None
    unreached: list[str]
    injection: dict
    starts: list[dict]
    recover_seconds: float
    seconds: float
    evidence: str
    first_failure: str | None = None
    skipped: str | None = None
    hit: bool = True  # False: the injection never happened (a sweep past the import's last point)
    point: int = 1  # a sweep's observed point
    findings: int = 0  # failed checks about the Gateway; a failed case with none failed on the harness alone

    @property
    def verdict(self) -> str:
        """pass / fail / not hit (the fault never happened: the start ended before its point; the final state is
        still judged, so a loss is a fail all the same) / skipped."""
        if self.skipped:
            return "skipped"
        if not self.passed:
            return "fail"
        return "pass" if self.hit else "not hit"

    def to_json(self) -> dict:
        counts = self.counts
        return {"case": self.name, "fault": self.fault.name, "group": self.fault.group,
                "injection": self.fault.injection, "allowed": list(self.fault.allowed), "outcome": self.outcome,
                "verdict": self.verdict,
                "skipped": self.skipped, "hit": self.hit, "first_failure": self.first_failure,
                "events": counts.events if counts else None, "events_lost": len(counts.lost) + len(self.unreached)
                if counts else None, "lost": (counts.lost + self.unreached) if counts else [],
                "legacy_kept": f"{counts.legacy_kept}/{counts.legacy_files}" if counts else None,
                "duplicates": len(counts.duplicates) if counts else None, "tally": counts.to_json() if counts else None,
                "injected": self.injection, "starts": self.starts, "time_to_recover_s": round(self.recover_seconds, 1),
                "seconds": round(self.seconds, 1), "evidence": self.evidence}
