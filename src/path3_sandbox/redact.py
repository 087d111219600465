"""`path3-sandbox fixtures redact IN OUT`: make a state shareable without changing what the upgrade sees.

Secrets go: config values whose key names a token, key, secret or password; credential, identity and
auth-profile files. With `placeholders`, message text (and session labels and display names) is replaced by
placeholders of the same length, while ids, structure and counts stay, so the proof's import counts are unchanged.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FixtureError

# Key names that hold a secret ("token", "apiKey", "botToken", "clientSecret"), not counts ("maxTokens").
SECRET_KEY_RE = re.compile(r"(token|secret|password|passphrase|api[-_]?key|private[-_]?key|cookie|authorization|bearer)$", re.I)
SECRET_FILES = ("credentials", "identity", ".env")  # folders or files at the state root
SECRET_NAME_RE = re.compile(r"(auth-profiles?|credentials?|secrets?|oauth|device)(\.[a-z0-9]+)*\.json$|\.(pem|key)$", re.I)
REDACTED = "REDACTED"
TEXT_KEYS = ("text", "thinking", "summary")
STORE_TEXT_KEYS = ("label", "displayName", "subject")  # sessions.json fields people type or that echo a message


@dataclass
class RedactionReport:
    removed_files: list[str] = field(default_factory=list)
    redacted_keys: list[str] = field(default_factory=list)
    replaced_texts: int = 0

    def lines(self) -> list[str]:
        return ([f"removed {path}" for path in self.removed_files]
                + [f"redacted {key}" for key in self.redacted_keys]
                + ([f"replaced {self.replaced_texts} message text(s) by same-length placeholders"] if self.replaced_texts else []))


def redact_state(source: Path, dest: Path, *, placeholders: bool = False) -> RedactionReport:
    from .userstate import copy_without_links_out

    if not source.is_dir():
        raise FixtureError(f"{source} is not a directory", hint="pass the state folder (unpack an archive first)")
    if dest.exists():
        raise FixtureError(f"{dest} already exists", hint="redact into a new folder")
    report = RedactionReport()
    report.removed_files += [f"{link}: a link, not copied" for link in copy_without_links_out(source.resolve(), dest)]
    for path in sorted(dest.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists():
            continue
        relative = str(path.relative_to(dest))
        if (path.parent == dest and path.name in SECRET_FILES) or (path.is_file() and SECRET_NAME_RE.search(path.name)):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            report.removed_files.append(relative)
    for config in dest.rglob("*.json"):
        if not config.is_file():
            continue
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        cleaned = _redact_keys(data, str(config.relative_to(dest)), report)
        config.write_text(json.dumps(cleaned, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if placeholders:
        for transcript in dest.rglob("*.jsonl"):
            transcript.write_bytes(_placeholder_transcript(transcript.read_bytes(), report))
        for store in dest.rglob("sessions.json"):
            _placeholder_store(store, report)
    return report


def _redact_keys(value: Any, where: str, report: RedactionReport, path: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            dotted = f"{path}.{key}" if path else key
            if SECRET_KEY_RE.search(key) and isinstance(item, str) and item:
                out[key] = REDACTED
                report.redacted_keys.append(f"{where}: {dotted}")
            else:
                out[key] = _redact_keys(item, where, report, dotted)
        return out
    if isinstance(value, list):
        return [_redact_keys(item, where, report, f"{path}[]") for item in value]
    return value


def _placeholder_transcript(data: bytes, report: RedactionReport) -> bytes:
    """Each line re-serialised with text replaced; byte-identical lines stay byte-identical."""
    out, cache = [], {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line not in cache:
            try:
                value = json.loads(line)
                cache[line] = json.dumps(_placeholder(value, report), ensure_ascii=False, separators=(",", ":"))
            except ValueError:
                cache[line] = line
        out.append(cache[line])
    return ("\n".join(out) + "\n").encode("utf-8")


def _placeholder_store(store: Path, report: RedactionReport) -> None:
    """Labels and display names in a session store become same-length placeholders; keys and ids stay."""
    try:
        entries = json.loads(store.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(entries, dict):
        return
    for entry in entries.values():
        for key in STORE_TEXT_KEYS:
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                entry[key] = "x" * len(entry[key])
                report.replaced_texts += 1
    store.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _placeholder(value: Any, report: RedactionReport, key: str = "") -> Any:
    if isinstance(value, dict):
        if value.get("type") == "session":  # the header: ids and cwd structure only
            return value
        return {k: _placeholder(v, report, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder(item, report, key) for item in value]
    if isinstance(value, str) and key in TEXT_KEYS + ("content",):
        report.replaced_texts += 1
        return "x" * len(value)
    return value
