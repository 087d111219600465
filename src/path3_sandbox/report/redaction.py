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
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets as _random
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from . import json5text

# A key names a secret when it ends so ("apiKey", "botToken", "X-Api-Key", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY"),
# not when it counts them ("maxTokens", "contextTokens"): suffixes are matched whole, case-insensitively.
SECRET_KEY_RE = re.compile(
    r"(token|secrets?|passwords?|passwd|passphrase|passcode|api[-_]?keys?|(secret|private|access|signing|encryption|"
    r"client|master|app|auth|hmac|service|bot|license|ingest|webhook)[-_]?key|pem|cookie|authorization|bearer|"
    r"credentials?|(^|[-_])(pat|pass|pwd)|dsn|database[-_]?url|webhook([-_]?url)?)$", re.I)
# An environment variable names a secret when one of its words does: OPENAI_KEY, DEEPGRAM_KEY, X_API_KEY_2, TOKEN_PROD.
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
# `botTokens: […]`, `tokens: {access: …}`: a plural holds tokens when it holds a list or an object (`maxTokens: 4096`
# is a count).
_TOKENS_RE = re.compile(r"tokens$", re.I)
_ENV_SECRET_WORDS = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "PWD", "PAT",
                               "CREDENTIAL", "CREDENTIALS", "DSN", "PASSPHRASE", "COOKIE", "WEBHOOK"})
# …unless its last word says it is about the secret, not the secret: TOKEN_COUNT, API_KEY_FILE, SECRET_NAME.
_ENV_ABOUT_WORDS = frozenset({"COUNT", "LIMIT", "MAX", "MIN", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "LENGTH", "SIZE",
                              "FILE", "PATH", "DIR", "TYPE", "MODE", "NAME", "HEADER", "PREFIX", "FORMAT", "SOURCE",
                              "PROVIDER", "ENABLED", "REQUIRED"})
# In credential files (auth.json, auth-profiles.json, credentials/*.json), under a secret key and in credential
# tables, OAuth and stores keep their tokens under plain names.
CREDENTIAL_KEY_RE = re.compile(r"^(access|refresh|id_token|key|value|secret|current|previous|raw)$", re.I)
CREDENTIAL_FILE_RE = re.compile(r"(^|/)(auth(-profiles?)?|credentials?|secrets?|oauth)(\.[a-z0-9]+)*\.json5?$|(^|/)credentials/", re.I)
_CREDENTIAL_TABLE_RE = re.compile(r"auth|credential|secret|oauth|token|pairing|keys?$", re.I)

SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, flags)) for kind, pattern, flags in (
    ("PEM block", r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<v>.*?)-----END (?P=label)-----", re.S),
    ("PEM block without its END line", r"-----BEGIN [A-Z0-9 ]*(?:KEY|CERTIFICATE|KEY BLOCK)-----"
                                       r"(?P<v>(?:\\[nr]|[ \t\r\n]|[A-Za-z0-9+/=])+)", 0),
    ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{16,}", 0),
    ("OpenAI-style key", r"\bsk-[A-Za-z0-9_-]{16,}", 0),
    ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{20,}", 0),
    ("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{20,}", 0),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
    ("Slack token", r"\bxox[abprse]-[A-Za-z0-9-]{10,}", 0),
    ("Slack app token", r"\bxapp-[A-Za-z0-9-]{10,}", 0),
    ("Groq key", r"\bgsk_[A-Za-z0-9]{20,}", 0),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}", 0),
    ("npm token", r"\bnpm_[A-Za-z0-9]{30,}", 0),
    ("xAI key", r"\bxai-[A-Za-z0-9_-]{20,}", 0),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("Google OAuth token", r"\bya29\.[0-9A-Za-z_-]{20,}", 0),
    ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 0),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("Discord bot token", r"(?<![A-Za-z0-9_.-])(?P<v>[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40})"
                          r"(?![A-Za-z0-9_.-])", 0),
    ("Telegram bot token", r"(?<![\w:])\d{8,10}:[A-Za-z0-9_-]{35}(?![\w-])", 0),
    ("Bearer token", r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})", 0),
    ("Authorization header", r"(?i)\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?:basic|bearer|token|digest|"
                             r"negotiate|apikey)\s+(?P<v>[^\s\"'\\,;]{6,})", 0),
    ("Basic credentials", r"(?i)\bbasic\s+(?P<v>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])", 0),
    ("curl user:password", r"\bcurl\b[^\n|;&]*?\s(?:-u|--user)(?:\s+|=)[\"']?(?P<v>[^\s\"':]+:[^\s\"']+)", 0),
    ("URL credentials", r"\b[a-z][a-z0-9+.-]*://(?P<v>[^\s/@\"'\\<>]+)@", 0),
    ("Slack webhook", r"https://hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]+)", 0),
    ("Discord webhook", r"https://(?:discord|discordapp)\.com/api/webhooks/(?P<v>[A-Za-z0-9/_-]+)", 0),
))

# Some shape might match only where one of these does: texts without any skip the shapes (most strings of a
# transcript or a trajectory).
_SHAPE_HINT = re.compile(r"sk-|gh[pousr]_|github_pat_|glpat-|xox|xapp-|gsk_|hf_|npm_|xai-|AKIA|ASIA|AIza|ya29\.|"
                         r"[rs]k_|eyJ|-----BEGIN|(?i:bearer|basic|authorization|curl)|://|\d{8}:|"
                         r"[A-Za-z0-9_-]{23}\.[A-Za-z0-9_-]{6}")


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        return None


_VALID = {  # shapes that need more than a pattern to be what they say
    "Discord bot token": lambda v: (b := _b64(v.split(".")[0])) is not None and b.isdigit() and 15 <= len(b) <= 21,
    "Basic credentials": lambda v: (b := _b64(v)) is not None and b":" in b,
    "URL credentials": lambda v: ":" in v or len(v) >= 16,
}

# key, an optional closing quote (plain or escaped inside a JSON string), a separator, then the value; after ':'
# the value may be on the next line (JSON5), after '=' it may not (.env, shell).
_KEY_VALUE = re.compile(
    r"""(?<![A-Za-z0-9_-])(?P<key>[A-Za-z_][A-Za-z0-9_-]*)(?:\\?["'])?[ \t]*(?P<sep>:\s*|=[ \t]*)"""
    r"""(?:\\"(?P<escaped>[^"\\]*)\\"|"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'|(?P<open>[\[{])|"""
    r"""(?P<bare>\$\{[^}\s]*\}|[^\s,;}\]"'&<>\\]+))""")
_BLOCK_STRING = re.compile(r"""\\"(?P<escaped>(?:[^"\\]|\\\\[^"])*)\\"|"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'""")
_AUTH_SCHEME = re.compile(r"^(basic|bearer|token|digest|negotiate|apikey)$", re.I)
_SCHEMED = re.compile(r"^(?P<scheme>basic|bearer|token|digest|negotiate|apikey)\s+(?P<v>\S+)$", re.I)
_NOT_A_SECRET = re.compile(r"^(null|true|false|none|undefined|REDACTED(-[0-9a-f]+)?|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|"
                           r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|__[A-Z0-9_]+__|<redacted>|\*+|)$")
_NUMBER = re.compile(r"^-?\d[\d.eE+-]*$")
_ENUM_WORD = re.compile(r"^[a-z][a-z_.:-]{0,23}$")  # `source: "env"`, `type: "oauth"`, `mode: "json"`
_PLAIN_WORD = re.compile(r"^[A-Za-z]+$")
# After `key:` in free text, a word (or `delivery.mode=`, the start of an assignment) is prose, not a value…
_PROSE_WORD = re.compile(r"^(?:[A-Za-z]{1,15}|[A-Za-z][A-Za-z._-]{0,40}=)$")
_PASSWORD_KEY = re.compile(r"pass|pwd|secret", re.I)  # …unless the key is a password's
_UUID_OR_DIGEST = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|^[0-9a-f]{16,}", re.I)
_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_SCHEMA_WORDS = frozenset({"type", "description", "title", "format", "pattern", "$ref", "$schema"})
_SECRET_REF_SOURCES = frozenset({"env", "file", "exec"})
_NAMING_FIELDS = ("key", "name", "path", "header", "env", "variable", "var")  # {"key": "gateway.auth.token", …}
_VALUE_FIELDS = frozenset({"value", "before", "after", "default", "old", "new", "current", "previous"})
SQLITE_HEADER = b"SQLite format 3\0"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
MIN_REMEMBERED = 6  # shorter values are redacted where they stand, not searched for everywhere
MAX_INFLATED = 512 * 1024 * 1024  # a .gz that inflates past this is treated as binary

_KEY = _random.token_bytes(16)  # per process: tags are stable within a run, never linkable across runs
_remembered: set[str] = set()


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str  # "key apiKey", "shape Anthropic key", "remembered value", "removed: …"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}"


def tag(secret: str) -> str:
    return "REDACTED-" + hmac.new(_KEY, secret.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:8]


def remember(*values: str) -> None:
    """Values to redact wherever they appear, for the rest of this process (harness tokens, a state's secrets)."""
    _remembered.update(v for v in values if _rememberable(v))


@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    """Whether a key (JSON key, env var, header, SQLite column) names a secret."""
    if _ENV_NAME.match(key):
        words = key.split("_")
        if len(words) > 1 and words[-1] in _ENV_ABOUT_WORDS:
            return False
        return bool(_ENV_SECRET_WORDS.intersection(words)) or bool(SECRET_KEY_RE.search(key))
    return bool(SECRET_KEY_RE.search(key))


# --- what a run hands in and gets back ---------------------------------------------------------------------------


def known_secrets(files: Mapping[str, bytes]) -> set[str]:
    """Every secret value a state holds, by key name, by shape, and in credential files by their OAuth names;
    SQLite databases (with their -wal) are read on a temporary copy."""
    found: set[str] = set()
    context = _Context(matcher=_matcher(frozenset()))
    for path, data in files.items():
        if path.endswith(_SQLITE_SIDECARS) and path.rsplit("-", 1)[0] in files:
            continue
        ctx = context.with_credential(bool(CREDENTIAL_FILE_RE.search(path)))
        if data.startswith(SQLITE_HEADER):
            with tempfile.TemporaryDirectory(prefix="path3-known-") as work:
                copy = Path(work) / "db.sqlite"
                copy.write_bytes(data)
                for sidecar in _SQLITE_SIDECARS:
                    if path + sidecar in files:
                        Path(work, "db.sqlite" + sidecar).write_bytes(files[path + sidecar])
                try:
                    hits = _sqlite(copy, ctx, write=False)
                except _Refused:
                    hits = []
        else:
            hits = _bytes(data, path, ctx).hits
        found.update(hit.secret for hit in hits if hit.rememberable())
    return found


def scrub_text(text: str, *, also: Iterable[str] = (), credential_file: bool = False) -> tuple[str, list[tuple[int, str]]]:
    """`text` with every secret replaced by its tag, and (line, kind) for each replacement. A text that is a JSON or
    JSON5 document, or JSONL, is redacted by structure (and keeps its syntax); anything else as text."""
    ctx = _Context(credential=credential_file, matcher=_matcher(frozenset(also)))
    try:
        new, hits = _document(text, "", ctx)
    except _Refused:
        new, hits = _free_text(text, ctx)
    return new, [(_line(text, hit.offset), hit.kind) for hit in hits]


def scrub_bytes(data: bytes, name: str, *, also: Iterable[str] = ()) -> tuple[bytes | None, list[Finding]]:
    """A file's bytes redacted as what they are (None: it cannot be shared and must be left out)."""
    ctx = _Context(credential=bool(CREDENTIAL_FILE_RE.search(name)), matcher=_matcher(frozenset(also)))
    if data.startswith(SQLITE_HEADER):
        with tempfile.TemporaryDirectory(prefix="path3-scrub-") as work:
            copy = Path(work) / "db.sqlite"
            copy.write_bytes(data)
            try:
                hits = _sqlite(copy, ctx, write=True)
            except _Refused as refused:
                return None, [Finding(name, 0, f"removed: {refused}")]
            return copy.read_bytes(), [Finding(name, hit.offset, hit.kind) for hit in hits]
    result = _bytes(data, name, ctx)
    if result.data is None:
        return None, [Finding(name, 0, f"removed: {result.note}")]
    text = data.decode("utf-8", "surrogateescape") if result.text else ""
    return result.data, [Finding(name, _line(text, hit.offset) if result.text else 0, hit.kind) for hit in result.hits]


def scrub_file(path: Path, label: str | None = None, *, also: Iterable[str] = ()) -> list[Finding]:
    """Redact one file in place; untouched files are not rewritten. A file that cannot be redacted safely (binary
    holding a remembered secret, a database failing integrity_check) is removed, and the finding says so."""
    name = label or path.name
    return _file(path, name, _Context(credential=bool(CREDENTIAL_FILE_RE.search(name)),
                                      matcher=_matcher(frozenset(also))))


def find_secrets(root: Path) -> list[Finding]:
    """Every secret the redactor would remove from the files under `root`, which stay as they are (the redactor
    runs on a temporary copy: a database is only ever opened as a copy)."""
    with tempfile.TemporaryDirectory(prefix="path3-find-") as work:
        copy = Path(work) / "state"
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                target = copy / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        files = {str(p.relative_to(copy)): p.read_bytes() for p in sorted(copy.rglob("*")) if p.is_file()}
        result = redact_tree(copy, also=known_secrets(files))
        return (result.findings + [Finding(old, 0, "a secret in its name") for old, _ in result.renamed]
                + [Finding(name, 0, f"cannot be redacted: {why}") for name, why in result.removed])


@dataclass
class TreeResult:
    findings: list[Finding] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)  # (name, why); names redacted
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new); names redacted


def redact_tree(root: Path, *, also: Iterable[str] = (), only: Iterable[Path] | None = None) -> TreeResult:
    """Redact the files under `root` in place (or only those in `only`): databases through SQLite, then every
    other file as what it is, then names that hold a secret renamed."""
    result = TreeResult()
    matcher = _matcher(frozenset(also))
    selected = sorted(p for p in (root.rglob("*") if only is None else only)
                      if p.is_file() and not p.is_symlink() and _inside(p, root))
    databases = {p for p in selected if _is_sqlite(p)}
    for path in selected:
        name = path.relative_to(root).as_posix()
        ctx = _Context(credential=bool(CREDENTIAL_FILE_RE.search(name)), matcher=matcher)
        if not path.exists():
            continue  # a database's sidecar, gone with it
        if path.name.endswith(_SQLITE_SIDECARS):
            db = path.with_name(path.name.rsplit("-", 1)[0])
            if db in databases or (db.is_file() and _is_sqlite(db)):
                continue  # read and checkpointed with its database
            path.unlink()  # a WAL or journal without its database: pages no reader can check
            result.removed.append((_scrub_name(name, ctx), "a SQLite sidecar without its database"))
            continue
        findings = _file(path, name, ctx)
        shown = _scrub_name(name, ctx) if findings else name
        for finding in findings:
            if finding.kind.startswith("removed: "):
                result.removed.append((shown, finding.kind.removeprefix("removed: ")))
            else:
                result.findings.append(Finding(shown, finding.line, finding.kind))
    ctx = _Context(matcher=matcher)
    for path in sorted((p for p in (root.rglob("*") if only is None else selected) if p.exists()),
                       key=lambda p: len(p.parts), reverse=True):  # deepest first: a folder after what it holds
        new_name = _scrub_name(path.name, ctx)
        if new_name != path.name:
            target = path.with_name(new_name)
            while target.exists():
                target = target.with_name("_" + target.name)
            path.rename(target)
            result.renamed.append((_scrub_name(path.relative_to(root).as_posix(), ctx), target.relative_to(root).as_posix()))
    return result


def scrub_name(name: str, also: Iterable[str] = ()) -> str:
    """A relative path with every component that holds a secret (by shape or value, never a session id or a
    digest) redacted."""
    return _scrub_name(name, _Context(matcher=_matcher(frozenset(also))))


def _scrub_name(name: str, ctx: "_Context") -> str:
    parts = []
    for part in name.split("/"):
        if _UUID_OR_DIGEST.match(part):
            parts.append(part)
            continue
        new, _ = _free_text(part, ctx, key_values=False)
        parts.append(new)
    return "/".join(parts)


def snapshot(root: Path) -> frozenset[str]:
    """Every file under `root` now: what a command's closing sweep leaves alone (the user's own files there)."""
    found = set()
    for folder, _, names in os.walk(root):
        found.update(os.path.join(folder, name) for name in names)
    return frozenset(found)


def sweep(root: Path, *, since: float | None = None, existing: frozenset[str] | None = None) -> list[Finding]:
    """Redact every file under `root` (changed since `since`, when given; and not among `existing`, the files that
    were there before the command started, when given: a run redacts what it wrote, never a user's note)."""
    if not root.is_dir():
        return []
    chosen = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
              and (since is None or p.stat().st_mtime >= since - 1) and (existing is None or str(p) not in existing)]
    result = redact_tree(root, only=chosen)
    return (result.findings + [Finding(name, 0, f"removed: {why}") for name, why in result.removed]
            + [Finding(new, 0, "renamed: a secret in its name") for _, new in result.renamed])


def redact_value(value: Any, path: tuple[str | int, ...] = (), *, root: Any = None) -> Any:
    """A JSON value (at `path` in `root`) with its secrets replaced, as the structured pass would replace them."""
    ctx = _Context(matcher=_matcher(frozenset()))
    if root is None or _parents(root, path) is None:
        root = _nest(path, value)
    return _redact_python(value, list(path), _parents(root, path), ctx)


def config_changes(before: Mapping[str, str], after: Mapping[str, str], *, base: str = "openclaw.json") -> dict:
    """What changed between configs (JSON5 texts by file name), as dotted keys with redacted values: a file that
    exists only after (a backup doctor wrote) is compared with `base` before. Never the configs themselves."""
    files: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old_text = before.get(name, before.get(base) if name != base else None)
        new_text = after.get(name)
        entry: dict[str, Any] = {}
        if name not in before and name != base:
            entry["compared_with"] = f"{base} before"
        old, new = _config_value(old_text), _config_value(new_text)
        if old is _UNREADABLE or new is _UNREADABLE:
            entry["unreadable"] = [side for side, v in (("before", old), ("after", new)) if v is _UNREADABLE]
            entry["sha256"] = {side: hashlib.sha256(t.encode()).hexdigest() for side, t in
                               (("before", old_text), ("after", new_text)) if t is not None}
            files[name] = entry
            continue
        old_leaves, new_leaves = dict(_flatten(old)), dict(_flatten(new))
        changes = []
        for path in sorted(set(old_leaves) | set(new_leaves), key=lambda p: [str(k) for k in p]):
            if path in old_leaves and path in new_leaves and old_leaves[path] == new_leaves[path]:
                continue
            change: dict[str, Any] = {"key": ".".join(str(k) for k in path)}
            for side, leaves, config in (("before", old_leaves, old), ("after", new_leaves, new)):
                if path in leaves:
                    change[side] = redact_value(leaves[path], path, root=config)
            changes.append(change)
        entry["changed"] = changes
        files[name] = entry
    return {"note": "keys that differ (dotted paths), values redacted; the configs themselves are not kept",
            "files": files}


# --- internals: the context, hits, the remembered-value matcher ---------------------------------------------------


@dataclass(frozen=True)
class _Context:
    credential: bool = False
    matcher: "_Matcher | None" = None
    depth: int = 0  # JSON inside a JSON string inside …

    def with_credential(self, credential: bool) -> "_Context":
        return _Context(credential, self.matcher, self.depth)

    def deeper(self) -> "_Context":
        return _Context(self.credential, self.matcher, self.depth + 1)


@dataclass(frozen=True)
class _Hit:
    offset: int
    kind: str
    secret: str
    strong: bool = True  # named by its own key or its shape; weak: only somewhere under a secret key

    def rememberable(self) -> bool:
        if not self.strong:
            return _looks_random(self.secret)
        return _rememberable(self.secret)


class _Refused(Exception):
    """A file the redactor cannot make safe (it is removed, never written half-redacted)."""


def _rememberable(value: str) -> bool:
    return (bool(value) and len(value) >= MIN_REMEMBERED and not _NOT_A_SECRET.match(value)
            and not (len(value) < 16 and _PLAIN_WORD.match(value)) and "REDACTED-" not in value)


def _looks_random(value: str) -> bool:
    return (_rememberable(value) and len(value) >= 8 and not any(c.isspace() for c in value)
            and any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


class _Matcher:
    """Remembered values and their encoded forms (JSON-escaped, with `\\/`, URL-encoded, each twice; base64 of the
    value at any alignment), found in one pass by a trie-shaped regex."""

    def __init__(self, values: frozenset[str]) -> None:
        self.form_to_value: dict[str, str] = {}
        for value in sorted(values, key=len):
            for form in _forms(value):
                self.form_to_value.setdefault(form, value)
        words = [f for f in self.form_to_value if not _NUMBER.match(f)]
        numbers = [f for f in self.form_to_value if _NUMBER.match(f)]
        self.long = [f for f in words if len(f) > 160]  # a PEM body: found by str.find, not in the trie
        short = [f for f in words if len(f) <= 160]
        parts = ([_trie(short)] if short else []) + ([rf"(?<!\d){_trie(numbers)}(?!\d)"] if numbers else [])
        self.regex = re.compile("|".join(parts)) if parts else None
        self.bytes_regex = re.compile("|".join(parts).encode("utf-8", "surrogateescape")) if parts else None
        self.bytes_long = [f.encode("utf-8", "surrogateescape") for f in self.long]

    def spans(self, text: str) -> Iterable[tuple[int, int, str]]:
        if self.regex is not None:
            for match in self.regex.finditer(text):
                yield match.start(), match.end(), self.form_to_value[match.group(0)]
        for form in self.long:
            start = text.find(form)
            while start != -1:
                yield start, start + len(form), self.form_to_value[form]
                start = text.find(form, start + len(form))

    def in_bytes(self, data: bytes) -> bool:
        return bool(self.bytes_regex is not None and self.bytes_regex.search(data)) or any(
            form in data for form in self.bytes_long)


@lru_cache(maxsize=64)
def _matcher_for(values: frozenset[str]) -> _Matcher:
    return _Matcher(values)


def _matcher(also: frozenset[str]) -> _Matcher:
    return _matcher_for(frozenset(v for v in _remembered | also if _rememberable(v)))


@lru_cache(maxsize=4096)
def _forms(value: str) -> frozenset[str]:
    def text_forms(v: str) -> set[str]:
        escaped = json.dumps(v, ensure_ascii=False)[1:-1]
        return {escaped, json.dumps(v)[1:-1], escaped.replace("/", "\\/"), quote(v, safe=""), quote_plus(v, safe="")}

    once = text_forms(value)
    forms = {value} | once | {twice for form in once for twice in text_forms(form)}
    raw = value.encode("utf-8", "surrogateescape")
    if len(raw) >= 12:
        for shift in range(3):  # the secret's bytes at any offset of a larger base64 text
            encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
            core = encoded[(0, 2, 3)[shift]:len(encoded) - (1 if (shift + len(raw)) % 3 else 0)]
            if len(core) >= 12:
                forms |= {core, core.replace("+", "-").replace("/", "_")}
    return frozenset(f for f in forms if len(f) >= MIN_REMEMBERED)


def _trie(words: list[str]) -> str:
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    stack_safe = max((len(w) for w in words), default=0) < 900  # the regex nests one group per character
    return build(trie) if stack_safe else "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --- files --------------------------------------------------------------------------------------------------------


@dataclass
class _Bytes:
    data: bytes | None  # None: the file must go
    hits: list[_Hit]
    note: str = ""
    text: bool = False  # hits' offsets are into the decoded text


def _file(path: Path, name: str, ctx: _Context) -> list[Finding]:
    if _is_sqlite(path):
        try:
            hits = _sqlite(path, ctx, write=True)
        except _Refused as refused:
            for sibling in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDECARS)):
                sibling.unlink(missing_ok=True)
            return [Finding(name, 0, f"removed: {refused}")]
        return [Finding(name, hit.offset, hit.kind) for hit in hits]
    data = path.read_bytes()
    result = _bytes(data, name, ctx)
    if result.data is None:
        path.unlink()
        return [Finding(name, 0, f"removed: {result.note}")]
    if result.data != data:
        path.write_bytes(result.data)
    text = data.decode("utf-8", "surrogateescape") if result.text else ""
    return [Finding(name, _line(text, hit.offset) if result.text else 0, hit.kind) for hit in result.hits]


def _bytes(data: bytes, name: str, ctx: _Context) -> _Bytes:
    if data.startswith(SQLITE_HEADER):  # a database in a .gz or a bundle: checked, never edited as bytes
        return _Bytes(data, []) if not ctx.matcher.in_bytes(data) else _Bytes(
            None, [], "a SQLite database holding a remembered secret, outside a folder it can be opened in")
    if data[:2] == b"\x1f\x8b":
        inner = _gunzip(data)
        if inner is not None:
            result = _bytes(inner, name.removesuffix(".gz"), ctx)
            if result.data is None:
                return _Bytes(None, result.hits, result.note)
            if result.data == inner:
                return _Bytes(data, result.hits)
            mtime = int.from_bytes(data[4:8], "little")
            return _Bytes(gzip.compress(result.data, mtime=mtime), [_Hit(0, h.kind, h.secret, h.strong) for h in result.hits])
    if b"\0" in data or data[:2] == b"\x1f\x8b":
        if ctx.matcher.in_bytes(data):
            return _Bytes(None, [], "a binary file holding a remembered secret (binary files are never edited)")
        return _Bytes(data, [])
    text = data.decode("utf-8", "surrogateescape")
    try:
        new, hits = _document(text, name, ctx)
    except _Refused as refused:
        return _Bytes(None, [], str(refused))
    if not hits:
        return _Bytes(data, [], text=True)
    try:
        encoded = new.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _Bytes(None, hits, "its redacted text cannot be written back as it was encoded")
    return _Bytes(encoded, hits, text=True)


def _gunzip(data: bytes) -> bytes | None:
    """The decompressed bytes (members concatenated), or None: corrupt, or inflating past MAX_INFLATED."""
    out, rest = [], data
    size = 0
    try:
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = inflater.decompress(rest, MAX_INFLATED - size + 1)
            size += len(chunk)
            if size > MAX_INFLATED or inflater.unconsumed_tail:
                return None
            out.append(chunk)
            if not inflater.eof:
                return None
            rest = inflater.unused_data.lstrip(b"\0")
    except zlib.error:
        return None
    return b"".join(out)


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_HEADER
    except OSError:
        return False


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


# --- text documents: JSON, JSON5, JSONL, free text -----------------------------------------------------------------


def _document(text: str, name: str, ctx: _Context) -> tuple[str, list[_Hit]]:
    parsed = _parse(text)
    if parsed is not None:
        return _structured(text, parsed, ctx)
    if "\n" in text.rstrip("\r\n") or ".jsonl" in name:
        lines = text.split("\n")
        sample = [line for line in lines[:50] if line.strip()]
        if ".jsonl" in name or (sample and 2 * sum(_parse_line(line) is not None for line in sample) >= len(sample)):
            return _jsonl(lines, ctx)
    return _free_text(text, ctx)


def _parse(text: str) -> tuple[Any, bool] | None:
    """(value, strict) when `text` is one JSON (strict) or JSON5 document holding an object or an array."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head or head[0] not in "{[/":
        return None
    try:
        value = json.loads(text)
        return (value, True) if isinstance(value, (dict, list)) else None
    except (ValueError, RecursionError):
        pass
    try:
        value = json5text.loads(text)
    except ValueError:
        return None
    return (value, False) if isinstance(value, (dict, list)) else None


def _parse_line(line: str) -> Any:
    body = line[:-1] if line.endswith("\r") else line
    if not body.lstrip().startswith(("{", "[")):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def _jsonl(lines: list[str], ctx: _Context) -> tuple[str, list[_Hit]]:
    out, hits, offset = [], [], 0
    for line in lines:
        body, cr = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        value = _parse_line(body)
        new, found = _structured(body, (value, True), ctx) if value is not None else _free_text(body, ctx)
        out.append(new + cr if found else line)
        hits += [_Hit(offset + h.offset, h.kind, h.secret, h.strong) for h in found]
        offset += len(line) + 1
    return "\n".join(out), hits


def _structured(text: str, parsed: tuple[Any, bool], ctx: _Context) -> tuple[str, list[_Hit]]:
    """A JSON/JSON5 document with only its secret-bearing value tokens rewritten; refused (_Refused) if the result
    would not parse as the input did."""
    value, strict = parsed
    if not _needs_redaction(value, ctx):
        return text, []
    try:
        _, leaves = json5text.parse(text)
    except ValueError:  # JSON that the JSON5 reader refuses (it should not happen): treat it as text
        return _free_text(text, ctx)
    out, hits, position = [], [], 0
    for leaf in leaves:
        token = text[leaf.start:leaf.end]
        if leaf.kind == "key":  # a key is a name, unless it is a secret by shape or value (a cache keyed by a token)
            new_key, found = _free_text(leaf.value, ctx, key_values=False)
            replacement = new_key if found else None
        else:
            parents = _parents(value, leaf.path)
            if parents is None:
                continue  # a duplicate key the parsed value dropped
            replacement, found = _leaf(leaf.path, leaf.value, token, parents, ctx)
        if replacement is None:
            continue
        out.append(text[position:leaf.start])
        out.append(_encode(replacement, leaf, token))
        position = leaf.end
        hits += [_Hit(leaf.start, h.kind, h.secret, h.strong) for h in found]
    if not hits:
        return text, []
    out.append(text[position:])
    new = "".join(out)
    try:
        try:
            (json.loads if strict else json5text.loads)(new)
        except RecursionError:  # deeper than json.loads goes: the iterative reader checks it
            json5text.loads(new)
    except ValueError as error:
        raise _Refused(f"redacted, it would not parse ({error})") from None
    return new, hits


def _encode(replacement: Any, leaf: json5text.Leaf, token: str) -> str:
    if leaf.kind == "string" or (leaf.kind == "key" and leaf.quote):
        ascii_only = token.isascii() and "\\u" in token
        return json5text.encode_string(replacement, leaf.quote or '"', ascii_only=ascii_only)
    return json5text.encode_string(str(replacement))


def _needs_redaction(value: Any, ctx: _Context) -> bool:
    """Whether any leaf of the parsed value would change: the common case (nothing to do) costs no tokenising."""
    stack: list[tuple[Any, tuple | None]] = [(value, None)]  # paths as links (key, parent): deep stays linear
    while stack:
        node, link = stack.pop()
        if isinstance(node, dict):
            if any(_free_text(key, ctx, key_values=False)[1] for key in node):
                return True
            stack += [(child, (key, link)) for key, child in node.items()]
        elif isinstance(node, list):
            stack += [(child, (index, link)) for index, child in enumerate(node)]
        elif node is not None and not isinstance(node, bool):
            path = []
            while link is not None:
                path.append(link[0])
                link = link[1]
            path.reverse()
            if _leaf(tuple(path), node, "", _parents(value, path), ctx)[0] is not None:
                return True
    return False


def _parents(root: Any, path: Iterable[str | int]) -> list | None:
    """The containers along `path`: parents[i] holds path[i]; None when the path is not in `root`."""
    parents, node = [], root
    for key in path:
        parents.append(node)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return parents


def _nest(path: tuple[str | int, ...], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value} if isinstance(key, str) else [None] * key + [value]
    return value


def _leaf(path: tuple, value: Any, token: str, parents: list, ctx: _Context) -> tuple[Any, list[_Hit]]:
    """(the new value for a leaf, or None to keep its token; what was found)."""
    if value is None or isinstance(value, bool):
        return None, []
    secret, own = _secret_context(path, parents, ctx)
    exempt = _exempt(path, parents)
    if isinstance(value, (int, float)):
        if secret and own and not exempt:
            raw = token or json.dumps(value)
            return tag(raw), [_Hit(0, f"key {secret}", raw)]
        return None, []
    if not isinstance(value, str):
        return None, []
    if secret and not exempt:
        if _NOT_A_SECRET.match(value) or (not own and _ENUM_WORD.match(value)):
            return None, []
        schemed = _SCHEMED.match(value)
        if schemed:
            credential = schemed.group("v")
            if _NOT_A_SECRET.match(credential):
                return None, []
            return f"{schemed.group('scheme')} {tag(credential)}", [_Hit(0, f"key {secret}", credential, own)]
        return tag(value), [_Hit(0, f"key {secret}", value, own)]
    new, hits = _string(value, ctx)
    return (new if hits else None), hits


def _secret_context(path: tuple, parents: list, ctx: _Context) -> tuple[str | None, bool]:
    """(the nearest secret-naming key on the path, or None; whether the leaf's own key names a secret)."""
    secret: str | None = None
    own = False
    for index, key in enumerate(path):
        if not isinstance(key, str):
            continue
        container = parents[index]
        named = (is_secret_key(key) or ((ctx.credential or secret is not None) and bool(CREDENTIAL_KEY_RE.match(key)))
                 or (bool(_TOKENS_RE.search(key)) and index + 1 < len(path)))  # a container under `…Tokens`
        label = key
        if not named and key in _VALUE_FIELDS and isinstance(container, dict):
            for field_name in _NAMING_FIELDS:  # {"key": "gateway.auth.token", "before": …}
                named_by = container.get(field_name)
                if isinstance(named_by, str) and is_secret_key(re.split(r"[./:\[\]]", named_by.strip("[]."))[-1]):
                    named, label = True, named_by
                    break
        if named and secret is None:
            secret = label  # the outermost name says what it is: `token` for token.value
        own = named
    return secret, own


def _exempt(path: tuple, parents: list) -> bool:
    """A SecretRef's source/provider/id, or a JSON Schema's words about a field named like a secret."""
    if not path or not parents or not isinstance(parents[-1], dict) or not isinstance(path[-1], str):
        return False
    parent, key = parents[-1], path[-1]
    source, kind = parent.get("source"), parent.get("type")
    if key in ("source", "provider", "id") and isinstance(source, str) and source in _SECRET_REF_SOURCES \
            and isinstance(parent.get("id"), str):
        return True
    return (key in _SCHEMA_WORDS and isinstance(kind, str) and kind in _JSON_TYPES
            and any(k in parent for k in ("description", "properties", "items", "enum", "title", "format")))


def _redact_python(value: Any, path: list, parents: list, ctx: _Context) -> Any:
    if isinstance(value, dict):
        return {k: _redact_python(v, path + [k], parents + [value], ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_python(v, path + [i], parents + [value], ctx) for i, v in enumerate(value)]
    replacement, _ = _leaf(tuple(path), value, "", parents, ctx)
    return value if replacement is None else replacement


def _string(value: str, ctx: _Context) -> tuple[str, list[_Hit]]:
    """A string value (decoded): JSON inside it by structure, anything else as text."""
    stripped = value.strip()
    if ctx.depth < 8 and stripped[:1] in "{[" and stripped[-1:] in "}]":
        parsed = _parse(value)
        if parsed is not None:
            try:
                return _structured(value, parsed, ctx.deeper())
            except _Refused:
                pass
    return _free_text(value, ctx)


# --- free text: key=value, shapes, remembered values ---------------------------------------------------------------


def _free_text(text: str, ctx: _Context, *, key_values: bool = True) -> tuple[str, list[_Hit]]:
    spans: list[tuple[int, int, str, str, Any, bool]] = []  # start, end, kind, secret, replacement (None: its tag), strong
    if key_values:
        spans += _key_value_spans(text, ctx)
    for kind, pattern in SHAPES if _SHAPE_HINT.search(text) else ():
        valid = _VALID.get(kind)
        for match in pattern.finditer(text):
            group = "v" if "v" in pattern.groupindex else 0
            secret = match.group(group)
            if valid is None or valid(secret):
                spans.append((match.start(group), match.end(group), f"shape {kind}", secret, None, True))
    if ctx.matcher is not None:
        for start, end, value in ctx.matcher.spans(text):
            spans.append((start, end, "remembered value", value, None, True))
    if "\\u" in text or "\\/" in text:  # `\u0073k-…`, `https:\/\/…`: JSON escapes left in a text (encoded twice)
        view, starts = _unescaped(text)
        for kind, pattern in SHAPES:
            valid = _VALID.get(kind)
            for match in pattern.finditer(view):
                group = "v" if "v" in pattern.groupindex else 0
                if valid is None or valid(match.group(group)):
                    spans.append((starts[match.start(group)], starts[match.end(group)], f"shape {kind} (escaped)",
                                  match.group(group), None, True))
        if ctx.matcher is not None:
            spans += [(starts[a], starts[b], "remembered value (escaped)", v, None, True) for a, b, v in ctx.matcher.spans(view)]
    if not spans:
        return text, []
    out, hits, position = [], [], 0
    for start, end, kind, secret, replacement, strong in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if end <= position or _NOT_A_SECRET.match(secret):
            continue  # inside a span already replaced, or nothing secret
        if start < position:  # overlaps the span before: its remainder goes too
            start = position
        out.append(text[position:start])
        out.append(tag(secret) if replacement is None else replacement)
        hits.append(_Hit(start, kind, secret, strong))
        position = end
    if not hits:
        return text, []
    out.append(text[position:])
    return "".join(out), hits


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(/)")


def _unescaped(text: str) -> tuple[str, list[int]]:
    """`text` with its `\\uXXXX` and `\\/` escapes decoded, and for each character of that view (and its end) the
    index in `text` it came from."""
    view, starts, position = [], [], 0
    for match in _JSON_ESCAPE.finditer(text):
        view.append(text[position:match.start()])
        starts.extend(range(position, match.start()))
        view.append(chr(int(match.group(1), 16)) if match.group(1) else "/")
        starts.append(match.start())
        position = match.end()
    view.append(text[position:])
    starts.extend(range(position, len(text) + 1))
    return "".join(view), starts


def _key_value_spans(text: str, ctx: _Context) -> list[tuple[int, int, str, str, Any, bool]]:
    """Values under a secret key written as text: `KEY=value`, `"token": "…"`, `password: 1234`, `token: {…}`."""
    spans = []
    position = 0
    while (match := _KEY_VALUE.search(text, position)) is not None:
        key = match.group("key")
        group = next(g for g in ("escaped", "dq", "sq", "open", "bare") if match.group(g) is not None)
        secret_key = (is_secret_key(key) or (ctx.credential and CREDENTIAL_KEY_RE.match(key))
                      or (group == "open" and _TOKENS_RE.search(key)))
        if not secret_key:  # go on inside its value: an object's keys, a string's "token=…"
            position = match.start(group) + (1 if group == "open" else 0)
            continue
        position = match.end()
        if group == "open":
            end = _block_end(text, match.start("open"))
            spans += _block_spans(text, match.start("open"), end, key, ctx)
            position = end
            continue
        value = match.group(group)
        start, stop = match.start(group), match.end(group)
        if group == "bare":
            if _AUTH_SCHEME.match(value):  # `Authorization: Basic …`: the credential is the next word
                continue
            if match.group("sep").startswith(":") and not _ENV_NAME.match(key) and _PROSE_WORD.match(value) \
                    and not _PASSWORD_KEY.search(key):
                continue  # prose ("webhook: send …", "Webhook: mode=…"), not a value
        if _NOT_A_SECRET.match(value) or not value:
            continue
        spans.append((start, stop, f"key {key}", value, None, True))
    return spans


def _block_spans(text: str, start: int, end: int, key: str, ctx: _Context) -> list[tuple[int, int, str, str, Any, bool]]:
    """The values inside `key: {…}` / `key: […]` in free text: by structure when the block parses, else each
    string that is not a key (a truncated line)."""
    block = text[start:end]
    try:
        value, leaves = json5text.parse(block)
    except ValueError:
        value = None
    if value is not None:
        root = {key: value}
        spans = []
        for leaf in leaves:
            if leaf.kind == "key":
                continue
            path = (key, *leaf.path)
            replacement, hits = _leaf(path, leaf.value, block[leaf.start:leaf.end], _parents(root, path), ctx)
            if replacement is not None and hits:
                spans.append((start + leaf.start, start + leaf.end, hits[0].kind, hits[0].secret,
                              _encode(replacement, leaf, block[leaf.start:leaf.end]), hits[0].strong))
        return spans
    spans = []
    for inner in _BLOCK_STRING.finditer(text, start, end):
        if re.match(r"\s*:", text[inner.end():inner.end() + 8]):
            continue  # a key
        group = next(g for g in ("escaped", "dq", "sq") if inner.group(g) is not None)
        spans.append((inner.start(group), inner.end(group), f"key {key}", inner.group(group), None, False))
    return spans


def _block_end(text: str, start: int) -> int:
    """The index after the bracket closing the one at `start` (strings skipped), or the end of the text."""
    depth, index, quote_char = 0, start, None
    while index < len(text):
        char = text[index]
        if quote_char:
            if char == "\\":
                index += 1
            elif char == quote_char:
                quote_char = None
        elif char in "\"'":
            quote_char = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(text)


# --- SQLite ---------------------------------------------------------------------------------------------------------


def _sqlite(path: Path, ctx: _Context, *, write: bool) -> list[_Hit]:
    """Redact a database file through SQLite (never as bytes). Hits' offsets are rowids. _Refused when it fails
    integrity_check before or after, or a remembered secret is still in its bytes afterwards."""
    if not os.access(path, os.W_OK):
        path.chmod(path.stat().st_mode | 0o200)
    hits: list[_Hit] = []
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as error:
        raise _Refused(f"SQLite cannot open it ({error})") from None
    try:
        if (check := _integrity(conn)) != "ok":
            raise _Refused(f"SQLite integrity_check failed before redaction: {check}")
        for pragma in ("secure_delete = ON", "foreign_keys = OFF", "ignore_check_constraints = ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN IMMEDIATE")
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL").fetchall()
        dropped = False
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        virtual = [name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL")]
        for table, sql in tables:
            if table.startswith("sqlite_") or any(table.startswith(v + "_") for v in virtual):
                continue  # SQLite's own, and a virtual table's shadow tables (written through the table itself)
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({_quote(table)})")]
            without_rowid = "WITHOUT ROWID" in (sql or "").upper()
            keys = ([row[1] for row in sorted(conn.execute(f"PRAGMA table_info({_quote(table)})"), key=lambda r: r[5])
                     if row[5]] if without_rowid else ["rowid"])
            table_ctx = _Context(credential=bool(_CREDENTIAL_TABLE_RE.search(table)), matcher=ctx.matcher)
            select = f"SELECT {', '.join(map(_quote, keys))}, {', '.join(map(_quote, columns))} FROM {_quote(table)}"
            for row in conn.execute(select).fetchall():
                ident, values = row[:len(keys)], row[len(keys):]
                updates = {}
                for column, value in zip(columns, values):
                    new, found = _sqlite_value(column, value, table_ctx)
                    if found:
                        number = ident[0] if len(ident) == 1 and isinstance(ident[0], int) else 0
                        hits += [_Hit(number, f"{table}.{column} {h.kind}", h.secret, h.strong) for h in found]
                        updates[column] = new
                if updates and write:
                    if triggers and not dropped:  # an update trigger must not write (or refuse) anything
                        for name, _ in triggers:
                            conn.execute(f"DROP TRIGGER {_quote(name)}")
                        dropped = True
                    conn.execute(f"UPDATE {_quote(table)} SET {', '.join(f'{_quote(c)} = ?' for c in updates)} WHERE "
                                 + " AND ".join(f"{_quote(k)} IS ?" for k in keys), (*updates.values(), *ident))
        for _, trigger_sql in triggers if dropped else ():
            conn.execute(trigger_sql)
        conn.execute("COMMIT" if write else "ROLLBACK")
        if write:
            conn.execute("VACUUM")  # free pages still hold what was deleted or overwritten
            if (check := _integrity(conn)) != "ok":
                raise _Refused(f"SQLite integrity_check failed after redaction: {check}")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as error:
        raise _Refused(f"SQLite could not redact it ({error})") from None
    finally:
        conn.close()
    if write:
        for sidecar in _SQLITE_SIDECARS:  # checkpointed, or (a hot journal) rolled back when it was opened
            Path(str(path) + sidecar).unlink(missing_ok=True)
        if ctx.matcher is not None and ctx.matcher.in_bytes(path.read_bytes()):
            raise _Refused("a remembered secret is still in its bytes after redaction through SQLite")
    return hits


def _integrity(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:
        return str(error)
    return "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:3])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_value(column: str, value: Any, ctx: _Context) -> tuple[Any, list[_Hit]]:
    secret_column = is_secret_key(column) or is_secret_key(re.sub(r"_json$", "", column, flags=re.I))
    if isinstance(value, str):
        if secret_column:
            if _NOT_A_SECRET.match(value):
                return value, []
            return tag(value), [_Hit(0, f"key {column}", value)]
        try:
            return _document(value, "", ctx)
        except _Refused:
            return _free_text(value, ctx)
    if isinstance(value, bytes):
        if secret_column and value and not value.startswith(b"REDACTED-"[:len(value)]):
            # as many bytes as it had (a CHECK on its length still holds), and recognisably redacted
            stream = (tag(value.hex()) + "-").encode() * (len(value) // 18 + 1)
            return stream[:len(value)], [_Hit(0, f"key {column}", value.hex())]
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\0" not in text:
            try:
                new, hits = _document(text, "", ctx)
            except _Refused:
                new, hits = _free_text(text, ctx)
            return new.encode("utf-8", "surrogateescape"), hits
        if ctx.matcher is not None and ctx.matcher.in_bytes(value):
            out = value
            for form, secret in ctx.matcher.form_to_value.items():
                out = out.replace(form.encode("utf-8", "surrogateescape"), tag(secret).encode())
            return out, [_Hit(0, "remembered value", "")]
    return value, []


# --- config_changes helpers -------------------------------------------------------------------------------------------

_UNREADABLE = object()


def _config_value(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        value = json5text.loads(text)
        list(_flatten(value))
    except (ValueError, RecursionError):
        return _UNREADABLE
    return value


def _flatten(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _flatten(child, path + (key,))
    elif path:
        yield path, value
