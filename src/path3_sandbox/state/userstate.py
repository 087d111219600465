"""A user's state (as unpack.unpack_state wrote it, or a capture) turned into a fixture the proof can run.

    infer_manifest(state, name)     what the state holds, as a fixture.json: agents, sessions, events, orphans,
                                    invalid entries, the warnings they imply (a transcript with an unparsable line:
                                    transcript_malformed), the session rows an agent database of a partly migrated
                                    state already holds (preexisting_*), the author's state dir; a store,
                                    transcript line or config the harness parses that is nested deeper than
                                    inventory.MAX_JSON_DEPTH (or a document bigger than MAX_JSON_BYTES) is refused
    write_fixture(state, dest, …)   fixture.json + state/ at dest; a link in the state is refused, never followed
    read_tree(state)                every regular file's bytes and mtime
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections import Counter
from contextlib import closing
from pathlib import Path, PurePosixPath

from ..errors import FixtureError
from .inventory import build_inventory, refuse_unparseable
from .layout import AGENT_DB_GLOB
from .tree import read_tree

STATE_DIR_RE = re.compile(r"(/[^\"\s]*?/\.openclaw)/(?:agents|sessions)/")


def infer_manifest(state: Path, name: str, *, catches: str, origin: str, plugins_pending: tuple[str, ...] = ()) -> dict:
    """The fixture manifest a user's state implies. `plugins_pending`: plugins its config enables that were not
    installed (a recovery report's plugin_migration_source_retained names them): their inputs are expected pending."""
    tree = read_tree(state)
    _refuse_deep_config(tree)
    inventory = build_inventory(tree)  # a store or transcript line too deep or too big: FixtureError
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
            if transcript.malformed_lines:  # the Gateway imports the readable lines and reports the rest
                warnings.add("transcript_malformed")
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
        if transcript.malformed_lines:
            warnings.add("transcript_malformed")
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
    keys, events = preexisting_rows(state)
    if keys or events:  # a partly migrated state: what SQLite holds before the first start (oracle's *_before check)
        manifest["preexisting_sessions"], manifest["preexisting_events"] = keys, events
    if plugins_pending:
        warnings.add("plugin_migration_source_retained")
        manifest["plugins_pending"] = sorted(plugins_pending)
    manifest["expected_warnings"] = sorted(warnings)
    manifest["log_allowlist"] = []
    return manifest


def preexisting_rows(state: Path) -> tuple[list[str], int]:
    """The session keys (session_nodes) and the transcript_events rows every agent database of `state` holds. Read
    from a copy (with its -wal): a state at rest, and opening the user's file would write a -shm beside it."""
    keys: list[str] = []
    events = 0
    for path in sorted(state.glob(AGENT_DB_GLOB)):
        with tempfile.TemporaryDirectory(prefix="path3-db-") as folder:
            copy = Path(folder) / path.name
            for suffix in ("", "-wal"):
                if Path(f"{path}{suffix}").is_file():
                    shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
            try:
                with closing(sqlite3.connect(copy)) as db:
                    tables = {name for (name,) in db.execute("select name from sqlite_master where type='table'")}
                    if "session_nodes" in tables:
                        keys += [key for (key,) in db.execute("select session_key from session_nodes")]
                    if "transcript_events" in tables:
                        events += db.execute("select count(*) from transcript_events").fetchone()[0]
            except sqlite3.DatabaseError as error:
                raise FixtureError(f"{path}: cannot read its session rows ({error})",
                                   hint="a damaged agent database is its own bug; attach the state and report it as is") from None
    return sorted(keys), events


def _refuse_deep_config(tree: dict[str, tuple[bytes, float]]) -> None:
    """The JSON files seeding parses besides the session stores (the config, an agent's models.json and
    auth-profiles.json), held to the inventory's limits here, before any engine is asked for (seeding holds them
    to the same limits again, for a fixture given by path)."""
    from .config import CONFIG_NAME
    from .seeding import AUTH_PROFILES_RE, MODELS_JSON_RE

    for path, (data, _) in tree.items():
        if path == CONFIG_NAME or AUTH_PROFILES_RE.match(path) or MODELS_JSON_RE.match(path):
            refuse_unparseable(path, data)


def write_fixture(state: Path, dest: Path, manifest: dict) -> Path:
    """fixture.json + a copy of `state` at dest. The state is a tree unpack_state wrote (or a capture): folders
    and regular files only. A link in it is refused, never followed: copying through `la -> .` never ends."""
    if dest.exists() and any(dest.iterdir()):
        raise FixtureError(f"{dest} already exists", hint="pick another --name, or remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _copy_plain_tree(state, dest / "state")
    except BaseException:
        shutil.rmtree(dest / "state", ignore_errors=True)
        raise
    (dest / "fixture.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def _copy_plain_tree(source: Path, target: Path) -> None:
    def fail(error: OSError) -> None:
        raise error

    for directory, dirs, files in os.walk(source, onerror=fail):  # followlinks=False: a folder link is never entered
        here = Path(directory)
        (target / here.relative_to(source)).mkdir(parents=True, exist_ok=True)
        for name in sorted(dirs + files):
            path = here / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise FixtureError(f"{path} is a link or a special file: a fixture's state holds folders and regular "
                                   "files only", hint="make the fixture with `path3-sandbox fixtures add STATE`, which "
                                   "copies a link to a file and skips any other")
            shutil.copy2(path, target / path.relative_to(source), follow_symlinks=False)
