"""`reported --build SPEC`: the corpus on a build no report names (a pull request's packed tarball, a release newer
than the corpus), each reproduced case held against what it expects of the newest release it names (its baseline):
which reports the build turns green (fixed), which it turns red (regressed), which stay as they were. A red that
stays red is judged as the baseline is (the Gateway must still say the reported symptom, judge.py); a build that
fixes a report only has to pass. Written as reported-build.md and reported-build.json; exit 1 when a report
regressed, else 4 when one could not be judged (the harness failed), else 0."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..build.version import Version
from ..errors import EXIT_HARNESS, EXIT_PROOF_FAILED, EXIT_PROOF_PASSED
from ..progress import say
from .case import GREEN, RED, Expectation, ReportedCase
from .judge import HARNESS, Outcome, judge

FIXED, REGRESSED, STILL_RED, STILL_GREEN, NOT_JUDGED = "fixed", "regressed", "still red", "still green", "not judged"
SKIPPED = "skipped"  # the case cannot run on this build (e.g. its path installs a release in place from the registry)
OTHER_RED = "red, another symptom"  # red on the build, but the Gateway no longer says the reported symptom
CHANGES = (FIXED, REGRESSED, OTHER_RED, STILL_RED, STILL_GREEN, NOT_JUDGED, SKIPPED)  # the order tables count them


@dataclass(frozen=True)
class BuildOutcome:
    case: ReportedCase
    baseline: Expectation
    run: Outcome  # the build's run, judged against the baseline's expectation

    @property
    def change(self) -> str:
        seen = self.run.observed
        if seen in (HARNESS, SKIPPED):
            return NOT_JUDGED if seen == HARNESS else SKIPPED
        if self.baseline.verdict == RED:
            return FIXED if seen == GREEN else (STILL_RED if self.run.ok else OTHER_RED)
        return STILL_GREEN if seen == GREEN else REGRESSED

    def to_json(self) -> dict:
        return {"issue": self.case.issue, "baseline": self.baseline.to_json(), "change": self.change,
                **{k: v for k, v in self.run.to_json().items() if k not in ("issue", "expected", "ok")}}


def baseline(case: ReportedCase) -> Expectation:
    """What the case expects of the newest release it names."""
    return max(case.expect, key=lambda e: Version.of(e.release).key)


def run_on_build(case: ReportedCase, spec: str, label: str, root: Path, *, contract: str | None = None,
                 keep: bool = False, network: str = "hermetic", base: str | None = None) -> BuildOutcome:
    from .run import observe, options_of

    newest = baseline(case)  # not `base`: that is the base image
    if why := cannot_run(case, spec, contract):
        say("reported", f"#{case.issue} on {label}: skipped: {why}")
        return BuildOutcome(case, newest, Outcome(case.issue, label, newest.verdict, SKIPPED, 0.0, "-", why))
    say("reported", f"#{case.issue} on {label}: {newest.release} is {newest.verdict} ({case.symptom})")
    started = time.monotonic()
    seen = observe(case, spec, root / f"{case.issue}-build", options_of(keep, network, base, contract))
    judged = judge(case.issue, newest, seen, time.monotonic() - started)
    outcome = BuildOutcome(case, newest, replace(judged, release=label))
    say("reported", f"#{case.issue} on {label}: {outcome.change} ({judged.observed}; {judged.seconds:.0f}s)")
    return outcome


def cannot_run(case: ReportedCase, spec: str, contract: str | None) -> str | None:
    """Why the case cannot run on this build, or None: a path whose hops do not plan with it in the release's place
    (an in-place install names a release on the registry; a tarball is not one)."""
    from ..errors import UsageError
    from ..upgrades.plan import plan

    if case.how != "path":
        return None
    try:
        plan(case.hops_on(spec), contract)
    except UsageError as error:
        return f"its path does not take this build: {error.message}"
    return None


def run_corpus_on_build(cases: list[ReportedCase], spec: str, label: str, root: Path, **options) -> list[BuildOutcome]:
    started, outcomes = time.monotonic(), []
    for case in (c for c in cases if c.reproduced):
        outcomes.append(run_on_build(case, spec, label, root, **options))
        write(root, label, outcomes, time.monotonic() - started)
    write(root, label, outcomes, time.monotonic() - started)
    return outcomes


def table(label: str, outcomes: list[BuildOutcome]) -> str:
    lines = [f"| report | symptom | baseline | {label} | change | time |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        mark = {FIXED: "🟢 fixed", REGRESSED: "🔴 regressed", OTHER_RED: "🟠 red, another symptom"}.get(o.change,
                                                                                                       o.change)
        lines.append(f"| [#{o.case.issue}]({o.case.link}) | {o.case.symptom} | {o.baseline.release} → "
                     f"{o.baseline.verdict} | {o.run.observed} | {mark} | {o.run.seconds:.0f}s |")
    return "\n".join(lines)


def write(root: Path, label: str, outcomes: list[BuildOutcome], seconds: float) -> None:
    root.mkdir(parents=True, exist_ok=True)
    counts = count(outcomes)
    heading = ", ".join(f"{n} {change}" for change, n in counts.items() if n) or "nothing run"
    details = [f"- #{o.case.issue}: {o.change}: {o.run.line()} — evidence `{o.run.evidence}`" for o in outcomes]
    (root / "reported-build.md").write_text("\n".join([
        f"# Reported-bug corpus on {label}: {heading}", "",
        "Each reproduced report on this build, against what it expects of the newest release it names.", "",
        table(label, outcomes), "", "## Each run", "", *details]) + "\n", encoding="utf-8")
    (root / "reported-build.json").write_text(json.dumps({"build": label, "seconds": round(seconds, 1), "counts": counts,
                                                          "outcomes": [o.to_json() for o in outcomes]},
                                                         indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def count(outcomes: list[BuildOutcome]) -> dict[str, int]:
    return {change: sum(o.change == change for o in outcomes) for change in CHANGES}


def exit_code(outcomes: list[BuildOutcome]) -> int:
    if any(o.change == REGRESSED for o in outcomes):
        return EXIT_PROOF_FAILED
    if any(o.change == NOT_JUDGED for o in outcomes):  # a report nobody judged is not a pass
        return EXIT_HARNESS
    return EXIT_PROOF_PASSED
