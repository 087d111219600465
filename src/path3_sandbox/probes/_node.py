"""Run a small Node script inside the Gateway image, where `node:sqlite` and the state live."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..containers.gateway import ExecResult
from ..errors import ProbeFailed
from ..progress import say

# gateway.exec while the Gateway runs, gateway.run_oneoff while it is stopped or refused to start.
Runner = Callable[[list[str]], ExecResult]

# A probe only reads, so running it again is safe. The engine can hand back an exec's output with a piece missing
# (CI saw 22,846 chars of a larger document that began mid-string: moby/moby#49655 and docker/cli#4338 are the
# same class of engine bug); a document that does not parse is asked for again, never guessed from the pieces.
ATTEMPTS = 3


def run_node_json(runner: Runner, script: str, *args: str) -> Any:
    """The JSON document a probe script prints last. Node's warnings are off (an ExperimentalWarning on stderr is
    noise), and a one-off's log or an exec's stream interleaves stderr with stdout: the document is the last line
    that holds one, read from its first `{` (a stderr write without its newline may stand before it)."""
    argv = ["node", "--no-warnings", "-e", script, *args]
    for attempt in range(1, ATTEMPTS + 1):
        result = runner(argv)
        if result.exit_code != 0:
            break
        if (document := _last_document(result.output)) is not None:
            return document[0]
        if attempt < ATTEMPTS:
            say("probe", f"a probe's output came back without a whole JSON document ({len(result.output)} chars, "
                         f"attempt {attempt} of {ATTEMPTS}); it only reads, so it runs again")
    shown = result.output if len(result.output) <= 2000 else f"{result.output[:500]} … {result.output[-1500:]}"
    tries = f", {attempt} attempts" if attempt > 1 else ""
    raise ProbeFailed(f"probe script failed (exit {result.exit_code}, {len(result.output)} chars of output{tries}, "
                      f"no JSON document on a line of its own): {shown}")


def _last_document(output: str) -> tuple[Any] | None:
    """(document,) of the last line that parses from its first `{`, or None."""
    for line in reversed(output.splitlines()):
        if (start := line.find("{")) == -1:
            continue
        try:
            return (json.loads(line[start:]),)
        except ValueError:
            continue
    return None
