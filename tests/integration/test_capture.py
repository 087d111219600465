"""`fixtures capture`: the real 2026.7.35 Gateway writes a small legacy state, and the fixture agrees with it."""

from __future__ import annotations

import json

import pytest

from path3_sandbox.fixtures import Fixture, check
from path3_sandbox.upgrades.capture import parse_recipe

WRITER = "2026.7.35"
SMALL = {"writer": WRITER, "sessions": [{"key": "agent:main:main", "turns": ["hello from the test", "Grüße 🦞 日本語"]},
                                        {"key": "agent:main:second", "turns": ["one more"]}],
         "reset": ["agent:main:second"]}


@pytest.fixture(scope="session")
def writer_image(docker_client, artifacts):
    from path3_sandbox.images import ensure_gateway_image
    from path3_sandbox.target import Target

    return ensure_gateway_image(docker_client, Target.parse(WRITER), log_dir=artifacts / "images")


def transcript_messages(state):
    """(path, role, text) of every message line in every transcript the writer left, live or reset."""
    found = []
    for path in sorted(state.glob("agents/*/sessions/*.jsonl*")):
        if ".trajectory" in path.name:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event.get("type") == "message":
                content = event["message"]["content"]
                text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
                found.append((path.relative_to(state).as_posix(), event["message"]["role"], text))
    return found


def test_capture_writes_a_fixture_whose_turns_are_in_the_real_transcripts(docker_client, writer_image, tmp_path):
    from path3_sandbox.upgrades.capture import capture

    dest = capture(docker_client, writer_image, parse_recipe(SMALL, "small.json"), "small-7.35", tmp_path)
    manifest = json.loads((dest / "fixture.json").read_text(encoding="utf-8"))
    assert manifest["writer"]["release"] == WRITER and manifest["writer"]["recipe"] == "small.json"
    assert manifest["origin"] == f"captured from openclaw {WRITER} by path3-sandbox fixtures capture"
    assert manifest["state_dir_as_written"] == "/home/node/.openclaw"
    assert [t["sessionKey"] for t in manifest["turns"]] == ["agent:main:main"] * 2 + ["agent:main:second"]

    messages = transcript_messages(dest / "state")
    for turn in manifest["turns"]:
        assert (turn["transcript"], "user", turn["sent"]) in messages, turn
        assert (turn["transcript"], "assistant", turn["reply"]) in messages, turn
    assert "Grüße 🦞 日本語" in manifest["turns"][1]["sent"]
    [reset] = [op for op in manifest["operations"] if op["method"] == "sessions.reset"]
    assert reset["outcome"] == "ok", reset
    assert ".jsonl.reset." in manifest["turns"][2]["transcript"], "7.35 keeps a reset session's transcript aside"

    assert check(Fixture.load(dest)) == []
    config = json.loads((dest / "state" / "openclaw.json").read_text())
    assert "token" not in config["gateway"].get("auth", {}) and "providers" not in config.get("models", {})
    assert not (dest / "state" / "logs").exists()
    assert (dest / "state" / "agents" / "main" / "sessions" / "sessions.json").is_file()
