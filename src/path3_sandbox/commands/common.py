"""What several commands share: the target and its image, a user's state unpacked into a fixture, the fixture set."""

from __future__ import annotations

import argparse
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from ..paths import image_logs


def target_of(args: argparse.Namespace):
    """The target with its exact version (a dist-tag is resolved through the registry), before any build."""
    from ..build.target import Target

    target = Target.parse(args.openclaw)
    return target.resolve() if target.needs_resolution() else target


def gateway_image(args: argparse.Namespace, target=None):
    """The Gateway image of `target` (default: --openclaw's) on --base, built or reused; --rebuild where the
    command has it."""
    from ..containers.docker_client import docker_client
    from ..build.images import ensure_gateway_image

    target = target or target_of(args)  # a bad --openclaw is exit 2 before Docker is asked (or installed)
    return ensure_gateway_image(docker_client(), target, log_dir=image_logs(),
                                base=args.base, rebuild=getattr(args, "rebuild", False))


def unpack(args: argparse.Namespace, workdir: Path):
    from ..state.unpack import UnpackLimits, unpack_state

    limits = UnpackLimits(args.max_unpacked_mb * 1024**2, args.max_members, args.max_ratio)
    unpacked = unpack_state(Path(args.state), workdir, limits)
    for note in unpacked.notes():
        print(f"path3-sandbox: {note}", file=sys.stderr)
    return unpacked.root


@contextmanager
def user_state_fixture(args: argparse.Namespace, root: Path, name: str, catches: str):
    """The user's state (args.state) unpacked under root and turned into a fixture at root/fixture; the unpacked
    data does not outlive the block, whatever ends it, unless --keep. A state refused (or a run stopped) before
    the fixture is made takes root with it, --keep or not: nothing ran, so there is nothing to inspect."""
    from ..state.fixtures import Fixture
    from ..state.userstate import infer_manifest, write_fixture

    source = Path(args.state)
    try:
        try:
            state = unpack(args, root)
            manifest = infer_manifest(state, name, catches=catches, origin=f"a user's state: {source.name}",
                                      plugins_pending=tuple(getattr(args, "plugins_pending", ()) or ()))
            fixture = Fixture.load(write_fixture(state, root / "fixture", manifest))
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        yield fixture
    finally:
        if not args.keep:
            shutil.rmtree(root / "unpacked", ignore_errors=True)
            shutil.rmtree(root / "fixture" / "state", ignore_errors=True)


def fixture_set(names: list[str] | None, *, everything: bool = False):
    """The fixtures named, else the default set (`everything`: with those kept out of it, for list and check)."""
    from ..errors import FixtureError
    from ..state.fixtures import Fixture, default_fixture_dirs, resolve_fixture

    if names:
        return [resolve_fixture(name) for name in names]
    found = [Fixture.load(path) for path in default_fixture_dirs(everything=everything)]
    if not found:
        raise FixtureError("no fixtures found in fixtures/legacy-stores", hint="pass --fixture PATH")
    return found
