"""Command-line entry point: argument parsing only; the work is done by the modules it calls.

Exit codes: 0 proof passed / command done, 1 proof failed, 2 usage or input error, 3 environment error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import EXIT_USAGE, Path3Error
from .images import DEFAULT_BASE
from .paths import artifacts_root
from .target import DEFAULT_SPEC


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="path3-sandbox",
        description="Prove in throwaway containers that an OpenClaw Gateway upgrades legacy session stores into SQLite.",
        epilog="exit codes: 0 passed, 1 proof failed, 2 usage/input error, 3 environment error",
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

    clean = commands.add_parser("clean", help="remove containers and volumes left by runs that are no longer alive")
    clean.add_argument("--run", metavar="RUN_ID", help="remove this run's resources, alive or not")
    clean.add_argument("--all", action="store_true", help="remove every path3-sandbox container and volume")
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--openclaw", default=DEFAULT_SPEC, metavar="SPEC",
                        help=f"npm version or dist-tag, or a packed .tgz (default: {DEFAULT_SPEC})")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base image with Node >= 24.16 (default: {DEFAULT_BASE})")
    parser.add_argument("--rebuild", action="store_true", help="build the image even when a cached one exists")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except Path3Error as error:
        print(f"path3-sandbox: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("path3-sandbox: interrupted; resources of this run were removed, evidence kept", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "engine":
        from .engine import ensure_engine

        print(ensure_engine().describe())
        return 0
    if args.command == "image":
        image = _gateway_image(args)
        print(image.tag)
        return 0
    if args.command == "smoke":
        return _smoke(args)
    if args.command == "clean":
        from .cleanup import clean
        from .docker_client import docker_client

        removed = clean(docker_client(), run_id=args.run, everything=args.all)
        print("\n".join(removed) if removed else "nothing to clean")
        return 0
    return EXIT_USAGE


def _gateway_image(args: argparse.Namespace):
    from .docker_client import docker_client
    from .images import ensure_gateway_image
    from .target import Target

    target = Target.parse(args.openclaw)
    return ensure_gateway_image(docker_client(), target, log_dir=artifacts_root() / "images",
                                base=args.base, rebuild=args.rebuild)


def _smoke(args: argparse.Namespace) -> int:
    from .docker_client import docker_client
    from .resources import RunResources, new_run_id
    from .smoke import smoke

    image = _gateway_image(args)
    run_id = new_run_id()
    log_dir = artifacts_root() / "smoke" / run_id
    with RunResources(docker_client(), run_id, keep=args.keep) as resources:
        result = smoke(docker_client(), image, resources, log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "smoke.json").write_text(json.dumps({"image": image.to_json(), **result.to_json()}, indent=2))
    print(json.dumps({"tag": image.tag, "version": result.cli_version, "ready_seconds": round(result.start.seconds, 1),
                      "evidence": str(log_dir)}))
    expected = image.target.version
    if expected and result.cli_version != expected:
        print(f"path3-sandbox: the image reports openclaw {result.cli_version}, expected {expected}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
