"""A user's state with twenty-odd secrets of different shapes, in every place one hides: the config, a JSON5
backup, an env block, OAuth and pairing files, a .env in a subfolder, a transcript's tool call and tool result,
a legacy log. Used by the redaction tests (unit) and the repro evidence test (integration)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from path3_sandbox.fixtures import resolve_fixture

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
    transcript = dest / "agents" / "main" / "sessions" / f"{SID}.jsonl"
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
    return dest


def leaks(root: Path) -> dict[str, list[str]]:
    """secret name -> files under `root` (and members of .tar.gz bundles in it) that still hold its value."""
    import tarfile

    found: dict[str, list[str]] = {}
    blobs = [(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()]
    for name, _ in list(blobs):
        if name.endswith(".tar.gz"):
            with tarfile.open(root / name) as tar:
                blobs += [(f"{name}!{m.name}", tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
    for label, value in SECRETS.items():
        forms = {value.encode(), json.dumps(value)[1:-1].encode()}
        hits = [name for name, data in blobs if any(form in data for form in forms)]
        if hits:
            found[label] = hits
    return found
