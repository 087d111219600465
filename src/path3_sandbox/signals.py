"""Signals: SIGTERM ends a run the way Ctrl-C does, and no signal cuts a cleanup short.

    terminate_like_interrupt()   SIGTERM raises KeyboardInterrupt as SIGINT does, so every `finally` and `with`
                                 runs (exit 130); first_signal() names the one that ended the run
    ignore_further_signals()     once a run has ended on a signal and cleaned up
    signals_ignored()            while a command redacts what it wrote, its very last step
    cleanup_shielded()           while resources are being removed, SIGINT/SIGTERM only say "still cleaning up";
                                 a signal that came during the cleanup is raised once it is done
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


_received: list[str] = []


def _raise_interrupt(signum: int, frame: object) -> None:
    _received.append(signal.Signals(signum).name)
    raise KeyboardInterrupt(_received[0])


def terminate_like_interrupt() -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            signal.signal(sig, _raise_interrupt)


def first_signal() -> str:
    """The signal that ended the run, even when a second one arrived while it was unwinding."""
    return _received[0] if _received else "SIGINT"


def ignore_further_signals() -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """For the last thing a command does (redacting what it wrote): a signal then must not leave it half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def cleanup_shielded() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: object) -> None:
        received.append(signum)
        _received.append(signal.Signals(signum).name)
        print(f"path3-sandbox: {signal.Signals(signum).name} received: still removing this run's containers and "
              "volumes, a moment", file=sys.stderr)

    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt(_received[0])
