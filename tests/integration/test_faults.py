"""`path3-sandbox faults` as a user runs it: the three cases `make test` keeps (a kill while files move into the import
archive, a full disk, a truncated last line) on the default fixture and 2026.9.6, each held to the nothing-lost
oracle; and a killed faults run leaves nothing behind once `path3-sandbox clean` ran."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from path3_sandbox.containers.cleanup import clean
from path3_sandbox.containers.resources import LABEL_OWNER_PID
from path3_sandbox.faults.catalogue import MAKE_TEST


def test_a_kill_mid_import_a_full_disk_and_a_truncated_line_lose_nothing(default_image, tmp_path):
    argv = [sys.executable, "-m", "path3_sandbox", "faults", "--openclaw", "2026.9.6"]
    for name in MAKE_TEST:
        argv += ["--fault", name]
    completed = subprocess.run(argv, env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True,
                               text=True, timeout=2400)
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    [run] = (tmp_path / "path3-faults").iterdir()
    cases = {c["case"]: c for c in json.loads((run / "faults.json").read_text())["cases"]}
    assert list(cases) == ["control", *MAKE_TEST], "the control first, then each fault once"
    assert cases["kill-at-archive-move"]["hit"], "the kill landed while files moved into the import archive"
    for case in cases.values():  # whatever else happens, nothing is lost, nothing doubled, every byte kept
        assert case["events_lost"] == 0 and case["duplicates"] == 0, (case["case"], case["lost"])
        assert case["legacy_kept"].split("/")[0] == case["legacy_kept"].split("/")[1], case["case"]
    for name in ("control", "kill-at-archive-move", "truncated-last-line"):
        assert cases[name]["verdict"] == "pass", (name, cases[name]["first_failure"])
    # docs/findings.md, a disk that fills during 9.6's first start: where it runs out decides what shows (stuck
    # refused: a half-created agent database "has no schema ownership metadata", red; or the start names
    # state/openclaw.sqlite, the full disk and doctor --fix, and the next start imports everything, green; or, where
    # the disk runs out elsewhere, an error that names no file or no fix, red). Never a harness failure.
    disk = cases["disk-full"]
    if disk["verdict"] == "fail":  # red is the Gateway's, one of the two ways a full disk is known to end badly
        assert disk["first_failure"].startswith("[gateway]"), disk["first_failure"]
        if disk["outcome"] == "refused":
            assert "no schema ownership metadata" in (run / "disk-full" / "doctor-fix.log").read_text()
        else:  # the disk ran out where the start's error names no file or no fix (seen before the advice was read)
            assert disk["outcome"] == "completed" and "names the file and the fix" in disk["first_failure"]
    table = (run / "faults.md").read_text()
    assert "| `kill-at-archive-move` |" in table and "| `disk-full` |" in table
    assert completed.returncode == (1 if disk["verdict"] == "fail" else 0)


def test_a_killed_faults_run_leaves_nothing_behind_after_clean(docker_client, default_image, tmp_path):
    env = dict(os.environ, PATH3_ARTIFACTS=str(tmp_path / "artifacts"))
    run = subprocess.Popen([sys.executable, "-m", "path3_sandbox", "faults", "--openclaw", "2026.9.6", "--fixture",
                            "minimal", "--fault", "disk-full"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    selector = {"label": f"{LABEL_OWNER_PID}={run.pid}"}
    try:  # wait for the disk-full case's tmpfs holder: the resource most likely to outlive a killed run
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not any(
                c.labels.get("path3-sandbox.role") == "holder" for c in docker_client.containers.list(filters=selector)):
            time.sleep(0.5)
        assert any(c.labels.get("path3-sandbox.role") == "holder"
                   for c in docker_client.containers.list(filters=selector)), "the disk-full case never started"
    finally:
        run.send_signal(signal.SIGKILL)  # no finally blocks run: the resources stay behind
        run.wait()
    assert docker_client.volumes.list(filters=selector), "the killed run left its volumes (clean has work to do)"
    removed = clean(docker_client)
    assert any(line.startswith("container ") for line in removed)
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.volumes.list(filters=selector) == []
