"""The numbered plan: what a run of several steps will do, printed before it starts and marked as it goes.

CockroachDB's mixed-version framework prints its numbered plan before running and marks the step that failed; every
run of several steps here does the same with this one model: a proof's scenario steps (scenario/runner.py), a live
run's steps (live/run.py, the same runner), an upgrade path's hops (upgrades/runner.py) and a fault run's cases
(faults/run.py, whose sweeps add their cases as they go). A step is numbered once, in the order it will run; its mark
says what happened to it:

    passed    it ran and every check held
    failed    it ran and a check failed, or it broke
    skipped   it could not run on this target (why is said: a missing RPC method, a flag not given)
    not hit   a fault case whose fault never met the run (neither a pass nor a failure)
    not run   the run stopped before it (an earlier hop broke)

    plan = Plan.of("scenario on minimal", [("chat-turn", "one turn on the imported session"), ...])
    plan.announce("minimal/scenario")          # the numbered plan, one progress line a step
    plan.mark(plan.steps[0], PASSED, seconds=3.2)
    print(plan.text())                          # the plan with its marks, the first failure pointed at
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .progress import say

PASSED, FAILED, SKIPPED, NOT_HIT, NOT_RUN = "passed", "failed", "skipped", "not hit", "not run"
_SYMBOLS = {PASSED: "✓", FAILED: "✗", SKIPPED: "–", NOT_HIT: "○", NOT_RUN: "·"}


@dataclass(frozen=True)
class PlannedStep:
    number: int  # 1-based, in the order the steps run
    name: str  # short and unique within its plan: "chat-turn", "2026.9.6", "@move-state-db-aside", "kill-mid-import@4"
    does: str = ""  # one line, for the printed plan


@dataclass(frozen=True)
class Mark:
    outcome: str
    seconds: float | None = None
    why: str = ""  # a skip's reason, a failure's first message


@dataclass
class Plan:
    title: str
    steps: list[PlannedStep] = field(default_factory=list)
    marks: dict[int, Mark] = field(default_factory=dict)

    @classmethod
    def of(cls, title: str, items: Iterable[tuple[str, str]]) -> Plan:
        plan = cls(title)
        for name, does in items:
            plan.add(name, does)
        return plan

    def add(self, name: str, does: str = "") -> PlannedStep:
        """One more step at the end (a fault sweep decides its next point from the last one's result)."""
        step = PlannedStep(len(self.steps) + 1, name, does)
        self.steps.append(step)
        return step

    def label(self, step: PlannedStep) -> str:
        """"3/8 metadata": the step's place in the plan, for progress lines."""
        return f"{step.number}/{len(self.steps)} {step.name}"

    def mark(self, step: PlannedStep, outcome: str, *, seconds: float | None = None, why: str = "") -> None:
        if outcome not in _SYMBOLS:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.marks[step.number] = Mark(outcome, seconds, why)

    def outcome(self, step: PlannedStep) -> str:
        return self.marks[step.number].outcome if step.number in self.marks else NOT_RUN

    def first_failed(self) -> PlannedStep | None:
        return next((s for s in self.steps if self.outcome(s) == FAILED), None)

    def announce(self, who: str) -> None:
        """The numbered plan as progress lines, before anything runs."""
        say(who, f"plan: {self.title}, {len(self.steps)} step(s)")
        for step in self.steps:
            say(who, f"  {step.number}. {step.name}" + (f": {step.does}" if step.does else ""))

    def text(self) -> str:
        """The plan with what happened to each step; the first failure is pointed at."""
        first = self.first_failed()
        width = max((len(s.name) for s in self.steps), default=0)
        lines = [f"{self.title}:"]
        for step in self.steps:
            mark = self.marks.get(step.number, Mark(NOT_RUN))
            took = f" {mark.seconds:.1f}s" if mark.seconds is not None else ""
            why = f": {mark.why}" if mark.why else ""
            here = "   <- first failure" if step is first else ""
            lines.append(f"  {step.number:>2}. {step.name:<{width}}  {_SYMBOLS[mark.outcome]} {mark.outcome}{took}{why}{here}")
        return "\n".join(lines)

    def to_json(self) -> list[dict]:
        return [{"number": s.number, "name": s.name, "does": s.does, "outcome": self.outcome(s),
                 "seconds": self.marks[s.number].seconds if s.number in self.marks else None,
                 "why": self.marks[s.number].why if s.number in self.marks else ""} for s in self.steps]
