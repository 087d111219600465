"""A user's state as they attach it to a bug report, turned into a fixture the proof can run.

    unpack_state(source, workdir)   a directory, .tar.gz/.tgz/.tar or .zip of ~/.openclaw (bare tree or with a
                                    top-level .openclaw/ folder, any home prefix) -> the state root; links out
                                    of the state are never followed, archives are held to UnpackLimits
    infer_manifest(state, name)     what the state holds, as a fixture.json: agents, sessions, events, orphans,
                                    invalid entries, the warnings they imply, the author's state dir
    write_fixture(state, dest, …)   fixture.json + state/ at dest
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import FixtureError
from .inventory import build_inventory

STATE_DIR_RE = re.compile(r"(/[^\"\s]*?/\.openclaw)/(?:agents|sessions)/")


@dataclass(frozen=True)
class UnpackLimits:
    """What an attached state may expand to; a bigger one is refused before it fills the disk (override with the
    CLI's --max-unpacked-mb, --max-members, --max-ratio)."""

    max_bytes: int = 2 * 1024**3
    max_members: int = 100_000
    max_ratio: float = 200.0  # unpacked bytes per archive byte: JSONL compresses ~10-30x; a bomb, thousands


@dataclass(frozen=True)
class Unpacked:
    root: Path
    skipped_links: tuple[str, ...] = ()  # links out of the state or dangling: never followed, never copied

    def notes(self) -> list[str]:
        return [f"skipped link {link}" for link in self.skipped_links]


def unpack_state(source: Path, workdir: Path, limits: UnpackLimits = UnpackLimits()) -> Unpacked:
    """The state root inside `source`, copied or extracted under `workdir`: no link is followed out of the
    state, names must be UTF-8, and archives stay within `limits`. Every refusal is a FixtureError (exit 2)."""
    if not source.exists() and not source.is_symlink():
        raise FixtureError(f"{source} does not exist", hint="pass a state directory, .tar.gz or .zip of ~/.openclaw")
    target = workdir / "unpacked"
    skipped: list[str] = []
    if source.is_dir():
        skipped = copy_without_links_out(source.resolve(), target, limits)
    elif not source.is_file():
        raise FixtureError(f"{source} is not a file or directory (a dangling link?)", hint="pass the state itself")
    elif tarfile.is_tarfile(source):
        _extract_tar(source, target, limits)
    elif zipfile.is_zipfile(source):
        _extract_zip(source, target, limits)
    else:
        raise FixtureError(f"{source} is neither a directory, a tar archive nor a zip file",
                           hint="pass ~/.openclaw itself, or a .tar.gz/.zip of it")
    _refuse_non_utf8_names(target, source)
    return Unpacked(find_state_root(target, source), tuple(skipped))


def copy_without_links_out(source: Path, target: Path, limits: UnpackLimits = UnpackLimits()) -> list[str]:
    """Copy a directory; a link that stays inside it is copied as what it points to, any other is skipped."""
    skipped, total, members = [], 0, 0
    for directory, dirs, files in os.walk(source):
        here = Path(directory)
        (target / here.relative_to(source)).mkdir(parents=True, exist_ok=True)
        for name in sorted(files) + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            relative = path.relative_to(source)
            if path.is_symlink():
                resolved = path.resolve()
                if not resolved.is_relative_to(source) or not resolved.is_file():
                    why = "dangling" if not resolved.exists() else "points out of the state" \
                        if not resolved.is_relative_to(source) else "not a file"
                    skipped.append(f"{relative} -> {os.readlink(path)} ({why})")
                    continue
            elif not path.is_file():
                skipped.append(f"{relative} (not a regular file)")
                continue
            members += 1
            total += path.stat().st_size
            _within(limits, source, total, members, None)
            shutil.copy2(path, target / relative)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return skipped


def _extract_tar(source: Path, target: Path, limits: UnpackLimits) -> None:
    try:
        with tarfile.open(source) as archive:
            total = members = 0
            for member in archive:  # reads the whole index first: a truncated archive fails here, not half-way
                members += 1
                total += member.size if member.isfile() else 0
                _within(limits, source, total, members, source.stat().st_size)
            archive.extractall(target, filter="data")  # refuses absolute paths, .. and links out of the tree
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}",
                           hint="re-create it with `tar -czf state.tgz -C ~ .openclaw`") from None


def _extract_zip(source: Path, target: Path, limits: UnpackLimits) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            _within(limits, source, sum(i.file_size for i in infos), len(infos), source.stat().st_size)
            for info in infos:
                path = PurePosixPath(info.filename)
                if path.is_absolute() or ".." in path.parts:
                    raise FixtureError(f"{source} holds an unsafe path {info.filename!r}", hint="zip the state folder itself")
            archive.extractall(target)  # zip links are extracted as small files holding their target, never followed
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise FixtureError(f"{source} cannot be unpacked: {error or type(error).__name__}",
                           hint="re-create it with `cd ~ && zip -r state.zip .openclaw`") from None


def _within(limits: UnpackLimits, source: Path, total: int, members: int, archive_bytes: int | None) -> None:
    if members > limits.max_members:
        raise FixtureError(f"{source} holds more than {limits.max_members} files", hint="raise --max-members if it is genuine")
    if total > limits.max_bytes:
        raise FixtureError(f"{source} unpacks to more than {limits.max_bytes // 1024**2} MB",
                           hint="raise --max-unpacked-mb if the state is genuinely that large")
    if archive_bytes and total > 1024**2 and total / archive_bytes > limits.max_ratio:
        raise FixtureError(f"{source} expands {total / archive_bytes:.0f}x ({archive_bytes} bytes to {total}), more than "
                           f"the {limits.max_ratio:.0f}x a state compresses to: refused as a possible archive bomb",
                           hint="raise --max-ratio if the state is genuinely that repetitive")


def _refuse_non_utf8_names(tree: Path, source: Path) -> None:
    for path in tree.rglob("*"):
        try:
            str(path.relative_to(tree)).encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(path.relative_to(tree)).decode("utf-8", "backslashreplace")
            raise FixtureError(f"{source} holds a file name that is not UTF-8: {shown}",
                               hint="OpenClaw writes UTF-8 names; rename or remove that file, then attach the state again") from None


def find_state_root(tree: Path, source: Path) -> Path:
    """The shallowest directory that looks like ~/.openclaw: it has agents/*/sessions/ or sessions/."""
    candidates = sorted((p for p in [tree, *tree.rglob("*")] if p.is_dir() and _looks_like_state(p)),
                        key=lambda p: len(p.parts))
    if not candidates:
        raise FixtureError(f"{source} is not an OpenClaw state: no agents/<id>/sessions/ or sessions/ folder with "
                           "sessions.json or .jsonl transcripts was found",
                           hint="attach the whole ~/.openclaw folder (or OPENCLAW_STATE_DIR), not a part of it")
    return candidates[0]


def _looks_like_state(path: Path) -> bool:
    session_dirs = [*path.glob("agents/*/sessions"), path / "sessions"]
    return any(d.is_dir() and any(f.suffix in (".json", ".jsonl") for f in d.iterdir()) for d in session_dirs)


def read_tree(state: Path) -> dict[str, tuple[bytes, float]]:
    return {str(p.relative_to(state)): (p.read_bytes(), p.stat().st_mtime) for p in sorted(state.rglob("*")) if p.is_file()}


def infer_manifest(state: Path, name: str, *, catches: str, origin: str) -> dict:
    inventory = build_inventory(read_tree(state))
    if inventory.unreadable:
        raise FixtureError(f"{state}: unreadable session store(s): {'; '.join(inventory.unreadable)}",
                           hint="JSON5 or corrupt stores are their own bug; attach the state and report it as is")
    agents: dict[str, dict] = {}
    invalid: dict[str, list[str]] = {}
    warnings: set[str] = set()
    referenced: set[str] = set()
    for entry in inventory.entries:
        agent = entry.agent or "main"
        if not entry.session_id:
            invalid.setdefault(agent, []).append(entry.key)
            warnings.add("entry_invalid")
            continue
        referenced.add(entry.session_id)
        transcript = inventory.transcript_for(entry.session_id, entry.session_file)
        if transcript is None:
            warnings.add("transcript_missing")
        else:
            referenced.add(transcript.session_id)
        spec = {"sessionId": entry.session_id, "events": transcript.distinct_events if transcript else 0}
        if transcript and transcript.repeated_lines:
            spec["duplicates"] = list(transcript.repeated_lines)
        if entry.key != entry.key.lower():
            spec["sqliteKey"] = entry.key.lower()  # 2026.9.x stores keys lowercased
        agents.setdefault(agent, {"sessions": {}})["sessions"][entry.key] = spec
    for transcript in inventory.transcripts:
        if ".checkpoint." in transcript.path or transcript.session_id in referenced:
            continue
        if PurePosixPath(transcript.path).stem in referenced:
            continue
        agent = transcript.agent or "main"  # strays in the retired top-level sessions/ go to the default agent
        agents.setdefault(agent, {"sessions": {}})["sessions"][f"agent:{agent}:recovered:{transcript.session_id}"] = {
            "sessionId": transcript.session_id, "events": transcript.distinct_events, "archived": True,
            **({"duplicates": list(transcript.repeated_lines)} if transcript.repeated_lines else {})}
    if not agents and not invalid:
        raise FixtureError(f"{state} holds no legacy sessions to upgrade", hint="check that this is the pre-upgrade state")
    written = Counter(m.group(1) for e in inventory.entries if e.session_file and (m := STATE_DIR_RE.search(e.session_file)))
    versions = Counter(f"v{t.version}" for t in inventory.transcripts if ".checkpoint." not in t.path)
    manifest = {"name": name, "catches": catches, "origin": origin,
                "state_dir_as_written": written.most_common(1)[0][0] if written else None,
                "retime": False, "legacy_transcript_versions": dict(sorted(versions.items())), "agents": agents}
    if invalid:
        manifest["invalid_entries"] = invalid
    manifest["expected_warnings"] = sorted(warnings)
    manifest["log_allowlist"] = []
    return manifest


def write_fixture(state: Path, dest: Path, manifest: dict) -> Path:
    if dest.exists() and any(dest.iterdir()):
        raise FixtureError(f"{dest} already exists", hint="pick another --name, or remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(state, dest / "state", symlinks=False)
    (dest / "fixture.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest
