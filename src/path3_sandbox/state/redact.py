"""`path3-sandbox fixtures redact IN OUT`: make a state shareable without changing what the upgrade sees.

Credential files go whole (credentials/, identity/, auth and OAuth files, .env files at any depth, keys);
every other file goes through the one redactor (report/redaction/: by key name, by shape and by every secret value
the state holds anywhere), each as what it is: JSON and JSON5 (configs, backups, stores) by structure, JSONL
transcripts and logs line by line, SQLite databases through SQLite (integrity_check `ok` after), gzip-rotated logs
decompressed and recompressed; a binary file is never edited (kept when it holds no known secret, else removed),
a file whose name holds a secret is renamed. Every removal and rename is reported, by a name with no secret in it.
With `placeholders`, message text (transcripts, their .reset/.deleted copies, trajectory sidecars' prompts and
assistant texts, session labels and display names) is replaced by placeholders of the same length, distinct for
distinct texts, so ids, structure, line endings, event counts and a truncated last line stay exactly as they were.
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

from ..errors import FixtureError
from ..report.redaction import Finding, known_secrets, redact_tree, scrub_name, scrub_text
from .tree import read_bytes

SECRET_DIRS = ("credentials", "identity")  # folders at the state root that hold nothing but secrets
SECRET_NAME_RE = re.compile(r"^(auth|auth-profiles?|credentials?|secrets?|oauth|device(-auth)?)(\.[a-z0-9]+)*\.json5?$"
                            r"|\.(pem|key|p12|pfx)$|^\.env(\..+)?$|\.env$", re.I)
TEXT_KEYS = ("text", "thinking", "summary", "content",
             "prompt", "finalPromptText", "assistantTexts")  # the last three: trajectory sidecars (*.trajectory.jsonl)
TRANSCRIPT_RE = re.compile(r"\.jsonl(\.(reset|deleted)\.[^/]*)?$")  # transcripts, their reset and deleted copies
STORE_TEXT_KEYS = ("label", "displayName", "subject")  # sessions.json fields people type or that echo a message
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass
class RedactionReport:
    removed_files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    replaced_texts: int = 0
    renamed_files: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=set, repr=False)  # the state's secrets: no printed line may hold one

    def lines(self) -> list[str]:
        lines = ([f"removed {path}" for path in self.removed_files]
                 + [f"renamed {path}" for path in self.renamed_files]
                 + [f"redacted {finding}" for finding in self.findings]
                 + ([f"replaced {self.replaced_texts} message text(s) by same-length placeholders"] if self.replaced_texts else []))
        return [scrub_text(line, also=self.known)[0] for line in lines]


def redact_state(source: Path, dest: Path, *, placeholders: bool = False) -> RedactionReport:
    from .unpack import copy_without_links_out

    if not source.is_dir():
        raise FixtureError(f"{source} is not a directory", hint="pass the state folder (unpack an archive first)")
    if dest.exists():
        raise FixtureError(f"{dest} already exists", hint="redact into a new folder")
    report = RedactionReport()
    links = copy_without_links_out(source.resolve(), dest)
    files = read_bytes(dest)
    known = report.known = known_secrets(files)  # before credential files go
    report.removed_files += [f"{scrub_name(link, known)}: a link, not copied" for link in links]
    for path in sorted(dest.iterdir()):
        if path.name in SECRET_DIRS:
            report.removed_files.append(f"{path.name}{'/' if path.is_dir() else ''} (credentials)")
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for relative in files:
        path = dest / relative
        if path.exists() and SECRET_NAME_RE.search(path.name):
            path.unlink()
            report.removed_files.append(f"{scrub_name(relative, known)} (credentials)")
    result = redact_tree(dest, also=known)
    report.findings += result.findings
    report.removed_files += [f"{name} ({why})" for name, why in result.removed]
    report.renamed_files += [f"{new} (a secret in its name)" for _, new in result.renamed]
    if placeholders:
        placeholder = Placeholders()
        for transcript in sorted(p for p in dest.rglob("*") if p.is_file() and TRANSCRIPT_RE.search(p.name)):
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
        except RecursionError:
            raise _too_deep("a transcript line") from None
        for salt in range(16):
            before = self.replaced
            try:
                new = self._value(value, "", salt)
            except RecursionError:
                raise _too_deep("a transcript line") from None
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
        except RecursionError:
            raise _too_deep(str(store.name)) from None
        if not isinstance(entries, dict):
            return
        for entry in entries.values():
            for key in STORE_TEXT_KEYS:
                if isinstance(entry, dict) and isinstance(entry.get(key), str):
                    entry[key] = self.text(entry[key])
        store.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _too_deep(what: str) -> FixtureError:
    return FixtureError(f"{what} is nested too deeply to replace its message text by placeholders",
                        hint="redact without --placeholders (secrets are still redacted), or share a smaller state")
