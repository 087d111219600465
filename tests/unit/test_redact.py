"""`fixtures redact` and the one redactor behind it: every planted secret goes, each removal is named, and
placeholders keep what the importer counts."""

import json
import shutil

from path3_sandbox.fixtures import resolve_fixture
from path3_sandbox.inventory import build_inventory
from path3_sandbox.redact import redact_state
from path3_sandbox.redaction import known_secrets, scrub_text
from path3_sandbox.userstate import infer_manifest, read_tree
from tests.planted import SECRETS, SID, leaks, plant_secrets


def test_every_planted_secret_is_gone_and_each_removal_is_named_by_file_line_and_kind(tmp_path):
    report = redact_state(plant_secrets(tmp_path / "state"), tmp_path / "out")
    assert leaks(tmp_path / "out") == {}
    lines = report.lines()
    assert "removed credentials/ (credentials)" in lines
    assert "removed workspace/tools/.env (credentials)" in lines
    assert "redacted openclaw.json:5: key token" in lines and "redacted openclaw.json:37: key GITHUB_PAT" in lines
    assert any(line.startswith("redacted openclaw.json.bak:3: key botToken") for line in lines), lines
    assert any(line.startswith(f"redacted agents/main/sessions/{SID}.jsonl:") and "apiKey" in line for line in lines)
    assert any(line.startswith("redacted logs/gateway.log:2: shape URL credentials") for line in lines), lines
    config = json.loads((tmp_path / "out" / "openclaw.json").read_text())
    assert config["models"]["providers"]["openai"]["models"][0]["maxTokens"] == 4096, "counts are not secrets"
    assert config["models"]["providers"]["openai"]["apiKey"].startswith("REDACTED-")
    assert "channels: { slack: { botToken: 'REDACTED-" in (tmp_path / "out" / "openclaw.json.bak").read_text(), \
        "a JSON5 backup is redacted in place, its syntax kept"


def test_redaction_keeps_every_transcript_line_and_the_counts_the_importer_sees(tmp_path):
    state = plant_secrets(tmp_path / "state")
    redact_state(state, tmp_path / "out")
    before, after = build_inventory(read_tree(state)), build_inventory(read_tree(tmp_path / "out"))
    assert [(t.path, len(t.events), t.distinct_events) for t in before.transcripts] == \
           [(t.path, len(t.events), t.distinct_events) for t in after.transcripts]


def test_the_same_secret_gets_the_same_tag_and_different_secrets_different_ones():
    text, found = scrub_text('{"apiKey": "first-secret-1"}\n{"apiKey": "first-secret-1"}\n{"apiKey": "second-secret"}')
    tags = [json.loads(line)["apiKey"] for line in text.splitlines()]
    assert tags[0] == tags[1] != tags[2] and len(found) == 3


def test_a_secret_named_by_its_key_in_a_credential_file_is_redacted_wherever_it_is_repeated():
    known = known_secrets({"agents/main/agent/auth-profiles.json": b'{"access": "oauth-access-abcdef123"}'})
    text, found = scrub_text("tool output: oauth-access-abcdef123 was used", also=known)
    assert "oauth-access-abcdef123" not in text and found == [(1, "remembered value")]


def test_counts_and_session_keys_are_not_secrets():
    text = '{"maxTokens": 4096, "contextTokens": 100, "sessionKey": "agent:main:main", "token": null, "tokens": 5}'
    assert scrub_text(text) == (text, [])


def test_placeholders_replace_text_but_keep_ids_structure_and_counts(tmp_path):
    state = tmp_path / "state"
    shutil.copytree(resolve_fixture("duplicate-event").state, state)
    redact_state(state, tmp_path / "out", placeholders=True)
    before, after = build_inventory(read_tree(state)), build_inventory(read_tree(tmp_path / "out"))
    assert [(t.path, [e.event_id for e in t.events], t.distinct_events) for t in before.transcripts] == \
           [(t.path, [e.event_id for e in t.events], t.distinct_events) for t in after.transcripts]
    assert "Can you summarise the release notes" not in all_text(tmp_path / "out")
    assert "Duplicated line" not in all_text(tmp_path / "out"), "session labels are placeholders too"
    assert infer_manifest(state, "a", catches="", origin="")["agents"] == \
           infer_manifest(tmp_path / "out", "a", catches="", origin="")["agents"]


def test_placeholders_keep_line_endings_a_truncated_last_line_and_distinct_short_lines_apart(tmp_path):
    sessions = tmp_path / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    lines = [b'{"type":"session","version":3,"id":"s-1"}',
             *(b'{"type":"custom","message":{"role":"user","content":"%s"}}' % t for t in (b"a", b"b", b"c", b"d", b"a")),
             b'{"type":"message","id":"m1","message":{"role":"user","content":"hel']  # cut off mid-write
    original = b"\r\n".join(lines)  # CRLF, and no newline after the truncated last line
    (sessions / "s-1.jsonl").write_bytes(original)
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:main": {"sessionId": "s-1"}}))
    redact_state(tmp_path / "state", tmp_path / "out", placeholders=True)
    out = (tmp_path / "out" / "agents" / "main" / "sessions" / "s-1.jsonl").read_bytes()
    assert out.count(b"\r\n") == original.count(b"\r\n") and out.endswith(lines[-1])
    out_lines = out.split(b"\r\n")
    assert len(set(out_lines[1:5])) == 4 and out_lines[1] == out_lines[5], "distinct lines stay distinct, repeats repeat"
    assert all(out_lines[i] != lines[i] for i in range(1, 6)), "every text is replaced (never by itself)"
    before = build_inventory(read_tree(tmp_path / "state")).transcripts[0]
    after = build_inventory(read_tree(tmp_path / "out")).transcripts[0]
    assert (len(before.events), before.distinct_events) == (len(after.events), after.distinct_events)


def all_text(root):
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_the_planted_state_plants_what_it_says():
    assert len(SECRETS) >= 20 and len(set(SECRETS.values())) == len(SECRETS)
