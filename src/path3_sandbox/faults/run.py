"""`path3-sandbox faults`: the catalogue's cases on one target and one fixture, a control first, one table.

    path3-sandbox faults --openclaw 2026.9.6 [--fixture NAME] [--fault NAME …] [--sweep doubling|every] [--sweep-max N]

The control case is the seeded state with no fault and a plain start: what an untouched import imports is the
baseline every fault that keeps the inputs is held to (a line the control imported and a fault case did not is lost
to the fault, even when its bytes are still somewhere). A sweep (kill-mid-import, kill-mid-doctor) kills at the
observed points one case each (next_sweep_point): `every` point 1, 2, 3, … until the import finishes before the point
(SQLite's own I/O-error loop); `doubling` (the default) points 1, 2, 4, 8, … until then, and then the last point that
untouched case saw (the import's end). At most `--sweep-max` cases either way.

    .artifacts/path3-faults/<run>/faults.md, faults.json, <case>/ (events.jsonl, case.json, every Gateway's output)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import docker

from ..containers.resources import RunResources
from ..proof.contracts import ContractChoice
from ..errors import EXIT_NOT_HIT, exit_for
from ..state.fixtures import Fixture
from ..build.images import GatewayImage
from ..plan import FAILED, NOT_HIT, PASSED, SKIPPED, Plan, PlannedStep
from ..progress import say
from .case import Case
from .fault import Fault
from .judge import COMPLETED, OUTCOME_WORDS
from .result import CaseResult

CONTROL = Fault("control", "control", "none: the seeded state and a plain start (the baseline)", (COMPLETED,))


def run_faults(client: docker.DockerClient, image: GatewayImage, fixture: Fixture, contract: ContractChoice,
               faults: list[Fault], *, run_id: str, root: Path, keep: bool = False, sweep: str = "doubling",
               sweep_max: int = 12) -> list[CaseResult]:
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: list[CaseResult] = []
    plan = Plan.of(f"faults on {fixture.name}", [(f.name, f.injection + (f" (a sweep: {sweep}, at most {sweep_max} "
                                                                      f"points)" if f.sweep else ""))
                                                 for f in (CONTROL, *faults)])
    plan.announce("faults")
    with RunResources(client, run_id, keep=keep) as resources:
        def run_case(fault: Fault, point: int = 1, control: Case | None = None) -> Case:
            case = Case(fault, image, fixture, contract, resources, root, point=point, control=control)
            result = case.run()
            results.append(result)
            say("faults", f"{result.name}: {result.verdict.upper()} "
                          f"({result.outcome}) in {result.seconds:.0f}s"
                          + (f"; {result.first_failure}" if result.first_failure else ""))
            write(root, image, fixture, results, time.monotonic() - started)
            return case

        planned = iter(plan.steps)
        control = run_case(CONTROL)
        _mark(plan, next(planned), results[-1:])
        for fault, step in zip(faults, planned):
            if not fault.sweep:
                run_case(fault, control=control)
                _mark(plan, step, results[-1:])
                continue
            tried: list[CaseResult] = []
            while (point := next_sweep_point(tried, sweep, sweep_max)) is not None:
                run_case(fault, point, control=control)
                tried.append(results[-1])
            _mark(plan, step, tried)
    write(root, image, fixture, results, time.monotonic() - started)
    (root / "steps-plan.json").write_text(json.dumps({"title": plan.title, "steps": plan.to_json()}, indent=2) + "\n")
    say("faults", plan.text())
    write(root, image, fixture, results, time.monotonic() - started)
    from ..report.redaction import sweep as redact

    redact(root)  # the harness tokens and the state's own secrets out of every evidence file
    return results


VERDICT_MARKS = {"pass": "✅ pass", "fail": "❌ **fail**", "not hit": "➖ not hit"}


def next_sweep_point(tried: list[CaseResult], how: str, most: int) -> int | None:
    """The next observed point a sweep kills at, None when it is complete: the import finished before a point (a
    case not hit), then for `doubling` once more at the last point that case saw, if no case killed there yet."""
    if len(tried) >= most:
        return None
    if not tried:
        return 1
    points = [r.point for r in tried]
    untouched = next((r for r in tried if not r.hit), None)
    if untouched is None:
        return points[-1] + 1 if how == "every" else points[-1] * 2
    last = len(untouched.injection.get("points_seen") or [])  # every point the untouched import passed
    if how == "doubling" and last > 0 and last not in points and tried[-1] is untouched:
        return last
    return None


def _mark(plan: Plan, step: PlannedStep, cases: list[CaseResult]) -> None:
    """A fault's mark from its cases (a sweep has several): failed if any failed, passed if any passed, else not hit
    (or skipped, with why)."""
    verdicts = {r.verdict for r in cases}
    outcome = (FAILED if "fail" in verdicts else PASSED if "pass" in verdicts else NOT_HIT if "not hit" in verdicts
               else SKIPPED)
    why = next((r.first_failure for r in cases if r.verdict == "fail"), None) or next(
        (r.skipped for r in cases if r.skipped), None) or (counted(cases) if len(cases) > 1 else "")
    plan.mark(step, outcome, seconds=sum(r.seconds for r in cases), why=why or "")


def not_hit(results: list[CaseResult]) -> list[str]:
    """The faults that never met the run: every case of theirs not hit. A sweep's last case is not hit by design (the
    import ended before that point) and its other points count; a fault with no point hit at all was not tried."""
    cases: dict[str, list[CaseResult]] = {}
    for result in results:
        cases.setdefault(result.fault.name, []).append(result)
    return [name for name, tried in cases.items() if all(r.verdict == "not hit" for r in tried)]


def exit_code(results: list[CaseResult]) -> int:
    """0 every fault met and passed; 1 a case failed on a Gateway finding; 4 on harness failures only; 5 nothing failed
    but a fault never met the run (not hit: neither a pass nor a failure)."""
    if not all(r.passed for r in results):
        return exit_for(False, findings=any(r.findings for r in results if not r.passed))
    return EXIT_NOT_HIT if not_hit(results) else exit_for(True)


def counted(results: list[CaseResult]) -> str:
    """"12 pass, 1 fail, 3 not hit, 0 skipped": a not-hit case is neither a pass nor a failure of the fault."""
    verdicts = [r.verdict for r in results]
    return ", ".join(f"{verdicts.count(v)} {v}" for v in ("pass", "fail", "not hit", "skipped"))


def faults_markdown(image: GatewayImage, fixture: Fixture, results: list[CaseResult], seconds: float) -> str:
    failed = [r for r in results if not r.passed]
    lines = [f"# {'✅' if not failed else '❌'} Faults: openclaw {image.target.version} on `{fixture.name}`", "",
             f"{counted(results)}; {seconds:.0f}s. A case **not hit** never saw its fault (the start was ready or "
             "refused before the point): its final state is judged all the same, and a sweep ends at one. "
             "Each case: a fresh volume seeded from the fixture, the fault, then a start as a user would (after a "
             "refusal naming doctor --fix: doctor --fix, start). Events lost, legacy bytes kept and duplicate rows "
             "are counted from content over the final state (judge.py).", "",
             "| case | injection | outcome | allowed | events lost | legacy bytes kept | duplicates | time to recover | "
             "verdict | evidence |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        row = r.to_json()
        if r.skipped:
            lines.append(f"| `{r.name}` | {r.fault.injection} | skipped | - | - | - | - | - | skipped: {r.skipped} | - |")
            continue
        injected = r.fault.injection + ("" if r.hit else " (**not hit**: the start ended before this point)")
        lines.append(f"| `{r.name}` | {injected} | {OUTCOME_WORDS.get(r.outcome, r.outcome)} | "
                     f"{', '.join(r.fault.allowed)} | {row['events_lost']} | {row['legacy_kept']} | {row['duplicates']} | "
                     f"{r.recover_seconds:.0f}s | {VERDICT_MARKS[r.verdict]} | [{r.evidence}]({r.evidence}/) |")
    if failed:
        lines += ["", "## Failures", ""] + [f"- `{r.name}`: {r.first_failure}" for r in failed]
    return "\n".join(lines) + "\n"


def write(root: Path, image: GatewayImage, fixture: Fixture, results: list[CaseResult], seconds: float) -> None:
    (root / "faults.md").write_text(faults_markdown(image, fixture, results, seconds), encoding="utf-8")
    (root / "faults.json").write_text(json.dumps({"openclaw": image.target.version, "image": image.tag,
                                                  "fixture": fixture.name, "seconds": round(seconds, 1),
                                                  "cases": [r.to_json() for r in results]},
                                                 indent=2, ensure_ascii=False) + "\n")
