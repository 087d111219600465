"""A legacy state of N sessions × M events in the shapes real releases write, made in Python, deterministic.

    agents/main/sessions/sessions.json      N entries: agent:main:<slug> -> {sessionId, updatedAt, sessionFile, …}
    agents/main/sessions/<sessionId>.jsonl  a session header, then M message events alternating user / assistant,
                                            each with an id, the previous event's id as parentId, a timestamp

The shapes follow fixtures/legacy-stores/real-7.35 (what 2026.7.35 wrote) and openclaw.md §3. One session in
BIG_EVERY carries one pasted ~BIG_BYTES event, big enough that the Gateway stores it zstd-compressed (rows of 1 KiB
or more): the import's compression path is part of what is timed. The same seed, sizes and clock give the same bytes.
The import writes one row per transcript line, the header included: a session holds M + 1 rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass

from ..state.config import STATE_DIR
from ..containers.volumes import VolumeFile

AGENT = "main"
SESSIONS_DIR = f"agents/{AGENT}/sessions"
STORE_PATH = f"{SESSIONS_DIR}/sessions.json"
BIG_EVERY = 50  # one session in 50 has one big event
BIG_BYTES = 200 * 1024  # ~200 KiB: a pasted log, far over the Gateway's 1 KiB compression threshold
NEWEST_AGE_MS = 3_600_000  # the newest activity an hour old, as seeding.py retimes fixtures
TURN_GAP_MS = 15_000  # between two events of a session
SESSION_GAP_MS = 60_000  # between two sessions' starts
MODEL, PROVIDER = "gpt-5.2", "openai"
WORDS = ("the", "release", "notes", "session", "digest", "deploy", "branch", "merge", "review", "schedule", "invoice",
         "meeting", "summary", "travel", "flight", "hotel", "weather", "reminder", "draft", "email", "report", "budget",
         "backup", "restore", "install", "update", "config", "gateway", "agent", "please", "thanks", "tomorrow",
         "today", "list", "check", "again", "quickly", "café", "Zürich", "naïve", "résumé", "日本語", "🦞")
# Session keys as a Gateway names them: the main session, direct chats on a channel, cron runs, named sessions.
KEY_KINDS = ("telegram:direct:{n}", "cron:{slug}-{n}", "{slug}-{n}", "discord:channel:{n}", "webchat:{slug}-{n}")
CORPUS_CHARS = 2 * BIG_BYTES + 64 * 1024
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # compact, as the Gateway writes JSONL
SLUGS = ("nightly-digest", "travel", "notes", "standup", "inbox-triage", "research", "planning", "support")


@dataclass(frozen=True)
class LegacyState:
    """The generated files (sessions.json and transcripts, state-relative) and what the import must write."""

    sessions: int
    events_per_session: int  # message events, the header not counted
    files: tuple[VolumeFile, ...]
    big_events: int  # events of BIG_BYTES or so

    @property
    def events(self) -> int:
        """Transcript rows the import must write: every line, the session header included."""
        return self.sessions * (self.events_per_session + 1)

    @property
    def bytes(self) -> int:
        return sum(len(f.data) for f in self.files)

    @property
    def transcripts(self) -> tuple[VolumeFile, ...]:
        return tuple(f for f in self.files if f.path.endswith(".jsonl"))

    def to_json(self) -> dict:
        return {"sessions": self.sessions, "events_per_session": self.events_per_session, "events": self.events,
                "bytes": self.bytes, "files": len(self.files), "big_events": self.big_events}


def generate(sessions: int, events: int, *, seed: int = 0, now_ms: int) -> LegacyState:
    """`sessions` sessions of `events` message events each; the newest activity an hour before `now_ms`."""
    rng = random.Random(f"path3-bench:{seed}")  # a string seed: stable across Python versions and processes
    span = (sessions - 1) * SESSION_GAP_MS + events * TURN_GAP_MS
    first_ms = now_ms - NEWEST_AGE_MS - span
    words = corpus(rng)
    store: dict[str, dict] = {}
    transcripts: list[tuple[str, bytes]] = []
    big = 0
    for index in range(sessions):
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        key = session_key(index)
        started_ms = first_ms + index * SESSION_GAP_MS
        has_big = index % BIG_EVERY == 1 and events > 0  # the second session first: 10 sessions have one
        big += has_big
        lines = transcript_lines(rng, words, session_id, started_ms, events, big_at=rng.randrange(events) if has_big else None)
        transcripts.append((session_id, ("\n".join(lines) + "\n").encode()))
        store[key] = store_entry(rng, session_id, started_ms, started_ms + events * TURN_GAP_MS, events)
    store_bytes = (json.dumps(store, indent=2, ensure_ascii=False) + "\n").encode()
    # mtimes in order, the newest an hour old: the importer takes file mtimes as times.
    newest = (now_ms - NEWEST_AGE_MS) / 1000
    files = [VolumeFile(f"{SESSIONS_DIR}/{sid}.jsonl", data, newest - (sessions - n)) for n, (sid, data) in
             enumerate(transcripts)]
    files.append(VolumeFile(STORE_PATH, store_bytes, newest))
    return LegacyState(sessions, events, tuple(files), big)


def session_key(index: int) -> str:
    """agent:main:main first, then the other kinds in turn; lowercase and unique, as 2026.7.x writes them."""
    if index == 0:
        return f"agent:{AGENT}:main"
    kind = KEY_KINDS[index % len(KEY_KINDS)]
    return f"agent:{AGENT}:" + kind.format(n=index, slug=SLUGS[index % len(SLUGS)])


def store_entry(rng: random.Random, session_id: str, started_ms: int, updated_ms: int, events: int) -> dict:
    tokens = rng.randrange(500, 9000)
    return {
        "sessionId": session_id,
        "updatedAt": updated_ms,
        "sessionStartedAt": started_ms,
        "lastInteractionAt": updated_ms - TURN_GAP_MS // 2,
        "systemSent": True,
        "abortedLastRun": False,
        "chatType": "direct",
        "route": {"channel": "webchat"},
        "deliveryContext": {"channel": "webchat"},
        "lastChannel": "webchat",
        "origin": {"provider": "webchat", "surface": "webchat", "chatType": "direct"},
        "compactionCount": 0,
        "inputTokens": tokens,
        "outputTokens": events * 40,
        "totalTokens": tokens + events * 40,
        "totalTokensFresh": True,
        "sessionFile": f"{STATE_DIR}/{SESSIONS_DIR}/{session_id}.jsonl",
        "status": "done",
        "modelProvider": PROVIDER,
        "model": MODEL,
        "contextTokens": 128000,
    }


def transcript_lines(rng: random.Random, words: str, session_id: str, started_ms: int, events: int, *,
                     big_at: int | None) -> list[str]:
    lines = [_dumps({"type": "session", "version": 3, "id": session_id, "timestamp": _iso(started_ms),
                     "cwd": f"{STATE_DIR}/workspace"})]
    ids: set[str] = set()
    parent = None
    for n in range(events):
        event_id = _event_id(rng, ids)
        at = started_ms + (n + 1) * TURN_GAP_MS
        text = _big_text(rng, words) if n == big_at else _text(rng, words)
        if n % 2 == 0:
            # real-7.35 writes a user's message as a string, older releases as text parts: both occur.
            content = text if n % 4 == 0 else [{"type": "text", "text": text}]
            message = {"role": "user", "content": content, "timestamp": at - 200}
        else:
            message = {"role": "assistant", "content": [{"type": "text", "text": text}], "api": "openai-completions",
                       "provider": PROVIDER, "model": MODEL,
                       "usage": {"input": 120 + 40 * n, "output": 40, "totalTokens": 160 + 40 * n},
                       "stopReason": "stop", "timestamp": at - 100}
        lines.append(_dumps({"type": "message", "id": event_id, "parentId": parent, "timestamp": _iso(at),
                             "message": message}))
        parent = event_id
    return lines


def _event_id(rng: random.Random, taken: set[str]) -> str:
    while (event_id := f"{rng.getrandbits(32):08x}") in taken:  # unique in its session: a repeat would be de-duplicated
        pass
    taken.add(event_id)
    return event_id


def corpus(rng: random.Random) -> str:
    """CORPUS_CHARS of words, a line break every 12: message texts are slices of it (one call to the generator,
    not one per message: 5000 × 20 stays a few seconds)."""
    words = rng.choices(WORDS, k=CORPUS_CHARS // 5)
    return "\n".join(" ".join(words[n:n + 12]) for n in range(0, len(words), 12))


def _slice(rng: random.Random, text: str, chars: int) -> str:
    start = rng.randrange(len(text) - chars)
    return text[start:start + chars].strip()


def _text(rng: random.Random, words: str) -> str:
    return _slice(rng, words, rng.randrange(40, 400)).replace("\n", " ")


def _big_text(rng: random.Random, words: str) -> str:
    """About BIG_BYTES of pasted log lines."""
    return "Here is the log:\n" + _slice(rng, words, BIG_BYTES)


def _dumps(value: dict) -> str:
    return _ENCODER.encode(value)


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
