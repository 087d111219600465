"""Progress lines for long work: `[  12.3s] phase: message` on stderr, so stdout stays parseable."""

from __future__ import annotations

import sys
import time

_START = time.monotonic()


def elapsed() -> float:
    return time.monotonic() - _START


def say(phase: str, message: str) -> None:
    print(f"[{elapsed():7.1f}s] {phase}: {message}", file=sys.stderr, flush=True)
