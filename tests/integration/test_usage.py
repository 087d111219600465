"""The three entrances: a user's state reproduced, a redacted state proved, a packed tarball as target,
and leftovers of a killed run cleaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from path3_sandbox.containers.cleanup import clean
from path3_sandbox.cli import main
from path3_sandbox.proof.contracts import contract_for
from path3_sandbox.state.fixtures import Fixture, resolve_fixture
from path3_sandbox.build.images import ensure_gateway_image
from path3_sandbox.state.redact import redact_state
from path3_sandbox.containers.resources import LABEL_OWNER_PID, LABEL_RUN, new_run_id
from path3_sandbox.proof.run import prove
from path3_sandbox.build.target import DEFAULT_SPEC, Target
from path3_sandbox.state.userstate import infer_manifest, write_fixture


def test_repro_of_a_tarball_with_a_home_prefix_writes_a_bug_report_bundle(docker_client, default_image, tmp_path, monkeypatch):
    archive = tmp_path / "alice-openclaw.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(resolve_fixture("invalid-missing").state, arcname="home/alice/.openclaw")
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["repro", str(archive), "--first-start-only"]) == 0
    [bundle] = (tmp_path / "artifacts" / "path3-repro").glob("*/bug-report.tar.gz")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("bug-report/fixture.json"))
        summary = tar.extractfile("bug-report/summary.md").read().decode()
    assert names[0] == "bug-report/summary.md" and "bug-report/junit.xml" in names
    assert "bug-report/evidence/events.jsonl" in names and "bug-report/evidence/sqlite-after.json" in names
    assert "bug-report/evidence/state/openclaw.json" not in names
    assert manifest["state_dir_as_written"] == "/home/alice/.openclaw"
    assert manifest["expected_warnings"] == ["entry_invalid", "transcript_missing"]
    assert summary.startswith("# ✅ PASS")


def test_no_planted_secret_reaches_any_evidence_file_or_the_bug_report_bundle(docker_client, default_image, tmp_path,
                                                                             monkeypatch, capsys):
    from tests.planted import leaks, plant_secrets

    archive = tmp_path / "alice-openclaw.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(plant_secrets(tmp_path / "state"), arcname="home/alice/.openclaw")
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    code = main(["repro", str(archive), "--first-start-only"])
    out, err = capsys.readouterr()
    [bundle] = (tmp_path / "artifacts" / "path3-repro").glob("*/bug-report.tar.gz")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert "bug-report/evidence/sqlite-after.json" in names and "bug-report/evidence/seed.json" in names, \
        f"the run must reach the import for this test to mean anything (exit {code}): {err[-1500:]}"
    assert leaks(tmp_path / "artifacts") == {}
    assert all(value not in out + err for value in __import__("tests.planted").planted.SECRETS.values()), \
        "progress lines are evidence too (CI logs are public)"
    assert "redacted" in err and "secret(s) in the evidence" in err


def test_a_redacted_state_with_placeholders_imports_the_same_counts(docker_client, default_image, artifacts, tmp_path):
    source = resolve_fixture("duplicate-event")
    redact_state(source.state, tmp_path / "redacted", placeholders=True)
    manifest = infer_manifest(tmp_path / "redacted", "redacted", catches="redaction keeps counts", origin="test")
    fixture = Fixture.load(write_fixture(tmp_path / "redacted", tmp_path / "fixture", manifest))
    assert {(s.key, s.events) for s in fixture.sessions} == {(s.key, s.events) for s in source.sessions}
    run_id = new_run_id()
    result = prove(docker_client, default_image, [fixture], contract_for(DEFAULT_SPEC), run_id=run_id,
                   root=artifacts / run_id, keep=False, argv=["test"], scenario=False)
    [verdict] = result.verdicts
    assert verdict.passed, verdict.first_failure
    assert verdict.counts["session_nodes"] == len(source.sessions)
    assert verdict.counts["transcript_events"] == sum(s.events for s in source.sessions)


def test_a_packed_tarball_of_a_release_proves_like_its_registry_spec(docker_client, default_image, artifacts,
                                                                      packed_release):
    target = Target.parse(str(packed_release))
    assert (target.kind, target.version) == ("tarball", DEFAULT_SPEC)
    image = ensure_gateway_image(docker_client, target, log_dir=artifacts / "images")
    assert image.tag != default_image.tag and image.tag.endswith(image.cache_key[:12])
    run_id = new_run_id()
    result = prove(docker_client, image, [resolve_fixture("minimal")], contract_for(target.version), run_id=run_id,
                   root=artifacts / run_id, keep=False, argv=["test"], scenario=False)
    [verdict] = result.verdicts
    assert verdict.passed, verdict.first_failure
    assert verdict.observed_contract == "startup-import"


def test_clean_removes_what_a_killed_run_left(docker_client, default_image, tmp_path):
    env = dict(os.environ, PATH3_ARTIFACTS=str(tmp_path / "artifacts"))
    run = subprocess.Popen([sys.executable, "-m", "path3_sandbox", "prove", "--fixture", "minimal", "--first-start-only"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Killed once its Gateway exists: the seeding container before it lives a second or two, and a kill that
        # landed just after it went would leave a volume and no container to clean.
        selector = wait_for_gateway(docker_client, run.pid)
        assert docker_client.volumes.list(filters=selector), "the run never created its volume"
    finally:
        run.send_signal(signal.SIGKILL)  # no finally blocks run: the resources stay behind
        run.wait()
    run_ids = {v.attrs["Labels"][LABEL_RUN] for v in docker_client.volumes.list(filters=selector)}
    removed = clean(docker_client)
    assert any(line.startswith("volume ") for line in removed) and any(line.startswith("container ") for line in removed)
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.volumes.list(filters=selector) == []
    assert all(any(run_id in line for line in removed) for run_id in run_ids)


def start_prove(tmp_path, *extra):
    env = dict(os.environ, PATH3_ARTIFACTS=str(tmp_path / "artifacts"))
    return subprocess.Popen([sys.executable, "-m", "path3_sandbox", "prove", "--fixture", "minimal", "--first-start-only", *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_gateway(docker_client, pid):
    selector = {"label": f"{LABEL_OWNER_PID}={pid}"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(c.labels.get("path3-sandbox.role") == "gateway" for c in docker_client.containers.list(all=True, filters=selector)):
            return selector
        time.sleep(0.5)
    raise AssertionError("the run never started its Gateway")


@pytest.mark.parametrize("signals", [("SIGINT",), ("SIGTERM",), ("SIGTERM", "SIGINT")],
                         ids=["ctrl-c", "sigterm", "a second signal during cleanup"])
def test_an_interrupted_run_leaves_nothing_behind_but_the_evidence(docker_client, default_image, tmp_path, signals):
    run = start_prove(tmp_path)
    # The signal must land while the Gateway starts (some 15 s): the run's own progress line says when, where polling
    # Docker for its container could answer late on a loaded machine, after the run had finished (exit 0).
    seen = []
    for line in run.stderr:
        seen.append(line)
        if "first-start: starting" in line:
            break
    selector = {"label": f"{LABEL_OWNER_PID}={run.pid}"}
    for index, name in enumerate(signals):
        if index:
            time.sleep(0.5)  # the first signal has started the cleanup; the second must not cut it short
        run.send_signal(getattr(signal, name))
    _, rest = run.communicate(timeout=120)
    err = "".join(seen) + rest
    assert run.returncode == 130, err[-2000:]
    assert f"interrupted ({signals[0]})" in err and "Traceback" not in err, err[-2000:]
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.volumes.list(filters=selector) == []
    [events] = (tmp_path / "artifacts" / "path3-upgrade").glob("*/minimal/events.jsonl")
    assert events.read_text().strip(), "the evidence of the interrupted run is kept"


def test_keep_leaves_the_resources_and_prints_how_to_inspect_and_remove_them(docker_client, default_image, tmp_path):
    run = start_prove(tmp_path, "--keep")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    selector = {"label": f"{LABEL_OWNER_PID}={run.pid}"}
    volumes = docker_client.volumes.list(filters=selector)
    run_id = volumes[0].attrs["Labels"][LABEL_RUN]
    try:
        assert docker_client.containers.list(all=True, filters=selector), "--keep keeps the Gateway container"
        assert f"path3-sandbox clean --run {run_id}" in err and "docker logs" in err and "docker volume rm" in err
    finally:
        removed = clean(docker_client, run_id=run_id)
    assert any(line.startswith("volume ") for line in removed)
    assert docker_client.volumes.list(filters=selector) == []


def test_clean_artifacts_removes_old_evidence_and_keeps_recent(docker_client, tmp_path, monkeypatch, capsys):
    old, recent = tmp_path / "path3-upgrade" / "old-run", tmp_path / "path3-upgrade" / "recent-run"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "summary.md").write_text("# PASS\n")
    week_ago = time.time() - 8 * 86400
    for path in (old / "summary.md", old):
        os.utime(path, (week_ago, week_ago))
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path))
    assert main(["clean", "--artifacts", "--older-than", "7d"]) == 0
    assert "evidence path3-upgrade/old-run" in capsys.readouterr().out
    assert not old.exists() and recent.is_dir()
