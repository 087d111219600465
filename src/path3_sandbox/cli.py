"""Command-line entry point: the parser and a dispatch table; the work is done by commands/ and what it calls.

Exit codes (a contract, errors.py): 0 proof passed / command done, 1 proof failed on a Gateway finding, 2 usage or
input error, 3 environment error, 4 the harness could not judge (the proof failed on harness failures only),
5 a fault never met the run (faults: not hit, nothing failed), 130 interrupted (Ctrl-C or SIGTERM, after this run's resources were removed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .build.images import DEFAULT_BASE
from .build.target import DEFAULT_SPEC
from .commands import common, fixtures, measuring, proving
from .errors import EXIT_INTERRUPTED, EXIT_USAGE, Path3Error
from .paths import artifacts_root
from .report.redaction import snapshot, sweep
from .signals import first_signal, ignore_further_signals, signals_ignored, terminate_like_interrupt


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="path3-sandbox",
        description="Prove in throwaway containers that an OpenClaw Gateway upgrades legacy session stores into SQLite.",
        epilog="exit codes: 0 passed, 1 proof failed (a Gateway finding), 2 usage/input error, 3 environment error, "
               "4 the harness could not judge (harness failures only), 5 a fault not hit (faults), 130 interrupted",
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
    prove.add_argument("--every-fixture", action="store_true",
                       help="every fixture takes every scenario step (default: a step that writes only the proof "
                            "session, side-by-side, runs on the first fixture and is recorded skipped on the others)")
    prove.add_argument("--doctor-first", action="store_true",
                       help="run `openclaw doctor --fix --non-interactive` on the state before the first start, as `openclaw update` and users following the upgrade notes do (the start after it must come up)")
    prove.add_argument("--keep-artifacts", action="store_true",
                       help="keep the proof session and the provider's full request bodies in the evidence")
    prove.add_argument("--jobs", type=int, metavar="N",
                       help="fixtures proved at once (default: one per core and per 2 GiB of free memory)")
    _network_option(prove)

    path = commands.add_parser("path", help="several releases in turn on one state volume, every message any hop wrote "
                                            "checked after every later release (exit 0 pass, 1 fail)")
    path.add_argument("hops", nargs="+", metavar="HOP",
                      help="a release (2026.7.35), a release installed in place with npm in the previous release's "
                           "container (@npm-install=2026.9.6) or an action (@move-state-db-aside, "
                           "@restore-sessions-backup, @restore-transcripts-backup, @copy-sessions-from-another-machine, "
                           "@doctor-fix, @doctor-recover), or a packed tarball (./openclaw-x.tgz, a pull request's build) "
                           "playing its version's role, in order")
    path.add_argument("--dry-run", action="store_true", help="print the numbered plan and stop")
    path.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                      help="the contract of a tarball hop whose version the release table does not know")
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

    repro = commands.add_parser("repro", help="reproduce a reported migration bug from a user's state, or from the "
                                              "recovery report doctor wrote; writes a bug-report bundle")
    repro.add_argument("state", nargs="?", help="the user's ~/.openclaw: a directory, .tar.gz/.tgz/.tar or .zip")
    repro.add_argument("--from-report", type=Path, metavar="FILE",
                       help="instead of a state: the markdown `openclaw doctor --session-sqlite recover --github-issue` "
                            "wrote (a 'Session SQLite migration recovery report' issue body); the state it implies is "
                            "built, what it cannot say is printed, and the proof runs on the report's release")
    repro.add_argument("--dry-run", action="store_true",
                       help="with --from-report: print what the report implies and could not infer, and stop")
    _target_options(repro, default_says=f"the report's release with --from-report, else {DEFAULT_SPEC}")
    repro.set_defaults(openclaw=None)  # --from-report: the report's release; else the usual default
    repro.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"), help="override the release table")
    repro.add_argument("--first-start-only", action="store_true", help="skip the RPC scenario")
    repro.add_argument("--doctor-first", action="store_true",
                       help="run `openclaw doctor --fix --non-interactive` on the state before the first start, as `openclaw update` and users following the upgrade notes do (the start after it must come up)")
    _network_option(repro)
    repro.add_argument("--keep", action="store_true",
                       help="leave containers, volumes and the unpacked copy of the state for inspection")
    _unpack_options(repro)

    reported = commands.add_parser("reported", help="the reported-bug corpus (fixtures/reported/): each upstream report "
                                                    "red on the release it was reported on, with its symptom, and green "
                                                    "where it was fixed (exit 0 every release as its report says)")
    reported.add_argument("issue", nargs="*", type=int, help="the openclaw issue numbers to run (default: all)")
    reported.add_argument("--release", action="append", metavar="VERSION",
                          help="only the runs on this release (repeatable; default: every release a case names)")
    reported.add_argument("--list", action="store_true", help="list the corpus from its report.json files (no Docker)")
    reported.add_argument("--build", metavar="SPEC",
                          help="instead: every reproduced case on this build (a version or a packed .tgz, e.g. a pull "
                               "request's), against what it expects of the newest release it names: which reports the "
                               "build fixes, which it regresses (exit 1)")
    reported.add_argument("--contract", choices=("startup-import", "refuse-then-doctor"),
                          help="with --build: the contract of a build the release table does not know")
    _base_option(reported)
    _network_option(reported)
    reported.add_argument("--keep", action="store_true", help="keep containers and volumes after the run")

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


def _target_options(parser: argparse.ArgumentParser, *, default_says: str = "") -> None:
    parser.add_argument("--openclaw", default=DEFAULT_SPEC, metavar="SPEC",
                        help=f"npm version or dist-tag, or a packed .tgz (default: {default_says or DEFAULT_SPEC})")
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
    from .state.unpack import UnpackLimits

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


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
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


def _engine(args: argparse.Namespace) -> int:
    from .build.engine import ensure_engine

    print(ensure_engine().describe())
    return 0


def _image(args: argparse.Namespace) -> int:
    print(common.gateway_image(args).tag)
    return 0


def _clean(args: argparse.Namespace) -> int:
    from .containers.cleanup import clean, parse_age, prune_artifacts
    from .containers.docker_client import docker_client

    age = parse_age(args.older_than) if args.artifacts else None  # a bad age is bad input before any Docker work
    removed = clean(docker_client(), run_id=args.run, everything=args.all)
    if args.artifacts:
        removed += prune_artifacts(artifacts_root(), age)
    print("\n".join(removed) if removed else "nothing to clean")
    return 0


# command -> the function that does it (commands/: one function per command)
COMMANDS = {
    "engine": _engine, "image": _image, "clean": _clean,
    "prove": proving.prove, "repro": proving.repro, "compat": proving.compat, "matrix": proving.matrix,
    "path": proving.path, "live": proving.live, "reported": proving.reported,
    "faults": measuring.faults, "bench": measuring.bench, "smoke": measuring.smoke,
    "fixtures": fixtures.fixtures,
}


def _dispatch(args: argparse.Namespace) -> int:
    return COMMANDS[args.command](args) if args.command in COMMANDS else EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
