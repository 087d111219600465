import json
import shutil

from path3_sandbox.fixtures import resolve_fixture
from path3_sandbox.inventory import build_inventory
from path3_sandbox.redact import redact_state
from path3_sandbox.userstate import infer_manifest, read_tree

SECRETS = ["gw-token-123456", "sk-live-abcdef", "xoxb-bot-token-999", "hunter2-password", "-----BEGIN PRIVATE KEY-----"]


def planted_state(tmp_path):
    state = tmp_path / "state"
    shutil.copytree(resolve_fixture("duplicate-event").state, state)
    (state / "openclaw.json").write_text(json.dumps({
        "gateway": {"auth": {"mode": "token", "token": SECRETS[0]}},
        "models": {"providers": {"openai": {"apiKey": SECRETS[1], "models": [{"id": "m", "maxTokens": 4096}]}}},
        "channels": {"slack": {"botToken": SECRETS[2]}}, "ui": {"password": SECRETS[3]},
    }))
    (state / "credentials").mkdir()
    (state / "credentials" / "oauth.json").write_text(json.dumps({"refresh": SECRETS[1]}))
    (state / "identity").mkdir()
    (state / "identity" / "device.json").write_text(json.dumps({"privateKeyPem": SECRETS[4]}))
    (state / "agents" / "main" / "agent").mkdir(parents=True)
    (state / "agents" / "main" / "agent" / "auth-profiles.json").write_text(json.dumps({"key": SECRETS[1]}))
    return state


def all_text(root):
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_every_planted_secret_is_gone_and_each_removal_is_reported(tmp_path):
    report = redact_state(planted_state(tmp_path), tmp_path / "out")
    text = all_text(tmp_path / "out")
    for secret in SECRETS:
        assert secret not in text, secret
    lines = report.lines()
    assert "removed credentials" in lines and "removed identity" in lines
    assert "removed agents/main/agent/auth-profiles.json" in lines
    assert "redacted openclaw.json: gateway.auth.token" in lines and "redacted openclaw.json: channels.slack.botToken" in lines
    config = json.loads((tmp_path / "out" / "openclaw.json").read_text())
    assert config["models"]["providers"]["openai"]["models"][0]["maxTokens"] == 4096, "counts are not secrets"


def test_placeholders_replace_text_but_keep_ids_structure_and_counts(tmp_path):
    state = planted_state(tmp_path)
    redact_state(state, tmp_path / "out", placeholders=True)
    before, after = build_inventory(read_tree(state)), build_inventory(read_tree(tmp_path / "out"))
    assert [(t.path, [e.event_id for e in t.events], t.distinct_events) for t in before.transcripts] == \
           [(t.path, [e.event_id for e in t.events], t.distinct_events) for t in after.transcripts]
    assert "Can you summarise the release notes" not in all_text(tmp_path / "out")
    assert "Duplicated line" not in all_text(tmp_path / "out"), "session labels are placeholders too"
    assert infer_manifest(state, "a", catches="", origin="")["agents"] == \
           infer_manifest(tmp_path / "out", "a", catches="", origin="")["agents"]
