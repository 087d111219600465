import xml.etree.ElementTree as ET

from path3_sandbox.proof.contracts import ContractChoice
from path3_sandbox.build.images import BaseImage, GatewayImage
from path3_sandbox.proof.proof import FixtureVerdict
from path3_sandbox.proof.run import RunResult, write_summary
from path3_sandbox.build.target import Target


def verdict(name, passed, tmp_path):
    phases = (
        {"phase": "oracle", "passed": 12, "failed": 0 if passed else 1, "skipped": 0, "skip_reasons": [],
         "first_failure": None if passed else "agent:main:main (s-1) holds 6 transcript events: expected 6, observed 5"},
        {"phase": "step-6-compaction", "passed": 3, "failed": 0, "skipped": 4,
         "skip_reasons": ["sessions.compaction.list: retired"], "first_failure": None},
    )
    scenario = {"steps": [{}] * 5 + [{"step": "compaction", "counts_before": {"session_nodes": 4, "session_windows": 4,
                                      "transcript_events": 22}, "counts_after": {"session_nodes": 4, "session_windows": 4,
                                      "transcript_events": 23}, "seconds": 1.4}], "rpc": {"protocol": 4, "calls": 30,
                                      "median_round_trip_s": 0.004}}
    evidence = tmp_path / name
    evidence.mkdir()
    (evidence / "events.jsonl").write_text("")
    return FixtureVerdict(name, passed, None if passed else phases[0]["first_failure"], "startup-import", 40.0,
                          {"oracle": 2.5}, evidence, {"session_nodes": 3, "transcript_events": 11}, scenario, phases)


def write(tmp_path, *verdicts):
    target = Target.parse("2026.9.6")
    image = GatewayImage("path3-sandbox/gateway:2026.9.6-abc", "sha256:x", target, BaseImage("node", "sha256:b", "test"),
                         "k", False, 0.1, None)
    result = RunResult("run-1", tmp_path, verdicts)
    write_summary(result, image, ContractChoice("startup-import", "release table"), ["prove"], 80.0)
    return result


def test_summary_md_opens_with_the_verdict_and_names_the_first_failure(tmp_path):
    write(tmp_path, verdict("minimal", True, tmp_path), verdict("one-event-short", False, tmp_path))
    text = (tmp_path / "summary.md").read_text()
    assert text.splitlines()[0] == "# ❌ FAIL: openclaw 2026.9.6, 1/2 fixtures"
    assert "**First failure** in `one-event-short`: agent:main:main (s-1) holds 6 transcript events" in text
    assert "| step-6-compaction | ok | 3 / 0 / 4 | 4, 4, 22 → 4, 4, 23 | 1.4s |" in text
    assert "RPC: protocol 4, 30 calls" in text


def test_junit_has_a_suite_per_fixture_and_a_failure_per_failed_phase(tmp_path):
    write(tmp_path, verdict("minimal", True, tmp_path), verdict("one-event-short", False, tmp_path))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["openclaw 2026.9.6 :: minimal", "openclaw 2026.9.6 :: one-event-short"]
    failures = [c for s in suites for c in s.findall("testcase") if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failures] == [("path3.one-event-short", "oracle")]
    assert "expected 6, observed 5" in failures[0].find("failure").get("message")


def test_summary_says_plainly_when_the_gateway_had_the_open_network_and_what_it_looked_up_when_hermetic(tmp_path):
    from path3_sandbox.proof.run import network_line

    import dataclasses

    base = verdict("minimal", True, tmp_path)

    def result(*records):
        return RunResult("r", tmp_path, tuple(dataclasses.replace(base, network=r) for r in records))

    hermetic = {"mode": "hermetic", "names_looked_up": ["clawhub.ai"]}
    assert "the Gateway looked up `clawhub.ai`" in network_line(result(hermetic))
    assert network_line(result(hermetic, {"mode": "open"})).startswith("**open** (`--network open`)")


def test_the_summary_puts_the_gateways_own_seconds_beside_ours_per_fixture(tmp_path):
    import dataclasses
    import json

    split = {"gateway": {"starts": 52.0, "cli": 9.0, "rpc": 6.0}, "gateway_seconds": 67.0, "harness_seconds": 23.0,
             "overhead": 0.34}
    write(tmp_path, dataclasses.replace(verdict("minimal", True, tmp_path), gateway_time=split), verdict("bare", True, tmp_path))
    text = (tmp_path / "summary.md").read_text()
    assert "| 40s | 67s / 23s (34 %) |" in text and "| 40s | - |" in text, "no split: a dash, never a made-up ratio"
    fixtures = json.loads((tmp_path / "summary.json").read_text())["fixtures"]
    assert fixtures[0]["time"] == split and fixtures[1]["time"] is None


def test_default_jobs_is_one_fixture_per_core_and_two_gib_never_more_than_the_fixtures(monkeypatch):
    import os
    from types import SimpleNamespace

    import psutil

    from path3_sandbox.proof.run import default_jobs

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=5 << 30))
    assert default_jobs(9) == 2, "5 GiB free: two Gateways, whatever the cores"
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=64 << 30))
    assert default_jobs(9) == 8 and default_jobs(3) == 3 and default_jobs(1) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_jobs(9) == 2, "a 2-core machine proves two at once"
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert default_jobs(9) == 1
