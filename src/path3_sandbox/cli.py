"""Command-line entry point: argument parsing only; the work is done by the modules it calls.

Exit codes (a contract, errors.py): 0 proof passed / command done, 1 proof failed, 2 usage or input error,
3 environment error, 130 interrupted (Ctrl-C or SIGTERM, after this run's resources were removed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .errors import EXIT_INTERRUPTED, EXIT_PROOF_FAILED, EXIT_PROOF_PASSED, EXIT_USAGE, Path3Error
from .build.images import DEFAULT_BASE
from .paths import artifacts_root
from .report.redaction import snapshot, sweep
from .signals import first_signal, ignore_further_signals, signals_ignored, terminate_like_interrupt
from .build.target import DEFAULT_SPEC


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="path3-sandbox",
        description="Prove in throwaway containers that an OpenClaw Gateway upgrades legacy session stores into SQLite.",
        epilog="exit codes: 0 passed, 1 proof failed, 2 usage/input error, 3 environment error, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"path3-sandbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("engine", help="find the Docker engine, or install and start one (root on Debian/Ubuntu)")

    image = commands.add_parser("image", help="Gateway images")
    image_commands = image.add_subparsers(dest="image_command", required=True, metavar="ACTION")
    build = image_commands.add_parser("build", help="build (or reuse) the Gateway image for a target; prints its tag")
    _target_options(build)

    smoke = commands.add_parser("smoke", help="start the target's Gateway on an empty state, wait until ready, stop it")
    _target_options(smoke)
    smoke.add_argument("--keep", action="store_true", help="leave the container and volume for inspection")

    prove = commands.add_parser("prove", help="prove a target upgrades legacy fixtures (exit 0 pass, 1 fail)")
    _target_options(prove)
    prove.add_argument("--fixture", action="append", metavar="NAME_OR_PATH",
                       help="a fixture name or folder; repeatable (default: every fixture in fixtures/legacy-stores)")
    prove.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                       help="override the contract the release table gives for the target")
    prove.add_argument("--keep", action="store_true", help="leave containers and volumes for inspection")
    prove.add_argument("--first-start-only", action="store_true",
                       help="stop after the first-start proof (skip the RPC scenario and its model provider)")
    prove.add_argument("--keep-artifacts", action="store_true",
                       help="keep the proof session and the provider's full request bodies in the evidence")
    prove.add_argument("--jobs", type=int, metavar="N",
                       help="fixtures proved at once (default: one per core and per 2 GiB of free memory)")
    _network_option(prove)

    path = commands.add_parser("path", help="several releases in turn on one state volume, every message any hop wrote "
                                            "checked after every later release (exit 0 pass, 1 fail)")
    path.add_argument("hops", nargs="+", metavar="HOP",
                      help="a release (2026.7.35) or an action (@move-state-db-aside, @restore-sessions-backup, "
                           "@copy-sessions-from-another-machine), in order")
    path.add_argument("--dry-run", action="store_true", help="print the numbered plan and stop")
    path.add_argument("--recipe", type=Path, metavar="FILE",
                      help="every writer hop also drives this recipe (fixtures/recipes/*.json: sessions, turns, compact, "
                           "reset); its turns join the oracle")
    path.add_argument("--keep", action="store_true", help="leave containers and the volume for inspection")
    _base_option(path)
    _network_option(path)

    matrix = commands.add_parser("matrix", help="prove every captured fixture of the source releases against every "
                                                "target; writes matrix.md and matrix.json (exit 0 all pass, 1 not)")
    matrix.add_argument("--from", dest="sources", required=True, metavar="RELEASES",
                        help="writer releases, comma-separated: their committed captures are the rows")
    matrix.add_argument("--to", dest="targets", required=True, metavar="RELEASES",
                        help="target releases or dist-tags, comma-separated: the columns")
    matrix.add_argument("--first-start-only", action="store_true", help="skip the RPC scenario in every cell")
    _base_option(matrix)
    _network_option(matrix)

    faults = commands.add_parser("faults", help="crash and fault proof of the import: each fault on a fresh volume, "
                                                "then a start; writes faults.md and faults.json (exit 0 pass, 1 fail)")
    _target_options(faults)
    faults.add_argument("--fixture", metavar="NAME_OR_PATH",
                        help="the state every case is seeded from (default: a captured real-release fixture, else minimal)")
    faults.add_argument("--fault", action="extend", nargs="+", metavar="NAME",
                        help="faults of the catalogue, one or more, the flag repeatable "
                             "(default: all; `--fault list` lists them)")
    faults.add_argument("--sweep", choices=("doubling", "every"), default="doubling",
                        help="the sweeps (kill-mid-import, kill-mid-doctor) kill at observed points 1, 2, 4, 8, … and "
                             "the last (doubling, default) or at every point 1, 2, 3, … (every), until the import "
                             "finishes before the point")
    faults.add_argument("--sweep-max", type=int, default=12, metavar="N",
                        help="at most N cases per sweep (default 12)")
    faults.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                        help="override the contract the release table gives for the target")
    faults.add_argument("--keep", action="store_true", help="leave containers and volumes for inspection")

    bench = commands.add_parser("bench", help="import scaling: generated legacy states of growing size imported by the "
                                              "real Gateway, beside a node:sqlite floor; writes bench.json, bench.md, "
                                              "bench.png (exit 0 measured, 1 a size lost events or failed)")
    _target_options(bench)
    bench.add_argument("--sessions", default="10,100,1000,5000", metavar="N,N,…",
                       help="the sizes, in sessions, comma-separated, run in this order (default 10,100,1000,5000)")
    bench.add_argument("--events", type=int, default=20, metavar="M",
                       help="message events per session, plus the session header line (default 20)")
    bench.add_argument("--time-limit", default="15m", metavar="DURATION",
                       help="per size: not ready by then is recorded as timeout, and the next size runs "
                            "(15m, 90s, 1h; a bare number is minutes; default 15m: OpenClaw's tracker reports a "
                            "4,800-session store that did not import within 15 minutes)")
    bench.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0): same seed, same state")
    bench.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                       help="the contract for a release the release table does not know")
    bench.add_argument("--keep", action="store_true", help="leave containers and volumes for inspection")

    compat = commands.add_parser("compat", help="which releases upgrade a user's state cleanly, and the first that does "
                                                "not; writes compat.md and compat.json (exit 0 all tried pass, 1 not)")
    compat.add_argument("state", help="the user's ~/.openclaw: a directory, .tar.gz/.tgz/.tar or .zip")
    compat.add_argument("--releases", required=True, metavar="A..B|A,B,…",
                        help="A..B: every release published from A through B, in the registry's publish order (B may "
                             "be a dist-tag; pre-releases only if A or B is one); or a comma list, tried as given")
    compat.add_argument("--first-start-only", action="store_true", help="skip the RPC scenario for every release")
    compat.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                        help="the contract for releases the release table does not know (otherwise skipped)")
    _base_option(compat)
    _network_option(compat)
    compat.add_argument("--keep", action="store_true",
                        help="leave containers, volumes and the unpacked copy of the state for inspection")
    _unpack_options(compat)

    repro = commands.add_parser("repro", help="reproduce a reported migration bug from a user's state; writes a bug-report bundle")
    repro.add_argument("state", help="the user's ~/.openclaw: a directory, .tar.gz/.tgz/.tar or .zip")
    _target_options(repro)
    repro.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"), help="override the release table")
    repro.add_argument("--first-start-only", action="store_true", help="skip the RPC scenario")
    _network_option(repro)
    repro.add_argument("--keep", action="store_true",
                       help="leave containers, volumes and the unpacked copy of the state for inspection")
    _unpack_options(repro)

    fixtures = commands.add_parser("fixtures", help="list, check, add, capture or redact legacy-store fixtures")
    fixture_commands = fixtures.add_subparsers(dest="fixtures_command", required=True, metavar="ACTION")
    fixture_commands.add_parser("list", help="name, sessions and purpose of every fixture")
    check = fixture_commands.add_parser("check", help="compare each manifest with the files on disk")
    check.add_argument("fixture", nargs="*", metavar="NAME_OR_PATH")
    add = fixture_commands.add_parser("add", help="turn a state (dir or archive) into a regression fixture with its manifest")
    add.add_argument("state")
    add.add_argument("--name", required=True, help="fixture name (folder under fixtures/legacy-stores/)")
    add.add_argument("--catches", default="", help="what this fixture is meant to catch (e.g. an issue number)")
    add.add_argument("--allow-secrets", action="store_true",
                     help="add a state the redactor still finds secrets in (throwaway values only; the manifest says so)")
    _unpack_options(add)
    capture = fixture_commands.add_parser("capture", help="a writer release (e.g. 2026.7.35) writes a fixture by running a recipe")
    capture.add_argument("--recipe", required=True, help="fixtures/recipes/<name>.json: the sessions and turns to write")
    capture.add_argument("--name", required=True, help="fixture name (folder under fixtures/legacy-stores/)")
    capture.add_argument("--writer", metavar="VERSION", help="the writer release (default: the recipe's; must match it)")
    capture.add_argument("--base", default=DEFAULT_BASE, help=f"base image with Node >= 24.16 (default: {DEFAULT_BASE})")
    capture.add_argument("--replace", action="store_true", help="replace the fixture if it exists (once the new one is written)")
    capture.add_argument("--keep", action="store_true", help="leave the container and volume for inspection")
    redact = fixture_commands.add_parser("redact", help="copy a state without secrets (and optionally message text)")
    redact.add_argument("source")
    redact.add_argument("dest")
    redact.add_argument("--placeholders", action="store_true",
                        help="replace message text by same-length placeholders (ids, structure, counts stay)")

    live = commands.add_parser("live", help="run the scenario on a Gateway that already runs, touching only its own "
                                            "proof session (exit 0 pass, 1 fail)")
    live.add_argument("--url", required=True, help="the Gateway's WebSocket URL, reached from its loopback "
                                                   "(e.g. ws://127.0.0.1:18789); ws:// goes to this host's loopback only "
                                                   "(127.0.0.0/8, ::1, localhost): another host needs wss:// and "
                                                   "--allow-remote")
    live.add_argument("--allow-remote", action="store_true",
                      help="allow a wss:// URL on another host: the Gateway token is sent there, over TLS, and the "
                           "evidence (summary.json, summary.md) names that host; ws:// to another host is always refused")
    live.add_argument("--agent", default="main", help="the agent whose proof session is created (default: main)")
    live.add_argument("--token-file", type=Path, metavar="FILE",
                      help="a file holding the Gateway's token (default: $OPENCLAW_GATEWAY_TOKEN)")
    live.add_argument("--state-dir", type=Path, default=Path("~/.openclaw"), metavar="DIR",
                      help="the Gateway's state dir on this host, read read-only (default: ~/.openclaw)")
    live.add_argument("--allow-restart", action="store_true",
                      help="ask the Gateway to restart itself over RPC (gateway.restart.request) mid-scenario")
    live.add_argument("--keep-artifacts", action="store_true",
                      help="keep the proof session and the provider's full request bodies")
    live.add_argument("--doctor-cli", metavar="CMD", help="the operator's OpenClaw CLI, run for the informational "
                      "`doctor --session-sqlite validate` (default: `openclaw` when on PATH, else that check is skipped)")
    live.add_argument("--json", action="store_true", help="print summary.json on stdout")

    clean = commands.add_parser("clean", help="remove containers and volumes left by runs that are no longer alive")
    clean.add_argument("--run", metavar="RUN_ID", help="remove this run's resources, alive or not")
    clean.add_argument("--all", action="store_true", help="remove every path3-sandbox container and volume")
    clean.add_argument("--artifacts", action="store_true",
                       help="also remove evidence folders under .artifacts (PATH3_ARTIFACTS) older than --older-than")
    clean.add_argument("--older-than", default="7d", metavar="AGE", help="with --artifacts: 7d, 12h, 30m (default 7d)")
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--openclaw", default=DEFAULT_SPEC, metavar="SPEC",
                        help=f"npm version or dist-tag, or a packed .tgz (default: {DEFAULT_SPEC})")
    _base_option(parser)
    parser.add_argument("--rebuild", action="store_true", help="build the image even when a cached one exists")


def _base_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base image with Node >= 24.16 (default: {DEFAULT_BASE})")


def _network_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", choices=("hermetic", "open"), default="hermetic",
                        help="hermetic (default): the Gateway reaches only the scripted provider and every DNS lookup "
                             "it makes is recorded; open: Docker's default bridge, as the machine's network allows. "
                             "Either way the state never goes live: its channels are disabled and its own model "
                             "providers point where nothing answers (seed.json, summary.md)")


def _unpack_options(parser: argparse.ArgumentParser) -> None:
    from .state.userstate import UnpackLimits

    default = UnpackLimits()

    def above_zero(kind: type, option: str, example: str):  # argparse turns ArgumentTypeError into exit 2
        def parse(text: str):
            try:
                value = kind(text)
            except ValueError:
                value = None
            if value is None or not 0 < value < float("inf"):  # NaN fails this too
                expected = "a whole number" if kind is int else "a finite number"
                raise argparse.ArgumentTypeError(f"{text!r}: a limit must be {expected} above 0 (e.g. {option} "
                                                 f"{example}; leave it out for the default)")
            return value
        return parse

    parser.add_argument("--max-unpacked-mb", type=above_zero(int, "--max-unpacked-mb", "4096"),
                        default=default.max_bytes // 1024**2, metavar="MB",
                        help=f"refuse a state that unpacks to more (default {default.max_bytes // 1024**2})")
    parser.add_argument("--max-members", type=above_zero(int, "--max-members", "200000"), default=default.max_members,
                        metavar="N", help=f"refuse a state with more files (default {default.max_members})")
    parser.add_argument("--max-ratio", type=above_zero(float, "--max-ratio", "500"), default=default.max_ratio,
                        metavar="X", help=f"refuse an archive that expands more than X times (default {default.max_ratio:.0f})")


def _unpack(args: argparse.Namespace, workdir: Path):
    from .state.userstate import UnpackLimits, unpack_state

    limits = UnpackLimits(args.max_unpacked_mb * 1024**2, args.max_members, args.max_ratio)
    unpacked = unpack_state(Path(args.state), workdir, limits)
    for note in unpacked.notes():
        print(f"path3-sandbox: {note}", file=sys.stderr)
    return unpacked.root


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    terminate_like_interrupt()
    started = time.time()
    existing = snapshot(artifacts_root())  # a user's own files under .artifacts: the closing sweep leaves them be
    try:
        return _dispatch(args)
    except Path3Error as error:
        print(f"path3-sandbox: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt:
        ignore_further_signals()  # the run is over and cleaned up: a late signal must not turn 130 into a traceback
        print(f"path3-sandbox: interrupted ({first_signal()}); resources of this run "
              "were removed, evidence kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:  # whatever ended the command, the files it wrote under .artifacts go through the one redactor
        with signals_ignored():
            sweep(artifacts_root(), since=started, existing=existing)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "engine":
        from .build.engine import ensure_engine

        print(ensure_engine().describe())
        return 0
    if args.command == "image":
        image = _gateway_image(args)
        print(image.tag)
        return 0
    if args.command == "smoke":
        return _smoke(args)
    if args.command == "prove":
        return _prove(args)
    if args.command == "fixtures":
        return _fixtures(args)
    if args.command == "repro":
        return _repro(args)
    if args.command == "live":
        return _live(args)
    if args.command == "path":
        return _path(args)
    if args.command == "matrix":
        return _matrix(args)
    if args.command == "compat":
        return _compat(args)
    if args.command == "bench":
        return _bench(args)
    if args.command == "faults":
        return _faults(args)
    if args.command == "clean":
        from .containers.cleanup import clean
        from .containers.docker_client import docker_client

        if args.artifacts:  # checked first: a bad age is bad input before any Docker work
            from .containers.cleanup import parse_age, prune_artifacts

            age = parse_age(args.older_than)
        removed = clean(docker_client(), run_id=args.run, everything=args.all)
        if args.artifacts:
            removed += prune_artifacts(artifacts_root(), age)
        print("\n".join(removed) if removed else "nothing to clean")
        return 0
    return EXIT_USAGE


def _target(args: argparse.Namespace):
    """The target with its exact version (a dist-tag is resolved through the registry), before any build."""
    from .build.target import Target

    target = Target.parse(args.openclaw)
    return target.resolve() if target.needs_resolution() else target


def _gateway_image(args: argparse.Namespace, target=None):
    from .containers.docker_client import docker_client
    from .build.images import ensure_gateway_image

    target = target or _target(args)  # a bad --openclaw is exit 2 before Docker is asked (or installed)
    return ensure_gateway_image(docker_client(), target, log_dir=artifacts_root() / "images",
                                base=args.base, rebuild=args.rebuild)


def _smoke(args: argparse.Namespace) -> int:
    from .containers.docker_client import docker_client
    from .containers.resources import RunResources, new_run_id
    from .build.smoke import smoke

    image = _gateway_image(args)
    run_id = new_run_id()
    log_dir = artifacts_root() / "smoke" / run_id
    with RunResources(docker_client(), run_id, keep=args.keep) as resources:
        result = smoke(image, resources, log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "smoke.json").write_text(json.dumps({"image": image.to_json(), **result.to_json()}, indent=2))
    print(json.dumps({"tag": image.tag, "version": result.cli_version, "ready_seconds": round(result.start.seconds, 1),
                      "evidence": str(log_dir)}))
    expected = image.target.version
    if expected and result.cli_version != expected:
        print(f"path3-sandbox: the image reports openclaw {result.cli_version}, expected {expected}", file=sys.stderr)
        return 1
    return 0


def _fixture_set(names: list[str] | None):
    from .errors import FixtureError
    from .state.fixtures import Fixture, default_fixture_dirs, resolve_fixture

    if names:
        return [resolve_fixture(name) for name in names]
    found = [Fixture.load(path) for path in default_fixture_dirs()]
    if not found:
        raise FixtureError("no fixtures found in fixtures/legacy-stores", hint="pass --fixture PATH")
    return found


def _fixtures(args: argparse.Namespace) -> int:
    from .state.fixtures import check

    if args.fixtures_command == "redact":
        from .state.redact import redact_state

        report = redact_state(Path(args.source), Path(args.dest), placeholders=args.placeholders)
        print("\n".join(report.lines()) or "nothing to redact")
        print(f"redacted copy: {args.dest}")
        return 0
    if args.fixtures_command == "add":
        return _fixtures_add(args)
    if args.fixtures_command == "capture":
        return _fixtures_capture(args)
    if args.fixtures_command == "list":
        for fixture in _fixture_set(None):
            agents = ",".join(fixture.agents)
            print(f"{fixture.name:18} {len(fixture.sessions):3} sessions  agents={agents:22} {fixture.catches}")
        return 0
    failed = 0
    for fixture in _fixture_set(args.fixture or None):
        problems = check(fixture)
        print(f"{fixture.name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  {fixture.root.name}/{problem}")
        failed += bool(problems)
    return EXIT_USAGE if failed else 0


def _fixtures_add(args: argparse.Namespace) -> int:
    import re
    import tempfile

    from .errors import FixtureError
    from .state.fixtures import Fixture, check
    from .paths import FIXTURES_DIR
    from .report.redaction import find_secrets
    from .state.userstate import infer_manifest, write_fixture

    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", args.name):  # one folder name, like every shipped fixture's
        raise FixtureError(f"--name {args.name!r} is not a fixture name: one folder under fixtures/legacy-stores/, "
                           "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters",
                           hint="e.g. --name issue-12345")
    dest = FIXTURES_DIR / args.name
    if dest.exists():
        raise FixtureError(f"{dest} already exists", hint="pick another --name, or remove it first")
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    # Unpacked and written in temporary folders; the fixture appears under its name only once it checks clean.
    with tempfile.TemporaryDirectory(prefix="path3-add-") as work, \
            tempfile.TemporaryDirectory(prefix=f".{args.name}-", dir=FIXTURES_DIR) as staging:
        state = _unpack(args, Path(work))
        if (found := find_secrets(state)) and not args.allow_secrets:
            shown = "\n  ".join(str(f) for f in found[:20]) + (f"\n  … and {len(found) - 20} more" if len(found) > 20 else "")
            raise FixtureError(f"{args.state} still holds {len(found)} secret(s); a fixture is committed and public:\n  {shown}",
                               hint=f"path3-sandbox fixtures redact {args.state} REDACTED_DIR [--placeholders], then add "
                                    "REDACTED_DIR; or --allow-secrets if every one is a throwaway value")
        manifest = infer_manifest(state, args.name, catches=args.catches or f"regression fixture from {Path(args.state).name}",
                                  origin=f"a user's state ({Path(args.state).name}), inferred by path3-sandbox fixtures add")
        if found:
            manifest["secrets_allowed"] = (f"{len(found)} value(s) the redactor flags were kept by --allow-secrets: "
                                           + "; ".join(str(f) for f in found[:20]))
        written = write_fixture(state, Path(staging) / args.name, manifest)
        if problems := check(Fixture.load(written)):
            raise FixtureError(f"the fixture inferred from {args.state} does not check clean, so nothing was added:\n  "
                               + "\n  ".join(problems), hint="report this: the inference missed something in the state")
        written.rename(dest)
    sessions = sum(len(a["sessions"]) for a in manifest["agents"].values())
    print(f"added fixture {args.name} at {dest}: {len(manifest['agents'])} agent(s), {sessions} session(s); "
          f"expected warnings: {', '.join(manifest['expected_warnings']) or 'none'}")
    return 0


def _fixtures_capture(args: argparse.Namespace) -> int:
    from .containers.docker_client import docker_client
    from .errors import FixtureError
    from .state.fixtures import Fixture, check
    from .build.images import ensure_gateway_image
    from .paths import FIXTURES_DIR
    from .build.target import Target
    from .upgrades.capture import capture, load_recipe

    recipe = load_recipe(Path(args.recipe))
    if args.writer and args.writer != recipe.writer:
        raise FixtureError(f"--writer {args.writer} but recipe {recipe.source} is for {recipe.writer}",
                           hint="drop --writer, or capture with the recipe's writer")
    image = ensure_gateway_image(docker_client(), Target.parse(recipe.writer), log_dir=artifacts_root() / "images",
                                 base=args.base)
    dest = capture(docker_client(), image, recipe, args.name, FIXTURES_DIR, keep=args.keep, replace=args.replace)
    problems = check(Fixture.load(dest))
    manifest = json.loads((dest / "fixture.json").read_text(encoding="utf-8"))
    sessions = sum(len(a["sessions"]) for a in manifest["agents"].values())
    print(f"captured fixture {args.name} at {dest} from openclaw {recipe.writer}: {len(manifest['agents'])} agent(s), "
          f"{sessions} session(s), {len(manifest['turns'])} turn(s); expected warnings: "
          f"{', '.join(manifest['expected_warnings']) or 'none'}")
    for problem in problems:
        print(f"  check: {problem}")
    return EXIT_USAGE if problems else 0


@contextmanager
def _user_state_fixture(args: argparse.Namespace, root: Path, name: str, catches: str):
    """The user's state (args.state) unpacked under root and turned into a fixture at root/fixture; the unpacked
    data does not outlive the block, whatever ends it, unless --keep. A state refused (or a run stopped) before
    the fixture is made takes root with it, --keep or not: nothing ran, so there is nothing to inspect."""
    from .state.fixtures import Fixture
    from .state.userstate import infer_manifest, write_fixture

    source = Path(args.state)
    try:
        try:
            state = _unpack(args, root)
            manifest = infer_manifest(state, name, catches=catches, origin=f"a user's state: {source.name}")
            fixture = Fixture.load(write_fixture(state, root / "fixture", manifest))
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        yield fixture
    finally:
        if not args.keep:
            shutil.rmtree(root / "unpacked", ignore_errors=True)
            shutil.rmtree(root / "fixture" / "state", ignore_errors=True)


def _repro(args: argparse.Namespace) -> int:
    from .proof.contracts import contract_for
    from .containers.docker_client import docker_client
    from .containers.resources import new_run_id
    from .proof.run import prove, write_bug_report
    from .build.target import Target

    Target.parse(args.openclaw)  # a bad --openclaw is refused before the state is unpacked (a dist-tag resolves later)
    run_id = new_run_id()
    root = artifacts_root() / "path3-repro" / run_id
    made = [folder for folder in (root, *root.parents) if not folder.exists()]  # removed again if no proof runs
    root.mkdir(parents=True, exist_ok=True)
    source = Path(args.state)
    proving = False
    try:
        with _user_state_fixture(args, root, f"repro-{run_id}", f"the migration bug reported with {source.name}") as fixture:
            target = _target(args)
            contract = contract_for(target.version, args.contract)  # decided before any image is built
            image = _gateway_image(args, target)
            engine = docker_client()
            proving = True  # from here on the run folder holds evidence: kept, whatever ends the run
            result = prove(engine, image, [fixture], contract, run_id=run_id, root=root / "proof", keep=args.keep,
                           argv=sys.argv[1:], scenario=not args.first_start_only, network=args.network)
    except BaseException:
        if not proving:  # bad input, no engine, Ctrl-C before the proof: no run folder stays (nor the folders above it)
            shutil.rmtree(root, ignore_errors=True)
            for folder in (f for f in made if f != root):  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: another run's
        raise
    sweep(root)  # the bundle is made of redacted files only
    bundle = write_bug_report(result, root / "fixture" / "fixture.json", root / "bug-report.tar.gz")
    print(f"bug-report bundle: {bundle} (summary.md, summary.json, junit.xml, the inferred fixture.json, evidence, every "
          "file redacted; the state itself is not included: `path3-sandbox fixtures redact` makes a shareable copy of it)")
    return result.exit_code


def _prove(args: argparse.Namespace) -> int:
    from .proof.contracts import contract_for
    from .containers.docker_client import docker_client
    from .errors import FixtureError, UsageError
    from .state.fixtures import check
    from .containers.resources import new_run_id
    from .proof.run import prove

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: at least one fixture at a time", hint="e.g. --jobs 2, or leave it out")
    fixtures = _fixture_set(args.fixture)
    for fixture in fixtures:
        if problems := check(fixture):
            raise FixtureError(f"fixture {fixture.name} is inconsistent:\n  " + "\n  ".join(problems),
                               hint=f"fix the manifest or the files; `path3-sandbox fixtures check {fixture.root}`")
    target = _target(args)
    contract = contract_for(target.version, args.contract)  # decided before any image is built
    image = _gateway_image(args, target)
    run_id = new_run_id()
    result = prove(docker_client(), image, fixtures, contract, run_id=run_id,
                   root=artifacts_root() / "path3-upgrade" / run_id, keep=args.keep, argv=sys.argv[1:],
                   scenario=not args.first_start_only, keep_artifacts=args.keep_artifacts, network=args.network,
                   jobs=args.jobs)
    return result.exit_code



def _path(args: argparse.Namespace) -> int:
    from .containers.docker_client import docker_client
    from .containers.resources import new_run_id
    from .build.images import ensure_gateway_image
    from .build.target import Target
    from .upgrades.capture import load_recipe
    from .upgrades.path import plan, plan_text, prove_path

    hops = plan(args.hops)  # bad input before any Docker work
    recipe = load_recipe(args.recipe) if args.recipe else None
    print(f"upgrade path, {len(hops)} hops on one state volume:\n{plan_text(hops)}"
          + (f"\n  every writer hop also drives {recipe.source} ({recipe.turn_count} turns)" if recipe else ""), flush=True)
    if args.dry_run:
        return 0
    releases = dict.fromkeys(h.spec for h in hops if h.role != "action")  # each image once, in path order
    images = {spec: ensure_gateway_image(docker_client(), Target.parse(spec), log_dir=artifacts_root() / "images",
                                         base=args.base) for spec in releases}
    run_id = new_run_id()
    root = artifacts_root() / "path3-path" / run_id
    result = prove_path(docker_client(), hops, images, run_id=run_id, root=root, keep=args.keep, network=args.network,
                        recipe=recipe)
    print(f"{result['verdict'].upper()}: path {' -> '.join(h.spec for h in hops)} in {result['seconds']:.0f}s"
          + (f"; first failure: {result['first_failure']}" if result["first_failure"] else "")
          + f"\nsummary: {root / 'summary.md'}")
    return EXIT_PROOF_PASSED if result["verdict"] == "pass" else EXIT_PROOF_FAILED


def _matrix(args: argparse.Namespace) -> int:
    from .containers.docker_client import docker_client
    from .containers.resources import new_run_id
    from .build.images import ensure_gateway_image
    from .progress import say
    from .proof.run import prove
    from .upgrades import matrix

    fixtures = matrix.captured_fixtures(matrix.split(args.sources))  # bad input before any build
    targets = matrix.resolve_targets(matrix.split(args.targets))
    started, run_id = time.monotonic(), new_run_id()
    root = artifacts_root() / "path3-matrix" / run_id
    say("matrix", f"{len(fixtures)} captured state(s) × {len(targets)} target(s): "
                  f"{', '.join(f.name for f in fixtures)} → {', '.join(t.version for t, _ in targets)}; evidence in {root}")
    cells: list = []
    for target, contract in targets:
        image = ensure_gateway_image(docker_client(), target, log_dir=artifacts_root() / "images", base=args.base)
        result = prove(docker_client(), image, fixtures, contract, run_id=f"{run_id}-{target.version}",
                       root=root / target.version, keep=False, argv=sys.argv[1:], scenario=not args.first_start_only,
                       network=args.network)
        cells += [matrix.Cell(v.fixture, target.version, v.passed, v.observed_contract, v.first_failure,
                              f"{target.version}/summary.md") for v in result.verdicts]
        matrix.write(root, fixtures, [t.version for t, _ in targets], cells, time.monotonic() - started)
    print(f"matrix: {sum(c.passed for c in cells)}/{len(cells)} cells pass; {root / 'matrix.md'}")
    return EXIT_PROOF_PASSED if all(c.passed for c in cells) else EXIT_PROOF_FAILED


def _compat(args: argparse.Namespace) -> int:
    import os

    from .containers.docker_client import docker_client
    from .errors import UsageError
    from .containers.resources import new_run_id
    from .build.images import ensure_gateway_image
    from .proof.run import prove
    from .build.target import Target, registry_publish_times
    from .upgrades import compat

    tags = compat.check_spec(args.releases)  # the syntax of --releases before the registry is asked anything
    if not os.path.lexists(args.state):  # the state must be there before a long registry call (unpacked later)
        raise UsageError(f"{args.state} does not exist", hint="pass a state directory, .tar.gz or .zip of ~/.openclaw")
    resolved = {tag: Target.parse(tag).resolve().version for tag in tags}  # a tag npm lacks: TargetError (exit 2)
    releases = compat.select_releases(args.releases, compat.publish_order(registry_publish_times()), resolved.__getitem__)
    candidates = compat.plan(releases, args.contract)  # bad input before the state is unpacked or anything built
    started, run_id = time.monotonic(), new_run_id()
    root = artifacts_root() / "path3-compat" / run_id
    root.mkdir(parents=True, exist_ok=True)
    source = Path(args.state)

    def write(answer) -> None:
        compat.write(root, answer, state=source.name, seconds=time.monotonic() - started,
                     first_start_only=args.first_start_only)

    with _user_state_fixture(args, root, f"compat-{run_id}", f"which releases upgrade {source.name}") as fixture:
        def try_release(candidate) -> compat.Outcome:  # the matrix's call, for one release
            version = candidate.version
            image = ensure_gateway_image(docker_client(), Target.parse(version), log_dir=artifacts_root() / "images",
                                         base=args.base)
            result = prove(docker_client(), image, [fixture], candidate.contract, run_id=f"{run_id}-{version}",
                           root=root / version, keep=args.keep, argv=sys.argv[1:], scenario=not args.first_start_only,
                           network=args.network)
            return compat.Outcome.of(result.verdicts[0], f"{version}/summary.md")

        answer = compat.find_first_bad(args.releases, candidates, try_release, on_outcome=write)
    print(f"{answer.line(root)}\nreport: {root / 'compat.md'}")
    return answer.exit_code


def _faults(args: argparse.Namespace) -> int:
    from .containers.docker_client import docker_client
    from .containers.resources import new_run_id
    from .proof.contracts import contract_for
    from .faults import catalogue
    from .errors import UsageError
    from .faults.run import counted, exit_code, run_faults
    from .state.fixtures import resolve_fixture

    if args.fault == ["list"]:
        for fault in catalogue.FAULTS:
            print(f"{fault.name:<28} {fault.group:<12} {fault.injection}")
        return 0
    faults = catalogue.select(args.fault)  # bad input before any Docker work
    if args.sweep_max < 1:
        raise UsageError(f"--sweep-max {args.sweep_max}: at least one point", hint="e.g. --sweep-max 3")
    fixture = resolve_fixture(args.fixture or catalogue.default_fixture())
    target = _target(args)
    contract = contract_for(target.version, args.contract)
    image = _gateway_image(args, target)
    run_id = new_run_id()
    root = artifacts_root() / "path3-faults" / run_id
    results = run_faults(docker_client(), image, fixture, contract, faults, run_id=run_id, root=root, keep=args.keep,
                         sweep=args.sweep, sweep_max=args.sweep_max)
    print(f"{'PASS' if exit_code(results) == EXIT_PROOF_PASSED else 'FAIL'}: {counted(results)} fault cases on "
          f"openclaw {target.version} ({fixture.name}); table: {root / 'faults.md'}")
    return exit_code(results)


def _bench(args: argparse.Namespace) -> int:
    from .bench.run import (BenchOptions, exit_code, parse_events, parse_sizes, parse_time_limit, run_bench,
                            summary_line)
    from .containers.docker_client import docker_client
    from .containers.resources import new_run_id
    from .proof.contracts import contract_for

    options = BenchOptions(parse_sizes(args.sessions), parse_events(args.events), parse_time_limit(args.time_limit),
                           args.seed, args.keep)  # bad input before any Docker work
    target = _target(args)
    contract = contract_for(target.version, args.contract)
    image = _gateway_image(args, target)
    run_id = new_run_id()
    root = artifacts_root() / "path3-bench" / run_id
    rows = run_bench(docker_client(), image, contract, options, run_id=run_id, root=root)
    for row in rows:
        print(summary_line(row))
    print(f"bench: {root / 'bench.md'}")
    return exit_code(rows)


def _live(args: argparse.Namespace) -> int:
    from .live import LiveOptions, live

    result = live(LiveOptions(args.url, args.agent, args.token_file, args.state_dir, args.allow_restart,
                              args.keep_artifacts, args.doctor_cli, allow_remote=args.allow_remote), argv=sys.argv[1:])
    if args.json:
        print(json.dumps(result.summary, indent=2, ensure_ascii=False))
    else:
        print(f"{result.summary['verdict'].upper()}: live scenario on {args.url}; "
              f"summary: {Path(result.summary['evidence']) / 'summary.md'}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
