"""The release matrix as the README runs it: both committed captures against 2026.9.5 and 2026.9.6 (make test-matrix)."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.paths_matrix
def test_the_matrix_of_the_committed_captures_against_the_sqlite_releases(default_image, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "path3_sandbox", "matrix", "--from", "2026.7.35,2026.7.1", "--to", "2026.9.5,2026.9.6",
         "--first-start-only"], env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True,
        timeout=3000)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    [run] = (tmp_path / "path3-matrix").iterdir()
    matrix = json.loads((run / "matrix.json").read_text())
    observed = {(c["source"], c["target"]): (c["verdict"], c["observed_contract"]) for c in matrix["cells"]}
    assert observed == {("real-7.35", "2026.9.6"): ("pass", "startup-import"), ("real-7.1", "2026.9.6"): ("pass", "startup-import"),
                        ("real-7.35", "2026.9.5"): ("pass", "refuse-then-doctor"), ("real-7.1", "2026.9.5"): ("pass", "refuse-then-doctor")}
    assert "| `real-7.1` (2026.7.1) |" in (run / "matrix.md").read_text()
