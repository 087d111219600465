"""`@openclaw-update=<release>` and its options, `@update-repair`, a recipe's plugins: the plan, the updater's JSON
read into a verdict (a skipped update fails), the dry run's detection, ownership changes under the state dir."""

import pytest

from path3_sandbox.errors import FixtureError, UsageError
from path3_sandbox.upgrades.hop import ACTION, IMPORTER, WRITER, installer_of
from path3_sandbox.upgrades.npm_install import (PREFIX, detected, last_json, ownership_changes, parse_owners,
                                                update_argv, update_env, update_verdict)
from path3_sandbox.upgrades.plan import image_releases, in_place_releases, plan
from path3_sandbox.upgrades.recipe import agents_config, parse_recipe


def test_the_update_hop_plays_the_role_of_the_release_it_installs_with_its_options():
    writer, updated, repair = plan(["2026.7.35", "@openclaw-update=2026.9.5,old-gateway-turn,kill-at-doctor",
                                    "@update-repair"])
    assert (updated.role, updated.contract, updated.installs, updated.release) == (
        IMPORTER, "refuse-then-doctor", "update", "2026.9.5")
    assert updated.options == ("old-gateway-turn", "kill-at-doctor")
    assert updated.label == "hop-2-openclaw-update-2026.9.5-old-gateway-turn-kill-at-doctor"
    assert "`openclaw update --tag 2026.9.5`" in updated.does and "takes a turn" in updated.does
    assert updated.to_json()["options"] == ["old-gateway-turn", "kill-at-doctor"]
    assert (writer.role, repair.role) == (WRITER, ACTION) and "update repair" in repair.does
    hops = plan(["2026.7.35", "@openclaw-update=2026.9.5", "@npm-install=2026.9.6"])
    assert in_place_releases(hops) == ("2026.9.5", "2026.9.6") and image_releases(hops) == ("2026.7.35",)
    assert installer_of("@openclaw-update=2026.9.6") == "update" and installer_of("@doctor-fix") is None


@pytest.mark.parametrize("specs, says", [
    (["2026.7.35", "@openclaw-update"], "name the exact release"),
    (["2026.7.35", "@openclaw-update=2026.9.5,reboot"], "has no option 'reboot'"),
    (["2026.7.35", "@npm-install=2026.9.5,kill-at-doctor"], "has no option 'kill-at-doctor'"),
    (["2026.7.35", "@openclaw-update=2026.9.5,old-gateway-turn,old-gateway-turn"], "given twice"),
    (["@openclaw-update=2026.9.5", "2026.9.6"], "follows nothing"),
    (["2026.7.35", "2026.9.6", "@openclaw-update=2026.7.35"], "would downgrade in place"),
    (["@update-repair", "2026.9.6"], "no release"),
])
def test_an_update_hop_or_repair_in_the_wrong_place_is_bad_input(specs, says):
    with pytest.raises(UsageError, match=says):
        plan(specs)


def test_the_updater_runs_as_a_user_runs_it_pointed_at_the_runs_registry():
    assert update_argv("2026.9.5", dry_run=True) == ["openclaw", "update", "--dry-run", "--json", "--tag", "2026.9.5"]
    assert update_argv("2026.9.5") == ["openclaw", "update", "--tag", "2026.9.5", "--yes", "--json", "--no-restart",
                                       "--timeout", "900"]
    assert update_env("http://r:4873/", False)["npm_config_registry"] == "http://r:4873/"
    assert update_env("http://r:4873/", False)["HOME"] == "/root" and "npm_config_prefix" not in update_env("u", False)
    assert update_env("u", True)["npm_config_prefix"] == PREFIX


def test_the_last_json_object_is_read_after_log_lines_and_a_dry_run_says_whether_npm_was_detected():
    output = 'warn: something {not json}\n{\n  "dryRun": true,\n  "mode": "unknown"\n}\n[plugins] done\n'
    assert last_json(output) == {"dryRun": True, "mode": "unknown"} and not detected(last_json(output))
    assert detected({"mode": "npm", "installKind": "package"}) and last_json("no json") is None


@pytest.mark.parametrize("result, code, ok, says", [
    ({"status": "ok", "steps": [{"name": "global update", "exitCode": 0}]}, 0, True, "status ok, 1 steps"),
    ({"status": "skipped", "reason": "not-git-install", "steps": []}, 0, False, "skipped (not-git-install)"),
    ({"status": "error", "reason": "global-update", "steps": [{"name": "global update", "exitCode": 1}]}, 1, False,
     "failed steps ['global update']"),
    (None, 137, False, "no JSON result (exit 137)"),
])
def test_a_skipped_update_fails_never_passes(result, code, ok, says):
    verdict, why = update_verdict(result, code)
    assert verdict is ok and says in why


def test_ownership_changes_under_the_state_dir_name_what_root_took():
    before = parse_owners("1000:1000 d \n1000:1000 f openclaw.json\n1000:1000 f agents/main/sessions/sessions.json\n")
    after = parse_owners("1000:1000 d \n0:0 f openclaw.json\n1000:1000 f agents/main/sessions/sessions.json\n"
                         "0:0 f openclaw.json.bak\n1000:1000 f new.txt\n")
    changes = ownership_changes(before, after)
    assert changes["changed_owner"] == {"openclaw.json": "1000:1000 -> 0:0"}
    assert changes["created_not_owned_by_gateway_user"] == {"openclaw.json.bak": "0:0"}
    assert changes["not_owned_by_gateway_user"] == ["openclaw.json", "openclaw.json.bak"]


def test_a_recipes_plugins_are_enabled_in_the_config_and_checked():
    recipe = parse_recipe({"writer": "2026.7.35", "plugins": ["codex", "brave"],
                           "sessions": [{"key": "agent:main:main", "turns": ["hi"]}]}, "t.json")
    assert recipe.plugins == ("codex", "brave")
    config = agents_config({"plugins": {"entries": {"other": {"enabled": False}}}}, recipe)
    assert config["plugins"]["entries"] == {"other": {"enabled": False}, "codex": {"enabled": True},
                                            "brave": {"enabled": True}}
    assert "agents" not in config, "one agent: no agents.list"
    assert "codex" not in agents_config({}, recipe, plugins=False).get("plugins", {}).get("entries", {}), \
        "a writer's own start: its release would try to install them and refuse"
    for bad in (["Codex"], "codex", ["codex", "codex"]):
        with pytest.raises(FixtureError, match="plugins"):
            parse_recipe({"writer": "2026.7.35", "plugins": bad, "sessions": [{"key": "agent:main:main", "turns": ["x"]}]},
                         "t.json")


def test_a_release_that_does_not_come_up_is_followed_to_a_recovery_action_only():
    from types import SimpleNamespace

    from path3_sandbox.upgrades.runner import PathRun

    hops = plan(["2026.7.35", "@openclaw-update=2026.9.5", "@update-repair", "@doctor-fix", "2026.9.6",
                 "@move-state-db-aside", "2026.7.35"])
    run = SimpleNamespace(hops=hops)
    assert [PathRun._recovery_next(run, h) for h in hops] == [False, True, False, False, False, False, False]


@pytest.mark.parametrize("output, killed", [
    ("rc=0 doctor=gone", True),
    ("rc=0 doctor=Z", True),  # dead, waiting for its parent to reap it
    ("sh: 1: kill: Illegal number: -\nrc=2 doctor=S", False),  # what `kill -9 -- -<group>` did in dash: nothing
    ("rc=0 doctor=R", False),  # the kill said yes, the doctor still runs
    ("", False),
])
def test_the_updater_counts_as_interrupted_only_when_the_kill_worked_and_its_doctor_is_gone(output, killed):
    from path3_sandbox.upgrades.npm_install import was_killed

    assert was_killed(output) is killed
