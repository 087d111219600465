"""The README's upgrade path, run as a user runs it: the real 2026.7.35 writes, the real 2026.9.6 imports, and
2026.7.35 started again on the migrated state must refuse and write nothing (the downgrade round trip)."""

import json
import os
import subprocess
import sys

import pytest


def test_write_upgrade_and_go_back_on_one_volume(default_image, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "path3_sandbox", "path", "2026.7.35", "2026.9.6", "2026.7.35"],
        env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True, timeout=1800)
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "1. 2026.7.35" in completed.stdout and "3. 2026.7.35" in completed.stdout, "the plan is printed first"
    [run] = (tmp_path / "path3-path").iterdir()
    result = json.loads((run / "path.json").read_text())
    writer, importer, downgrade = result["hops"]
    assert [writer["role"], importer["role"], downgrade["role"]] == ["writer", "importer", "downgrade"]
    assert importer["starts"][0]["kind"] == "imported", "9.6 imports what 7.35 wrote at its first start"
    assert importer["reachable"] == "4/4" and writer["reachable"] == "2/2"
    assert downgrade["starts"][0]["exit_code"] == 1, "7.35 refuses the state 9.6 claimed"
    assert {w["hop"] for w in result["written"]} == {1, 2} and len(result["written"]) == 4
    assert "| 3 | `2026.7.35` | downgrade |" in (run / "summary.md").read_text()
    assert (run / "hop-3-2026.7.35" / "gateway-stdout.log").read_text().count("newer schema version") >= 1


@pytest.mark.paths_matrix
def test_a_session_written_in_both_eras_loses_its_first_era_on_the_second_import(default_image, tmp_path):
    """docs/findings.md: after @move-state-db-aside and new turns by 2026.7.35, 2026.9.6's second import points
    agent:main:main at the new transcript; the first era's messages stay as rows under the old session id, unreachable.
    Pinned red for exactly that (make test-paths): when OpenClaw fixes it, this test says so."""
    completed = subprocess.run(
        [sys.executable, "-m", "path3_sandbox", "path", "2026.7.35", "2026.9.6", "@move-state-db-aside", "2026.7.35",
         "2026.9.6"], env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True, timeout=2400)
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-5000:]
    [run] = (tmp_path / "path3-path").iterdir()
    result = json.loads((run / "path.json").read_text())
    assert [h["failed"] for h in result["hops"]] == [0, 0, 0, 0, 1]
    assert result["hops"][4]["reachable"] == "6/8"
    [finding] = result["failures"]
    assert finding["blame"] == "gateway"
    for marker in ("P3-PATH-H1T1", "P3-PATH-H2T1"):  # the both-eras session's turns before the second import
        assert f"{marker} (written by hop" in finding["message"] and "agent:main:main" in finding["message"]
