"""What a legacy state holds, parsed before the Gateway ever sees it.

Every seeded file is hashed (the Gateway rewrites `sessions.json`, moves transcripts, migrates
`state/openclaw.sqlite` and deletes `identity/device.json`), so each one's fate can be judged later.
Session files are parsed: sessions (key -> entry) per agent, and per transcript every line as an event
with its raw bytes, its id (when it has one) and a hash of its canonical JSON. Lines are decoded as
strict UTF-8: a line that is not valid UTF-8 is malformed, never silently repaired. A store or line nested deeper
than MAX_JSON_DEPTH or bigger than MAX_JSON_BYTES is a FixtureError (exit 2): Python's parser and the hashing
behind it recurse, so such a document would end in a RecursionError, and no OpenClaw state holds one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..errors import FixtureError
from .layout import is_legacy_path, is_legacy_store_path

MAX_JSON_DEPTH = 256  # OpenClaw's stores and transcript lines nest under 10; Python's json recurses, ~1000 at most
MAX_JSON_BYTES = 256 * 1024**2  # one sessions.json or one transcript line
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def js_json(value: Any) -> str:
    """What JSON.stringify writes for a parsed value: no spaces, non-ASCII as is, key order as JavaScript keeps it
    (integer-like keys first, ascending; then insertion order), numbers and lone surrogates spelled as JS does."""
    return _js_text(value, sort_keys=False)


def content_hash(value: Any) -> str:
    """sha256 of canonical JSON: the same for equal values however they were serialised. The canonical text is
    JSON.stringify's spelling with sorted keys: `1.0` and `1` are one value to the Gateway (it stores JSON.stringify
    of each parsed line), and a lone surrogate (JSON.stringify's `\\ud83d` for a cut emoji) is hashed as that escape,
    the same on a legacy line and on the SQLite row that stores it."""
    return hashlib.sha256(_js_text(value, sort_keys=True).encode("utf-8")).hexdigest()


_ENCODE_STRING = json.encoder.encode_basestring  # C: escapes ", \, \b\f\n\r\t, other controls as \u00xx
_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")
_MAX_SAFE = 2**53


def _js_text(value: Any, *, sort_keys: bool) -> str:
    parts: list[str] = []
    _emit(value, sort_keys, parts.append)
    text = "".join(parts)
    # JSON.stringify writes a lone surrogate as a \u escape (a pair is one character: json.loads joins escaped pairs).
    return text if text.isascii() else _SURROGATES.sub(_surrogate, text)


def _surrogate(match: re.Match) -> str:
    found = match.group()
    if len(found) == 2:
        return chr(0x10000 + ((ord(found[0]) - 0xD800) << 10) + (ord(found[1]) - 0xDC00))
    return f"\\u{ord(found):04x}"


def _emit(value: Any, sort_keys: bool, out) -> None:
    if isinstance(value, str):
        out(_ENCODE_STRING(value))
    elif value is None or value is True or value is False:
        out("null" if value is None else "true" if value else "false")
    elif isinstance(value, (int, float)):
        out(js_number(value))
    elif isinstance(value, dict):
        keys = sorted(value) if sort_keys else _js_key_order(value)
        out("{")
        for index, key in enumerate(keys):
            out(("," if index else "") + _ENCODE_STRING(key) + ":")
            _emit(value[key], sort_keys, out)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _emit(item, sort_keys, out)
        out("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _js_key_order(value: dict) -> list[str]:
    """JavaScript's property order: array-index keys ascending, then the rest in insertion order."""
    index = [k for k in value if k.isdigit() and k.isascii() and (k == "0" or k[0] != "0") and int(k) < 2**32 - 1]
    if not index:
        return list(value)
    chosen = set(index)
    return sorted(index, key=int) + [k for k in value if k not in chosen]


def js_number(number: int | float) -> str:
    """Number.prototype.toString of the double JSON.parse makes of `number` (JSON.stringify's spelling): 1.0 -> 1,
    1e2 -> 100, 1e21 -> 1e+21, 1e-7 -> 1e-7, 1.5e-5 -> 0.000015; a non-finite one is null."""
    if isinstance(number, int):
        if -_MAX_SAFE <= number <= _MAX_SAFE:
            return str(number)
        try:
            number = float(number)  # what JSON.parse keeps of a longer integer
        except OverflowError:
            return "null"
    if number != number or number in (float("inf"), float("-inf")):
        return "null"
    if number.is_integer() and abs(number) <= _MAX_SAFE:  # exact; beyond, JS pads its shortest digits with zeros
        return str(int(number))
    sign, text = ("-" if number < 0 else ""), repr(abs(number))  # repr: the shortest digits that round-trip, as JS
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # the decimal point sits after this many of `digits`
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    power = f"e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + power


def agent_of(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    return parts[1] if parts[0] == "agents" else None


@dataclass(frozen=True)
class LegacyFile:
    path: str
    size: int
    mtime: float
    sha256: str

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime": self.mtime, "sha256": self.sha256}


@dataclass(frozen=True)
class LegacyEvent:
    line: int
    event_id: str | None
    type: str
    content_sha256: str
    value: Any  # the parsed line: needed to match events the importer normalised (v1 synthetic ids, …)
    raw: bytes = b""  # the line's bytes as written, without its line ending

    def to_json(self) -> dict:
        return {"line": self.line, "id": self.event_id, "type": self.type, "sha256": self.content_sha256}


@dataclass(frozen=True)
class LegacyTranscript:
    path: str
    agent: str | None
    session_id: str  # the header's id, else the file name's stem
    version: int | None
    events: tuple[LegacyEvent, ...]
    malformed_lines: tuple[int, ...]

    @property
    def distinct_events(self) -> int:
        return len(self.events) - len(self.repeated_lines)

    @property
    def repeated_lines(self) -> tuple[int, ...]:
        """Lines that repeat an earlier one: the Gateway stores JSON.stringify of each parsed line and skips
        exact repeats of those bytes. v1 lines get distinct synthetic ids first, so nothing repeats there."""
        if (self.version or 1) < 2:
            return ()
        seen, repeated = set(), []
        for event in self.events:
            key = js_json(event.value)
            if key in seen:
                repeated.append(event.line)
            seen.add(key)
        return tuple(repeated)

    def to_json(self) -> dict:
        return {"path": self.path, "agent": self.agent, "sessionId": self.session_id, "version": self.version,
                "lines": len(self.events), "distinct_events": self.distinct_events,
                "malformed_lines": list(self.malformed_lines), "events": [e.to_json() for e in self.events]}


@dataclass(frozen=True)
class LegacyEntry:
    agent: str | None
    store: str
    key: str
    session_id: str | None
    session_file: str | None
    fields: Any = None  # the whole legacy entry, as written (after seeding)

    def to_json(self) -> dict:
        return {"agent": self.agent, "store": self.store, "key": self.key, "sessionId": self.session_id,
                "sessionFile": self.session_file}


@dataclass(frozen=True)
class Inventory:
    files: tuple[LegacyFile, ...]  # every seeded file, session files or not: each needs a fate
    entries: tuple[LegacyEntry, ...]
    transcripts: tuple[LegacyTranscript, ...]
    unreadable: tuple[str, ...]  # stores that are not JSON objects (e.g. JSON5), as "path: why"
    # identity/device.json's public parts (deviceId, publicKeyPem, createdAtMs): the Gateway deletes the file after
    # importing it, so its row in device_identities is judged against these (the private key is never kept here)
    device_identity: dict | None = None

    def transcript_for(self, session_id: str, session_file: str | None = None) -> LegacyTranscript | None:
        """The transcript a session's events come from: the file named after it (or after its sessionFile),
        else one whose header names it. A compaction checkpoint snapshot is never it."""
        candidates = [t for t in self.transcripts if ".checkpoint." not in t.path]
        names = {f"{session_id}.jsonl"} | ({PurePosixPath(session_file).name} if session_file else set())
        by_name = [t for t in candidates if PurePosixPath(t.path).name in names]
        if by_name:
            return by_name[0]
        return next((t for t in candidates if t.session_id == session_id), None)

    def to_json(self) -> dict:
        return {"files": [f.to_json() for f in self.files], "entries": [e.to_json() for e in self.entries],
                "transcripts": [t.to_json() for t in self.transcripts], "unreadable": list(self.unreadable)}


def build_inventory(files: dict[str, tuple[bytes, float]]) -> Inventory:
    """`files`: relative path -> (bytes, mtime) of the whole seeded state; legacy ones are picked out."""
    records, entries, transcripts, unreadable = [], [], [], []
    identity = None
    for path, (data, mtime) in sorted(files.items()):
        records.append(LegacyFile(path, len(data), mtime, hashlib.sha256(data).hexdigest()))
        if path == DEVICE_IDENTITY:
            identity = device_identity(path, data)
        if not is_legacy_path(path):  # stores and transcripts the Gateway reads; nested folders are files only
            continue
        name = PurePosixPath(path).name
        if is_legacy_store_path(path):
            try:
                store = _loads(path, data)
                if not isinstance(store, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as error:
                unreadable.append(f"{path}: {error}")
                continue
            for key, entry in store.items():
                entry = entry if isinstance(entry, dict) else {}
                session_id = entry.get("sessionId")
                entries.append(LegacyEntry(agent_of(path), path, key, session_id if isinstance(session_id, str) and session_id else None,
                                           entry.get("sessionFile"), entry))
        elif name.endswith(".jsonl") and not name.endswith(".trajectory.jsonl"):
            transcripts.append(parse_transcript(path, data))
    return Inventory(tuple(records), tuple(entries), tuple(transcripts), tuple(unreadable), identity)


DEVICE_IDENTITY = "identity/device.json"
IDENTITY_FIELDS = ("deviceId", "publicKeyPem", "createdAtMs")


def device_identity(path: str, data: bytes) -> dict:
    """The public parts of a legacy device identity; {} when the file is not a JSON object (the judge says so)."""
    try:
        value = _loads(path, data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return {k: value.get(k) for k in IDENTITY_FIELDS} if isinstance(value, dict) else {}


def split_lines(data: bytes) -> list[bytes]:
    """Lines as the Gateway's reader sees them: split on \n, a trailing \r dropped, a last line without \n kept."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def parse_transcript(path: str, data: bytes) -> LegacyTranscript:
    events, malformed = [], []
    header_id, version = None, None
    for number, raw in enumerate(split_lines(data), start=1):
        if not raw.strip():
            continue
        try:
            value = _loads(path, raw, number)  # strict: invalid UTF-8 is malformed, never replaced
        except (ValueError, UnicodeDecodeError):
            malformed.append(number)
            continue
        if not isinstance(value, dict):
            malformed.append(number)
            continue
        kind = str(value.get("type", ""))
        if kind == "session" and header_id is None:
            header_id, version = value.get("id"), value.get("version", 1)
        event_id = value.get("id") if isinstance(value.get("id"), str) else None
        events.append(LegacyEvent(number, event_id, kind, content_hash(value), value, raw))
    stem = PurePosixPath(path).name.removesuffix(".jsonl")
    return LegacyTranscript(path, agent_of(path), str(header_id or stem), version, tuple(events), tuple(malformed))


_TOO_MUCH_HINT = ("no OpenClaw state holds one: remove that entry (or file) from the state, or report the state as "
                  "its own bug, then attach it again")


def refuse_unparseable(path: str, data: bytes, line: int | None = None) -> None:
    """A FixtureError for a JSON text too deep or too big for Python's parser (and the hashing after it) to judge:
    every parse of a user's JSON goes through this first (the inventory's, seeding's, inference's)."""
    where = f"{path}{f' line {line}' if line else ''}"
    if len(data) > MAX_JSON_BYTES:
        raise FixtureError(f"{where} is a JSON document of {len(data) // 1024**2} MB, more than the "
                           f"{MAX_JSON_BYTES // 1024**2} MB this harness parses", hint=_TOO_MUCH_HINT)
    if nested_deeper_than(data, MAX_JSON_DEPTH):
        raise FixtureError(f"{where} nests JSON more than {MAX_JSON_DEPTH} deep, deeper than this harness parses",
                           hint=_TOO_MUCH_HINT)


def _loads(path: str, data: bytes, line: int | None = None) -> Any:
    """json.loads of strict UTF-8; ValueError (or UnicodeDecodeError) for what is malformed, FixtureError for what
    is too deep or too big to judge."""
    refuse_unparseable(path, data, line)
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:  # called from deep in a stack already: the same refusal
        raise FixtureError(f"{path}{f' line {line}' if line else ''} nests JSON too deep for this harness to parse",
                           hint=_TOO_MUCH_HINT) from None


def nested_deeper_than(data: bytes, limit: int) -> bool:
    """Whether the JSON text `data` opens more than `limit` brackets at once (brackets inside strings aside)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the common case: two counts at C speed, nothing parsed
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", data)):
        depth += 1 if bracket in b"[{" else -1
        if depth > limit:
            return True
    return False
