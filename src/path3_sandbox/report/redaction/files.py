"""One file (or its bytes) redacted as what it is: a database through SQLite, gzip decompressed and recompressed,
other binary never edited (removed when it holds a remembered secret), text as a document; and the secrets a
state's files hold (`known_secrets`)."""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding, _Context, _Hit, _lines_of, _Refused
from .keys import CREDENTIAL_FILE_RE
from .sqlite import SQLITE_HEADER, _SQLITE_SIDECARS, _sqlite
from .structured import _document
from .values import _matcher

MAX_INFLATED = 512 * 1024 * 1024  # a .gz that inflates past this is treated as binary


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
    return result.data, _findings(name, data, result)


def scrub_file(path: Path, label: str | None = None, *, also: Iterable[str] = ()) -> list[Finding]:
    """Redact one file in place; untouched files are not rewritten. A file that cannot be redacted safely (binary
    holding a remembered secret, a database failing integrity_check) is removed, and the finding says so."""
    name = label or path.name
    return _file(path, name, _Context(credential=bool(CREDENTIAL_FILE_RE.search(name)),
                                      matcher=_matcher(frozenset(also))))


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
    return _findings(name, data, result)


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


def _findings(name: str, data: bytes, result: "_Bytes") -> list[Finding]:
    """A finding per hit, at its line in a text file (0 in a binary one)."""
    offsets = [hit.offset for hit in result.hits]
    lines = _lines_of(data.decode("utf-8", "surrogateescape"), offsets) if result.text else [0] * len(offsets)
    return [Finding(name, line, hit.kind) for line, hit in zip(lines, result.hits)]


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
