"""The Gateway container: start, observe the start, stop, kill, restart, exec, logs.

One `Gateway` is one container on one state volume. Stop/kill/start reuse the same container, so the
hostname (and with it the Gateway's owner lease) stays the same across restarts (openclaw.md §11).
Every command run in the container, and every one-off container on the volume, is appended to
`commands` in order: the evidence shows exactly what touched the state, and when.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Self

import docker
import docker.errors
import httpx

from ..config import GATEWAY_PORT, STATE_DIR
from ..redaction import remember
from .resources import RunResources, run_labels

READY_TIMEOUT_S = 180.0
# The Gateway grants operator scopes to token-only clients on its own loopback only (openclaw.md §11),
# so RPC goes through a byte-for-byte TCP relay inside the container: host -> RELAY_PORT -> 127.0.0.1:18789.
RELAY_PORT = 28789
RELAY_SCRIPT = r"""
const net = require('net');
const server = net.createServer(client => {
  const upstream = net.connect(Number(process.argv[2]), '127.0.0.1');
  client.pipe(upstream); upstream.pipe(client);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
});
server.on('error', e => { console.error(String(e)); process.exit(e.code === 'EADDRINUSE' ? 0 : 1); });
server.listen(Number(process.argv[1]), '0.0.0.0');
"""


@dataclass(frozen=True)
class ExecResult:
    argv: list[str]
    exit_code: int
    output: str
    seconds: float

    def to_json(self) -> dict:
        return {"argv": self.argv, "exit_code": self.exit_code, "seconds": round(self.seconds, 2)}


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


@dataclass
class Gateway:
    client: docker.DockerClient
    resources: RunResources
    image: str
    volume: str
    token: str
    name: str = ""
    extra_hosts: dict[str, str] = field(default_factory=dict)
    network: Any = None  # a network.HermeticNetwork: the Gateway's only door; None: Docker's default bridge
    commands: list[dict] = field(default_factory=list)
    _container: Any = None

    def __post_init__(self) -> None:
        self.name = self.name or f"path3-{self.resources.run_id}-gateway"
        remember(self.token)  # redacted from every evidence file and progress line from now on

    @property
    def hostname(self) -> str:
        # Fixed per volume: a restarted Gateway reclaims its own owner lease at once.
        return f"{self.volume[:50]}"

    @property
    def argv(self) -> list[str]:
        return ["openclaw", "gateway", "run", "--bind", "lan", "--port", str(GATEWAY_PORT), "--auth", "token", "--token", self.token]

    def _record(self, kind: str, argv: list[str], **extra: Any) -> None:
        # Inline probe scripts are summarised: the evidence names what ran, not its source text.
        shown = ["<token>" if arg == self.token else f"<script: {len(arg)} chars>" if len(arg) > 200 else arg
                 for arg in argv]
        self.commands.append({"at": time.time(), "kind": kind, "argv": shown, **extra})

    def _run_kwargs(self) -> dict[str, Any]:
        return dict(
            volumes={self.volume: {"bind": STATE_DIR, "mode": "rw"}},
            hostname=self.hostname,
            environment={"OPENCLAW_GATEWAY_TOKEN": self.token},
            extra_hosts=self.extra_hosts or None,
        )

    def start(self) -> Self:
        """Create the container on first call, then (re)start it; returns at once."""
        if self._container is None:
            # Hermetic: no published ports (the witness publishes them), the internal network, the witness as DNS.
            doors = self.network.container_kwargs() if self.network else {
                "ports": {f"{GATEWAY_PORT}/tcp": ("127.0.0.1", None), f"{RELAY_PORT}/tcp": ("127.0.0.1", None)}}
            self.resources.track(self.name)  # tracked first: a signal between create and track must not leak it
            self._container = self.client.containers.create(
                self.image, command=self.argv, name=self.name, detach=True,
                labels=run_labels(self.resources.run_id, "gateway"), **{**self._run_kwargs(), **doors},
            )
        self._container.start()
        self._record("start", self.argv)
        return self

    @property
    def container(self) -> Any:
        if self._container is None:
            raise RuntimeError("the Gateway container was never started")
        self._container.reload()
        return self._container

    def status(self) -> str:
        return self.container.status

    def exit_code(self) -> int | None:
        state = self.container.attrs["State"]
        return None if state.get("Running") else int(state.get("ExitCode", 0))

    def _host_port(self, port: int) -> int:
        if self.network is not None:
            return self.network.host_port(port)
        bindings = self.container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise RuntimeError(f"port {port} is not published (is the container running?)")
        return int(bindings[0]["HostPort"])

    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._host_port(GATEWAY_PORT)}"

    def rpc_url(self) -> str:
        """A WebSocket URL on the host that reaches the Gateway from its own loopback (starts the relay)."""
        self.container.exec_run(["node", "-e", RELAY_SCRIPT, str(RELAY_PORT), str(GATEWAY_PORT)], user="node", detach=True)
        self._record("exec", ["node", "-e", "<tcp relay>", str(RELAY_PORT), str(GATEWAY_PORT)])
        return f"ws://127.0.0.1:{self._host_port(RELAY_PORT)}"

    def rpc(self, *, timeout_s: float = 20.0):
        """A connected GatewayRpc through the relay (retried while the relay starts listening)."""
        from websockets.exceptions import WebSocketException

        from .rpc import GatewayRpc

        url = self.rpc_url()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return GatewayRpc.connect(url, self.token)
            except (OSError, EOFError, WebSocketException) as error:  # refused or reset until the relay listens
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cannot reach the Gateway RPC through {url}: {error}") from None
                time.sleep(0.2)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S, interval_s: float = 0.5) -> StartObservation:
        """Poll /healthz and /readyz until both say so, the container exits, or the deadline passes."""
        started = time.monotonic()
        healthz = readyz = None
        while (elapsed := time.monotonic() - started) < timeout_s:
            state = self.container.attrs["State"]
            if not state.get("Running"):
                return StartObservation("exited", elapsed, int(state.get("ExitCode", -1)), healthz, readyz)
            healthz, readyz = self.probe_http("/healthz"), self.probe_http("/readyz")
            if _is_live(healthz) and _is_ready(readyz):
                return StartObservation("ready", time.monotonic() - started, None, healthz, readyz)
            time.sleep(interval_s)
        return StartObservation("timeout", time.monotonic() - started, None, healthz, readyz)

    def probe_http(self, path: str) -> Any:
        """{status, body} of a GET on the Gateway's published HTTP port, or None when it doesn't answer."""
        try:
            response = httpx.get(self.base_url() + path, timeout=2)
            return {"status": response.status_code, "body": response.json()}
        except (httpx.HTTPError, ValueError, RuntimeError, KeyError):
            return None

    def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        """Run a command inside the running Gateway container (as node, with the container's env)."""
        started = time.monotonic()
        command = argv if timeout_s is None else ["timeout", str(int(timeout_s)), *argv]
        code, output = self.container.exec_run(command, user="node", demux=False)
        result = ExecResult(argv, int(code), (output or b"").decode(errors="replace"), time.monotonic() - started)
        self._record("exec", argv, exit_code=result.exit_code)
        return result

    def run_oneoff(self, argv: list[str], *, timeout_s: float = 300) -> ExecResult:
        """Run a command in a new container on the same volume and hostname while the Gateway is stopped
        (e.g. `openclaw doctor --fix`, which needs exclusive access to the state)."""
        name = f"{self.name}-oneoff-{len(self.commands)}"
        started = time.monotonic()
        self.resources.track(name)  # tracked first: a signal between create and track must not leak it
        container = self.client.containers.create(
            self.image, command=argv, name=name, labels=run_labels(self.resources.run_id, "oneoff"),
            network_mode="none", **self._run_kwargs(),
        )
        try:
            container.start()
            try:
                code = int(container.wait(timeout=timeout_s)["StatusCode"])
            except Exception:  # requests' ReadTimeout: the command outlived its budget
                container.kill()
                code = 124
            output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        finally:
            container.remove(force=True)
        result = ExecResult(argv, code, output, time.monotonic() - started)
        self._record("oneoff", argv, exit_code=code)
        return result

    def logs(self) -> str:
        if self._container is None:
            return ""
        return self.container.logs(stdout=True, stderr=True).decode(errors="replace")

    def stop(self, timeout_s: int = 20) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`."""
        if self._container is not None and self.status() == "running":
            self._container.stop(timeout=timeout_s)
            self._record("stop", [])

    def kill(self) -> None:
        if self._container is not None and self.status() == "running":
            self._container.kill()
            self._record("kill", ["SIGKILL"])

    def version(self) -> str:
        """`openclaw --version` inside the container, e.g. "2026.9.6"."""
        result = self.exec(["openclaw", "--version"])
        return parse_version(result.output)


def parse_version(output: str) -> str:
    """"OpenClaw 2026.9.6 (eb377ac)" -> "2026.9.6"."""
    for token in output.split():
        if token[:1].isdigit() and token.count(".") >= 2:
            return token
    return output.strip()


def _is_live(probe: Any) -> bool:
    return bool(probe and probe["status"] == 200 and isinstance(probe["body"], dict) and probe["body"].get("ok"))


def _is_ready(probe: Any) -> bool:
    return bool(probe and probe["status"] == 200 and isinstance(probe["body"], dict) and probe["body"].get("ready"))
