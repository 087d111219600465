"""`path3-sandbox fixtures …`: list, check, add, capture, redact."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import EXIT_USAGE
from . import common


def fixtures(args: argparse.Namespace) -> int:
    from ..state.fixtures import check

    if args.fixtures_command == "redact":
        from ..state.redact import redact_state

        report = redact_state(Path(args.source), Path(args.dest), placeholders=args.placeholders)
        print("\n".join(report.lines()) or "nothing to redact")
        print(f"redacted copy: {args.dest}")
        return 0
    if args.fixtures_command == "add":
        return fixtures_add(args)
    if args.fixtures_command == "capture":
        return fixtures_capture(args)
    if args.fixtures_command == "list":
        for fixture in common.fixture_set(None, everything=True):
            agents = ",".join(fixture.agents)
            print(f"{fixture.name:18} {len(fixture.sessions):3} sessions  agents={agents:22} {fixture.catches}")
        return 0
    failed = 0
    for fixture in common.fixture_set(args.fixture or None, everything=True):
        problems = check(fixture)
        print(f"{fixture.name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  {fixture.root.name}/{problem}")
        failed += bool(problems)
    return EXIT_USAGE if failed else 0


def fixtures_add(args: argparse.Namespace) -> int:
    import re
    import tempfile

    from ..errors import FixtureError
    from ..state.fixtures import Fixture, check
    from ..paths import FIXTURES_DIR
    from ..report.redaction import find_secrets
    from ..state.userstate import infer_manifest, write_fixture

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
        state = common.unpack(args, Path(work))
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


def fixtures_capture(args: argparse.Namespace) -> int:
    from ..containers.docker_client import docker_client
    from ..errors import FixtureError
    from ..state.fixtures import Fixture, check
    from ..paths import FIXTURES_DIR
    from ..build.target import Target
    from ..upgrades.capture import capture
    from ..upgrades.recipe import load_recipe

    recipe = load_recipe(Path(args.recipe))
    if args.writer and args.writer != recipe.writer:
        raise FixtureError(f"--writer {args.writer} but recipe {recipe.source} is for {recipe.writer}",
                           hint="drop --writer, or capture with the recipe's writer")
    image = common.gateway_image(args, Target.parse(recipe.writer))
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
