"""`fixtures capture`: the real 2026.7.35 Gateway writes a legacy state, and the fixture agrees with it.

One capture, of the smaller committed recipe (fixtures/recipes/real-7.35.json: 10 turns; real-7.1.json has 11),
serves both tests: the fixture it writes is consistent with the transcripts the writer left, and it matches the
committed fixture (fixtures/legacy-stores/real-7.35) by content, never by timestamps or random ids.
"""

from __future__ import annotations

import json
import re

import pytest

from path3_sandbox.state.fixtures import Fixture, check
from path3_sandbox.paths import FIXTURES_DIR, PROJECT_ROOT
from path3_sandbox.upgrades.recipe import load_recipe

WRITER = "2026.7.35"
RECIPE = PROJECT_ROOT / "fixtures" / "recipes" / "real-7.35.json"
COMMITTED = FIXTURES_DIR / "real-7.35"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RESET_TIME_RE = re.compile(r"\.reset\.[0-9T:.Z-]+$")


@pytest.fixture(scope="session")
def writer_image(docker_client, artifacts):
    from path3_sandbox.build.images import ensure_gateway_image
    from path3_sandbox.build.target import Target

    return ensure_gateway_image(docker_client, Target.parse(WRITER), log_dir=artifacts / "images")


@pytest.fixture(scope="module")
def fresh(docker_client, writer_image, tmp_path_factory):
    """The committed recipe captured again, now, into a scratch folder: (recipe, fixture folder, manifest)."""
    from path3_sandbox.upgrades.capture import capture

    recipe = load_recipe(RECIPE)
    dest = capture(docker_client, writer_image, recipe, "fresh-7.35", tmp_path_factory.mktemp("capture"))
    return recipe, dest, json.loads((dest / "fixture.json").read_text(encoding="utf-8"))


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


def content_of(manifest: dict) -> dict:
    """What a capture must reproduce, with the writer's random session ids and clock taken out.

    A turn's transcript is "live" when it is its session's current transcript (agents/<a>/sessions/<sessionId>.jsonl
    of the manifest's entry for that key); any other file (a reset session's `.jsonl.reset.<time>` copy) is named
    with its session ids numbered in order of first appearance and its time replaced, so two captures agree when
    the same turns sit in the same files."""
    session_ids = {key: entry["sessionId"] for agent in manifest["agents"].values()
                   for key, entry in agent["sessions"].items()}
    numbered: dict[str, str] = {}

    def where(turn: dict) -> str:
        key = turn["sessionKey"]
        if key in session_ids and turn["transcript"] == f"agents/{key.split(':')[1]}/sessions/{session_ids[key]}.jsonl":
            return "live"
        path = RESET_TIME_RE.sub(".reset.<time>", turn["transcript"])
        return UUID_RE.sub(lambda m: numbered.setdefault(m.group(), f"<session-{len(numbered) + 1}>"), path)

    hello = manifest["capture"]["hello"]
    return {
        "writer": {k: manifest["writer"][k] for k in ("release", "recipe")},
        "catches": manifest["catches"],
        "sessions": {agent: sorted(entry["sessions"]) for agent, entry in manifest["agents"].items()},
        "turns": [{"sessionKey": t["sessionKey"], "sent": t["sent"], "reply": t["reply"], "transcript": where(t)}
                  for t in manifest["turns"]],
        "operations": manifest["operations"],
        "expected_warnings": manifest["expected_warnings"],
        "legacy_transcript_versions": manifest["legacy_transcript_versions"],
        "hello": {k: hello[k] for k in ("protocol", "server_version", "offers")},
    }


def test_capture_writes_a_fixture_whose_turns_are_in_the_real_transcripts(fresh):
    recipe, dest, manifest = fresh
    assert manifest["writer"]["release"] == WRITER and manifest["writer"]["recipe"] == "fixtures/recipes/real-7.35.json"
    assert manifest["origin"] == f"captured from openclaw {WRITER} by path3-sandbox fixtures capture"
    assert manifest["state_dir_as_written"] == "/home/node/.openclaw"
    assert [t["sessionKey"] for t in manifest["turns"]] == [s.key for s in recipe.sessions + recipe.after for _ in s.turns]

    messages = transcript_messages(dest / "state")
    for turn in manifest["turns"]:
        assert (turn["transcript"], "user", turn["sent"]) in messages, turn
        assert (turn["transcript"], "assistant", turn["reply"]) in messages, turn
    assert any("Grüße 🦞 日本語" in t["sent"] for t in manifest["turns"])
    assert any(len(t["sent"].encode()) > 1024 for t in manifest["turns"]), "the recipe has a >1 KiB message"
    assert [(op["method"], op["outcome"]) for op in manifest["operations"]] == [("sessions.compact", "ok"), ("sessions.reset", "ok")]
    before_reset = [t for t in manifest["turns"][:sum(len(s.turns) for s in recipe.sessions)] if t["sessionKey"] in recipe.reset]
    assert before_reset and all(".jsonl.reset." in t["transcript"] for t in before_reset), \
        "7.35 keeps a reset session's transcript aside"

    assert check(Fixture.load(dest)) == []
    config = json.loads((dest / "state" / "openclaw.json").read_text())
    assert "token" not in config["gateway"].get("auth", {}) and "providers" not in config.get("models", {})
    assert not (dest / "state" / "logs").exists()
    assert (dest / "state" / "agents" / "main" / "sessions" / "sessions.json").is_file()


def test_a_fresh_capture_matches_the_committed_fixture_by_content(fresh):
    _, _, manifest = fresh
    committed = json.loads((COMMITTED / "fixture.json").read_text(encoding="utf-8"))
    expected, observed = content_of(committed), content_of(manifest)
    for part in expected:  # one part at a time, so a difference names what moved
        assert observed[part] == expected[part], f"{part}: a fresh capture of {RECIPE.name} differs from {COMMITTED.name}"
