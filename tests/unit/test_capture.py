import json

import pytest

from path3_sandbox.errors import CaptureFailed, FixtureError
from path3_sandbox.scenario.provider import PROVIDER_ID, marker_of, provider_config
from path3_sandbox.upgrades.capture import locate_turns, scrub_state
from path3_sandbox.upgrades.recipe import RECIPES_DIR, load_recipe, parse_recipe, writer_config
from path3_sandbox.upgrades.turns import Turn, message_text, turn_message

GOOD = {"writer": "2026.7.35", "sessions": [{"key": "agent:main:main", "turns": ["hello", "Grüße 🦞"]},
                                            {"key": "agent:main:travel", "turns": ["Lisbon"]}],
        "compact": ["agent:main:main"], "reset": ["agent:main:travel"],
        "after": [{"key": "agent:main:travel", "turns": ["Porto"]}]}


def recipe(**changes):
    return {**json.loads(json.dumps(GOOD)), **changes}


def test_a_good_recipe_parses_in_order():
    parsed = parse_recipe(GOOD, "r.json")
    assert parsed.writer == "2026.7.35" and parsed.agents == ("main",)
    assert [s.key for s in parsed.sessions] == ["agent:main:main", "agent:main:travel"]
    assert parsed.compact == ("agent:main:main",) and parsed.reset == ("agent:main:travel",)
    assert parsed.turn_count == 4


def test_the_shipped_recipes_parse():
    found = sorted(RECIPES_DIR.glob("*.json"))
    assert found, "fixtures/recipes/ holds the recipe of every captured fixture"
    for path in found:
        parsed = load_recipe(path)
        assert parsed.source == f"fixtures/recipes/{path.name}"


@pytest.mark.parametrize("data, message", [
    ([], "must be a JSON object, not list"),
    (recipe(writer="latest"), '"writer" must be an exact release version like "2026.7.35", not \'latest\''),
    (recipe(sesions=[]), "unknown key(s) sesions"),
    (recipe(sessions=[]), '"sessions" must be a non-empty list'),
    (recipe(sessions=[{"key": "main", "turns": ["x"]}]), "key 'main' is not a session key like \"agent:main:main\""),
    (recipe(sessions=[{"key": "agent:main:Travel", "turns": ["x"]}]), "has capitals; the writer lowercases keys"),
    (recipe(sessions=[{"key": "agent:main:main", "turns": []}]), "turns must be a non-empty list of non-empty strings"),
    (recipe(sessions=[{"key": "agent:main:main", "turns": ["ok", "  "]}]), "turns must be a non-empty list"),
    (recipe(sessions=[{"key": "agent:main:main", "turns": ["x"], "model": "y"}]), 'with "key" and "turns" only'),
    (recipe(sessions=[{"key": "agent:main:a", "turns": ["x"]}, {"key": "agent:main:a", "turns": ["y"]}], compact=[], reset=[],
            after=[]), '"sessions" lists a key twice'),
    (recipe(sessions=[{"key": "agent:work:main", "turns": ["x"]}]), "belongs to agent 'work', which \"agents\" does not list"),
    (recipe(agents=["main", "Work"]), '"agents" must be a non-empty list of agent ids'),
    (recipe(compact=["agent:main:nope"]), '"compact" names agent:main:nope, which "sessions" does not create'),
    (recipe(reset="agent:main:main"), '"reset" must be a list of session keys'),
    (recipe(sessions=[{"key": "agent:main:main", "turns": ["path3 scenario turn P3-X-Y"]}], compact=[], reset=[], after=[]),
     "which the capture appends itself"),
])
def test_a_bad_recipe_is_a_fixture_error_naming_the_field(data, message):
    assert_recipe_refused(data, message)


def assert_recipe_refused(data: dict, message: str) -> None:
    """parse_recipe refuses `data` with a usage-class FixtureError naming the recipe file and saying `message`."""
    with pytest.raises(FixtureError) as raised:
        parse_recipe(data, "fixtures/recipes/bad.json")
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith("recipe fixtures/recipes/bad.json: ")
    assert message in str(raised.value)


def test_a_second_agent_must_be_listed_and_main_comes_first():
    parsed = parse_recipe(recipe(agents=["work", "main"], sessions=[{"key": "agent:work:main", "turns": ["x"]}],
                                 compact=[], reset=[], after=[]), "r.json")
    assert parsed.agents == ("main", "work") and parsed.sessions[0].agent == "work"


def test_a_recipe_that_is_missing_or_not_json_is_a_fixture_error(tmp_path):
    with pytest.raises(FixtureError, match="does not exist"):
        load_recipe(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("{writer: 1}")
    with pytest.raises(FixtureError, match="is not valid JSON"):
        load_recipe(tmp_path / "broken.json")


def test_a_bad_recipe_exits_2_from_the_cli_before_any_docker_work(tmp_path, capsys):
    from path3_sandbox.cli import main

    (tmp_path / "bad.json").write_text(json.dumps(recipe(writer="2026.7")))
    assert main(["fixtures", "capture", "--recipe", str(tmp_path / "bad.json"), "--name", "x"]) == 2
    assert '"writer" must be an exact release version' in capsys.readouterr().err
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    assert main(["fixtures", "capture", "--recipe", str(tmp_path / "good.json"), "--name", "x", "--writer", "2026.9.6"]) == 2
    assert "--writer 2026.9.6 but recipe good.json is for 2026.7.35" in capsys.readouterr().err


def test_each_turn_carries_a_marker_the_scripted_provider_answers():
    marker, message = turn_message("Grüße 🦞\nsecond line", 7)
    assert marker == "P3-CAPTURE-T07"
    assert marker_of([{"role": "user", "content": f"[Mon 2026-11-23 19:40 UTC] {message}"}]) == marker


def test_message_text_reads_strings_and_text_parts():
    assert message_text({"role": "user", "content": "hi"}) == "hi"
    assert message_text({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"},
                                                           {"type": "text", "text": "b"}]}) == "ab"
    assert message_text(None) == ""


def test_the_writer_config_speaks_7_35s_schema():
    config = writer_config({"models": {"catalogRefresh": {"enabled": False}}, "gateway": {"mode": "local"}})
    assert config == {"models": {"pricing": {"enabled": False}}, "gateway": {"mode": "local"}}


def captured_state(tmp_path, token):
    state = tmp_path / "state"
    (state / "logs").mkdir(parents=True)
    (state / "logs" / "gateway.jsonl").write_text('{"msg": "token ' + token + '"}\n')
    config = {"gateway": {"mode": "local", "auth": {"mode": "token", "token": token}},
              "models": {**provider_config("http://host.docker.internal:1/v1")["models"], "pricing": {"enabled": False}},
              "agents": {"defaults": {"heartbeat": {"every": "0m"}, "model": {"primary": f"{PROVIDER_ID}/m"}}},
              "meta": {"lastTouchedVersion": "2026.7.35"}}
    for name in ("openclaw.json", "openclaw.json.last-good"):
        (state / name).write_text(json.dumps(config))
    (state / "agents/main/agent").mkdir(parents=True)
    (state / "agents/main/agent/models.json").write_text(json.dumps({"providers": {PROVIDER_ID: {"apiKey": "x"}}}))
    (state / "agents/work/agent").mkdir(parents=True)
    (state / "agents/work/agent/models.json").write_text(json.dumps({"providers": {PROVIDER_ID: {}, "other": {}}}))
    (state / "identity").mkdir()
    (state / "identity/device.json").write_text('{"deviceId": "d"}')
    return state


def test_scrubbing_removes_the_harness_token_provider_and_logs_and_keeps_the_rest(tmp_path):
    token = "f" * 32
    state = captured_state(tmp_path, token)
    removed = scrub_state(state, token)
    assert "logs/ (1 file(s))" in removed and "openclaw.json: gateway.auth.token" in removed
    assert f"openclaw.json.last-good: models.providers.{PROVIDER_ID}" in removed
    assert "agents/main/agent/models.json (it held only the scripted provider)" in removed
    config = json.loads((state / "openclaw.json").read_text())
    assert config == {"gateway": {"mode": "local", "auth": {"mode": "token"}},
                      "agents": {"defaults": {"heartbeat": {"every": "0m"}}}, "meta": {"lastTouchedVersion": "2026.7.35"}}
    assert not (state / "logs").exists() and not (state / "agents/main/agent/models.json").exists()
    assert json.loads((state / "agents/work/agent/models.json").read_text()) == {"providers": {"other": {}}}
    assert (state / "identity/device.json").is_file()


def test_a_token_left_anywhere_fails_the_capture_naming_the_file(tmp_path):
    token = "e" * 32
    state = captured_state(tmp_path, token)
    (state / "agents/main/notes.txt").write_text(f"Bearer {token}")
    with pytest.raises(CaptureFailed, match="still in the captured state: agents/main/notes.txt"):
        scrub_state(state, token)


def test_turns_are_located_by_content_including_a_reset_transcript(tmp_path):
    sessions = tmp_path / "agents/main/sessions"
    sessions.mkdir(parents=True)

    def line(role, content):
        return json.dumps({"type": "message", "message": {"role": role, "content": content}}, ensure_ascii=False)

    (sessions / "a.jsonl.reset.2026-11-23T19-44-59.407Z").write_text(
        line("user", "Lisbon\npath3 scenario turn P3-CAPTURE-T01") + "\n"
        + line("assistant", [{"type": "text", "text": "P3-CAPTURE-T01 acknowledged."}]) + "\n")
    (sessions / "b.jsonl").write_text(line("user", "Grüße 🦞\npath3 scenario turn P3-CAPTURE-T02") + "\n"
                                      + line("assistant", [{"type": "text", "text": "P3-CAPTURE-T02 acknowledged."}]) + "\n")
    (sessions / "b.trajectory.jsonl").write_text(line("user", "Porto\npath3 scenario turn P3-CAPTURE-T03") + "\n")
    turns = [Turn("agent:main:travel", "P3-CAPTURE-T01", "Lisbon\npath3 scenario turn P3-CAPTURE-T01", "P3-CAPTURE-T01 acknowledged."),
             Turn("agent:main:main", "P3-CAPTURE-T02", "Grüße 🦞\npath3 scenario turn P3-CAPTURE-T02", "P3-CAPTURE-T02 acknowledged.")]
    located = locate_turns(tmp_path, turns)
    assert [t["transcript"] for t in located] == ["agents/main/sessions/a.jsonl.reset.2026-11-23T19-44-59.407Z",
                                                  "agents/main/sessions/b.jsonl"]
    assert located[1] == {"sessionKey": "agent:main:main", "sent": turns[1].sent, "reply": turns[1].reply,
                          "transcript": "agents/main/sessions/b.jsonl"}
    lost = Turn("agent:main:travel", "P3-CAPTURE-T03", "Porto\npath3 scenario turn P3-CAPTURE-T03", "P3-CAPTURE-T03 acknowledged.")
    with pytest.raises(CaptureFailed, match="turn P3-CAPTURE-T03 on agent:main:travel: no transcript"):
        locate_turns(tmp_path, [lost])
