import json
import shutil

import pytest

from path3_sandbox.errors import FixtureError
from path3_sandbox.state.fixtures import Fixture, check, default_fixture_dirs, resolve_fixture


def test_every_shipped_fixture_agrees_with_its_files():
    found = default_fixture_dirs()
    assert len(found) >= 7
    for path in found:
        assert check(Fixture.load(path)) == [], path.name


def test_a_manifest_count_that_disagrees_with_the_transcript_is_reported_precisely(tmp_path):
    copy = tmp_path / "minimal"
    shutil.copytree(resolve_fixture("minimal").root, copy)
    manifest = json.loads((copy / "fixture.json").read_text())
    manifest["agents"]["main"]["sessions"]["agent:main:main"]["events"] += 1
    (copy / "fixture.json").write_text(json.dumps(manifest))
    [problem] = check(Fixture.load(copy))
    assert problem.startswith("manifest session agent:main:main: events=6 but agents/main/sessions/")
    assert "has 5 distinct event line(s)" in problem


def test_a_store_entry_missing_from_the_manifest_is_reported(tmp_path):
    copy = tmp_path / "minimal"
    shutil.copytree(resolve_fixture("minimal").root, copy)
    manifest = json.loads((copy / "fixture.json").read_text())
    del manifest["agents"]["main"]["sessions"]["agent:main:cron:nightly-digest"]
    (copy / "fixture.json").write_text(json.dumps(manifest))
    assert check(Fixture.load(copy)) == [
        "state/agents/main/sessions/sessions.json: entry agent:main:cron:nightly-digest is not in the manifest "
        "(add it under agents.main.sessions)"]


def test_an_unknown_fixture_name_lists_the_known_ones():
    with pytest.raises(FixtureError, match="no fixture named or at 'nope'") as raised:
        resolve_fixture("nope")
    assert "minimal" in str(raised.value)


def test_a_broken_manifest_is_an_input_error(tmp_path):
    (tmp_path / "fixture.json").write_text("{broken")
    with pytest.raises(FixtureError, match="is not valid JSON"):
        Fixture.load(tmp_path)


def test_a_transcript_on_disk_that_the_manifest_does_not_account_for_fails_naming_the_file_and_the_fix(tmp_path):
    copy = tmp_path / "stray-orphan"
    shutil.copytree(resolve_fixture("stray-orphan").root, copy)
    manifest = json.loads((copy / "fixture.json").read_text())
    del manifest["agents"]["main"]["sessions"]["agent:main:recovered:1c383a6c-1381-5420-8328-0641ac83bbf1"]
    (copy / "fixture.json").write_text(json.dumps(manifest))
    assert check(Fixture.load(copy)) == [
        "state/agents/main/sessions/1c383a6c-1381-5420-8328-0641ac83bbf1.jsonl: a transcript no manifest session "
        "accounts for (session id 1c383a6c-1381-5420-8328-0641ac83bbf1); declare it under agents.main.sessions as "
        '"agent:main:recovered:1c383a6c-1381-5420-8328-0641ac83bbf1": {"sessionId": '
        '"1c383a6c-1381-5420-8328-0641ac83bbf1", "events": 3, "archived": true} (how the Gateway imports an orphan), '
        "or remove the file"]
