"""`path3-sandbox bench` as a user runs it, on the smallest size: the figures in bench.json are real ones (the events
the Gateway reports imported are the events generated, and SQLite holds them; the floor and the memory were measured)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_bench_measures_a_real_import_and_its_floor(default_image, docker_client, tmp_path):
    completed = subprocess.run([sys.executable, "-m", "path3_sandbox", "bench", "--openclaw", "2026.9.6",
                                "--sessions", "10", "--events", "5"],
                               env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True,
                               timeout=1200)
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    assert completed.returncode == 0
    [run] = (tmp_path / "path3-bench").iterdir()
    bench = json.loads((run / "bench.json").read_text())
    [size] = bench["sizes"]
    assert (size["sessions"], size["events_per_session"], size["events"]) == (10, 5, 60), "a header and 5 events each"
    assert size["outcome"] == "imported"
    assert size["imported_events"] == size["events"] == size["rows_in_sqlite"], "as reported by the Gateway and SQLite"
    assert size["imported_entries"] == 10
    assert size["import_seconds"] > 0 and size["seconds_to_ready"] >= size["import_seconds"]
    assert size["floor_seconds"] > 0 and size["floor_events_per_s"] > 0
    assert size["peak_rss_mib"] > 0 and size["sqlite_bytes"] > 0 and size["events_per_s"] > 0
    floor = json.loads((run / "10x5" / "floor.json").read_text())
    assert floor["rows"] == 60 and floor["compressed"] == 1, "the ~200 KiB event went through zstd, as the Gateway's"
    table = (run / "bench.md").read_text()
    assert "| 10 | 60 |" in table
    assert "bench: " in completed.stdout and (run / "10x5" / "gateway-stdout.log").exists()
    # Containers and volumes are removed when the run ends.
    selector = {"label": f"path3-sandbox.run-id={bench['run_id']}"}
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.volumes.list(filters=selector) == []
