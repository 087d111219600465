"""The Path 3 scenario over the Gateway's RPC, on two fixtures against 2026.9.6, and a wrong declaration."""

from __future__ import annotations

import dataclasses
import json

import pytest

from path3_sandbox.contracts import contract_for
from path3_sandbox.fixtures import resolve_fixture
from path3_sandbox.resources import new_run_id
from path3_sandbox.run import prove
from path3_sandbox.scenario import STEPS, Step, step_chat_turn


def run(docker_client, image, fixture, artifacts, **kwargs):
    run_id = new_run_id()
    return prove(docker_client, image, [resolve_fixture(fixture)], contract_for(image.target.version), run_id=run_id,
                 root=artifacts / "path3-upgrade" / run_id, keep=False, argv=["test"], **kwargs)


@pytest.mark.parametrize("fixture", ["minimal", "multi-agent"])
def test_the_scenario_drives_every_step_through_rpc_and_checks_sqlite_around_each(docker_client, default_image, artifacts, fixture):
    result = run(docker_client, default_image, fixture, artifacts)
    [verdict] = result.verdicts
    assert verdict.passed, f"{verdict.first_failure}\nevidence: {verdict.evidence}"
    report = json.loads((verdict.evidence / "scenario.json").read_text())
    assert [s["step"] for s in report["steps"]] == [s.name for s in STEPS]
    assert {s["outcome"] for s in report["steps"]} == {"passed"}
    assert report["rpc"]["protocol"] == 4 and report["rpc"]["median_round_trip_s"] > 0  # a figure, not a timed test
    events = [json.loads(line) for line in (verdict.evidence / "events.jsonl").read_text().splitlines()]
    skipped = {e["assertion"] for e in events if e.get("event") == "assertion" and e["outcome"] == "skipped"}
    assert "sessions.compaction.list" in skipped, "9.6 retired compaction checkpoints: recorded as skipped"
    per_step = [e for e in events if e.get("event") == "assertion" and e["phase"].startswith("step-")]
    assert {e["phase"] for e in per_step} >= {f"step-{i}-{s.name}" for i, s in enumerate(STEPS, 1)}
    requests = json.loads((verdict.evidence / "provider-requests.json").read_text())["requests"]
    markers = [r["marker"] for r in requests]
    assert any(m.endswith("-S1") for m in markers) and any(m.endswith("-S7") for m in markers)
    assert any(r["held"] for r in requests), "the restart step held a turn in flight"


def test_a_step_declaring_a_wrong_delta_fails_naming_the_table_and_both_counts(docker_client, default_image, artifacts):
    def wrong(ctx, before):
        outcome = step_chat_turn(ctx, before)
        return dataclasses.replace(outcome, deltas={**outcome.deltas, "transcript_events": 5})

    result = run(docker_client, default_image, "minimal", artifacts, steps=[Step("chat-turn-wrong-delta", STEPS[0].requires, wrong)])
    [verdict] = result.verdicts
    assert not verdict.passed
    assert verdict.first_failure == ("transcript_events moved by +5: expected 5, observed 6 "
                                     "(table transcript_events: 11 -> 17)")
