"""The commands that measure or poke: faults, bench, smoke."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import EXIT_PROOF_PASSED
from ..paths import artifacts_root, run_folder
from . import common


def faults(args: argparse.Namespace) -> int:
    from ..containers.docker_client import docker_client
    from ..containers.resources import new_run_id
    from ..proof.contracts import contract_for
    from ..faults import catalogue
    from ..errors import UsageError
    from ..errors import EXIT_NOT_HIT
    from ..faults.run import counted, exit_code, not_hit, run_faults
    from ..state.fixtures import resolve_fixture

    if args.fault == ["list"]:
        for fault in catalogue.FAULTS:
            print(f"{fault.name:<28} {fault.group:<12} {fault.injection}")
        return 0
    faults = catalogue.select(args.fault)  # bad input before any Docker work
    if args.sweep_max < 1:
        raise UsageError(f"--sweep-max {args.sweep_max}: at least one point", hint="e.g. --sweep-max 3")
    fixture = resolve_fixture(args.fixture or catalogue.default_fixture())
    target = common.target_of(args)
    contract = contract_for(target.version, args.contract)
    image = common.gateway_image(args, target)
    run_id = new_run_id()
    root = run_folder("faults", run_id)
    results = run_faults(docker_client(), image, fixture, contract, faults, run_id=run_id, root=root, keep=args.keep,
                         sweep=args.sweep, sweep_max=args.sweep_max)
    code = exit_code(results)
    word = {EXIT_PROOF_PASSED: "PASS", EXIT_NOT_HIT: f"NOT HIT ({', '.join(not_hit(results))} never met the run)"}
    print(f"{word.get(code, 'FAIL')}: {counted(results)} fault cases on openclaw {target.version} ({fixture.name}); "
          f"table: {root / 'faults.md'}")
    return code


def bench(args: argparse.Namespace) -> int:
    from ..bench.run import (BenchOptions, exit_code, parse_events, parse_sizes, parse_time_limit, run_bench,
                            summary_line)
    from ..containers.docker_client import docker_client
    from ..containers.resources import new_run_id
    from ..proof.contracts import contract_for

    options = BenchOptions(parse_sizes(args.sessions), parse_events(args.events), parse_time_limit(args.time_limit),
                           args.seed, args.keep)  # bad input before any Docker work
    target = common.target_of(args)
    contract = contract_for(target.version, args.contract)
    image = common.gateway_image(args, target)
    run_id = new_run_id()
    root = run_folder("bench", run_id)
    rows = run_bench(docker_client(), image, contract, options, run_id=run_id, root=root)
    for row in rows:
        print(summary_line(row))
    print(f"bench: {root / 'bench.md'}")
    return exit_code(rows)


def smoke(args: argparse.Namespace) -> int:
    from ..containers.docker_client import docker_client
    from ..containers.resources import RunResources, new_run_id
    from ..build.smoke import smoke

    image = common.gateway_image(args)
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
