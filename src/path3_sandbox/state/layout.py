"""Where OpenClaw keeps things inside a state directory (openclaw.md §2), named once for every reader: the SQLite
databases and their session tables (the probes, the fates, the faults, the bench) and which paths are legacy session
files (the inventory, the file and handle probes, the fates, the paths' era files and actions, the faults)."""

from __future__ import annotations

from pathlib import PurePosixPath

STATE_DB = "state/openclaw.sqlite"  # the shared state database (device identities, auth profile stores, …)
AGENT_DB = "agents/{agent}/agent/openclaw-agent.sqlite"  # one per agent: its sessions and transcripts
AGENT_DB_GLOB = AGENT_DB.format(agent="*")
# The session tables an agent database holds: what a step may move, what live mode hashes per session.
SESSION_TABLES = ("session_nodes", "session_windows", "transcript_events", "transcript_event_identities")


def agent_db(agent: str) -> str:
    return AGENT_DB.format(agent=agent)


def is_legacy_path(path: str) -> bool:
    """Legacy session files: agents/<id>/sessions/* and the retired top-level sessions/*."""
    parts = PurePosixPath(path).parts
    in_agent = len(parts) == 4 and parts[0] == "agents" and parts[2] == "sessions"
    in_top = len(parts) == 2 and parts[0] == "sessions"
    return (in_agent or in_top) and parts[-1].endswith((".json", ".jsonl"))


def is_legacy_store_path(path: str, stores: tuple[str, ...] = ()) -> bool:
    """The Gateway's legacy session stores: agents/<id>/sessions/sessions.json, the retired top-level
    sessions/sessions.json, and any store path the config names (`stores`, relative to the state dir). A
    `sessions.json` anywhere else (a workspace project's, a nested sessions/old/) is the user's file, not a store."""
    parts = PurePosixPath(path).parts
    if path in stores:
        return True
    return parts[-1:] == ("sessions.json",) and (
        (len(parts) == 4 and parts[0] == "agents" and parts[2] == "sessions") or (len(parts) == 2 and parts[0] == "sessions"))


def is_session_area_path(path: str) -> bool:
    """Anything below agents/<id>/sessions/ or the retired top-level sessions/, nested folders included."""
    parts = PurePosixPath(path).parts
    return (len(parts) >= 4 and parts[0] == "agents" and parts[2] == "sessions") or (len(parts) >= 2 and parts[0] == "sessions")


IMPORT_ARCHIVE_DIR = "session-sqlite-import-archive"
# The Gateway's own scratch folders, directly under the state dir: neither seeded (a user's copy of them holds no
# session data) nor probed (the Gateway writes them while it runs). The same names deeper down (a workspace
# project's cache/ or tmp/) are user files like any other: seeded, probed, judged.
SCRATCH_DIRS = ("cache", "tmp")


def is_scratch_path(path: str) -> bool:
    return PurePosixPath(path).parts[0] in SCRATCH_DIRS and len(PurePosixPath(path).parts) > 1


def is_live_legacy_path(path: str, stores: tuple[str, ...] = ()) -> bool:
    """A legacy session file outside the Gateway's import archive: after an import, none should exist or be open.
    Only the files the Gateway reads as legacy count (is_legacy_path, is_legacy_store_path)."""
    return IMPORT_ARCHIVE_DIR not in path and (is_legacy_path(path) or is_legacy_store_path(path, stores))


def in_sessions_folder(path: str, agent: str | None = None) -> bool:
    """agents/<id>/sessions/… (for one agent when given): what users back up and copy."""
    parts = PurePosixPath(path).parts
    return len(parts) >= 3 and parts[0] == "agents" and parts[2] == "sessions" and agent in (None, parts[1])


# Where a transcript's lines live as files: the sessions folders (live transcripts, .reset/.deleted copies,
# checkpoints) and the import archive (moved transcripts). Never logs/: the Gateway's own gateway.jsonl echoes messages.
TRANSCRIPT_COPY_PATTERN = r"^(agents/[^/]+/(sessions|" + IMPORT_ARCHIVE_DIR + r")/|sessions/).*\.jsonl"


def holds_transcript_copy(path: str) -> bool:
    """A transcript or a copy of one (TRANSCRIPT_COPY_PATTERN, for the file probe's regex, says the same)."""
    parts = PurePosixPath(path).parts
    archived = len(parts) >= 3 and parts[0] == "agents" and parts[2] == IMPORT_ARCHIVE_DIR
    return (is_session_area_path(path) or archived) and ".jsonl" in parts[-1]
