"""One reader of a state tree, for every module that reads one (seeding, fixture checks, inference, redaction).

Every regular file under a folder, by its POSIX path relative to it, in sorted order, with its bytes and mtime.
`links="follow"` reads a link to a file as the file it points to (a fixture's own tree, which the project owns);
`links="skip"` never reads through one (a user's state or a copy of it: a link there may point anywhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal


def read_tree(root: Path, *, links: Literal["follow", "skip"] = "skip") -> dict[str, tuple[bytes, float]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file() and (links == "follow" or not p.is_symlink())}


def read_bytes(root: Path, *, links: Literal["follow", "skip"] = "skip") -> dict[str, bytes]:
    return {path: data for path, (data, _) in read_tree(root, links=links).items()}
