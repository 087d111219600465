"""Recipe keys for what users have beside sessions (upgrades/belongings.py), and how the writer's CLI runs them
(upgrades/writer_steps.py): each bad key refused naming it, each good one turned into the release's own commands."""

import json
import shlex

import pytest

from path3_sandbox.errors import CaptureFailed, FixtureError
from path3_sandbox.upgrades.belongings import LONG_TURNS_MAX, long_turns
from path3_sandbox.upgrades.capture import check_channels, enabled_plugins, locate_turns
from path3_sandbox.upgrades.recipe import RECIPES_DIR, load_recipe, parse_recipe
from path3_sandbox.upgrades.turns import Turn
from path3_sandbox.upgrades.writer_steps import (Step, cron_sessions, installed_plugins, judge_setup, setup_script,
                                                 setup_steps, step_outputs)
from tests.unit.test_capture import assert_recipe_refused

BASE = {"writer": "2026.6.5", "sessions": [{"key": "agent:main:main", "turns": ["hello"]}]}
FULL = {**BASE, "agents_add": ["ops", "research"], "plugins_enable": ["codex", "brave"],
        "channels": [{"channel": "telegram", "account": "personal", "name": "Bot", "token": "1:FAKE-t"},
                     {"channel": "discord", "token": "FAKE.d", "via": "config-set"}],
        "approvals": [{"agent": "ops", "pattern": "/usr/bin/uptime"}, {"agent": "*", "pattern": "/usr/bin/git"}],
        "cron": [{"name": "digest", "message": "Digest please.", "every": "1d"},
                 {"name": "weekly", "agent": "ops", "message": "Report.", "cron": "0 9 * * 1", "run": False}],
        "acp": [{"key": "agent:main:acp-editor", "turns": ["explain this"]}],
        "long": [{"key": "agent:research:long", "turns": 3}]}


def recipe(**changes):
    return {**json.loads(json.dumps(FULL)), **changes}


def test_every_belonging_key_parses():
    parsed = parse_recipe(FULL, "r.json")
    assert parsed.agents_add == ("ops", "research") and parsed.all_agents == ("main", "ops", "research")
    assert parsed.plugins_enable == ("codex", "brave") and parsed.setup_steps
    assert [(c.channel, c.account, c.via) for c in parsed.channels] == [("telegram", "personal", "channels-add"),
                                                                         ("discord", "", "config-set")]
    assert [(a.agent, a.pattern) for a in parsed.approvals] == [("ops", "/usr/bin/uptime"), ("*", "/usr/bin/git")]
    assert [(j.name, j.agent, j.every, j.cron, j.run) for j in parsed.cron] == [
        ("digest", "main", "1d", "", True), ("weekly", "ops", "", "0 9 * * 1", False)]
    assert [s.key for s in parsed.acp] == ["agent:main:acp-editor"]
    assert [(s.key, len(s.turns)) for s in parsed.long] == [("agent:research:long", 3)]
    assert parsed.turn_count == 1 + 3  # sessions and long turns go over RPC; ACP and cron through the CLI


def test_a_recipe_without_belongings_has_none():
    parsed = parse_recipe(BASE, "r.json")
    assert not parsed.setup_steps and not parsed.cron and not parsed.acp and not parsed.long


def test_long_turns_are_distinct_and_carry_no_marker():
    turns = long_turns("agent:main:long-task", 40)
    assert len(set(turns)) == 40 and turns[0].startswith("long-task, step 1 of 40: ")
    assert not any("path3 scenario turn" in t for t in turns)


@pytest.mark.parametrize("data, message", [
    (recipe(agents_add="ops"), '"agents_add" must be a list of ids'),
    (recipe(agents_add=["ops", "ops"]), '"agents_add" lists an id twice'),
    (recipe(agents_add=["main"]), '"agents_add" lists an agent the recipe already has'),
    (recipe(agents=["main", "work"]), '"agents_add" and "agents" (besides main) both make agents.list'),
    (recipe(plugins_enable=["Codex"]), '"plugins_enable" must be a list of ids'),
    (recipe(plugins=["codex"]), '"plugins_enable" names a plugin "plugins" already enables'),
    (recipe(channels={"channel": "telegram"}), '"channels" must be a list of objects'),
    (recipe(channels=[{"channel": "telegram", "token": "real-looking-123"}]), '"channels"[0]: "token" must be obviously fake'),
    (recipe(channels=[{"channel": "telegram"}]), '"channels"[0] lacks token'),
    (recipe(channels=[{"channel": "telegram", "token": "FAKE", "bot": 1}]), '"channels"[0] has unknown key(s) bot'),
    (recipe(channels=[{"channel": "Tele gram", "token": "FAKE"}]), '"channels"[0]: "channel" \'Tele gram\' is not a channel id'),
    (recipe(channels=[{"channel": "telegram", "token": "FAKE", "via": "file"}]), '"channels"[0]: "via" must be one of'),
    (recipe(channels=[{"channel": "telegram", "token": "FAKE", "account": "a b"}]), '"channels"[0]: "account" \'a b\''),
    (recipe(channels=[{"channel": "slack", "token": "FAKE"}, {"channel": "slack", "token": "FAKE2"}]),
     '"channels"[1]: channel \'slack\' account \'default\' is listed twice'),
    (recipe(approvals=[{"agent": "nobody", "pattern": "/bin/ls"}]), '"approvals"[0]: "agent" \'nobody\' is neither "*"'),
    (recipe(approvals=[{"pattern": ""}]), '"approvals"[0]: "pattern" must be a non-empty one-line string'),
    (recipe(cron=[{"name": "x", "message": "m"}]), '"cron"[0]: give exactly one schedule'),
    (recipe(cron=[{"name": "x", "message": "m", "every": "1d", "cron": "0 9 * * 1"}]), '"cron"[0]: give exactly one schedule'),
    (recipe(cron=[{"name": "x", "message": "m", "every": "daily"}]), '"cron"[0]: "every" \'daily\' is not a duration'),
    (recipe(cron=[{"name": "x", "message": "m", "cron": "9am"}]), '"cron"[0]: "cron" \'9am\' is not a 5- or 6-field'),
    (recipe(cron=[{"name": "x", "message": "m", "every": "1d", "agent": "ghost"}]), '"cron"[0]: "agent" \'ghost\''),
    (recipe(cron=[{"name": "x", "message": "m", "every": "1d", "run": "yes"}]), '"cron"[0]: "run" must be true or false'),
    (recipe(cron=[{"name": "x", "message": "m", "every": "1d"}, {"name": "x", "message": "n", "every": "2d"}]),
     '"cron"[1]: a cron job named \'x\' is listed twice'),
    (recipe(cron=[{"name": "x", "message": "m\npath3 scenario turn P3-A-B", "every": "1d"}]), '"cron"[0]: "message" must be'),
    (recipe(cron=[{"name": "x", "message": "path3 scenario turn P3-A-B", "every": "1d"}]), '"cron": a message contains'),
    (recipe(acp=[{"key": "agent:main:acp", "turns": []}]), '"acp"[0]: "turns" must be a non-empty list'),
    (recipe(acp=[{"key": "agent:ghost:acp", "turns": ["x"]}]), '"acp"[0]: key \'agent:ghost:acp\' belongs to agent'),
    (recipe(acp=[{"key": "agent:main:main", "turns": ["x"]}]), '"acp" names agent:main:main, which another list'),
    (recipe(acp=[{"key": "agent:main:a", "turns": ["path3 scenario turn P3-A-B"]}]), '"acp": a turn contains'),
    (recipe(long=[{"key": "agent:main:Long", "turns": 3}]), '"long"[0]: key \'agent:main:Long\' is not a lowercase'),
    (recipe(long=[{"key": "agent:main:long", "turns": 0}]), '"long"[0]: "turns" must be a number of turns from 1'),
    (recipe(long=[{"key": "agent:main:long", "turns": LONG_TURNS_MAX + 1}]), '"long"[0]: "turns" must be a number'),
    (recipe(long=[{"key": "agent:main:long", "turns": True}]), '"long"[0]: "turns" must be a number'),
    (recipe(long=[{"key": "agent:main:acp-editor", "turns": 2}]), '"long" names agent:main:acp-editor, which another'),
    (recipe(long=[{"key": "agent:main:l", "turns": 2}, {"key": "agent:main:l", "turns": 3}]), '"long"[1]: key'),
])
def test_a_bad_belonging_is_a_fixture_error_naming_the_key(data, message):
    assert_recipe_refused(data, message)


def test_setup_runs_the_releases_own_commands_in_order():
    steps = setup_steps(parse_recipe(FULL, "r.json"))
    assert [s.argv[:3] for s in steps] == [["openclaw", "agents", "add"]] * 2 + [["openclaw", "plugins", "enable"]] * 2 + [
        ["openclaw", "channels", "add"]] + [["openclaw", "config", "set"]] * 2 + [["openclaw", "approvals", "allowlist"]] * 2
    assert steps[0].argv == ["openclaw", "agents", "add", "ops", "--workspace", "/home/node/.openclaw/workspace-ops",
                             "--non-interactive", "--json"]
    assert steps[2].fallback == ["openclaw", "config", "set", "plugins.entries.codex.enabled", "true", "--strict-json"]
    assert steps[4].argv == ["openclaw", "channels", "add", "--channel", "telegram", "--account", "personal", "--name",
                             "Bot", "--token", "1:FAKE-t"]
    assert steps[5].argv[3:5] == ["channels.discord.enabled", "true"]
    assert steps[6].argv[3:5] == ["channels.discord.token", '"FAKE.d"']
    assert steps[8].argv == ["openclaw", "approvals", "allowlist", "add", "--agent", "*", "/usr/bin/git"]


def test_the_setup_script_numbers_steps_and_runs_a_fallback_only_on_failure():
    script = setup_script([Step("a", ["openclaw", "x"]), Step("b", ["openclaw", "y", "it's"], ["openclaw", "z"])])
    lines = script.splitlines()
    assert lines[1] == "step 0 openclaw x"
    assert lines[2] == "step 2 " + shlex.join(["openclaw", "y", "it's"]) + " || step 3 openclaw z"
    assert lines[3] == "step 4 openclaw plugins list --json" and lines[4].startswith("step 5 node -e ")


def test_setup_outputs_are_judged_per_step():
    output = ("\n@@path3-step 0 begin\nadded\n@@path3-step 0 end rc=0\n"
              "\n@@path3-step 2 begin\nPlugin not found: codex\n@@path3-step 2 end rc=1\n"
              "\n@@path3-step 3 begin\nUpdated plugins.entries.codex.enabled.\n@@path3-step 3 end rc=0\n")
    outputs = step_outputs(output)
    assert outputs == {0: (0, "added"), 2: (1, "Plugin not found: codex"), 3: (0, "Updated plugins.entries.codex.enabled.")}
    steps = [Step("agents add ops", ["openclaw", "agents"]), Step("plugins enable codex", ["openclaw", "plugins"], ["openclaw", "config"])]
    records = judge_setup(steps, outputs)
    assert records[1]["exit_code"] == 1 and records[1]["fallback"]["exit_code"] == 0
    assert records[1]["said"] == "Plugin not found: codex"
    with pytest.raises(CaptureFailed, match="failed \\(exit 1\\)"):
        judge_setup([Step("plugins enable codex", ["openclaw", "plugins"])], {0: (1, "Plugin not found: codex")})
    with pytest.raises(CaptureFailed, match="exit None"):
        judge_setup([Step("never ran", ["openclaw", "x"])], {})


def test_installed_plugins_join_the_list_with_package_versions():
    listed = json.dumps({"plugins": [
        {"id": "telegram", "origin": "bundled", "enabled": True, "status": "loaded",
         "rootDir": "/opt/openclaw/lib/node_modules/openclaw/dist/extensions/telegram"},
        {"id": "canvas", "origin": "bundled", "enabled": False, "status": "disabled", "rootDir": "/x/canvas"}]})
    versions = json.dumps({"telegram": {"name": "@openclaw/telegram", "version": "2026.6.5"}})
    installed = installed_plugins({4: (0, "Config warnings: {nothing}\n" + listed), 5: (0, versions)}, 4)
    assert installed["discovered"] == 2 and installed["ids"] == ["canvas", "telegram"]
    assert installed["enabled"] == [{"id": "telegram", "origin": "bundled", "enabled": True, "status": "loaded",
                                     "version": "2026.6.5", "package": "@openclaw/telegram"}]


def test_captured_config_checks(tmp_path):
    (tmp_path / "openclaw.json").write_text(json.dumps({
        "plugins": {"entries": {"codex": {"enabled": True}, "telegram": {"enabled": True}, "off": {"enabled": False}}},
        "channels": {"telegram": {"accounts": {"personal": {"botToken": "1:FAKE-t"}}}, "discord": {"token": "FAKE.d"}}}))
    assert enabled_plugins(tmp_path) == ["codex", "telegram"]
    check_channels(tmp_path, parse_recipe(FULL, "r.json"))
    missing = recipe(channels=[{"channel": "slack", "token": "FAKE-s"}])
    with pytest.raises(CaptureFailed, match="did not write channel slack account default"):
        check_channels(tmp_path, parse_recipe(missing, "r.json"))


def test_cron_runs_are_found_in_the_stores_and_their_turns_by_marker(tmp_path):
    sessions = tmp_path / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "sessions.json").write_text(json.dumps({
        "agent:main:cron:job-1": {"sessionId": "s1"}, "agent:main:cron:job-1:run:s1": {"sessionId": "s1"},
        "agent:main:main": {"sessionId": "m"}}))
    records = [{"name": "digest", "id": "job-1", "run": {"exit_code": 0}}]
    cron_sessions(tmp_path, records)
    assert records[0]["sessions"] == {"agent:main:cron:job-1": "s1", "agent:main:cron:job-1:run:s1": "s1"}
    with pytest.raises(CaptureFailed, match="no session store holds a session of it"):
        cron_sessions(tmp_path, [{"name": "lost", "id": "job-2", "run": {"exit_code": 0}}])
    line = {"type": "message", "message": {"role": "user", "content": "[cron:job-1 digest] Digest please.\n"
                                                                       "path3 scenario turn P3-CAPTURE-C01"}}
    reply = {"type": "message", "message": {"role": "assistant", "content": [{"type": "text", "text": "P3-CAPTURE-C01 acknowledged."}]}}
    (sessions / "s1.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(reply) + "\n")
    sent = "Digest please.\npath3 scenario turn P3-CAPTURE-C01"
    wrapped = Turn("agent:main:cron:job-1:run:s1", "P3-CAPTURE-C01", sent, "P3-CAPTURE-C01 acknowledged.", wrapped=True)
    assert locate_turns(tmp_path, [wrapped])[0]["transcript"] == "agents/main/sessions/s1.jsonl"
    with pytest.raises(CaptureFailed):  # not wrapped: the exact text must be a user message
        locate_turns(tmp_path, [Turn(wrapped.session_key, wrapped.marker, sent, wrapped.reply)])


def test_the_users_recipe_has_what_users_have():
    parsed = load_recipe(RECIPES_DIR / "users-6.5.json")
    assert parsed.writer == "2026.6.5" and len(parsed.all_agents) >= 10
    has_session = {s.key.split(":")[1] for s in parsed.sessions + parsed.long + parsed.acp}
    assert set(parsed.all_agents) <= has_session
    assert {"codex", "brave"} <= set(parsed.plugins_enable)
    assert {c.channel for c in parsed.channels} >= {"telegram", "discord"}
    assert parsed.approvals and parsed.cron and parsed.acp and parsed.long


def test_default_set_keeps_a_fixture_out_of_the_default_set(tmp_path, monkeypatch):
    assert parse_recipe(BASE, "r.json").default_set is True
    assert parse_recipe({**BASE, "default_set": False}, "r.json").default_set is False
    with pytest.raises(FixtureError, match='"default_set" must be true or false'):
        parse_recipe({**BASE, "default_set": "no"}, "r.json")
    from path3_sandbox.state import fixtures

    for name, manifest in (("in", {}), ("out", {"default_set": False}), ("broken", None)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "fixture.json").write_text("{" if manifest is None else json.dumps(manifest))
    monkeypatch.setattr(fixtures, "FIXTURES_DIR", tmp_path)
    assert [p.name for p in fixtures.default_fixture_dirs()] == ["broken", "in"]
    assert [p.name for p in fixtures.default_fixture_dirs(everything=True)] == ["broken", "in", "out"]


@pytest.mark.parametrize("name, writer, pending", [("users-6.5", "2026.6.5", ("brave", "codex")),
                                                   ("users-7.35", "2026.7.35", ())])
def test_the_captured_users_fixtures_are_consistent_and_kept_out_of_the_default_set(name, writer, pending):
    from path3_sandbox.state.fixtures import check, default_fixture_dirs, resolve_fixture

    fixture = resolve_fixture(name)
    assert check(fixture) == [] and fixture.plugins_pending == pending
    assert len(fixture.agents) >= 10 and name not in [p.name for p in default_fixture_dirs()]
    manifest = json.loads((fixture.root / "fixture.json").read_text())
    assert manifest["default_set"] is False and manifest["writer"]["release"] == writer
    assert sorted(manifest["installed"]["configured_not_installed"]) == list(pending)
    assert all(turn["transcript"] for turn in manifest["turns"])
    assert (fixture.root / "state" / "exec-approvals.json").is_file()
    assert {r["name"] for r in manifest["capture"]["cron"]} == {"daily digest", "weekly ops report"}
