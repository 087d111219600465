"""Wait strategies (testcontainers' `WaitStrategy`) for the Gateway's start.

A Gateway's start has three outcomes and each is evidence, not an error: it became ready (/healthz says ok and
/readyz says ready), it exited (a release that refuses a legacy store exits non-zero, at once), or neither before
the deadline. testcontainers' own `HttpWaitStrategy` polls one URL of the container itself and raises on timeout;
it cannot see an early exit nor reach a Gateway whose ports the network witness publishes, hence this one, which
records what it saw in `observation` and never raises.

`poll_until` is the package's one polling loop for everything else that is waited on (the engine answering, the RPC
relay listening, a held turn reaching the provider, the restart recovery's report, a restarted Gateway): bounded,
at a fixed interval, returning what it waited for or None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import httpx
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

READY_TIMEOUT_S = 180.0
T = TypeVar("T")


def poll_until(check: Callable[[], T | None], *, timeout_s: float, interval_s: float) -> T | None:
    """`check()` until it returns something other than None, at most every `interval_s`, for at most `timeout_s`
    (it is called at least once); None when time ran out."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(interval_s)


@dataclass(frozen=True)
class StartObservation:
    """What one start did: became ready, exited (with its code), or neither before the deadline."""

    outcome: str  # "ready" | "exited" | "timeout"
    seconds: float
    exit_code: int | None = None
    healthz: Any = None
    readyz: Any = None

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "seconds": round(self.seconds, 2), "exit_code": self.exit_code,
                "healthz": self.healthz, "readyz": self.readyz}


class GatewayReadyOrExited(WaitStrategy):
    """Poll /healthz and /readyz at `base_url()` until both say so, the container exits, or the startup timeout."""

    def __init__(self, base_url: Callable[[], str]) -> None:
        super().__init__()
        self.base_url = base_url
        self.observation: StartObservation | None = None
        self.with_startup_timeout(int(READY_TIMEOUT_S)).with_poll_interval(0.5)

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        started = time.monotonic()
        healthz = readyz = None
        while (elapsed := time.monotonic() - started) < self._startup_timeout:
            container.reload()
            state = container.get_wrapped_container().attrs["State"]
            if not state.get("Running"):
                self.observation = StartObservation("exited", elapsed, int(state.get("ExitCode", -1)), healthz, readyz)
                return
            healthz, readyz = probe_http(self.base_url, "/healthz"), probe_http(self.base_url, "/readyz")
            if is_live(healthz) and is_ready(readyz):
                self.observation = StartObservation("ready", time.monotonic() - started, None, healthz, readyz)
                return
            time.sleep(self._poll_interval)
        self.observation = StartObservation("timeout", time.monotonic() - started, None, healthz, readyz)



def probe_http(base_url: Callable[[], str], path: str) -> Any:
    """{status, body} of a GET on the Gateway's HTTP port, or None when it doesn't answer (or has no port yet)."""
    try:
        response = httpx.get(base_url() + path, timeout=2)
        return {"status": response.status_code, "body": response.json()}
    except (httpx.HTTPError, ValueError, RuntimeError, KeyError):
        return None


def is_live(probe: Any) -> bool:
    return bool(probe and probe["status"] == 200 and isinstance(probe["body"], dict) and probe["body"].get("ok"))


def is_ready(probe: Any) -> bool:
    return bool(probe and probe["status"] == 200 and isinstance(probe["body"], dict) and probe["body"].get("ready"))
