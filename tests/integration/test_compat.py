"""`compat` as the README runs it: the committed real-7.35 state against 2026.9.5..2026.9.6 (marked paths_matrix:
not in `make test`; about 4 min with both images cached)."""

import json
import os
import subprocess
import sys

import pytest

from path3_sandbox.paths import FIXTURES_DIR


@pytest.mark.paths_matrix
def test_compat_of_a_real_state_over_a_range_of_releases(default_image, tmp_path):
    state = FIXTURES_DIR / "real-7.35" / "state"
    completed = subprocess.run(
        [sys.executable, "-m", "path3_sandbox", "compat", str(state), "--releases", "2026.9.5..2026.9.6",
         "--first-start-only"], env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True,
        timeout=1800)
    print(completed.stderr[-3000:] + completed.stdout[-2000:])  # with -s: what the run said
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    [run] = (tmp_path / "path3-compat").iterdir()
    compat = json.loads((run / "compat.json").read_text())
    tried = {r["version"]: (r["verdict"], r["observed_contract"]) for r in compat["releases"] if r["status"] == "tried"}
    assert tried == {"2026.9.5": ("pass", "refuse-then-doctor"), "2026.9.6": ("pass", "startup-import")}
    assert compat["tried_order"] == ["2026.9.5", "2026.9.6"] and compat["first_bad"] is None
    assert all(r["status"].startswith("skipped: ") for r in compat["releases"] if r["version"] not in tried)
    assert "first bad: none (2 tried" in completed.stdout
    assert not (run / "unpacked").exists() and not (run / "fixture" / "state").exists()  # the user's data is gone
    assert (run / "2026.9.5" / "summary.md").is_file() and "| 2026.9.6 |" in (run / "compat.md").read_text()
