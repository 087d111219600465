"""Behaviour the one-house move must not change, pinned from the code before it (tests/golden.py): the numbered
plans `path` prints and writes to plan.json, and the exit code and first error line of the CLI on inputs that need
no Docker. (summary.json's shape is pinned where real runs write it: the integration tests.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from path3_sandbox.upgrades.plan import plan, plan_text
from tests.golden import golden

PLANS = [
    "2026.7.35 2026.9.6 2026.7.35",
    "2026.7.35 2026.9.6 @move-state-db-aside 2026.7.35 2026.9.6",
    "2026.7.35 2026.9.6 2026.7.35 @restore-sessions-backup 2026.9.6",
    "2026.7.35 2026.9.6 @copy-sessions-from-another-machine 2026.9.6",
    "2026.7.35 2026.9.5 2026.9.6",
    "2026.7.1 2026.9.5 2026.7.1 2026.9.6",
]

# Inputs a user mistypes, and commands that need no engine: what they exit with, and the first line they print.
CLI = [
    ["--version"],
    ["fixtures", "list"],
    ["fixtures", "check"],
    ["fixtures", "check", "no-such-fixture"],
    ["path", "2026.7.35", "2026.9.6", "--dry-run"],
    ["path", "2026.7.35", "@no-such-action", "--dry-run"],
    ["path", "@move-state-db-aside", "--dry-run"],
    ["faults", "--fault", "list"],
    ["faults", "--fault", "no-such-fault"],
    ["faults", "--sweep-max", "0"],
    ["prove", "--jobs", "0"],
    ["prove", "--fixture", "no-such-fixture"],
    ["prove", "--openclaw", "bad tag!"],
    ["image", "build", "--openclaw", "bad tag!"],
    ["bench", "--sessions", "0"],
    ["bench", "--time-limit", "soon"],
    ["clean", "--artifacts", "--older-than", "yesterday"],
    ["compat", "no-such-state", "--releases", "2026.9.5..2026.9.6"],
    ["repro", "no-such-state"],
    ["fixtures", "add", "no-such-state", "--name", "a/b"],
    ["fixtures", "redact", "no-such-state", "out"],
    ["live", "--url", "ws://[::1"],
    ["live", "--url", "ws://example.com:18789"],
    ["matrix", "--from", "1999.1.1", "--to", "2026.9.6"],
    ["no-such-command"],
]


def run_cli(argv: list[str], tmp_path) -> dict:
    done = subprocess.run([sys.executable, "-m", "path3_sandbox", *argv], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PATH3_ARTIFACTS": str(tmp_path / "artifacts"),
                                             "DOCKER_HOST": "unix:///nonexistent/docker.sock", "HOME": str(tmp_path),
                                             **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return {"argv": argv, "exit": done.returncode, "first_line": lines[0][:160] if lines else ""}


def test_every_plan_is_numbered_as_before_the_move():
    got = [{"hops": spec, "plan": [h.to_json() for h in plan(spec.split())], "text": plan_text(plan(spec.split()))}
           for spec in PLANS]
    assert got == golden("plans.json")


@pytest.mark.parametrize("argv", CLI, ids=" ".join)
def test_the_cli_exits_and_says_what_it_did_before_the_move(argv, tmp_path):
    expected = {tuple(case["argv"]): case for case in golden("cli-exit-codes.json")}[tuple(argv)]
    assert run_cli(argv, tmp_path) == expected


if __name__ == "__main__":  # python -m tests.unit.test_golden: write the goldens from the code as it is now
    import tempfile
    from pathlib import Path

    from tests.golden import GOLDEN

    plans = [{"hops": spec, "plan": [h.to_json() for h in plan(spec.split())], "text": plan_text(plan(spec.split()))}
             for spec in PLANS]
    (GOLDEN / "plans.json").write_text(json.dumps(plans, indent=1) + "\n")
    with tempfile.TemporaryDirectory() as scratch:
        cases = [run_cli(argv, Path(scratch)) for argv in CLI]
    (GOLDEN / "cli-exit-codes.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    print("\n".join(f"{c['exit']:>3} {' '.join(c['argv'])}: {c['first_line']}" for c in cases))
