"""A folder: every file under it redacted as what it is (databases through SQLite first), then names that hold a
secret renamed; `sweep` redacts what a command wrote (not what `snapshot` saw before it), `find_secrets` works on a
copy."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .files import _file, _inside, _is_sqlite, known_secrets
from .findings import Finding, _Context
from .keys import CREDENTIAL_FILE_RE, _UUID_OR_DIGEST
from .sqlite import _SQLITE_SIDECARS
from .text import _free_text
from .values import _matcher
from ...state.tree import read_bytes


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
        files = read_bytes(copy)
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
