"""One redactor for everything path3-sandbox writes or prints: evidence files, bundles, progress lines and
`fixtures redact`.

A secret is found three ways, on raw text (so JSON, JSON5, .env, logs and JSONL transcripts alike, line endings
and unparseable lines untouched):
    by key name      a value under a key that names a secret (`apiKey`, `botToken`, `GITHUB_PAT`, `DATABASE_URL`,
                     `X-Api-Key`, `secretKey`, `password`), a string, a bare word or every string in an object or list
    by shape         `sk-…`, `sk-ant-…`, `ghp_…`, `github_pat_…`, `xox[abprs]-…`, `AKIA…`, JWTs, PEM blocks,
                     `Bearer …`, credentials in URLs, Slack and Discord webhook URLs
    by value         every value remembered this process: the harness's tokens and what `known_secrets` found in a
                     seeded state (so a token from auth.json is also redacted where a log or transcript repeats it)

Each secret becomes `REDACTED-<tag>`: the tag is a keyed hash, the same for the same secret within one process and
different for different ones, so redaction never makes two distinct lines identical (event counts stay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as _random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# A key names a secret when it ends so ("apiKey", "botToken", "X-Api-Key", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY"),
# not when it counts them ("maxTokens", "contextTokens"): suffixes are matched whole, case-insensitively.
SECRET_KEY_RE = re.compile(
    r"(token|secrets?|passwords?|passwd|passphrase|api[-_]?keys?|(secret|private|access|signing|encryption|client|"
    r"master|app)[-_]?key|pem|cookie|authorization|bearer|credentials?|(^|[-_])pat|dsn|database[-_]?url|"
    r"webhook([-_]?url)?)$", re.I)
# In credential files (auth.json, auth-profiles.json, credentials/*.json) OAuth keeps its tokens under plain names.
CREDENTIAL_KEY_RE = re.compile(r"^(access|refresh|id_token|key|value|secret)$", re.I)
CREDENTIAL_FILE_RE = re.compile(r"(^|/)(auth(-profiles?)?|credentials?|secrets?|oauth)(\.[a-z0-9]+)*\.json5?$|(^|/)credentials/", re.I)

SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, flags)) for kind, pattern, flags in (
    ("PEM block", r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<v>.*?)-----END (?P=label)-----", re.S),
    ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{16,}", 0),
    ("OpenAI-style key", r"\bsk-[A-Za-z0-9_-]{16,}", 0),
    ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{20,}", 0),
    ("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{20,}", 0),
    ("Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}", 0),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 0),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("Bearer token", r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})", 0),
    ("URL credentials", r"\b[a-z][a-z0-9+.-]*://(?P<v>[^\s/@\"'\\<>]+)@", 0),
    ("Slack webhook", r"https://hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]+)", 0),
    ("Discord webhook", r"https://(?:discord|discordapp)\.com/api/webhooks/(?P<v>[A-Za-z0-9/_-]+)", 0),
))

# key, an optional closing quote (plain or escaped inside a JSON string), a separator, then the value.
_KEY_VALUE = re.compile(
    r"""(?<![A-Za-z0-9_-])(?P<key>[A-Za-z_][A-Za-z0-9_-]*)(?:\\?["'])?[ \t]*[:=][ \t]*"""
    r"""(?:\\"(?P<escaped>[^"\\]*)\\"|"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'|(?P<open>[\[{])|"""
    r"""(?P<bare>[^\s,;}\]"'&<>\\]+))""")
_BLOCK_STRING = re.compile(r"""\\"(?P<escaped>[^"\\]*)\\"(?!\s*:)|"(?P<dq>(?:[^"\\\n]|\\.)*)"(?!\s*:)|'(?P<sq>[^'\n]*)'(?!\s*:)""")
_NOT_A_SECRET = re.compile(r"^(null|true|false|-?\d[\d.eE+-]*|REDACTED(-[0-9a-f]+)?|\$\{[^}]*\}|)$")
MIN_REMEMBERED = 6  # shorter values are redacted where they stand, not searched for everywhere

_KEY = _random.token_bytes(16)  # per process: tags are stable within a run, never linkable across runs
_remembered: set[str] = set()


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str  # "key apiKey", "shape Anthropic key", "remembered value"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}"


def tag(secret: str) -> str:
    return "REDACTED-" + hmac.new(_KEY, secret.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:8]


def remember(*values: str) -> None:
    """Values to redact wherever they appear, for the rest of this process (harness tokens, a state's secrets)."""
    _remembered.update(v for v in values if v and len(v) >= MIN_REMEMBERED and not _NOT_A_SECRET.match(v))


def known_secrets(files: Mapping[str, bytes]) -> set[str]:
    """Every secret value a state holds, by key name, by shape, and in credential files by their OAuth names."""
    found: set[str] = set()
    for path, data in files.items():
        text = data.decode("utf-8", "surrogateescape")
        found.update(value for *_, value in _key_value_spans(text, bool(CREDENTIAL_FILE_RE.search(path))))
        for _, pattern in SHAPES:
            found.update(m.group("v") if "v" in pattern.groupindex else m.group(0) for m in pattern.finditer(text))
    return {v for v in found if len(v) >= MIN_REMEMBERED and not _NOT_A_SECRET.match(v)}


def scrub_text(text: str, *, also: Iterable[str] = (), credential_file: bool = False) -> tuple[str, list[tuple[int, str]]]:
    """`text` with every secret replaced by its tag, and (line, kind) for each replacement."""
    spans: list[tuple[int, int, str, str]] = []  # start, end, kind, secret
    for start, end, key, value in _key_value_spans(text, credential_file):
        spans.append((start, end, f"key {key}", value))
    for kind, pattern in SHAPES:
        for match in pattern.finditer(text):
            group = "v" if "v" in pattern.groupindex else 0
            spans.append((match.start(group), match.end(group), f"shape {kind}", match.group(group)))
    for value in sorted(_remembered | set(also), key=len, reverse=True):
        for form in {value, json.dumps(value, ensure_ascii=False)[1:-1]}:
            start = text.find(form)
            while start != -1:
                spans.append((start, start + len(form), "remembered value", value))
                start = text.find(form, start + len(form))
    if not spans:
        return text, []
    out, findings, position = [], [], 0
    for start, end, kind, secret in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if end <= position or _NOT_A_SECRET.match(secret):
            continue  # inside a span already replaced, or nothing secret
        if start < position:  # overlaps the span before: its remainder goes too
            start = position
        out.append(text[position:start])
        out.append(tag(secret))
        findings.append((text.count("\n", 0, start) + 1, kind))
        position = end
    out.append(text[position:])
    return "".join(out), findings


def scrub_file(path: Path, label: str | None = None) -> list[Finding]:
    """Redact one file in place (bytes that are not UTF-8 pass through); untouched files are not rewritten."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:  # binary: a bundle, an image layer; never written with our text
        return []
    text = data.decode("utf-8", "surrogateescape")
    name = label or path.name
    scrubbed, findings = scrub_text(text, credential_file=bool(CREDENTIAL_FILE_RE.search(name)))
    if findings:
        path.write_bytes(scrubbed.encode("utf-8", "surrogateescape"))
    return [Finding(name, line, kind) for line, kind in findings]


def find_secrets(root: Path) -> list[Finding]:
    """Every secret the redactor would remove from the files under `root`, which stay as they are."""
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    known = known_secrets(files)
    findings = []
    for name, data in files.items():
        _, found = scrub_text(data.decode("utf-8", "surrogateescape"), also=known,
                              credential_file=bool(CREDENTIAL_FILE_RE.search(name)))
        findings += [Finding(name, line, kind) for line, kind in found]
    return findings


def sweep(root: Path, *, since: float | None = None) -> list[Finding]:
    """Redact every file under `root` (changed since `since`, when given)."""
    if not root.is_dir():
        return []
    findings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if since is None or path.stat().st_mtime >= since - 1:
            findings += scrub_file(path, str(path.relative_to(root)))
    return findings


def _key_value_spans(text: str, credential_file: bool) -> Iterable[tuple[int, int, str, str]]:
    """(start, end, key, value) of every value under a secret key; a block yields each string inside it."""
    position = 0
    while (match := _KEY_VALUE.search(text, position)) is not None:
        key = match.group("key")
        secret_key = SECRET_KEY_RE.search(key) or (credential_file and CREDENTIAL_KEY_RE.match(key))
        if not secret_key:  # go on inside its value: an object's keys, a string's "token=…"
            group = next(g for g in ("escaped", "dq", "sq", "open", "bare") if match.group(g) is not None)
            position = match.start(group) + (1 if group == "open" else 0)
            continue
        position = match.end()
        if match.group("open") is not None:
            end = _block_end(text, match.start("open"))
            for inner in _BLOCK_STRING.finditer(text, match.start("open"), end):
                group = next(g for g in ("escaped", "dq", "sq") if inner.group(g) is not None)
                yield inner.start(group), inner.end(group), key, inner.group(group)
            position = end
            continue
        group = next(g for g in ("escaped", "dq", "sq", "bare") if match.group(g) is not None)
        yield match.start(group), match.end(group), key, match.group(group)


def _block_end(text: str, start: int) -> int:
    """The index after the bracket closing the one at `start` (strings skipped), or the end of the text."""
    depth, index, quote = 0, start, None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(text)

