"""Where OpenClaw keeps its SQLite state inside a state directory (openclaw.md §2), named once for every reader:
the probes (in the container and on the host), the fates, the faults and the bench."""

from __future__ import annotations

STATE_DB = "state/openclaw.sqlite"  # the shared state database (device identities, auth profile stores, …)
AGENT_DB = "agents/{agent}/agent/openclaw-agent.sqlite"  # one per agent: its sessions and transcripts
AGENT_DB_GLOB = AGENT_DB.format(agent="*")
# The session tables an agent database holds: what a step may move, what live mode hashes per session.
SESSION_TABLES = ("session_nodes", "session_windows", "transcript_events", "transcript_event_identities")


def agent_db(agent: str) -> str:
    return AGENT_DB.format(agent=agent)
