"""Run a small Node script inside the Gateway image, where `node:sqlite` and the state live."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..containers.gateway import ExecResult
from ..errors import ProbeFailed

# gateway.exec while the Gateway runs, gateway.run_oneoff while it is stopped or refused to start.
Runner = Callable[[list[str]], ExecResult]


def run_node_json(runner: Runner, script: str, *args: str) -> Any:
    result = runner(["node", "-e", script, *args])
    # A one-off container's log interleaves stderr; the JSON document is the last line.
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    if result.exit_code != 0 or not lines:
        raise ProbeFailed(f"probe script failed (exit {result.exit_code}): {result.output[-1500:]}")
    return json.loads(lines[-1])
