"""A user's state with twenty-odd secrets of different shapes, in every place one hides: the config, a JSON5
backup, an env block, OAuth and pairing files, a .env in a subfolder, a transcript's tool call and tool result,
a legacy log (`plant_secrets`, on minimal). And the same user on a real 2026.7.35 state with sixty-odd, in the
shapes real users have them (`plant_real_secrets`, below). Used by the redaction tests (unit) and the repro
evidence test (integration)."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from path3_sandbox.state.fixtures import resolve_fixture

SID = "1174b3f9-522e-5ab0-8002-2036d072c238"  # minimal's agent:main:main

SECRETS = {
    "user gateway token": "user-gw-token-5f1c2a9e7b",
    "provider apiKey (sk-proj)": "sk-proj-Q1w2E3r4T5y6U7i8O9p0AaSsDdFf",
    "env GITHUB_PAT": "github_pat_11ABCDEFG0_abcdefghijklmnopqrstuv",
    "password in env DATABASE_URL": "hunter2-db-pass",
    "JSON5 backup: slack botToken": "xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOp",
    "JSON5 backup: webhook URL": "T0001/B0001/bakWebhookXYZ123456789",
    "JSON5 backup: apiKeys list": "plain-listed-api-key-0099",
    "JSON5 backup: token {value}": "token-object-value-0102030405",
    "JSON5 backup: secretKey": "wJalrXUtnFEMI-K7MDENG-bPxRfiCYPLANTED",
    "JSON5 backup: custom auth header": "custom-header-secret-998877",
    "OAuth access token": "oauth-access-Zx9Yw8Vu7Ts6Rr",
    "OAuth refresh token": "oauth-refresh-Rq5Po4Nm3Lk2Jj",
    "nested pairing secret": "tg-pair-secret-4455667788",
    ".env in a subfolder (sk-ant)": "sk-ant-api03-envfileKEY1234567890abcd",
    ".env Stripe key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "transcript tool-call argument": "tool-arg-secret-77aa88bb",
    "transcript AWS key id": "AKIAIOSFODNN7PLANTED",
    "transcript JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
    "log GitHub token": "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "log URL password": "pa55w0rd-log-9876",
    "PEM private key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCplantedPemBody",
}


def plant_secrets(dest: Path) -> Path:
    """minimal's state at `dest`, with SECRETS planted; returns the state root."""
    shutil.copytree(resolve_fixture("minimal").state, dest)
    s = SECRETS
    _plant_common(dest, dest / "agents" / "main" / "sessions" / f"{SID}.jsonl")
    (dest / "openclaw.json").write_text(json.dumps({
        "gateway": {"auth": {"mode": "token", "token": s["user gateway token"]}},
        "models": {"providers": {"openai": {
            "baseUrl": "https://api.openai.com/v1", "apiKey": s["provider apiKey (sk-proj)"], "api": "openai-completions",
            "models": [{"id": "gpt-5.2", "name": "gpt-5.2", "reasoning": False, "input": ["text"],
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                        "contextWindow": 128000, "maxTokens": 4096}]}}},
        "env": {"vars": {"GITHUB_PAT": s["env GITHUB_PAT"],
                         "DATABASE_URL": f"postgres://app:{s['password in env DATABASE_URL']}@db.example.com:5432/app"}},
    }, indent=2))
    return dest


def _plant_common(dest: Path, transcript: Path) -> None:
    """Every SECRETS value but the config's: the JSON5 backup, credentials/, a .env, a transcript's tool call and
    result, a legacy log, a PEM key."""
    s = SECRETS
    (dest / "openclaw.json.bak").write_text(f"""// JSON5, as the Gateway accepts it
{{
  channels: {{ slack: {{ botToken: '{s["JSON5 backup: slack botToken"]}', }}, }},
  hooks: {{ url: "https://hooks.slack.com/services/{s["JSON5 backup: webhook URL"]}" }},
  apiKeys: ['{s["JSON5 backup: apiKeys list"]}'],
  token: {{ value: '{s["JSON5 backup: token {value}"]}' }},
  aws: {{ secretKey: "{s["JSON5 backup: secretKey"]}" }},
  headers: {{ "X-Api-Key": "{s["JSON5 backup: custom auth header"]}" }},
}}
""")
    (dest / "credentials").mkdir()
    (dest / "credentials" / "deploy").mkdir()  # not a *-pairing.json: 2026.9.6 refuses on one it cannot read
    (dest / "credentials" / "deploy" / "targets.json").write_text(json.dumps(
        {"pairings": {"4711": {"secret": s["nested pairing secret"], "since": "2025-11-01"}}}))
    # OAuth tokens under their plain names (access, refresh). Not in agents/*/agent/auth-profiles.json: with a
    # legacy OAuth profile there, 2026.9.6 refuses to start until doctor --fix migrates the credential.
    (dest / "credentials" / "deploy" / "oauth.json").write_text(json.dumps({"anthropic": {
        "type": "oauth", "access": s["OAuth access token"], "refresh": s["OAuth refresh token"], "expires": 1767225600000}}))
    (dest / "workspace" / "tools").mkdir(parents=True)
    (dest / "workspace" / "tools" / ".env").write_text(
        f"OPENAI_API_KEY={s['.env in a subfolder (sk-ant)']}\nSTRIPE={s['.env Stripe key']}\nPORT=3000\n")
    lines = transcript.read_text().splitlines()
    last = json.loads(lines[-1])["id"]
    call = {"type": "message", "id": "p3tool01", "parentId": last, "timestamp": "2025-11-20T09:01:00.000Z",
            "message": {"role": "assistant", "content": [{"type": "toolCall", "id": "call_1", "name": "exec",
                        "arguments": json.dumps({"command": "deploy", "apiKey": s["transcript tool-call argument"]})}],
                        "api": "openai-completions", "provider": "openai", "model": "gpt-5.2", "timestamp": 1763629260000}}
    result = {"type": "message", "id": "p3tool02", "parentId": "p3tool01", "timestamp": "2025-11-20T09:01:05.000Z",
              "message": {"role": "toolResult", "toolCallId": "call_1", "toolName": "exec", "content": [{"type": "text",
                          "text": f"export AWS_ACCESS_KEY_ID={s['transcript AWS key id']}\ncurl -H 'Authorization: Bearer "
                                  f"{s['transcript JWT']}'"}], "isError": False, "timestamp": 1763629265000}}
    transcript.write_text("\n".join(lines + [json.dumps(call), json.dumps(result)]) + "\n")
    (dest / "logs").mkdir()
    (dest / "logs" / "gateway.log").write_text(
        f"2025-11-20T09:00:00Z info pushing with {s['log GitHub token']}\n"
        f"2025-11-20T09:00:01Z warn git remote https://deploy:{s['log URL password']}@git.example.com/repo.git\n")
    # (not in identity/device.json: 2026.9.6 refuses every migration when it cannot read a device identity)
    (dest / "credentials" / "webhook-tls.key").write_text(
        f"-----BEGIN PRIVATE KEY-----\n{s['PEM private key']}\n-----END PRIVATE KEY-----\n")


# ---------------------------------------------------------------------------------------------------------------
# The same user, on a real 2026.7.35 state (fixtures/legacy-stores/real-7.35) and with the shapes real users have:
# a hand-edited JSON5 config (token objects, SecretRefs, env blocks, a value on the line after its key), the
# SQLite state database (an OAuth profile in auth_profile_stores, a paired device's token only in the WAL, the
# config HMAC key), JSONL logs and a gzip-rotated one, pasted tokens in messages, encoded copies of known secrets,
# a secret in a file name, and the trajectory sidecars, reset and deleted transcripts --placeholders must empty.

REAL = "real-7.35"
REAL_SID = "97d930b2-92ed-4f58-8d2b-3718f5db41fa"  # real-7.35's agent:main:main
REAL_RESET = "agents/main/sessions/ad932862-494f-4320-a00e-f72d7cf87c1e.jsonl.reset.2026-11-23T19-44-59.407Z"
REAL_DELETED = f"agents/main/sessions/{REAL_SID}.jsonl.deleted.2026-11-23T20-01-02.000Z"
FILE_NAME_SECRET = "xai-FileNameSecretAbCdEf0123456789"

_SMTP = "smtp+P4ss/w0rd=Qm4Wn8"
REAL_SECRETS = {
    # openclaw.json (JSON5, as a person edits it)
    "config token object {value}": "gw-token-object-7Hq2Lx9Pz",
    "config secrets.providers env VAULT_TOKEN": "hvs.CAESIvaultTokenPlanted01",
    "config credentials object (password with / + =)": _SMTP,
    "config numeric password": "48151623",
    "config value on the line after its key": "groq-next-line-key-4Kd81Mzq",
    "config env OPENAI_KEY": "oai-envname-key-Hy5Tr3",
    "config env DEEPGRAM_KEY": "dg-envname-key-Pl0Ok9",
    "config env vars.SERVICE_KEY": "svc-envname-key-Ij8Uh7",
    "config env X_API_KEY_2": "xapi2-envname-Yg6Tf5",
    "config env TOKEN_PROD": "tokprod-envname-Rd4Es3",
    "config telegram botToken list": "tg-bot-list-token-Wz3Xc5",
    # openclaw.json.last-good (strict JSON)
    "last-good token object {value}": "lastgood-token-object-Bn6Vm2",
    "last-good SecretRef-shaped object with an inline secret": "inline-ref-secret-Kj7Hg5",
    # state/openclaw.sqlite
    "sqlite auth_profile_stores sk-ant-oat access": "sk-ant-oat01-PlantedOAuthAccess0123456789abcdefXYZ",
    "sqlite auth_profile_stores opaque refresh": "opaqueRefresh9Qw8Er7Ty6Ui5Op4As3Df",
    "sqlite auth_profile_stores api_key": "sk-proj-SqliteApiKey0987654321zyxw",
    "sqlite WAL-only device token": "devpair-token-OnlyInWal-Lk8Jh6Gf4",
    # a transcript message (user pasted), JSON-escaped in the JSONL
    "bare gsk_": "gsk_PlantedGroqKey0123456789abcdefGHIJ",
    "bare xapp-": "xapp-1-A0123BCDE-4567890123-abcdef0123456789abcdef",
    "bare hf_": "hf_PlantedHuggingFaceToken0123456789ab",
    "bare npm_": "npm_PlantedNpmToken0123456789abcdefghijk",
    "bare glpat-": "glpat-PlantedGitLab0123456789",
    "bare xai-": "xai-PlantedGrokKey0123456789abcdefghij",
    "bare Discord bot token": "MTEyMzQ1Njc4OTAxMjM0NTY3OA.GhIjKl.PlantedDiscordBotTokenPart3abcdef",
    "bare Telegram bot token": "123456789:AAHPlantedTelegramBotToken012345678",
    "unicode-escaped sk-ant key": "sk-ant-api03-UnicodeEscapedKey0123456789",
    "slash-escaped Slack webhook": "T0002/B0002/escapedSlashWebhook12345",
    "PEM without END line": "MIIEpAIBAAKCAQEAplantedTruncatedPemBody0123",
    "curl -u user:pass": "deploy:CurlPass-8812-Zx",
    "Authorization: Basic (transcript)": base64.b64encode(b"alice:basic-pass-7731").decode(),
    "JSON inside JSON inside JSON": "nested-twice-key-Wq2Er4",
    # logs
    "JSONL log Authorization: Basic": base64.b64encode(b"ops:jsonl-basic-pass-55").decode(),
    "text log Authorization: Basic": base64.b64encode(b"svc:text-log-basic-66").decode(),
    "gzip-rotated log apiKey": "gz-rotated-key-Ab12Cd34Ef",
    "gzip-rotated log GitHub token": "ghp_GzipRotatedToken0123456789abcdefABCD",
    "text log numeric DB_PASSWORD": "73551234",
    # a file name
    "secret in a file name": FILE_NAME_SECRET,
    # the reset and deleted transcript copies
    "reset transcript apiKey": "reset-copy-key-Tg5Yh6",
    "deleted transcript bare sk-": "sk-DeletedCopyKey0123456789abcdef",
}
# Copies of known secrets in other encodings (found only by value: they have no key and no shape of their own).
ENCODED = {
    "base64 of the config token": base64.b64encode(REAL_SECRETS["config token object {value}"].encode()).decode(),
    "URL-encoded twice": quote(quote(_SMTP, safe=""), safe=""),
    "JSON-escaped twice (slash)": _SMTP.replace("/", "\\\\\\/"),
}
HMAC_KEY = bytes(range(101, 133))  # config_revision_keys.hmac_key: a binary secret
# What must survive: env var names, SecretRefs (they say where a secret lives, not what it is), counts, ids.
KEPT = {
    "an env var name as a value": '"apiKey": "NVIDIA_API_KEY"',
    "SecretRef id": "OPENAI_API_KEY",
    "counts": "maxTokens",
    "session ids": REAL_SID,
}
# Message text --placeholders must replace: transcripts, trajectory sidecars, the reset and deleted copies.
MESSAGE_TEXTS = (
    "Good morning! Can you keep a short list of what I ask today?",  # transcript + trajectory prompt
    "Plan a weekend in Lisbon",  # the reset copy (and its trajectory)
    "Deleted-session note about the garden",  # the deleted copy
    "P3-CAPTURE-T01 acknowledged.",  # assistantTexts
)


def plant_real_secrets(dest: Path) -> Path:
    """real-7.35's state at `dest`, with SECRETS and REAL_SECRETS planted as users have them; returns the root."""
    shutil.copytree(resolve_fixture(REAL).state, dest)
    s, r = SECRETS, REAL_SECRETS
    _plant_common(dest, dest / "agents" / "main" / "sessions" / f"{REAL_SID}.jsonl")
    (dest / "openclaw.json").write_text(f"""// hand-edited; openclaw 2026.7.35 reads JSON5
{{
  gateway: {{
    mode: "local",
    port: 18789,
    bind: "lan",
    auth: {{
      mode: "token",
      token: {{ value: "{r["config token object {value}"]}" }},
    }},
    remote: {{ url: "wss://gw.example.com", token: "{s["user gateway token"]}" }},
  }},
  update: {{ checkOnStart: false }},
  discovery: {{ mdns: {{ mode: "off" }} }},
  agents: {{ defaults: {{ heartbeat: {{ every: "0m" }} }}, list: [{{ id: "main", default: true }}, {{ id: "work" }}] }},
  logging: {{ file: "/home/node/.openclaw/logs/gateway.jsonl" }},
  models: {{
    providers: {{
      openai: {{
        baseUrl: "https://api.openai.com/v1",
        apiKey: {{ source: "env", provider: "default", id: "OPENAI_API_KEY" }}, // a SecretRef
        models: [{{ id: "gpt-5.2", maxTokens: 4096, contextWindow: 128000 }}],
      }},
      nvidia: {{ baseUrl: "https://integrate.api.nvidia.com/v1", apiKey: "NVIDIA_API_KEY" }},
      groq: {{
        baseUrl: "https://api.groq.com/openai/v1",
        apiKey:
          "{r["config value on the line after its key"]}",
      }},
      legacy: {{ apiKey: '{s["provider apiKey (sk-proj)"]}' }},
    }},
  }},
  secrets: {{
    providers: {{
      vault: {{ source: "exec", command: "/usr/local/bin/vault-read",
               env: {{ VAULT_ADDR: "https://vault.internal:8200", VAULT_TOKEN: "{r["config secrets.providers env VAULT_TOKEN"]}" }} }},
    }},
  }},
  credentials: {{ smtp: {{ user: "alice@example.com", pass: "{r["config credentials object (password with / + =)"]}" }} }},
  channels: {{
    matrix: {{ homeserver: "https://matrix.example.org", userId: "@alice:example.org", password: {r["config numeric password"]} }},
    telegram: {{ botTokens: ['{r["config telegram botToken list"]}'], }},
  }},
  env: {{
    OPENAI_KEY: "{r["config env OPENAI_KEY"]}",
    DEEPGRAM_KEY: "{r["config env DEEPGRAM_KEY"]}",
    vars: {{
      SERVICE_KEY: "{r["config env vars.SERVICE_KEY"]}",
      X_API_KEY_2: "{r["config env X_API_KEY_2"]}",
      TOKEN_PROD: "{r["config env TOKEN_PROD"]}",
      GITHUB_PAT: "{s["env GITHUB_PAT"]}",
      DATABASE_URL: "postgres://app:{s["password in env DATABASE_URL"]}@db.example.com:5432/app",
    }},
  }},
}}
""")
    (dest / "openclaw.json.last-good").write_text(json.dumps({
        "gateway": {"mode": "local", "port": 18789, "bind": "lan",
                    "auth": {"mode": "token", "token": {"value": r["last-good token object {value}"]}}},
        "models": {"providers": {"nvidia": {"apiKey": "NVIDIA_API_KEY"},
                                 "anthropic": {"apiKey": {"source": "file", "provider": "filemain",
                                                          "id": "/providers/anthropic/apiKey",
                                                          "value": r["last-good SecretRef-shaped object with an inline secret"]}}}},
        "user": "user-gw-token-5f1c2a9e7b",  # not under a secret key: found because openclaw.json.bak's token is known
    }, indent=2) + "\n")
    _plant_sqlite(dest / "state" / "openclaw.sqlite")
    sessions = dest / "agents" / "main" / "sessions"
    transcript = sessions / f"{REAL_SID}.jsonl"
    lines = transcript.read_text().splitlines()
    last = json.loads(lines[-1])["id"]
    pasted = (f"keys from my notes: {r['bare gsk_']} {r['bare xapp-']} {r['bare hf_']} {r['bare npm_']} "
              f"{r['bare glpat-']} {r['bare xai-']}\ndiscord {r['bare Discord bot token']} telegram "
              f"{r['bare Telegram bot token']}\nanthropic UNICODE_ESCAPED and the hook https://hooks.slack.com/services/"
              f"{r['slash-escaped Slack webhook']}\n-----BEGIN RSA PRIVATE KEY-----\n{r['PEM without END line']}\n"
              "(the rest of the key was cut off)")
    user = {"type": "message", "id": "p3paste1", "parentId": last, "timestamp": "2026-11-23T19:45:00.000Z",
            "message": {"role": "user", "content": pasted, "timestamp": 1795463100000}}
    line = json.dumps(user, separators=(",", ":")).replace("UNICODE_ESCAPED", "\\u0073" + r["unicode-escaped sk-ant key"][1:])
    line = line.replace("hooks.slack.com/services/", "hooks.slack.com\\/services\\/").replace(
        r["slash-escaped Slack webhook"], r["slash-escaped Slack webhook"].replace("/", "\\/")).replace("https://", "https:\\/\\/")
    call = {"type": "message", "id": "p3tool03", "parentId": "p3paste1", "timestamp": "2026-11-23T19:45:01.000Z",
            "message": {"role": "assistant", "content": [{"type": "toolCall", "id": "call_3", "name": "exec", "arguments": json.dumps({
                "command": f"curl -u {r['curl -u user:pass']} https://ci.example.com/api && curl -H 'Authorization: Basic "
                           f"{r['Authorization: Basic (transcript)']}' https://ci.example.com/",
                "body": json.dumps({"request": json.dumps({"apiKey": r["JSON inside JSON inside JSON"]})})})}],
                        "api": "openai-completions", "provider": "openai", "model": "gpt-5.2", "timestamp": 1795463101000}}
    result = {"type": "message", "id": "p3tool04", "parentId": "p3tool03", "timestamp": "2026-11-23T19:45:02.000Z",
              "message": {"role": "toolResult", "toolCallId": "call_3", "toolName": "exec", "content": [{"type": "text",
                          "text": f"auth={ENCODED['base64 of the config token']} callback?pw={ENCODED['URL-encoded twice']}\n"
                                  f"cfg={ENCODED['JSON-escaped twice (slash)']}"}], "isError": False, "timestamp": 1795463102000}}
    # the raw line: its text holds `\\\/` (a JSON-escaped `\/`), as a tool that escaped twice prints it
    result_line = json.dumps(result, separators=(",", ":")).replace(
        ENCODED["JSON-escaped twice (slash)"].replace("\\", "\\\\"), ENCODED["JSON-escaped twice (slash)"])
    with transcript.open("a") as out:
        out.write("\n".join([line, json.dumps(call, separators=(",", ":")), result_line]) + "\n")
    reset = dest / REAL_RESET
    with reset.open("a") as out:
        out.write(json.dumps({"type": "message", "id": "p3reset1", "parentId": "dadbac68", "timestamp": "2026-11-23T19:44:43.000Z",
                              "message": {"role": "user", "content": f"use apiKey: \"{r['reset transcript apiKey']}\" for the trams API",
                                          "timestamp": 1795463083000}}, separators=(",", ":")) + "\n")
    header = lines[0]
    (dest / REAL_DELETED).write_text("\n".join([header, json.dumps(
        {"type": "message", "id": "p3del01", "parentId": None, "timestamp": "2026-11-23T20:00:00.000Z",
         "message": {"role": "user", "content": f"Deleted-session note about the garden; key {r['deleted transcript bare sk-']}",
                     "timestamp": 1795464000000}}, separators=(",", ":"))]) + "\n")
    logs = dest / "logs"
    (logs / "gateway.jsonl").write_text("\n".join(json.dumps(record, separators=(",", ":")) for record in (
        {"time": "2026-11-23T19:44:30.000Z", "level": "info", "msg": "gateway ready", "port": 18789},
        {"time": "2026-11-23T19:44:31.000Z", "level": "debug", "msg": "outbound request",
         "headers": {"Authorization": f"Basic {r['JSONL log Authorization: Basic']}", "Accept": "application/json"}},
    )) + "\n")
    with (logs / "gateway.log").open("a") as out:
        out.write(f"2025-11-20T09:00:02Z debug > Authorization: Basic {r['text log Authorization: Basic']}\n"
                  f"2025-11-20T09:00:03Z debug env DB_PASSWORD={r['text log numeric DB_PASSWORD']}\n")
    (logs / "gateway.2026-11-22.jsonl.gz").write_bytes(gzip.compress((
        json.dumps({"time": "2026-11-22T08:00:00.000Z", "level": "info", "msg": "provider configured",
                    "provider": {"id": "legacy", "apiKey": r["gzip-rotated log apiKey"]}}) + "\n"
        + json.dumps({"time": "2026-11-22T08:00:01.000Z", "level": "warn",
                      "msg": f"git push with {r['gzip-rotated log GitHub token']} failed"}) + "\n").encode(), mtime=0))
    (dest / "workspace" / "tmp").mkdir()
    (dest / "workspace" / "tmp" / f"{FILE_NAME_SECRET}.txt").write_text("a token pasted as a file name\n")
    return dest


def _plant_sqlite(db: Path) -> None:
    """An OAuth profile store checkpointed into the database, a paired device's token only in its WAL (copied while
    the Gateway ran), and the config HMAC key, like a 2026.7.35 state database in use."""
    r = REAL_SECRETS
    with tempfile.TemporaryDirectory() as work:
        for sibling in db.parent.glob(db.name + "*"):
            shutil.copy2(sibling, Path(work) / sibling.name)
        copy = Path(work) / db.name
        conn = sqlite3.connect(copy)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO auth_profile_stores VALUES (?, ?, ?)", ("main", json.dumps({"version": 1, "profiles": {
            "anthropic:claude-max": {"type": "oauth", "provider": "anthropic",
                                     "access": r["sqlite auth_profile_stores sk-ant-oat access"],
                                     "refresh": r["sqlite auth_profile_stores opaque refresh"], "expires": 1795466700000},
            "openai:default": {"type": "api_key", "provider": "openai", "key": r["sqlite auth_profile_stores api_key"]}}}),
            1795463099024))
        conn.execute("INSERT INTO config_revision_keys VALUES (1, ?)", (HMAC_KEY,))
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("INSERT INTO device_pairing_paired (device_id, public_key, display_name, tokens_json, created_at_ms, "
                     "approved_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                     ("e70c42cfb37868d7702e76d1fcb2b84e", "MCowBQYDK2VwAyEAxtm3e", "alice's laptop", json.dumps(
                         {"operator": {"token": r["sqlite WAL-only device token"], "role": "operator",
                                       "scopes": ["operator.admin"], "createdAtMs": 1795463099024}}),
                      1795463099024, 1795463099024))
        conn.commit()
        for sibling in Path(work).glob(db.name + "*"):  # copied while the connection is open: the row is in the WAL
            shutil.copy2(sibling, db.parent / sibling.name)
        conn.close()


def leaks(root: Path, secrets: dict[str, str] | None = None) -> dict[str, list[str]]:
    """secret name -> files under `root` that still hold its value, in any encoding a file could carry it: raw,
    JSON-escaped (once, twice, with `\\/`), URL-encoded (once, twice), base64, or behind a `\\uXXXX` escape;
    inside .gz files, .tar.gz members and SQLite databases (read on a copy, WAL included) too; and in file names."""
    found: dict[str, list[str]] = {}
    blobs = [(name, data) for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()
             for name, data in _readable(root, path)]
    blobs += [(f"{p.relative_to(root)} (its name)", str(p.relative_to(root)).encode()) for p in root.rglob("*")]
    wanted = {**SECRETS, **REAL_SECRETS} if secrets is None else secrets
    for label, value in wanted.items():
        forms = {form.encode() for form in _forms(value)}
        hits = sorted({name for name, data in blobs if any(form in data for form in forms)})
        if hits:
            found[label] = hits
    if secrets is None and (hits := sorted({name for name, data in blobs if HMAC_KEY in data})):
        found["sqlite config_revision_keys.hmac_key (binary)"] = hits
    return found


def _forms(value: str) -> set[str]:
    escaped = json.dumps(value)[1:-1]
    forms = {value, escaped, escaped.replace("/", "\\/"), json.dumps(escaped)[1:-1], quote(value, safe=""),
             quote(quote(value, safe=""), safe="")}
    if len(value) >= 12:
        forms |= {base64.b64encode(value.encode()).decode().rstrip("="),
                  base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")}
    return forms


def _readable(root: Path, path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of a file as stored and as read: decompressed, its tar members, its SQLite rows, and its
    JSON `\\uXXXX` and `\\/` escapes decoded."""
    import tarfile

    name, data = str(path.relative_to(root)), path.read_bytes()
    out = [(name, data)]
    if data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError):
            inner = b""
        out.append((f"{name} (decompressed)", inner))
        if name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as tar:
                out += [(f"{name}!{m.name}", tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
    if data.startswith(b"SQLite format 3\0"):
        with database_copy(path) as conn:
            try:
                out.append((f"{name} (rows)", "\n".join(conn.iterdump()).encode("utf-8", "surrogateescape")))
                out += [(f"{name} (blob)", bytes(blob)) for table, in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
                        for row in conn.execute(f'SELECT * FROM "{table}"') for blob in row if isinstance(blob, bytes)]
            except sqlite3.DatabaseError as error:
                out.append((f"{name} (unreadable: {error})", b""))
    for label, blob in list(out):
        text = blob.decode("utf-8", "replace")
        decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")
        if decoded != text:
            out.append((f"{label} (unescaped)", decoded.encode("utf-8", "surrogateescape")))
    return out


def all_json_parses_and_every_database_checks(root: Path) -> list[str]:
    """Problems: a .json (or JSON5 config) file that no longer parses, a JSONL line that parsed in `source` and
    not here, a SQLite database whose integrity_check is not ok."""
    from path3_sandbox.report.json5text import loads as json5_loads

    problems = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name, data = str(path.relative_to(root)), path.read_bytes()
        if data.startswith(b"SQLite format 3\0"):
            with database_copy(path) as conn:
                try:
                    result = conn.execute("PRAGMA integrity_check").fetchall()
                except sqlite3.DatabaseError as error:
                    result = [(str(error),)]
                if result != [("ok",)]:
                    problems.append(f"{name}: integrity_check {result[:3]}")
        elif re.search(r"\.json5?$|^openclaw\.json", path.name):
            try:
                (json.loads if path.name.endswith(".json") and not path.name.startswith("openclaw.json") else json5_loads)(
                    data.decode())
            except ValueError as error:
                problems.append(f"{name}: {error}")
    return problems


@contextlib.contextmanager
def database_copy(path: Path):
    """A connection to a copy of the database at `path` with its -wal/-shm (even a read-only open of the original
    would rewrite its -shm)."""
    with tempfile.TemporaryDirectory() as work:
        for sibling in path.parent.glob(path.name + "*"):
            shutil.copy2(sibling, Path(work) / sibling.name)
        conn = sqlite3.connect(Path(work) / path.name)
        try:
            yield conn
        finally:
            conn.close()
