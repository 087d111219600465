"""What a hop did with the other era's files: the legacy session files and the SQLite databases on the volume.

A path crosses eras (file-backed releases, SQLite releases, user actions that put one era's files into the other's
state), so after every hop the test bed records, from a files snapshot taken before and after it:

    legacy files  each live legacy file (agents/<id>/sessions/*.json[l], sessions/*) that was there before:
                  kept (same bytes, same place), rewritten (same place, new bytes), moved (its bytes now only
                  elsewhere, e.g. the import archive), transformed (a store the importer rewrote, then archived as a
                  new legacy-store.sessions.json.imported-*, as proof/fates.py allows; a transcript a writer grew,
                  then renamed to a new <name>.reset.*/.deleted.* copy), gone (its bytes nowhere: a finding, see
                  gone_check); and the legacy files it created
    databases     every *.sqlite file: created, removed (moved aside counts: its name is gone), or present
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathlib import PurePosixPath

from ..report.evidence import Assertion
from ..state.layout import IMPORT_ARCHIVE_DIR, is_legacy_store_path, is_live_legacy_path
from ..probes.files import FilesSnapshot


@dataclass(frozen=True)
class EraFiles:
    kept: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # old path -> where its bytes are now
    transformed: dict[str, str] = field(default_factory=dict)  # old path -> the rewritten copy made this hop
    gone: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    databases_created: list[str] = field(default_factory=list)
    databases_removed: list[str] = field(default_factory=list)
    databases_present: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"legacy_kept": self.kept, "legacy_rewritten": self.rewritten, "legacy_moved": self.moved,
                "legacy_transformed": self.transformed, "legacy_gone": self.gone, "legacy_created": self.created, "databases_created": self.databases_created,
                "databases_removed": self.databases_removed, "databases_present": self.databases_present}

    def line(self) -> str:
        """One line for summary.md: counts, and the names that matter most (where files went, what vanished)."""
        parts = []
        if self.moved:
            places = sorted({where.rsplit("/", 1)[0] for where in self.moved.values()})
            parts.append(f"{len(self.moved)} legacy file(s) moved (to {', '.join(places)})")
        for label, items in (("kept", self.kept), ("rewritten", self.rewritten),
                             ("transformed into the archive", list(self.transformed)), ("**gone**", self.gone),
                             ("created", self.created)):
            if items:
                parts.append(f"{len(items)} {label}" + (f" ({names(items)})" if label != "kept" else ""))
        if self.databases_created:
            parts.append(f"databases created: {', '.join(self.databases_created)}")
        if self.databases_removed:
            parts.append(f"databases removed: {', '.join(self.databases_removed)}")
        return "; ".join(parts) or "no legacy file or database changed"


def names(paths: list[str], shown: int = 3) -> str:
    """A few paths for a summary line, the rest counted (era-files.json has them all)."""
    return ", ".join(paths[:shown]) + (f", … {len(paths) - shown} more" if len(paths) > shown else "")


def _database(path: str) -> bool:
    return path.endswith(".sqlite")


def _rewritten_copies(path: str, before: FilesSnapshot, after: FilesSnapshot) -> list[str]:
    """The copies this hop made of `path` with other bytes: for a store, the store archives of its agent (any agent's
    for the retired top-level store); for a transcript, its `.reset.*`/`.deleted.*` copy (grown before the rename)."""
    new = sorted(p for p in after.files if p not in before.files)
    if not is_legacy_store_path(path):
        return [p for p in new if path.endswith(".jsonl") and p.startswith((f"{path}.reset.", f"{path}.deleted."))]
    parts = PurePosixPath(path).parts
    folder = f"agents/{parts[1]}/{IMPORT_ARCHIVE_DIR}/" if parts[0] == "agents" else ""
    return [p for p in new if IMPORT_ARCHIVE_DIR in p and p.startswith(folder)
            and PurePosixPath(p).name.startswith("legacy-store.sessions.json")]


def gone_check(spec: str, moves: EraFiles) -> Assertion:
    """Every legacy file that was on the volume before the hop still has its bytes somewhere after it (or, for a
    store, a rewritten archive copy): one whose bytes are nowhere is lost to every later hop."""
    return Assertion(f"openclaw {spec} left the bytes of every legacy file on the volume", not moves.gone, [],
                     moves.gone[:20], f"{len(moves.gone)} legacy file(s) whose bytes are nowhere" if moves.gone else "")


def compare(before: FilesSnapshot, after: FilesSnapshot) -> EraFiles:
    result = EraFiles()
    where_now = after.by_hash()
    for path, item in sorted(before.files.items()):
        if not is_live_legacy_path(path):
            continue
        now = after.files.get(path)
        if now is not None:
            (result.kept if now.sha256 == item.sha256 else result.rewritten).append(path)
        elif places := [p for p in where_now.get(item.sha256 or "", []) if p != path]:
            result.moved[path] = sorted(places)[0]
        elif copies := _rewritten_copies(path, before, after):
            result.transformed[path] = copies[0]
        else:
            result.gone.append(path)
    result.created.extend(sorted(p for p in after.files if is_live_legacy_path(p) and p not in before.files))
    result.databases_created.extend(sorted(p for p in after.files if _database(p) and p not in before.files))
    result.databases_removed.extend(sorted(p for p in before.files if _database(p) and p not in after.files))
    result.databases_present.extend(sorted(p for p in after.files if _database(p) and p in before.files))
    return result
