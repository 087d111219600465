"""The commands that prove: prove, repro, compat, matrix, path, and live on a running Gateway."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from ..errors import exit_for
from ..paths import run_folder
from . import common


def prove(args: argparse.Namespace) -> int:
    result, _ = run_prove(args)
    return result.exit_code


def run_prove(args: argparse.Namespace, *, root: Path | None = None):
    """`prove`'s run: --fixture's fixtures (every one checked first) on --openclaw; returns the result and its folder
    (`root`, default .artifacts/path3-upgrade/<run>/)."""
    from ..proof.contracts import contract_for
    from ..containers.docker_client import docker_client
    from ..errors import FixtureError, UsageError
    from ..state.fixtures import check
    from ..containers.resources import new_run_id
    from ..proof.run import prove

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: at least one fixture at a time", hint="e.g. --jobs 2, or leave it out")
    fixtures = common.fixture_set(args.fixture)
    for fixture in fixtures:
        if problems := check(fixture):
            raise FixtureError(f"fixture {fixture.name} is inconsistent:\n  " + "\n  ".join(problems),
                               hint=f"fix the manifest or the files; `path3-sandbox fixtures check {fixture.root}`")
    target = common.target_of(args)
    contract = contract_for(target.version, args.contract)  # decided before any image is built
    image = common.gateway_image(args, target)
    run_id = new_run_id()
    root = root or run_folder("upgrade", run_id)
    result = prove(docker_client(), image, fixtures, contract, run_id=run_id, root=root, keep=args.keep,
                   argv=sys.argv[1:], scenario=not args.first_start_only, keep_artifacts=args.keep_artifacts,
                   network=args.network, jobs=args.jobs, doctor_first=args.doctor_first,
                   every_fixture=args.every_fixture)
    return result, root


def repro(args: argparse.Namespace) -> int:
    """`repro STATE` (a user's state) or `repro --from-report FILE` (the state a recovery report implies)."""
    from ..build.target import DEFAULT_SPEC
    from ..errors import UsageError

    if args.from_report is not None:
        if args.state:
            raise UsageError("give either STATE or --from-report FILE, not both",
                             hint="`path3-sandbox repro STATE` or `path3-sandbox repro --from-report report.md`")
        return _repro_from_report(args)
    if not args.state:
        raise UsageError("repro needs the user's state or a recovery report",
                         hint="`path3-sandbox repro ~/Downloads/openclaw-state.tar.gz` or "
                              "`path3-sandbox repro --from-report report.md`")
    if args.dry_run:
        raise UsageError("--dry-run goes with --from-report", hint="leave --dry-run out to repro a state")
    args.openclaw = args.openclaw or DEFAULT_SPEC
    return _repro_state(args)


def _repro_from_report(args: argparse.Namespace) -> int:
    """Parse the report, print what it implies and what it cannot, build that state in a temporary folder and hand
    it to the state path as `repro STATE` would: on the report's release unless --openclaw says otherwise. Every
    check is made before Docker is asked anything."""
    import tempfile

    from ..state.recovery_report import describe, report_state

    source = Path(args.from_report)
    report, files, manifest, cannot_infer = report_state(source)
    spec = _report_release(source, args.openclaw, report.version)
    print(describe(report, manifest, cannot_infer), flush=True)
    print(f"release: {spec} ({'--openclaw' if args.openclaw else 'the report'}); state: {len(files)} file(s)", flush=True)
    if args.dry_run:
        return 0
    with tempfile.TemporaryDirectory(prefix="path3-report-") as folder:
        args.state = str(write_state(files, Path(folder) / f"{source.stem}-state"))
        args.openclaw = spec
        args.plugins_pending = manifest["plugins"]  # the report says their inputs were pending: expected so
        return _repro_state(args)


def _report_release(source: Path, given: str | None, reported: str | None) -> str:
    from ..build.target import Target
    from ..errors import ReportError

    spec = given or reported
    if not spec:
        raise ReportError(f"{source} names no OpenClaw version", hint="give the release: --openclaw 2026.9.5")
    Target.parse(spec)  # a bad release is refused before anything is written
    return spec


def write_state(files: dict[str, bytes], state: Path) -> Path:
    """A state directory holding `files` (relative path -> bytes); its name is the one the proof reports it with."""
    for relpath, data in files.items():
        (state / relpath).parent.mkdir(parents=True, exist_ok=True)
        (state / relpath).write_bytes(data)
    return state


def _repro_state(args: argparse.Namespace) -> int:
    result, root = run_repro(args)
    bundle = write_bug_report_of(result, root)
    print(f"bug-report bundle: {bundle} (summary.md, summary.json, junit.xml, the inferred fixture.json, evidence, every "
          "file redacted; the state itself is not included: `path3-sandbox fixtures redact` makes a shareable copy of it)")
    return result.exit_code


def write_bug_report_of(result, root: Path) -> Path:
    from ..proof.run import write_bug_report

    return write_bug_report(result, root / "fixture" / "fixture.json", root / "bug-report.tar.gz")


def run_repro(args: argparse.Namespace, *, root: Path | None = None):
    """`repro STATE`'s proof: the state (args.state) unpacked into a fixture and proved on args.openclaw; returns the
    run's result and its folder (`root`, default .artifacts/path3-repro/<run>/: the proof's evidence under proof/). Bad input,
    no engine or a Ctrl-C before the proof leaves no run folder."""
    from ..proof.contracts import contract_for
    from ..containers.docker_client import docker_client
    from ..containers.resources import new_run_id
    from ..proof.run import prove
    from ..build.target import Target

    Target.parse(args.openclaw)  # a bad --openclaw is refused before the state is unpacked (a dist-tag resolves later)
    run_id = new_run_id()
    root = root or run_folder("repro", run_id)
    made = [folder for folder in (root, *root.parents) if not folder.exists()]  # removed again if no proof runs
    root.mkdir(parents=True, exist_ok=True)
    source = Path(args.state)
    proving = False
    try:
        with common.user_state_fixture(args, root, f"repro-{run_id}", f"the migration bug reported with {source.name}") as fixture:
            target = common.target_of(args)
            contract = contract_for(target.version, args.contract)  # decided before any image is built
            image = common.gateway_image(args, target)
            engine = docker_client()
            proving = True  # from here on the run folder holds evidence: kept, whatever ends the run
            result = prove(engine, image, [fixture], contract, run_id=run_id, root=root / "proof", keep=args.keep,
                           argv=sys.argv[1:], scenario=not args.first_start_only, network=args.network,
                           doctor_first=args.doctor_first)
    except BaseException:
        if not proving:  # bad input, no engine, Ctrl-C before the proof: no run folder stays (nor the folders above it)
            shutil.rmtree(root, ignore_errors=True)
            for folder in (f for f in made if f != root):  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: another run's
        raise
    return result, root


def reported(args: argparse.Namespace) -> int:
    """`reported [ISSUE…] [--release V] [--list]`: the corpus of upstream reports, each on the releases it names;
    `--build SPEC`: on one build, against the newest release each report names."""
    from ..build.target import Target
    from ..errors import UsageError
    from ..containers.resources import new_run_id
    from ..reported.case import load_corpus
    from ..reported.run import exit_code, listing, run_corpus, table

    cases = load_corpus(issues=args.issue or None)  # every report.json checked before anything runs
    for release in args.release or []:
        Target.parse(release)
    if args.build and args.release:
        raise UsageError("--build runs the corpus on one build; --release picks among the releases the reports name",
                         hint="give one of them")
    if args.contract and not args.build:
        raise UsageError("--contract is for a build the release table does not know (--build)",
                         hint="the releases the reports name take their contracts from the table")
    build = Target.parse(args.build) if args.build else None  # a bad spec or a cut tarball: exit 2 before anything runs
    if args.list:
        print(listing(cases))
        return 0
    root = run_folder("reported", new_run_id())
    if build is not None:
        return _reported_on_build(args, build, cases, root)
    outcomes = run_corpus(cases, root, releases=args.release, keep=args.keep, network=args.network, base=args.base)
    print(table(cases, outcomes))
    print(f"reported: {sum(o.ok for o in outcomes)}/{len(outcomes)} release run(s) as their reports say; "
          f"{root / 'reported.md'}")
    return exit_code(outcomes)


def _reported_on_build(args: argparse.Namespace, target, cases: list, root: Path) -> int:
    from ..reported import build

    label = f"{target.version} ({Path(args.build).name})" if target.tarball else args.build
    spec = str(target.tarball) if target.tarball else args.build
    outcomes = build.run_corpus_on_build(cases, spec, label, root, contract=args.contract, keep=args.keep,
                                         network=args.network, base=args.base)
    print(build.table(label, outcomes))
    print(f"reported on {label}: " + ", ".join(f"{n} {change}" for change, n in build.count(outcomes).items())
          + f"; {root / 'reported-build.md'}")
    return build.exit_code(outcomes)


def compat(args: argparse.Namespace) -> int:
    import os

    from ..containers.docker_client import docker_client
    from ..errors import UsageError
    from ..containers.resources import new_run_id
    from ..proof.run import prove
    from ..build.target import Target, registry_publish_times
    from ..upgrades import compat

    tags = compat.check_spec(args.releases)  # the syntax of --releases before the registry is asked anything
    if not os.path.lexists(args.state):  # the state must be there before a long registry call (unpacked later)
        raise UsageError(f"{args.state} does not exist", hint="pass a state directory, .tar.gz or .zip of ~/.openclaw")
    resolved = {tag: Target.parse(tag).resolve().version for tag in tags}  # a tag npm lacks: TargetError (exit 2)
    releases = compat.select_releases(args.releases, compat.publish_order(registry_publish_times()), resolved.__getitem__)
    candidates = compat.plan(releases, args.contract)  # bad input before the state is unpacked or anything built
    started, run_id = time.monotonic(), new_run_id()
    root = run_folder("compat", run_id)
    root.mkdir(parents=True, exist_ok=True)
    source = Path(args.state)

    def write(answer) -> None:
        compat.write(root, answer, state=source.name, seconds=time.monotonic() - started,
                     first_start_only=args.first_start_only)

    with common.user_state_fixture(args, root, f"compat-{run_id}", f"which releases upgrade {source.name}") as fixture:
        def try_release(candidate) -> compat.Outcome:  # the matrix's call, for one release
            version = candidate.version
            image = common.gateway_image(args, Target.parse(version))
            result = prove(docker_client(), image, [fixture], candidate.contract, run_id=f"{run_id}-{version}",
                           root=root / version, keep=args.keep, argv=sys.argv[1:], scenario=not args.first_start_only,
                           network=args.network)
            return compat.Outcome.of(result.verdicts[0], f"{version}/summary.md")

        answer = compat.find_first_bad(args.releases, candidates, try_release, on_outcome=write)
    print(f"{answer.line(root)}\nreport: {root / 'compat.md'}")
    return answer.exit_code


def matrix(args: argparse.Namespace) -> int:
    from ..containers.docker_client import docker_client
    from ..containers.resources import new_run_id
    from ..progress import say
    from ..proof.run import prove
    from ..upgrades import matrix

    fixtures = matrix.captured_fixtures(matrix.split(args.sources))  # bad input before any build
    targets = matrix.resolve_targets(matrix.split(args.targets))
    started, run_id = time.monotonic(), new_run_id()
    root = run_folder("matrix", run_id)
    say("matrix", f"{len(fixtures)} captured state(s) × {len(targets)} target(s): "
                  f"{', '.join(f.name for f in fixtures)} → {', '.join(t.version for t, _ in targets)}; evidence in {root}")
    cells: list = []
    for target, contract in targets:
        image = common.gateway_image(args, target)
        result = prove(docker_client(), image, fixtures, contract, run_id=f"{run_id}-{target.version}",
                       root=root / target.version, keep=False, argv=sys.argv[1:], scenario=not args.first_start_only,
                       network=args.network)
        cells += [matrix.Cell(v.fixture, target.version, v.passed, v.observed_contract, v.first_failure,
                              f"{target.version}/summary.md", len(v.findings)) for v in result.verdicts]
        matrix.write(root, fixtures, [t.version for t, _ in targets], cells, time.monotonic() - started)
    print(f"matrix: {sum(c.passed for c in cells)}/{len(cells)} cells pass; {root / 'matrix.md'}")
    return exit_for(all(c.passed for c in cells), findings=any(c.findings for c in cells if not c.passed))


def path(args: argparse.Namespace) -> int:
    from ..containers.resources import new_run_id
    from ..upgrades.recipe import load_recipe
    from ..upgrades.plan import plan, plan_text

    hops = plan(args.hops, args.contract)  # bad input before any Docker work
    recipe = load_recipe(args.recipe) if args.recipe else None
    print(f"upgrade path, {len(hops)} hops on one state volume:\n{plan_text(hops)}"
          + (f"\n  every writer hop also drives {recipe.source} ({recipe.turn_count} turns)" if recipe else ""), flush=True)
    if args.dry_run:
        return 0
    run_id = new_run_id()
    root = run_folder("path", run_id)
    result = run_path(args, hops, root, run_id=run_id, recipe=recipe)
    print(f"{result['verdict'].upper()}: path {' -> '.join(h.spec for h in hops)} in {result['seconds']:.0f}s"
          + (f"; first failure: {result['first_failure']}" if result["first_failure"] else "")
          + f"\nsummary: {root / 'summary.md'}")
    return exit_for(result["verdict"] == "pass", findings=any(f["blame"] == "gateway" for f in result["failures"]))


def run_path(args: argparse.Namespace, hops: list, root: Path, *, run_id: str, recipe=None) -> dict:
    """The planned hops on one volume (each release's image built or reused once, in path order; the releases
    installed in place (@npm-install=) from one registry image seeded with exactly them); path.json's dict."""
    from ..containers.docker_client import docker_client
    from ..build.target import Target
    from ..upgrades.path import prove_path
    from ..upgrades.plan import image_releases, in_place_releases

    images = {spec: common.gateway_image(args, Target.parse(spec)) for spec in image_releases(hops)}
    registry = None
    if in_place := in_place_releases(hops):
        from ..build.registry_image import ensure_registry_image
        from ..paths import image_logs

        registry = ensure_registry_image(docker_client(), in_place, log_dir=image_logs(), base=args.base)
    return prove_path(docker_client(), hops, images, run_id=run_id, root=root, keep=args.keep, network=args.network,
                      recipe=recipe, registry=registry)


def live(args: argparse.Namespace) -> int:
    from ..live import LiveOptions, live

    result = live(LiveOptions(args.url, args.agent, args.token_file, args.state_dir, args.allow_restart,
                              args.keep_artifacts, args.doctor_cli, allow_remote=args.allow_remote), argv=sys.argv[1:])
    if args.json:
        print(json.dumps(result.summary, indent=2, ensure_ascii=False))
    else:
        print(f"{result.summary['verdict'].upper()}: live scenario on {args.url}; "
              f"summary: {Path(result.summary['evidence']) / 'summary.md'}")
    return result.exit_code
