"""One redactor for everything path3-sandbox writes or prints: evidence files, bundles, progress lines and
`fixtures redact`.

A secret is found three ways:
    by key name      a value under a key that names a secret (`apiKey`, `botToken`, `GITHUB_PAT`, `OPENAI_KEY`,
                     `TOKEN_PROD`, `X-Api-Key`, `password`, `secrets`, `credentials`), at any depth inside it
    by shape         `sk-…`, `sk-ant-…`, `ghp_…`, `github_pat_…`, `glpat-…`, `gsk_…`, `hf_…`, `npm_…`, `xai-…`,
                     `xox?-…`, `xapp-…`, `AKIA…`, JWTs, Discord and Telegram bot tokens, PEM blocks (an END line or
                     not), `Bearer …`, `Authorization: Basic …`, `curl -u user:pass`, credentials in URLs, webhooks
    by value         every value remembered this process (the harness's tokens, what `known_secrets` found in a
                     state), also JSON-escaped, URL-encoded (once or twice) and base64-encoded
Each secret becomes `REDACTED-<tag>`: a keyed hash, the same for the same secret within one process and different
for different ones, so redaction never makes two distinct lines identical (event counts stay).

Files are redacted by what they are, never as the wrong thing:
    JSON, JSON5      by structure (json5text): only the value tokens that hold a secret are rewritten, every other
                     byte stays; string values are read decoded (`\\u0073k-…`, `\\/`), JSON inside a string value is
                     redacted as JSON; the result must parse as the input did, or the file is not written
    JSONL            line by line: a line that parses, by structure; one that does not (a truncated last line), as
                     text; a line that holds no secret keeps its bytes
    SQLite           through sqlite3 on the file itself (a copy, for a user's state): every TEXT value (and the JSON
                     in it), BLOBs that are UTF-8 JSON, a BLOB under a secret column replaced by as many keyed bytes;
                     then VACUUM (free pages keep deleted rows), the WAL checkpointed away, integrity_check `ok`
    gzip             decompressed, redacted as what it holds, recompressed
    other binary     never edited: kept when it holds no remembered secret, removed (and said so) when it does
    text             by key name, shape and value
A secret in a file's name renames the file.

Not a secret: null, booleans, counts under keys that are not secret names, an env var NAME (`NVIDIA_API_KEY`,
`${VAR}`), an enum word under a secret object (`source: "env"`), and a SecretRef's `source`/`provider`/`id`
(`{source: "env", provider: "default", id: "OPENAI_API_KEY"}`): the id names where the secret lives (an env var,
a JSON pointer into a secrets file, an exec key), never the secret itself, and the upgrade must see it as it was.

Where each part lives (each module imports only those above it; text.py reads a `key: {…}` block through
structured.py late, inside the function):
    keys.py          which keys name a secret (JSON keys, env var names, SQLite columns); what is not a secret
    shapes.py        the token shapes, and the checks some need beyond their pattern
    values.py        the per-process tag key, the remembered values (`tag`, `remember`) and their matcher
    findings.py      what a pass carries (`_Context`) and finds (`_Hit`, `Finding`, `_Refused`)
    text.py          free text: `key=value`, shapes, remembered values
    structured.py    JSON, JSON5, JSONL by structure, and which leaf is secret; `scrub_text`
    sqlite.py        a database through sqlite3
    files.py         one file or its bytes as what it is (gzip, binary, text); `known_secrets`, `scrub_bytes`,
                     `scrub_file`
    tree.py          a folder and its names: `redact_tree`, `scrub_name`, `sweep`, `snapshot`, `find_secrets`
    config.py        `config_changes` between two configs
"""

from __future__ import annotations

from .config import config_changes
from .files import known_secrets, scrub_bytes, scrub_file
from .findings import Finding
from .keys import SECRET_KEY_RE
from .structured import scrub_text
from .tree import find_secrets, redact_tree, scrub_name, snapshot, sweep
from .values import remember, tag

__all__ = ["SECRET_KEY_RE", "Finding", "config_changes", "find_secrets", "known_secrets", "redact_tree", "remember",
           "scrub_bytes", "scrub_file", "scrub_name", "scrub_text", "snapshot", "sweep", "tag"]
