"""Scan Gateway output and its file log for lines that mean trouble, minus what a fixture allows."""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a healthy upgrade never prints. Each pattern is named so the evidence says why a line matched.
PATTERNS: dict[str, re.Pattern[str]] = {
    "error-level": re.compile(r'\bERROR\b|"logLevelName":\s*"ERROR"|"level":\s*"error"'),
    "fatal-level": re.compile(r'\bFATAL\b|"logLevelName":\s*"FATAL"|"level":\s*"fatal"'),
    # pino writes levels as numbers: 50 error, 60 fatal.
    "pino-error-level": re.compile(r'"level":\s*(50|60)\b'),
    "uncaught-exception": re.compile(r"uncaught ?exception", re.I),
    "unhandled-rejection": re.compile(r"unhandled ?(promise )?rejection", re.I),
    "type-error": re.compile(r"\bTypeError\b"),
    "lowercase-error": re.compile(r"\berror:"),
    "sqlite-error-code": re.compile(r"\bSQLITE_[A-Z_]+\b"),
    "missing-column": re.compile(r"no such column", re.I),
    "missing-table": re.compile(r"no such table", re.I),
    "session-store-unavailable": re.compile(r"session[- ]store[^\n]{0,40}unavailable", re.I),
    # "failed=0" in a recovery summary is a count, not a failure.
    "restart-recovery-failure": re.compile(r"restart[- ]recovery[^\n]{0,160}(\bfailed(?!=0\b)|\berror)", re.I),
    "transcript-reconcile-warning": re.compile(r"transcript[- ]reconcil", re.I),
}


@dataclass(frozen=True)
class LogMatch:
    source: str
    line_number: int
    pattern: str
    line: str
    allowed_by: str | None

    def to_json(self) -> dict:
        return {"source": self.source, "line": self.line_number, "pattern": self.pattern,
                "text": self.line[:600], "allowed_by": self.allowed_by}


@dataclass(frozen=True)
class LogScan:
    lines_scanned: int
    matches: tuple[LogMatch, ...]

    @property
    def unallowed(self) -> list[LogMatch]:
        return [m for m in self.matches if m.allowed_by is None]

    def to_json(self) -> dict:
        return {"lines_scanned": self.lines_scanned, "matches": [m.to_json() for m in self.matches],
                "unallowed": len(self.unallowed), "patterns": {k: p.pattern for k, p in PATTERNS.items()}}


def scan(sources: dict[str, str], allowlist: tuple[str, ...] = (), *, start_lines: dict[str, int] | None = None) -> LogScan:
    """`sources`: name -> text. `start_lines` skips lines already scanned (a cursor per source)."""
    allowed = [(pattern, re.compile(pattern)) for pattern in allowlist]
    matches: list[LogMatch] = []
    scanned = 0
    for source, text in sources.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if start_lines and number <= start_lines.get(source, 0):
                continue
            scanned += 1
            for name, pattern in PATTERNS.items():
                if pattern.search(line):
                    allowed_by = next((raw for raw, regex in allowed if regex.search(line)), None)
                    matches.append(LogMatch(source, number, name, line, allowed_by))
                    break
    return LogScan(scanned, tuple(matches))
