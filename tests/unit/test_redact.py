"""`fixtures redact` and the one redactor behind it: every planted secret goes (in any encoding), each removal is
named, no file is left broken (every JSON still parses, every SQLite database passes integrity_check), nothing
that is not a secret is taken for one, and placeholders keep what the importer counts."""

import base64
import contextlib
import gzip
import io
import json
import shutil
import sqlite3
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from path3_sandbox.report import redaction
from path3_sandbox.state.fixtures import resolve_fixture
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.report.json5text import loads as json5_loads
from path3_sandbox.state.redact import redact_state
from path3_sandbox.report.redaction import find_secrets, known_secrets, scrub_text, tag
from path3_sandbox.state.tree import read_tree
from path3_sandbox.state.userstate import infer_manifest
from tests import planted
from tests.planted import (HMAC_KEY, KEPT, MESSAGE_TEXTS, REAL_DELETED, REAL_RESET, REAL_SECRETS, REAL_SID, SECRETS,
                           SID, all_json_parses_and_every_database_checks, leaks, plant_real_secrets, plant_secrets)


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


def test_the_planted_states_plant_what_they_say(tmp_path):
    """Every planted value is really in the planted state (found by the same check that must find none after),
    so a planting mistake fails here instead of passing every leak test unnoticed."""
    assert len(set(SECRETS.values())) == len(SECRETS) and len(set(REAL_SECRETS.values())) == len(REAL_SECRETS)
    assert set(leaks(plant_secrets(tmp_path / "minimal"), SECRETS)) == set(SECRETS)
    assert set(leaks(plant_real_secrets(tmp_path / "real"))) == {*SECRETS, *REAL_SECRETS,
                                                                 "sqlite config_revision_keys.hmac_key (binary)"}
    assert all_json_parses_and_every_database_checks(tmp_path / "real") == [], "planted files are valid to begin with"


# --- the real-7.35 state with every shape: the measurement as a test ---------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """real-7.35 with every planted shape, redacted through the CLI (`fixtures redact STATE OUT`)."""
    from path3_sandbox.cli import main

    root = tmp_path_factory.mktemp("real")
    state = plant_real_secrets(root / "state")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["fixtures", "redact", str(state), str(root / "out")])
    return SimpleNamespace(state=state, out=root / "out", code=code, printed=out.getvalue() + err.getvalue())


def test_a_real_state_with_every_planted_shape_keeps_none_of_them_in_the_copy_or_the_cli_output(real):
    assert real.code == 0, real.printed
    assert leaks(real.out) == {}
    printed = [label for label, value in {**SECRETS, **REAL_SECRETS}.items()
               if any(form in real.printed for form in planted._forms(value))]
    assert printed == [], "the report names files and kinds, never a secret (nor a file name that is one)"


def test_after_redaction_every_json_file_parses_and_every_sqlite_database_passes_integrity_check(real):
    assert all_json_parses_and_every_database_checks(real.out) == []
    for path in real.state.rglob("*"):  # every JSONL line that parsed still parses, as many lines as before
        if path.is_file() and (path.name.endswith(".jsonl") or ".jsonl." in path.name):
            before = _read(path).split(b"\n")
            after = _read(real.out / path.relative_to(real.state)).split(b"\n")
            assert len(before) == len(after)
            for old, new in zip(before, after):
                if old.strip() and _parses(old):
                    assert _parses(new), new[:200]


def test_what_is_not_a_secret_is_kept_env_names_secret_refs_counts_and_session_ids(real):
    config = json5_loads((real.out / "openclaw.json").read_text())
    providers = config["models"]["providers"]
    assert providers["nvidia"]["apiKey"] == "NVIDIA_API_KEY", "an env var NAME is not a secret"
    assert providers["openai"]["apiKey"] == {"source": "env", "provider": "default", "id": "OPENAI_API_KEY"}, \
        "a SecretRef says where the secret lives, not what it is: the upgrade must see it"
    assert providers["openai"]["models"][0]["maxTokens"] == 4096
    assert config["secrets"]["providers"]["vault"]["source"] == "exec", "an enum word under a secret object stays"
    catalog = real.out / "agents/main/agent/plugins/nvidia/catalog.json"
    assert catalog.read_bytes() == (real.state / catalog.relative_to(real.out)).read_bytes()
    assert all(value in _all_text(real.out) for value in KEPT.values())
    assert (real.out / "agents/main/sessions" / f"{REAL_SID}.jsonl").exists(), "transcripts keep their sessionId names"


def test_lines_without_a_secret_keep_their_bytes_and_the_rest_of_a_line_does_too(real):
    transcript = f"agents/main/sessions/{REAL_SID}.jsonl"
    before = (real.state / transcript).read_bytes().split(b"\n")
    after = (real.out / transcript).read_bytes().split(b"\n")
    changed = [i for i, (old, new) in enumerate(zip(before, after)) if old != new]
    assert changed and all(b"REDACTED-" in after[i] for i in changed)
    assert [before[i] for i in range(len(before)) if i not in changed] == \
           [after[i] for i in range(len(after)) if i not in changed]
    unchanged_files = [p for p in real.state.rglob("*.trajectory.jsonl")]
    assert all((real.out / p.relative_to(real.state)).read_bytes() == p.read_bytes() for p in unchanged_files), \
        "nothing secret in the trajectories: not one byte of them changes (tool schemas with a `token` field included)"


def test_redacting_a_redacted_copy_finds_nothing_and_changes_nothing(real, tmp_path):
    again = redact_state(real.out, tmp_path / "again")
    assert again.findings == [] and again.renamed_files == []
    assert find_secrets(real.out) == [], "`fixtures add` accepts the redacted copy"
    assert sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()) == \
           sorted(p.relative_to(real.out) for p in real.out.rglob("*") if p.is_file())


# --- one test per case of the issue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [
    '{"gateway": {"auth": {"mode": "token", "token": {"value": "obj-secret-123abc"}}}, "n": 1}',
    '{\n  "secrets": {\n    "github": "obj-secret-123abc",\n    "list": ["obj-secret-456def"]\n  }\n}',
    '{"credentials": {"smtp": {"user": "alice", "pass": "obj-secret-123abc"}}}',
    "// JSON5\n{ token: { value: 'obj-secret-123abc', }, credentials: { smtp: { pass: \"obj-secret-456def\" } }, }",
])
def test_a_secret_key_holding_an_object_has_its_values_redacted_and_the_file_still_parses(document):
    text, found = scrub_text(document)
    assert "obj-secret" not in text and found
    strict = document.lstrip().startswith("{\"") or document.startswith("{\n")
    (json.loads if strict else json5_loads)(text)  # separators intact: it parses
    assert text.count(":") == document.count(":") and text.count(",") == document.count(",")


def test_a_secret_used_as_an_object_key_is_redacted_and_the_document_still_parses():
    text, found = scrub_text("{ usage: { 'sk-proj-KeyAsMapKey0123456789abcd': { calls: 3 }, plain: 2 } }")
    assert json5_loads(text) == {"usage": {tag("sk-proj-KeyAsMapKey0123456789abcd"): {"calls": 3}, "plain": 2}}
    assert found == [(1, "shape OpenAI-style key")]


def test_a_secret_ref_is_kept_and_a_secret_beside_its_fields_is_not():
    ref = {"source": "file", "provider": "filemain", "id": "/providers/anthropic/apiKey"}
    text, _ = scrub_text(json.dumps({"apiKey": {**ref, "value": "inline-secret-99x"}}))
    kept = json.loads(text)["apiKey"]
    assert {k: kept[k] for k in ref} == ref and kept["value"] == tag("inline-secret-99x")


def test_an_env_var_name_as_a_value_is_not_redacted():
    for value in ("NVIDIA_API_KEY", "${OPENAI_API_KEY}", "$ANTHROPIC_API_KEY"):
        document = json.dumps({"apiKey": value, "token": value})
        assert scrub_text(document) == (document, [])
    assert scrub_text("OPENAI_API_KEY=${OPENAI_API_KEY}") == ("OPENAI_API_KEY=${OPENAI_API_KEY}", [])


@pytest.mark.parametrize("name", ["OPENAI_KEY", "DEEPGRAM_KEY", "SERVICE_KEY", "X_API_KEY_2", "TOKEN_PROD", "DB_PASS"])
def test_env_names_that_do_not_end_in_api_key_name_secrets(name):
    assert tag("env-value-123x") in scrub_text(json.dumps({"env": {"vars": {name: "env-value-123x"}}}))[0]
    assert scrub_text(f"export {name}=env-value-123x\n")[0] == f"export {name}={tag('env-value-123x')}\n"


def test_env_names_that_count_or_configure_are_not_secret_names():
    text = "MAX_TOKENS=4096\nPORT=3000\nKEYBOARD_LAYOUT=de\nLOG_LEVEL=debug\nTOKEN_COUNT=12\nAPI_KEY_FILE=/run/secrets/key\n"
    assert scrub_text(text) == (text, [])


def test_a_json5_value_on_the_line_after_its_key_is_redacted():
    document = "{\n  apiKey:\n    'next-line-secret-77q',\n  other: 1,\n}\n"
    text, found = scrub_text(document)
    assert "next-line-secret" not in text and found == [(3, "key apiKey")]
    assert json5_loads(text) == {"apiKey": tag("next-line-secret-77q"), "other": 1}
    assert "next-line-secret" not in scrub_text("token:\n  next-line-secret-77q")[0], "in text too"


def test_authorization_basic_redacts_the_credential_not_the_word_basic():
    credential = base64.b64encode(b"alice:basic-pass-7731").decode()
    text, _ = scrub_text(f"> Authorization: Basic {credential}\r\n")
    assert text == f"> Authorization: Basic {tag(credential)}\r\n"
    header, _ = scrub_text(json.dumps({"headers": {"Authorization": f"Basic {credential}"}}))
    assert json.loads(header)["headers"]["Authorization"] == f"Basic {tag(credential)}"
    prose = "Basic configuration is described below"
    assert scrub_text(prose) == (prose, [])


def test_curl_u_user_password_is_redacted():
    text, found = scrub_text("$ curl -s -u deploy:CurlPass-8812 https://ci.example.com/api")
    assert "CurlPass" not in text and found == [(1, "shape curl user:password")]


def test_a_pem_key_without_its_end_line_is_redacted():
    body = "MIIEpAIBAAKCAQEAplantedTruncatedPemBody0123\nAnotherLineOfBase64/+="
    text, _ = scrub_text(f"my key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n")
    assert "plantedTruncated" not in text and "AnotherLine" not in text
    escaped, _ = scrub_text(json.dumps({"text": f"-----BEGIN PRIVATE KEY-----\n{body}"}))
    assert "plantedTruncated" not in escaped


def test_json_escapes_do_not_hide_a_secret():
    line = '{"content":"use \\u0073k-ant-api03-UnicodeEscapedKey0123456789 and https:\\/\\/hooks.slack.com\\/services\\/T0\\/B0\\/escapedSlash12345"}'
    text, found = scrub_text(line)
    value = json.loads(text)["content"]
    assert "UnicodeEscapedKey" not in value and "escapedSlash" not in value and len(found) == 2
    twice, _ = scrub_text("printed: \\u0073k-ant-api03-UnicodeEscapedKey0123456789")  # escaped inside a text
    assert "UnicodeEscapedKey" not in twice


def test_a_known_secret_is_found_base64_encoded_and_encoded_twice():
    secret = "smtp+P4ss/w0rd=Qm4Wn8"
    known = {secret}
    for form in (base64.b64encode(secret.encode()).decode(),
                 base64.b64encode(b"prefix-" + secret.encode() + b"-suffix").decode(),  # inside a larger blob
                 quote(quote(secret, safe=""), safe=""),  # URL-encoded twice
                 json.dumps(json.dumps(secret)[1:-1])[1:-1],  # JSON-escaped twice
                 secret.replace("/", "\\\\\\/")):  # \/-escaped, then escaped again
        text, found = scrub_text(f"log: {form} end", also=known)
        assert form not in text and found, form


@pytest.mark.parametrize("label", ["bare gsk_", "bare xapp-", "bare hf_", "bare npm_", "bare glpat-", "bare xai-",
                                   "bare Discord bot token", "bare Telegram bot token"])
def test_bare_tokens_pasted_into_a_message_are_redacted(label):
    value = REAL_SECRETS[label]
    line = json.dumps({"message": {"role": "user", "content": f"here you go: {value} thanks"}})
    text, found = scrub_text(line)
    assert value not in text and found and json.loads(text)["message"]["content"].endswith(" thanks")


def test_a_numeric_password_under_a_secret_key_is_redacted_and_counts_are_not():
    text, found = scrub_text("{ matrix: { password: 48151623, port: 8448 }, maxTokens: 4096, tokens: 5 }")
    assert json5_loads(text) == {"matrix": {"password": tag("48151623"), "port": 8448}, "maxTokens": 4096, "tokens": 5}
    assert scrub_text("DB_PASSWORD=73551234\n")[0] == f"DB_PASSWORD={tag('73551234')}\n"
    assert scrub_text('{"totalTokens": 94, "botTokens": ["tg-bot-list-token-Wz3Xc5"]}')[0] == \
        f'{{"totalTokens": 94, "botTokens": ["{tag("tg-bot-list-token-Wz3Xc5")}"]}}'


def test_a_gzip_rotated_log_is_redacted_inside_and_stays_gzip(tmp_path):
    (tmp_path / "logs").mkdir(parents=True)
    rotated = tmp_path / "logs" / "gateway.1.log.gz"
    rotated.write_bytes(gzip.compress(b"09:00 push with ghp_GzipRotatedToken0123456789abcdefABCD\n09:01 ok\n", mtime=0))
    findings = redaction.sweep(tmp_path)
    assert gzip.decompress(rotated.read_bytes()) == b"09:00 push with " + \
        tag("ghp_GzipRotatedToken0123456789abcdefABCD").encode() + b"\n09:01 ok\n"
    assert [f.kind for f in findings] == ["shape GitHub token"]


def test_a_secret_in_a_file_name_renames_the_file_and_the_report_does_not_repeat_it(tmp_path):
    state = tmp_path / "state"
    shutil.copytree(resolve_fixture("minimal").state, state)
    (state / "workspace" / "tmp").mkdir(parents=True)
    (state / "workspace" / "tmp" / "hf_PlantedHuggingFaceToken0123456789ab.txt").write_text("notes\n")
    report = redact_state(state, tmp_path / "out")
    assert not any("hf_Planted" in str(p) for p in (tmp_path / "out").rglob("*"))
    assert (tmp_path / "out" / "workspace" / "tmp" / f"{tag('hf_PlantedHuggingFaceToken0123456789ab')}.txt").exists()
    assert f"agents/main/sessions/{SID}.jsonl" in {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")}
    assert any(line.startswith("renamed workspace/tmp/REDACTED-") for line in report.lines())
    assert not any("hf_Planted" in line for line in report.lines())


def test_sqlite_is_redacted_through_sqlite_and_passes_integrity_check(real):
    db = real.out / "state" / "openclaw.sqlite"
    assert db.read_bytes().startswith(b"SQLite format 3\0") and not Path(f"{db}-wal").exists(), \
        "the WAL (with its stale frames) is checkpointed away"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        [(store,)] = conn.execute("SELECT store_json FROM auth_profile_stores").fetchall()
        profile = json.loads(store)["profiles"]["anthropic:claude-max"]
        assert profile["access"] == tag(REAL_SECRETS["sqlite auth_profile_stores sk-ant-oat access"])
        assert profile["refresh"] == tag(REAL_SECRETS["sqlite auth_profile_stores opaque refresh"]), \
            "the opaque refresh token beside the sk-ant-oat key goes too"
        assert profile["expires"] == 1795466700000 and profile["provider"] == "anthropic"
        [(tokens,)] = conn.execute("SELECT tokens_json FROM device_pairing_paired").fetchall()
        assert json.loads(tokens)["operator"]["token"].startswith("REDACTED-"), "the row that was only in the WAL"
        [(key,)] = conn.execute("SELECT hmac_key FROM config_revision_keys").fetchall()
        assert len(key) == 32 and key != HMAC_KEY, "a secret BLOB: as many bytes (its CHECK holds), none of the old"
        assert conn.execute("SELECT count(*) FROM audit_events").fetchone() == (20,), "every other row is kept"
    finally:
        conn.close()


def test_a_database_that_fails_integrity_check_is_removed_with_a_report_line_never_written(tmp_path):
    state = tmp_path / "state"
    (state / "state").mkdir(parents=True)
    db = state / "state" / "openclaw.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("sk-ant-oat01-PlantedOAuthAccess0123456789abcdefXYZ" * 40,)] * 50)
    conn.commit()
    conn.close()
    data = bytearray(db.read_bytes())
    assert data[4096] == 5, "page 2: the table's interior b-tree page"
    data[4096 + 8:4096 + 12] = b"\xff" * 4  # its right-most child pointer, damaged
    db.write_bytes(bytes(data))
    report = redact_state(state, tmp_path / "out")
    assert not (tmp_path / "out" / "state" / "openclaw.sqlite").exists()
    assert any(line.startswith("removed state/openclaw.sqlite (SQLite integrity_check failed") for line in report.lines())
    assert any("cannot be redacted: SQLite integrity_check failed" in str(f) for f in find_secrets(state)), \
        "`fixtures add` refuses a damaged database: nothing in it can be shown to be free of secrets"


def test_a_binary_file_is_never_edited_kept_without_secrets_removed_with_one(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "openclaw.json").write_text(json.dumps({"apiKey": "binary-known-secret-42"}))
    (state / "plain.bin").write_bytes(b"\0\1\2 nothing secret here \0")
    (state / "holds.bin").write_bytes(b"\0\1\2binary-known-secret-42\0")
    report = redact_state(state, tmp_path / "out")
    assert (tmp_path / "out" / "plain.bin").read_bytes() == (state / "plain.bin").read_bytes()
    assert not (tmp_path / "out" / "holds.bin").exists()
    assert any(line.startswith("removed holds.bin (a binary file holding a remembered secret") for line in report.lines())


def test_find_secrets_sees_a_secret_inside_a_database_and_leaves_the_state_untouched(tmp_path):
    state = plant_real_secrets(tmp_path / "state")
    before = {p: p.read_bytes() for p in (state / "state").iterdir()}
    found = [str(f) for f in find_secrets(state)]
    assert any(f.startswith("state/openclaw.sqlite:") and "auth_profile_stores.store_json" in f for f in found), found
    assert {p: p.read_bytes() for p in (state / "state").iterdir()} == before, "the state's database is never opened"


def test_doctor_fix_config_holds_only_the_changed_keys_with_values_redacted():
    before = {"openclaw.json": "// mine\n{ gateway: { auth: { token: { value: 'user-token-7Hq2Lx9Pz' } } }, "
                               "agents: { list: [{ id: 'main' }] }, logging: { level: 'info' } }"}
    after = {"openclaw.json": json.dumps({"gateway": {"auth": {"token": "doctor-token-Bn6Vm2x"}},
                                          "agents": {"list": [{"id": "main"}]}, "logging": {"level": "debug"}}),
             "openclaw.json.bak": before["openclaw.json"]}
    changes = redaction.config_changes(before, after)
    text = json.dumps(changes)
    assert "user-token" not in text and "doctor-token" not in text and "agents" not in text, "changed keys only"
    assert changes["files"]["openclaw.json"]["changed"] == [
        {"key": "gateway.auth.token", "after": tag("doctor-token-Bn6Vm2x")},
        {"key": "gateway.auth.token.value", "before": tag("user-token-7Hq2Lx9Pz")},
        {"key": "logging.level", "before": "info", "after": "debug"}]
    assert changes["files"]["openclaw.json.bak"] == {"compared_with": "openclaw.json before", "changed": []}


def test_placeholders_replace_trajectory_prompts_and_the_reset_and_deleted_copies(tmp_path):
    state = plant_real_secrets(tmp_path / "state")
    report = redact_state(state, tmp_path / "out", placeholders=True)
    for text in MESSAGE_TEXTS:
        assert text not in _all_text(tmp_path / "out"), text
    for name in (REAL_RESET, REAL_DELETED, f"agents/main/sessions/{REAL_SID}.trajectory.jsonl"):
        assert (tmp_path / "out" / name).read_bytes().count(b"\n") == (state / name).read_bytes().count(b"\n")
    trajectory = [json.loads(line) for line in (tmp_path / "out" / f"agents/main/sessions/{REAL_SID}.trajectory.jsonl")
                  .read_text().splitlines()]
    prompts = [r["data"]["prompt"] for r in trajectory if "prompt" in r.get("data", {})]
    assert prompts and all("Good morning" not in p for p in prompts) and report.replaced_texts
    assert leaks(tmp_path / "out") == {}


def test_the_closing_sweep_redacts_only_the_files_this_run_wrote(tmp_path, monkeypatch):
    import path3_sandbox.cli as cli

    artifacts = tmp_path / "artifacts"
    (artifacts / "notes").mkdir(parents=True)
    note = artifacts / "notes" / "todo.md"
    note.write_text("my own note: token=keep-my-note-123abc\n")
    monkeypatch.setenv("PATH3_ARTIFACTS", str(artifacts))

    def dispatch(args):  # a command that writes evidence, while the user edits their note
        time.sleep(0.01)
        note.write_text("my own note, edited during the run: token=keep-my-note-123abc\n")
        (artifacts / "run-1").mkdir()
        (artifacts / "run-1" / "events.jsonl").write_text('{"apiKey": "written-by-the-run-77z"}\n')
        return 0

    monkeypatch.setattr(cli, "_dispatch", dispatch)
    assert cli.main(["fixtures", "list"]) == 0
    assert note.read_text() == "my own note, edited during the run: token=keep-my-note-123abc\n"
    assert "written-by-the-run" not in (artifacts / "run-1" / "events.jsonl").read_text()


def test_the_bug_report_bundle_holds_no_user_token_object_even_if_nothing_swept_it(tmp_path):
    from path3_sandbox.proof.run import write_bug_report

    evidence = tmp_path / "proof" / "real-7.35"
    evidence.mkdir(parents=True)
    (evidence / "seed.json").write_text(json.dumps({"files": 60, "config_overrides": [
        {"key": "gateway.auth.token", "before": {"value": "user-gw-object-Xy7Zq1"}, "after": "harness-token-0a1b2c3d"},
        {"key": "gateway.port", "before": 18789, "after": 18789}]}, indent=2))
    (tmp_path / "proof" / "summary.md").write_text("# FAIL\n")
    (tmp_path / "fixture.json").write_text("{}")
    result = SimpleNamespace(root=tmp_path / "proof", verdicts=[SimpleNamespace(evidence=evidence)])
    bundle = write_bug_report(result, tmp_path / "fixture.json", tmp_path / "bug-report.tar.gz")
    with tarfile.open(bundle) as tar:
        assert tar.getnames()[0] == "bug-report/summary.md"
        seed = json.loads(tar.extractfile("bug-report/evidence/seed.json").read())
    assert seed["config_overrides"][0]["before"] == {"value": tag("user-gw-object-Xy7Zq1")}
    assert seed["config_overrides"][1] == {"key": "gateway.port", "before": 18789, "after": 18789}
    assert "user-gw-object" not in gzip.decompress(bundle.read_bytes()).decode("utf-8", "replace")


def test_a_truncated_last_line_without_a_secret_stays_byte_identical():
    text = '{"type":"message","apiKey":"line-secret-123x"}\r\n{"type":"message","text":"caf\\u00e9"}\r\n{"type":"mess'
    new, found = scrub_text(text)
    assert new.split("\r\n")[1:] == text.split("\r\n")[1:] and len(found) == 1


def test_prose_is_not_taken_for_a_key_and_its_value():
    for prose in ("- webhook: send to chat", 'Webhook: mode="webhook" and delivery.to URL', "the token: see below"):
        assert scrub_text(prose) == (prose, []), prose


def _read(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def _all_text(root):
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_our_own_verdict_line_is_not_a_password_but_a_pass_key_with_a_value_still_is():
    from path3_sandbox.report.redaction import scrub_text

    for line in ("# ✅ PASS: upgrade path 2026.7.35 → 2026.9.6", "PASS: 9/9 fixtures; summary: .artifacts/x/summary.md",
                 "# ✅ PASS: openclaw 2026.9.6, 1/1 fixtures"):
        assert scrub_text(line) == (line, [])
    for line in ("PASS: hunter2secret", "PASS=hunter2 more", "pass: hunter2 more", "DB_PASS: hunter2"):
        redacted, hits = scrub_text(line)
        assert "hunter2" not in redacted and hits, line
