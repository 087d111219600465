"""`clean`: whose resources are dead, and which evidence folders are old enough to go."""

from __future__ import annotations

import os

import pytest


def test_clean_tells_a_live_owner_from_a_reused_pid_and_a_dead_one():
    from path3_sandbox.containers.cleanup import owner_alive
    from path3_sandbox.containers.resources import LABEL_OWNER_STARTED, run_labels

    mine = run_labels("run-1", "gateway")
    assert owner_alive(mine)
    assert not owner_alive({**mine, LABEL_OWNER_STARTED: f"{float(mine[LABEL_OWNER_STARTED]) - 3600:.2f}"})
    assert not owner_alive({**mine, "path3-sandbox.owner-pid": "999999999"})


def test_clean_artifacts_prunes_only_run_folders_older_than_the_age(tmp_path):
    from path3_sandbox.containers.cleanup import parse_age, prune_artifacts

    now = 1_800_000_000.0
    for kind, run, age_days in (("path3-upgrade", "old", 8), ("path3-upgrade", "new", 1), ("path3-repro", "old", 30)):
        folder = tmp_path / kind / run
        folder.mkdir(parents=True)
        (folder / "events.jsonl").write_text("{}\n")
        for path in (folder / "events.jsonl", folder):
            os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    (tmp_path / "images").mkdir()  # image build logs are not evidence of a run: left alone
    removed = prune_artifacts(tmp_path, parse_age("7d"), now=now)
    assert sorted(r.split(" ")[1] for r in removed) == ["path3-repro/old", "path3-upgrade/old"]
    assert (tmp_path / "path3-upgrade" / "new").is_dir() and (tmp_path / "images").is_dir()


def test_an_age_that_is_not_one_is_bad_input():
    from path3_sandbox.containers.cleanup import parse_age
    from path3_sandbox.errors import UsageError

    with pytest.raises(UsageError, match="not an age"):
        parse_age("a week")


def test_clean_artifacts_prunes_old_live_runs_too(tmp_path):
    """live writes its evidence under path3-live-e2e/<run> (live.PROOF_NAME): an old one goes like any other run's."""
    from path3_sandbox.containers.cleanup import EVIDENCE_KINDS, parse_age, prune_artifacts
    from path3_sandbox.live import PROOF_NAME

    assert PROOF_NAME in EVIDENCE_KINDS
    now = 1_800_000_000.0
    for run, age_days in (("old", 10), ("new", 1)):
        folder = tmp_path / PROOF_NAME / run
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text("{}\n")
        for path in (folder / "summary.json", folder):
            os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    removed = prune_artifacts(tmp_path, parse_age("7d"), now=now)
    assert [r.split(" ")[1] for r in removed] == [f"{PROOF_NAME}/old"]
    assert (tmp_path / PROOF_NAME / "new").is_dir() and not (tmp_path / PROOF_NAME / "old").exists()
