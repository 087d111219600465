"""Run a small Node script inside the Gateway image, where `node:sqlite` and the state live."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..containers.gateway import ExecResult
from ..errors import ProbeFailed

# gateway.exec while the Gateway runs, gateway.run_oneoff while it is stopped or refused to start.
Runner = Callable[[list[str]], ExecResult]


def run_node_json(runner: Runner, script: str, *args: str) -> Any:
    """The JSON document a probe script prints last. Node's warnings are off (an ExperimentalWarning on stderr is
    noise), and a one-off's log or an exec's stream interleaves stderr with stdout: the document is the last line
    that holds one, read from its first `{` (a stderr write without its newline may stand before it)."""
    result = runner(["node", "--no-warnings", "-e", script, *args])
    if result.exit_code == 0:
        for line in reversed(result.output.splitlines()):
            if (start := line.find("{")) == -1:
                continue
            try:
                return json.loads(line[start:])
            except ValueError:
                continue
    shown = result.output if len(result.output) <= 2000 else f"{result.output[:500]} … {result.output[-1500:]}"
    raise ProbeFailed(f"probe script failed (exit {result.exit_code}, {len(result.output)} chars of output, no JSON "
                      f"document on a line of its own): {shown}")
