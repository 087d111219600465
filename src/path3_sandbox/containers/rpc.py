"""A Gateway WebSocket RPC client: one socket per run, challenge/connect handshake with token auth,
protocol negotiation (9.6 speaks 4, 7.2-beta 3), request/response correlation by id, events kept
in arrival order, and a timeout on everything.

    with GatewayRpc.connect("ws://127.0.0.1:40123", token) as rpc:
        rpc.methods              # the target's capability set, from hello-ok
        rpc.call("sessions.list", {"archived": "all"})
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .. import __version__
from ..errors import MalformedAnswer, RpcError
from .waits import poll_until

MIN_PROTOCOL, MAX_PROTOCOL = 3, 4
SCOPES = ["operator.read", "operator.write", "operator.admin"]


@dataclass
class CallRecord:
    method: str
    ok: bool
    seconds: float
    error: str | None = None

    def to_json(self) -> dict:
        return {"method": self.method, "ok": self.ok, "seconds": round(self.seconds, 4), "error": self.error}


@dataclass
class GatewayRpc:
    socket: ClientConnection
    hello: dict
    events: list[dict] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)

    @classmethod
    def connect(cls, url: str, token: str, *, timeout_s: float = 15.0, client_id: str = "cli",
                mode: str = "cli") -> GatewayRpc:
        # Entered as a context manager, the form every supported websockets release accepts.
        socket = connect(url, open_timeout=timeout_s, max_size=64 * 1024 * 1024).__enter__()
        try:
            first = json.loads(socket.recv(timeout=timeout_s))
            if first.get("event") != "connect.challenge":
                raise RpcError("connect", f"expected the connect.challenge event first, got {str(first)[:200]}")
            rpc = cls(socket, hello={})
            rpc.hello = rpc.call("connect", {
                "minProtocol": MIN_PROTOCOL, "maxProtocol": MAX_PROTOCOL,
                "client": {"id": client_id, "version": __version__, "platform": "linux", "mode": mode},
                "role": "operator", "scopes": SCOPES, "caps": [], "commands": [], "permissions": {},
                "auth": {"token": token}, "locale": "en-US", "userAgent": f"path3-sandbox/{__version__}",
            }, timeout_s=timeout_s)
            return rpc
        except BaseException:
            socket.close()
            raise

    @property
    def protocol(self) -> int | None:
        return self.hello.get("protocol")

    @property
    def server_version(self) -> str | None:
        return (self.hello.get("server") or {}).get("version")

    @property
    def methods(self) -> frozenset[str]:
        return frozenset((self.hello.get("features") or {}).get("methods") or ())

    def wait_for_run(self, run_id: str, timeout_ms: int) -> Any:
        """agent.wait until the run ends, within `timeout_ms`; a run queued behind another answers "pending" and is
        waited again. The last answer (still "pending" when time ran out)."""
        deadline = time.monotonic() + timeout_ms / 1000
        answers: list[Any] = []

        def ended() -> Any:
            remaining = max(1000, int((deadline - time.monotonic()) * 1000))
            answers.append(self.call("agent.wait", {"runId": run_id, "timeoutMs": remaining},
                                     timeout_s=remaining / 1000 + 15))
            return None if isinstance(answers[-1], dict) and answers[-1].get("status") == "pending" else answers[-1]

        poll_until(ended, timeout_s=timeout_ms / 1000, interval_s=0.5)
        return answers[-1]

    def call(self, method: str, params: dict | None = None, *, timeout_s: float = 30.0) -> Any:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            self.socket.send(json.dumps({"type": "req", "id": request_id, "method": method, "params": params or {}}))
            while True:
                remaining = timeout_s - (time.monotonic() - started)
                if remaining <= 0:
                    raise TimeoutError
                frame = json.loads(self.socket.recv(timeout=remaining))
                if frame.get("type") == "event":
                    self.events.append(frame)
                elif frame.get("type") == "res" and frame.get("id") == request_id:
                    break
        except TimeoutError:
            self.calls.append(CallRecord(method, False, time.monotonic() - started, "timeout"))
            raise RpcError(method, f"no response within {timeout_s:.0f}s", "CLIENT_TIMEOUT") from None
        except ConnectionClosed as closed:
            self.calls.append(CallRecord(method, False, time.monotonic() - started, "closed"))
            raise RpcError(method, f"socket closed: {closed}", "CLOSED") from None
        seconds = time.monotonic() - started
        if not frame.get("ok"):
            error = frame.get("error") or {}
            self.calls.append(CallRecord(method, False, seconds, str(error.get("code"))))
            raise RpcError(method, str(error.get("message", error)), error.get("code"), error.get("details"), answered=True)
        self.calls.append(CallRecord(method, True, seconds))
        return frame.get("payload")

    def list_sessions(self, params: dict | None = None, *, timeout_s: float = 30.0) -> list[dict]:
        """sessions.list's rows, each an object with a string `key`; any other answer is the Gateway's MalformedAnswer
        (a finding), never a KeyError in our code blamed on the harness."""
        payload = self.call("sessions.list", params, timeout_s=timeout_s)
        rows = payload.get("sessions") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("key"), str) for r in rows):
            raise MalformedAnswer("sessions.list", f"expected {{sessions: [{{key, …}}, …]}}, got {str(payload)[:200]}")
        return rows

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
