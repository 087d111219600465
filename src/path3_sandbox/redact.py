"""`path3-sandbox fixtures redact IN OUT`: make a state shareable without changing what the upgrade sees.

Credential files go whole (credentials/, identity/, auth and OAuth files, .env files at any depth, keys);
every other file goes through the one redactor (redaction.py: by key name, by shape and by every secret value
the state holds anywhere), JSON5, backups, logs and transcripts included. With `placeholders`, message text
(and session labels and display names) is replaced by placeholders of the same length, distinct for distinct
texts, so ids, structure, line endings, event counts and a truncated last line stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as _random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FixtureError
from .redaction import CREDENTIAL_FILE_RE, Finding, known_secrets, scrub_text

SECRET_DIRS = ("credentials", "identity")  # folders at the state root that hold nothing but secrets
SECRET_NAME_RE = re.compile(r"^(auth|auth-profiles?|credentials?|secrets?|oauth|device(-auth)?)(\.[a-z0-9]+)*\.json5?$"
                            r"|\.(pem|key|p12|pfx)$|^\.env(\..+)?$|\.env$", re.I)
TEXT_KEYS = ("text", "thinking", "summary", "content")
STORE_TEXT_KEYS = ("label", "displayName", "subject")  # sessions.json fields people type or that echo a message
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass
class RedactionReport:
    removed_files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    replaced_texts: int = 0

    def lines(self) -> list[str]:
        return ([f"removed {path}" for path in self.removed_files]
                + [f"redacted {finding}" for finding in self.findings]
                + ([f"replaced {self.replaced_texts} message text(s) by same-length placeholders"] if self.replaced_texts else []))


def redact_state(source: Path, dest: Path, *, placeholders: bool = False) -> RedactionReport:
    from .userstate import copy_without_links_out

    if not source.is_dir():
        raise FixtureError(f"{source} is not a directory", hint="pass the state folder (unpack an archive first)")
    if dest.exists():
        raise FixtureError(f"{dest} already exists", hint="redact into a new folder")
    report = RedactionReport()
    report.removed_files += [f"{link}: a link, not copied" for link in copy_without_links_out(source.resolve(), dest)]
    files = {p: p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}
    known = known_secrets({str(p.relative_to(dest)): data for p, data in files.items()})  # before credential files go
    for path in sorted(dest.iterdir()):
        if path.name in SECRET_DIRS:
            report.removed_files.append(f"{path.name}{'/' if path.is_dir() else ''} (credentials)")
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for path, data in files.items():
        relative = str(path.relative_to(dest))
        if not path.exists():
            continue
        if SECRET_NAME_RE.search(path.name):
            path.unlink()
            report.removed_files.append(f"{relative} (credentials)")
            continue
        text = data.decode("utf-8", "surrogateescape")
        scrubbed, found = scrub_text(text, also=known, credential_file=bool(CREDENTIAL_FILE_RE.search(relative)))
        if found:
            path.write_bytes(scrubbed.encode("utf-8", "surrogateescape"))
            report.findings += [Finding(relative, line, kind) for line, kind in found]
    if placeholders:
        placeholder = Placeholders()
        for transcript in sorted(dest.rglob("*.jsonl")):
            transcript.write_bytes(placeholder.transcript(transcript.read_bytes()))
        for store in sorted(dest.rglob("sessions.json")):
            placeholder.store(store)
        report.replaced_texts = placeholder.replaced
    return report


class Placeholders:
    """Same-length placeholders, distinct for distinct texts (a keyed hash), and lines kept distinct."""

    def __init__(self) -> None:
        self.key = _random.token_bytes(16)
        self.replaced = 0

    def text(self, value: str, salt: int = 0) -> str:
        digest, out = bytes([salt]), []
        while len(out) < len(value) or "".join(out[: len(value)]) == value:  # never the text itself
            digest = hmac.new(self.key, digest + value.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
            out = out[: len(value) - 1] if len(out) >= len(value) else out  # redraw the last character
            out += [_ALPHABET[b % len(_ALPHABET)] for b in digest]
        self.replaced += 1
        return "".join(out[: len(value)])

    def transcript(self, data: bytes) -> bytes:
        """Line by line on bytes: endings (\\n or \\r\\n), a missing final newline and unparseable lines stay;
        byte-identical lines stay identical and different lines stay different."""
        cache: dict[bytes, bytes] = {}
        produced: dict[bytes, bytes] = {}  # placeholder line -> the line it came from
        lines = data.split(b"\n")
        for index, raw in enumerate(lines):
            body, cr = (raw[:-1], b"\r") if raw.endswith(b"\r") else (raw, b"")
            if body not in cache:
                cache[body] = self._line(body, produced)
            lines[index] = cache[body] + cr
        return b"\n".join(lines)

    def _line(self, body: bytes, produced: dict[bytes, bytes]) -> bytes:
        try:
            value = json.loads(body)
        except ValueError:
            return body  # a truncated or broken line is kept byte for byte: the importer must see it as it was
        for salt in range(16):
            before = self.replaced
            new = self._value(value, "", salt)
            if self.replaced == before:
                return body  # nothing to replace: the line stays byte for byte
            line = json.dumps(new, ensure_ascii=False, separators=(",", ":")).encode()
            if produced.setdefault(line, body) == body:
                return line
        raise FixtureError("placeholders could not keep two transcript lines apart", hint="redact without --placeholders")

    def _value(self, value: Any, key: str, salt: int) -> Any:
        if isinstance(value, dict):
            if value.get("type") == "session":  # the header: ids and cwd structure only
                return value
            return {k: self._value(v, k, salt) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(item, key, salt) for item in value]
        if isinstance(value, str) and key in TEXT_KEYS and value:
            return self.text(value, salt)
        return value

    def store(self, store: Path) -> None:
        """Labels and display names in a session store become placeholders; keys and ids stay."""
        try:
            entries = json.loads(store.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(entries, dict):
            return
        for entry in entries.values():
            for key in STORE_TEXT_KEYS:
                if isinstance(entry, dict) and isinstance(entry.get(key), str):
                    entry[key] = self.text(entry[key])
        store.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
