"""Progress lines for long work: `[  12.3s] phase: message` on stderr, so stdout stays parseable."""

from __future__ import annotations

import sys
import time

from .report.redaction import scrub_text

_START = time.monotonic()


def elapsed() -> float:
    return time.monotonic() - _START


def say(phase: str, message: str) -> None:
    """One progress line; secrets are redacted (CI logs are public evidence too)."""
    line, _ = scrub_text(f"[{elapsed():7.1f}s] {phase}: {message}")
    print(line, file=sys.stderr, flush=True)
