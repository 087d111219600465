"""A user's state as they attach it to a bug report, turned into a fixture the proof can run.

    unpack_state(source, workdir)   a directory, .tar.gz/.tgz/.tar or .zip of ~/.openclaw (bare tree or with a
                                    top-level .openclaw/ folder, any home prefix) -> the state root
    infer_manifest(state, name)     what the state holds, as a fixture.json: agents, sessions, events, orphans,
                                    invalid entries, the warnings they imply, the author's state dir
    write_fixture(state, dest, …)   fixture.json + state/ at dest
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

from .errors import FixtureError
from .inventory import build_inventory

STATE_DIR_RE = re.compile(r"(/[^\"\s]*?/\.openclaw)/(?:agents|sessions)/")


def unpack_state(source: Path, workdir: Path) -> Path:
    """The state root inside `source` (copied or extracted under `workdir`)."""
    if not source.exists():
        raise FixtureError(f"{source} does not exist", hint="pass a state directory, .tar.gz or .zip of ~/.openclaw")
    target = workdir / "unpacked"
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            try:
                archive.extractall(target, filter="data")  # refuses absolute paths, .. and links out of the tree
            except (tarfile.TarError, OSError) as error:
                raise FixtureError(f"{source} cannot be unpacked safely: {error}",
                                   hint="re-create it with `tar -czf state.tgz -C ~ .openclaw`") from None
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for member in archive.namelist():
                path = PurePosixPath(member)
                if path.is_absolute() or ".." in path.parts:
                    raise FixtureError(f"{source} holds an unsafe path {member!r}", hint="zip the state folder itself")
            archive.extractall(target)
    else:
        raise FixtureError(f"{source} is neither a directory, a tar archive nor a zip file",
                           hint="pass ~/.openclaw itself, or a .tar.gz/.zip of it")
    return find_state_root(target, source)


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
