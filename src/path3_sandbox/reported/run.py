"""`path3-sandbox reported`: each reproduced case of the corpus on each release its report.json names, through the
same proof as `repro` (a recovery report is turned into its state as `repro --from-report` does); each outcome judged
(judge.py); the table written as reported.md and reported.json. Cases not reproduced are listed with what is
missing, never run."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from ..errors import EXIT_HARNESS, EXIT_PROOF_FAILED, EXIT_PROOF_PASSED
from ..progress import say
from .case import ReportedCase
from .judge import HARNESS, Observation, Outcome, judge


def run_case(case: ReportedCase, release: str, root: Path, *, keep: bool = False, network: str = "hermetic",
             base: str | None = None) -> Outcome:
    """The case's state proved on `release` by the command its kind names (repro, prove --fixture or path), with that
    command's own options; its evidence under root/<issue>-<release>/."""
    expectation = next(e for e in case.expect if e.release == release)
    say("reported", f"#{case.issue} on {release}: expected {expectation.verdict} ({case.symptom})")
    started = time.monotonic()
    seen = observe(case, release, root / f"{case.issue}-{release}", options_of(keep, network, base))
    outcome = judge(case.issue, expectation, seen, time.monotonic() - started)
    say("reported", f"#{case.issue} on {release}: {'ok' if outcome.ok else 'NOT AS REPORTED'}: {outcome.line()} "
                    f"({outcome.seconds:.0f}s)")
    return outcome


def options_of(keep: bool, network: str, base: str | None, contract: str | None = None) -> list[str]:
    """The options every kind of case passes to its command (repro, prove, path), built once."""
    return ["--network", network, *(["--keep"] if keep else []), *(["--base", base] if base else []),
            *(["--contract", contract] if contract else [])]


def observe(case: ReportedCase, release: str, folder: Path, options: list[str]) -> Observation:
    """The case run on `release` (a version, or a packed tarball) by the command its kind names, with `options`."""
    run = {"path": _run_path, "fixture": _prove_fixture}.get(case.how, _repro)
    return run(case, release, folder, options)


def _args(argv: list[str]):
    from ..cli import parser

    return parser().parse_args(argv)


def _repro(case: ReportedCase, release: str, folder: Path, options: list[str]) -> Observation:
    """`repro STATE` (a recovery report built into its state as `repro --from-report` builds it)."""
    from ..commands.proving import run_repro, write_state
    from ..state.recovery_report import report_state

    options = [*options, *case.proof_options()]
    with tempfile.TemporaryDirectory(prefix="path3-reported-") as scratch:
        pending: list[str] = []
        state = case.source
        if case.how == "from_report":
            _, files, manifest, _ = report_state(case.source)
            state = write_state(files, Path(scratch) / f"{case.issue}-state")
            pending = manifest["plugins"]  # as `repro --from-report` expects them
        args = _args(["repro", str(state), "--openclaw", release, *options])
        args.plugins_pending = pending
        result, _ = run_repro(args, root=folder)
    return Observation.of_proof(result.verdicts[0])


def _prove_fixture(case: ReportedCase, release: str, folder: Path, options: list[str]) -> Observation:
    """`prove --fixture`: a committed fixture, its own manifest the oracle's."""
    from ..commands.proving import run_prove

    options = [*options, *case.proof_options()]
    result, _ = run_prove(_args(["prove", "--openclaw", release, "--fixture", str(case.source), *options]),
                          root=folder)
    return Observation.of_proof(result.verdicts[0])


def _run_path(case: ReportedCase, release: str, folder: Path, options: list[str]) -> Observation:
    """`path`: the case's hops with the release under test in place of {release}, and its recipe."""
    from ..commands.proving import run_path
    from ..containers.resources import new_run_id
    from ..upgrades.plan import plan
    from ..upgrades.recipe import load_recipe

    specs = case.hops_on(release)
    recipe = load_recipe(case.recipe) if case.recipe else None
    result = run_path(_args(["path", *specs, *options]), plan(specs), folder, run_id=new_run_id(), recipe=recipe)
    return Observation.of_path(result, folder)


def run_corpus(cases: list[ReportedCase], root: Path, *, releases: list[str] | None = None, keep: bool = False,
               network: str = "hermetic", base: str | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    started = time.monotonic()
    for case in cases:
        for expectation in case.expect if case.reproduced else ():
            if releases and expectation.release not in releases:
                continue
            outcomes.append(run_case(case, expectation.release, root, keep=keep, network=network, base=base))
            write(root, cases, outcomes, time.monotonic() - started)  # the table grows as the corpus runs
    write(root, cases, outcomes, time.monotonic() - started)
    return outcomes


def exit_code(outcomes: list[Outcome]) -> int:
    """0 every release did what its case expects; 1 one did not (a reproduction lost, a fix regressed, a red that is
    not the reported symptom); 4 only the harness failed (nothing could be judged)."""
    if all(o.ok for o in outcomes):
        return EXIT_PROOF_PASSED
    return EXIT_HARNESS if all(o.ok or o.observed == HARNESS for o in outcomes) else EXIT_PROOF_FAILED


def _cell(case: ReportedCase, release: str | None, outcomes: dict[tuple[int, str], Outcome]) -> str:
    if not release:
        return "none known"
    outcome = outcomes.get((case.issue, release))
    expected = next((e.verdict for e in case.expect if e.release == release), None)
    if outcome is None:
        return f"{release}: not run" + (f" (expected {expected})" if expected else "")
    mark = "✅" if outcome.ok else "❌"
    return f"{release} → {mark} {outcome.observed}" + ("" if outcome.ok else f" (expected {outcome.expected})")


def table(cases: list[ReportedCase], outcomes: list[Outcome]) -> str:
    by = {(o.issue, o.release): o for o in outcomes}
    lines = ["| report | symptom | reported release → verdict | fixing release → verdict | other releases | time |",
             "|---|---|---|---|---|---|"]
    for case in cases:
        if not case.reproduced:
            lines.append(f"| [#{case.issue}]({case.link}) | {case.symptom} | {case.reported_on}: **not reproduced** "
                         f"({case.missing}) | {case.fixed_in or 'none known'} | - | - |")
            continue
        others = [e.release for e in case.expect if e.release not in (case.reported_on, case.fixed_in)]
        seconds = sum(o.seconds for o in outcomes if o.issue == case.issue)
        lines.append(f"| [#{case.issue}]({case.link}) | {case.symptom} | {_cell(case, case.reported_on, by)} | "
                     f"{_cell(case, case.fixed_in, by)} | {'; '.join(_cell(case, r, by) for r in others) or '-'} | "
                     f"{seconds:.0f}s |")
    return "\n".join(lines)


def write(root: Path, cases: list[ReportedCase], outcomes: list[Outcome], seconds: float) -> None:
    root.mkdir(parents=True, exist_ok=True)
    ok = sum(o.ok for o in outcomes)
    heading = "✅ every release as its report says" if outcomes and ok == len(outcomes) else (
        f"❌ {len(outcomes) - ok} of {len(outcomes)} release run(s) not as reported" if outcomes else "nothing run")
    details = [f"- #{o.issue} on {o.release}: {o.line()} — evidence `{o.evidence}`" for o in outcomes]
    text = "\n".join([f"# Reported-bug corpus: {heading}", "",
                      f"{len(cases)} case(s), {sum(c.reproduced for c in cases)} reproduced, "
                      f"{sum(not c.reproduced for c in cases)} not (yet); {len(outcomes)} release run(s) in "
                      f"{seconds:.0f}s", "", table(cases, outcomes), "", "## Each run", "", *details]) + "\n"
    (root / "reported.md").write_text(text, encoding="utf-8")
    (root / "reported.json").write_text(json.dumps({"seconds": round(seconds, 1), "cases": [c.to_json() for c in cases],
                                                    "outcomes": [o.to_json() for o in outcomes]}, indent=2,
                                                   ensure_ascii=False) + "\n", encoding="utf-8")


def listing(cases: list[ReportedCase]) -> str:
    """The corpus from its report.json files alone (no Docker)."""
    lines = []
    for case in cases:
        runs = ", ".join(f"{e.release} {e.verdict}" for e in case.expect) or "none"
        lines.append(f"#{case.issue:<7} {case.status:<15} reported on {case.reported_on}, fixed in "
                     f"{case.fixed_in or 'none known'}; runs: {runs}\n          {case.symptom}"
                     + (f"\n          missing: {case.missing}" if case.missing else ""))
    return "\n".join(lines)

