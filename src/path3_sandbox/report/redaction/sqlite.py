"""SQLite through sqlite3 on the file itself, never as bytes: every TEXT value (and the JSON in it), BLOBs that are
UTF-8 JSON, a BLOB under a secret column replaced by as many keyed bytes; then VACUUM (free pages keep deleted rows),
the WAL checkpointed away, integrity_check `ok`."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from .findings import _Context, _Hit, _Refused
from .keys import _CREDENTIAL_TABLE_RE, _NOT_A_SECRET, is_secret_key
from .structured import _document
from .text import _free_text
from .values import tag

SQLITE_HEADER = b"SQLite format 3\0"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


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
            info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
            columns = [row[1] for row in info]
            without_rowid = "WITHOUT ROWID" in (sql or "").upper()
            keys = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]] if without_rowid else ["rowid"]
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
