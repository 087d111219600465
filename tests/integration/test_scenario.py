"""The Path 3 scenario over the Gateway's RPC: the README's command on several fixtures in one run, and a wrong declaration."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

from path3_sandbox.proof.contracts import contract_for
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.containers.resources import new_run_id
from path3_sandbox.proof.run import prove
from path3_sandbox.scenario import STEPS, Step, step_chat_turn
from tests.golden import golden, key_paths


def run(docker_client, image, fixture, artifacts, **kwargs):
    run_id = new_run_id()
    return prove(docker_client, image, [resolve_fixture(fixture)], contract_for(image.target.version), run_id=run_id,
                 root=artifacts / "path3-upgrade" / run_id, keep=False, argv=["test"], **kwargs)


# Run exactly as the README runs it: `make prove-upgrade`, several fixtures in one run, two at once (JOBS=2: side by
# side, each with its own provider: the default on a 2-core machine, pinned so a bigger or busier one runs it too).
# compaction-v1 (a compacted session's context), real-7.35 (written by a real release: 4-event turns).
README_FIXTURES = ["compaction-v1", "real-7.35"]


def test_make_prove_upgrade_drives_every_step_on_several_fixtures_side_by_side_in_one_run(tmp_path):
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run(["make", "-s", "prove-upgrade", f"FIXTURE={' '.join(README_FIXTURES)}", "JOBS=2"], cwd=root,
                               env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True,
                               timeout=1800)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert f"PASS: {len(README_FIXTURES)}/{len(README_FIXTURES)} fixtures" in completed.stdout
    [run] = list((tmp_path / "path3-upgrade").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert [v["fixture"] for v in summary["fixtures"]] == README_FIXTURES, "the fixtures' order, whatever finished first"
    assert summary["jobs"] == 2
    assert key_paths(summary) == set(golden("summary-scenario.json")), "summary.json keeps the shape it had (tests/golden)"
    assert summary["gateway_findings"] == [] and summary["harness_failures"] == []
    for verdict in summary["fixtures"]:  # figures, not timed tests: the Gateway's own time and ours are both there
        split = verdict["time"]
        assert split["gateway"]["starts"] > 0 and split["gateway"]["rpc"] > 0 and split["harness_seconds"] > 0
        assert split["gateway"]["awaited"] > 0, "the wait for the Gateway's restart recovery is its time"
        assert abs(split["gateway_seconds"] + split["harness_seconds"] - verdict["seconds"]) < 1
    markers = set()
    for fixture in README_FIXTURES:
        report = json.loads((run / fixture / "scenario.json").read_text())
        # side-by-side writes only the proof session: the run's first fixture takes it, the other records why not
        per_run = "passed" if fixture == README_FIXTURES[0] else "skipped"
        assert {s["step"]: s["outcome"] for s in report["steps"]} == {
            s.name: per_run if s.per_run else "passed" for s in STEPS}
        assert all(f"by fixture {README_FIXTURES[0]}" in s["why"] for s in report["steps"] if s["outcome"] == "skipped")
        assert report["rpc"]["protocol"] == 4 and report["rpc"]["median_round_trip_s"] > 0  # a figure, not a timed test
        events = [json.loads(line) for line in (run / fixture / "events.jsonl").read_text().splitlines()]
        skipped = {e["assertion"] for e in events if e.get("event") == "assertion" and e["outcome"] == "skipped"}
        assert "sessions.compaction.list" in skipped, "9.6 retired compaction checkpoints: recorded as skipped"
        [restart] = [e for e in events if e.get("phase") == "restart" and e.get("event") == "recovery"]
        assert restart["inflight_status"].startswith("recovered: "), (
            "9.6 re-runs the killed turn under a new run id and logs its end: the step waited for that report", restart)
        requests = json.loads((run / fixture / "provider-requests.json").read_text())["requests"]
        # Our turns' markers; a request with none is labelled by its own provider (P3-UNSCRIPTED-<n>, per fixture).
        mine = {r["marker"] for r in requests if r["marker"] and not r["marker"].startswith("P3-UNSCRIPTED-")}
        assert any(m.endswith("-S3") for m in mine) and any(r["held"] for r in requests)  # restart holds one too
        assert not (mine & markers), "each fixture's turns carry markers of their own"
        markers |= mine


def test_a_step_declaring_a_wrong_delta_fails_naming_the_table_and_both_counts(docker_client, default_image, artifacts):
    def wrong(ctx, before):
        outcome = step_chat_turn(ctx, before)
        return dataclasses.replace(outcome, deltas={**outcome.deltas, "transcript_events": 5})

    result = run(docker_client, default_image, "minimal", artifacts, steps=[Step("chat-turn-wrong-delta", STEPS[0].requires, wrong)])
    [verdict] = result.verdicts
    assert not verdict.passed
    assert verdict.first_failure == ("[gateway] transcript_events moved by +5: expected 5, observed 6 "
                                     "(table transcript_events: 11 -> 17)")
