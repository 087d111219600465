"""probes/_node.py: the JSON document a probe script prints, found in output that stderr interleaves."""

from __future__ import annotations

import pytest

from path3_sandbox.containers.gateway import ExecResult
from path3_sandbox.errors import ProbeFailed
from path3_sandbox.probes._node import run_node_json


def runner_printing(*outputs: str, exit_code: int = 0):
    """A runner answering each call with the next output (the last one repeats)."""
    seen = []

    def runner(argv):
        seen.append(argv)
        return ExecResult(argv, exit_code, outputs[min(len(seen), len(outputs)) - 1], 0.1)

    return runner, seen


def test_the_last_json_line_is_the_document_and_node_runs_without_warnings():
    runner, seen = runner_printing('{"first": 1}\n(node:7) some note\n{"tables": {"a": 1}}\n')
    assert run_node_json(runner, "script", "x") == {"tables": {"a": 1}}
    assert seen == [["node", "--no-warnings", "-e", "script", "x"]]


def test_a_stderr_write_glued_before_the_document_or_a_broken_line_after_it_does_not_hide_it():
    runner, _ = runner_printing('Warning: no newline{"rows": [1, 2]}\n{"cut": \n')
    assert run_node_json(runner, "script") == {"rows": [1, 2]}


@pytest.mark.parametrize("output, exit_code", [("x" * 3000 + "\nno document\n", 0), ('{"ok": true}\n', 1)])
def test_no_document_or_a_failed_script_is_probe_failed_with_the_head_and_tail_of_its_output(output, exit_code):
    runner, seen = runner_printing(output, exit_code=exit_code)
    with pytest.raises(ProbeFailed, match=rf"exit {exit_code}, {len(output)} chars of output") as raised:
        run_node_json(runner, "script")
    assert output[:20] in str(raised.value) and output.strip()[-10:] in str(raised.value)
    assert len(seen) == (3 if exit_code == 0 else 1)  # a failed script is not run again: its exit code is the answer


def test_output_the_engine_cut_short_is_asked_for_again_and_never_pieced_together():
    whole = '{"databases": [{"rows": "a \\"quoted\\" {json} string"}]}'
    head_lost = whole[20:] + "\n"  # how CI saw it: the document began mid-string
    runner, seen = runner_printing(head_lost, whole[:30] + "\n", whole + "\n")
    assert run_node_json(runner, "script") == {"databases": [{"rows": 'a "quoted" {json} string'}]}
    assert len(seen) == 3
