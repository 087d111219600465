"""The README's upgrade paths, run as a user runs them: the real 2026.7.35 writes, the real 2026.9.6 imports, 2026.7.35
started again on the migrated state must refuse and write nothing (the downgrade round trip), and a backup of the
legacy sessions restored over the migrated state must not cost a message (merge safety)."""

import json
import os
import subprocess
import sys

import pytest


def run_path(tmp_path, *hops, timeout=2400):
    completed = subprocess.run([sys.executable, "-m", "path3_sandbox", "path", *hops],
                               env={**os.environ, "PATH3_ARTIFACTS": str(tmp_path)}, capture_output=True, text=True,
                               timeout=timeout)
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    [run] = (tmp_path / "path3-path").iterdir()
    return completed, run, json.loads((run / "path.json").read_text())


def test_write_upgrade_go_back_and_restore_a_backup_on_one_volume(default_image, tmp_path):
    completed, run, result = run_path(tmp_path, "2026.7.35", "2026.9.6", "2026.7.35", "@restore-sessions-backup",
                                      "2026.9.6")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "1. 2026.7.35" in completed.stdout and "5. 2026.9.6" in completed.stdout, "the plan is printed first"
    writer, importer, downgrade, restore, again = result["hops"]
    assert [h["role"] for h in result["hops"]] == ["writer", "importer", "downgrade", "action", "importer"]
    assert importer["starts"][0]["kind"] == "imported", "9.6 imports what 7.35 wrote at its first start"
    assert writer["reachable"] == "2/2" and importer["reachable"] == "4/4"
    assert downgrade["starts"][0]["exit_code"] == 1, "7.35 refuses the state 9.6 claimed"
    assert "agents/main/sessions/sessions.json" in restore["restored"] and restore["restored_from_hop"] == 1
    # Measured (docs/findings.md): 9.6 refuses legacy files on a migrated state; doctor --fix merges them.
    assert again["starts"][0]["kind"] == "refused" and again["starts"][-1]["kind"] in ("imported", "ready-without-import")
    assert again["reachable"] == "6/6", "no message of either era is lost to the restored backup"
    assert {w["hop"] for w in result["written"]} == {1, 2, 5} and len(result["written"]) == 6
    summary = (run / "summary.md").read_text()
    assert "| 3 | `2026.7.35` | downgrade |" in summary and "## What each hop did with the other era's files" in summary
    assert "legacy file(s) moved (to agents/main/session-sqlite-import-archive)" in summary
    assert (run / "hop-3-2026.7.35" / "gateway-stdout.log").read_text().count("newer schema version") >= 1
    assert json.loads((run / "hop-2-2026.9.6" / "era-files.json").read_text())["legacy_moved"]


def test_the_latest_release_upgrades_to_a_packed_build_as_a_pull_requests_check_runs_it(default_image, packed_release,
                                                                                        tmp_path):
    """The example workflow's path job: the previous stable release's state upgraded to the PR's packed build."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "2026.9.6", str(packed_release))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    writer, importer, packed = result["hops"]
    assert (packed["role"], packed["contract"], packed["on_migrated"]) == ("importer", "startup-import", True)
    assert packed["starts"][-1]["kind"] in ("imported", "ready-without-import")
    assert packed["reachable"] == "6/6", "every message both releases wrote is reachable through the packed build"
    [folder] = [p for p in run.iterdir() if p.name.startswith("hop-3-")]
    assert folder.name.endswith(packed_release.name) and "/" not in folder.name[len("hop-3-"):]


@pytest.mark.paths_matrix
def test_a_session_written_in_both_eras_loses_its_first_era_on_the_second_import(default_image, tmp_path):
    """docs/findings.md: after @move-state-db-aside and new turns by 2026.7.35, 2026.9.6's second import points
    agent:main:main at the new transcript; the first era's messages stay as rows under the old session id, unreachable.
    Pinned red for exactly that (make test-matrix): when OpenClaw fixes it, this test says so."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "2026.9.6", "@move-state-db-aside", "2026.7.35", "2026.9.6")
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert [h["failed"] for h in result["hops"]] == [0, 0, 0, 0, 1]
    assert result["hops"][4]["reachable"] == "6/8"
    [finding] = result["failures"]
    assert finding["blame"] == "gateway"
    for marker in ("P3-PATH-H1T1", "P3-PATH-H2T1"):  # the both-eras session's turns before the second import
        assert f"{marker} (written by hop" in finding["message"] and "agent:main:main" in finding["message"]


@pytest.mark.paths_matrix
def test_a_session_folder_copied_from_another_machine_replaces_the_conversation_under_the_same_key(default_image, tmp_path):
    """docs/findings.md: 9.6 refuses the copied legacy files; doctor --fix imports them and points agent:main:main at the
    other machine's (newer) session; this machine's turns on that key stay as unreachable rows. Pinned red
    (make test-matrix): the other machine's own session and every one-era session stay reachable."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "2026.9.6", "@copy-sessions-from-another-machine", "2026.9.6")
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert [h["failed"] for h in result["hops"]] == [0, 0, 0, 1]
    copy, again = result["hops"][2], result["hops"][3]
    assert "agents/main/sessions/sessions.json" in copy["copied"] and copy["other_machine"]["release"] == "2026.7.35"
    assert again["starts"][0]["kind"] == "refused" and again["reachable"] == "6/8"
    [finding] = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
                 if json.loads(line).get("outcome") == "failed"]
    assert finding["blame"] == "gateway"
    # exactly this machine's turns on the key both machines wrote; the other machine's turns are reachable
    assert [entry.split(" ")[0] for entry in finding["observed"]] == ["P3-PATH-H1T1", "P3-PATH-H2T1"]
    assert all("agent:main:main" in entry and "(unreachable)" in entry for entry in finding["observed"])


@pytest.mark.paths_matrix
def test_a_recipe_written_by_the_writer_survives_both_importers_in_turn(default_image, tmp_path):
    """path --recipe: 2026.7.35 drives the real-7.35 recipe (two agents, a compaction, a reset) besides its own turns;
    9.5 imports through doctor --fix, 9.6 starts on what 9.5 migrated; every turn stays reachable, and the turns the
    writer's own reset hid stay on the volume."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "2026.9.5", "2026.9.6", "--recipe",
                                      "fixtures/recipes/real-7.35.json")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    writer, doctor, later = result["hops"]
    recipe_turns = [w for w in result["written"] if w["hop"] == 1 and w["key"] != "agent:main:hop-1"]
    assert len(recipe_turns) == 1 + 10, "the writer's turn on agent:main:main and the recipe's ten"
    assert {w["key"] for w in recipe_turns} >= {"agent:main:travel", "agent:main:notes", "agent:work:main"}
    hidden = [w for w in result["written"] if w["hidden"]]
    assert hidden and all(w["key"] == "agent:main:travel" for w in hidden), "only the reset session's first turns"
    assert [o["method"] for o in writer["operations"]] == ["sessions.compact", "sessions.reset"]
    visible = len(result["written"]) - len(hidden)
    assert later["reachable"] == f"{visible}/{visible}"
    assert doctor["starts"][0]["kind"] == "refused" and later["starts"][0]["kind"] == "ready-without-import"


def test_an_in_place_npm_install_over_a_running_writer_imports_at_its_restart(default_image, tmp_path):
    """`@npm-install=2026.9.6`: npm installs 9.6 as root into 7.35's running container from the run's own registry;
    the restarted container imports at its first start, and every message stays reachable (about 2 min; the registry
    image, when absent, about 1 min more)."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "@npm-install=2026.9.6", timeout=1200)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    writer, upgraded = result["hops"]
    assert writer["left_running"] == "for hop 2's in-place install"
    assert (upgraded["role"], upgraded["installs"], upgraded["release"]) == ("importer", "npm", "2026.9.6")
    done = upgraded["in_place"]
    assert (done["from"], done["installed"], done["npm_exit_code"], done["failed_requests"]) == ("2026.7.35", "2026.9.6", 0, 0)
    assert upgraded["starts"][0]["kind"] == "imported" and upgraded["reachable"] == "4/4"
    folder = run / "hop-2-npm-install-2026.9.6"
    fetched = json.loads((folder / "npm-fetched.json").read_text())
    assert "openclaw@2026.9.6" in fetched["tarballs"] and len(fetched["tarballs"]) == done["tarballs"] > 100
    assert "/openclaw" in (folder / "registry-requests.jsonl").read_text()
    assert "GET 200 http://" in (folder / "npm-install.log").read_text(), "npm's own line per fetch"
    assert result["npm_registry"]["releases"] == ["2026.9.6"]
    assert "## Releases installed in place" in (run / "summary.md").read_text()


@pytest.mark.paths_matrix
def test_the_old_releases_own_updater_installs_in_place_and_the_restart_imports(default_image, tmp_path):
    """`@openclaw-update=2026.9.6`: 7.35's `openclaw update` (dry run first) installs 9.6 as root into its running
    container from the run's registry; the restarted container imports, every message stays reachable; the update's
    JSON, its dry run, the registry's log and what root left under the state dir are the hop's evidence (over 3 min)."""
    completed, run, result = run_path(tmp_path, "2026.7.35", "@openclaw-update=2026.9.6", timeout=1800)
    writer, updated = result["hops"]
    done = updated["in_place"]
    assert (done["installer"], done["from"], done["installed"], done["update_status"]) == (
        "update", "2026.7.35", "2026.9.6", "ok"), completed.stdout[-3000:]
    folder = run / "hop-2-openclaw-update-2026.9.6"
    dry = json.loads((folder / "update-dry-run.json").read_text())
    assert dry["tries"][-1]["detected"] and dry["tries"][-1]["preview"]["targetVersion"] == "2026.9.6"
    assert "openclaw@2026.9.6" in json.loads((folder / "npm-fetched.json").read_text())["tarballs"]
    assert json.loads((folder / "update.json").read_text())["after"]["version"] == "2026.9.6"
    assert "not_owned_by_gateway_user" in json.loads((folder / "state-ownership.json").read_text())
    assert updated["starts"], "the restarted container's start is observed, whatever it was"
