"""The Gateway container, on testcontainers: start (and observe the start), stop, kill, restart, exec, logs.

One `Gateway` is one testcontainers `DockerContainer` on one state volume. testcontainers creates it, labels it and
runs the start's wait strategy (waits.GatewayReadyOrExited). A restart reuses the same container (testcontainers'
`stop()` would remove it), so the hostname, and with it the Gateway's owner lease, stays the same (openclaw.md §11).
Every command run in the container, and every one-off container on the volume, is appended to `commands` in order:
the evidence shows exactly what touched the state, and when.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import requests
from testcontainers.core.container import DockerContainer

from ..errors import ContainerFailed
from ..state.config import GATEWAY_PORT
from ..report.redaction import remember
from .resources import RunResources
from .waits import READY_TIMEOUT_S, GatewayReadyOrExited, StartObservation, poll_until, probe_http

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
DOCTOR_FIX = ["openclaw", "doctor", "--fix", "--non-interactive"]
DOCTOR_TIMEOUT_S = 900  # 9.5's doctor tries npm for each missing plugin: ~90 s each, offline
LOOPBACK_ONLY = ("127.0.0.1", None)
NO_ROUTE_OUT_ENV = ("npm_config_fetch_retries", "0")  # npm's own setting; the failure it reports is unchanged  # published on the host's loopback, at a port the engine picks


@dataclass(frozen=True)
class ExecResult:
    argv: list[str]
    exit_code: int
    output: str
    seconds: float

    def to_json(self) -> dict:
        return {"argv": self.argv, "exit_code": self.exit_code, "seconds": round(self.seconds, 2)}


@dataclass
class Gateway:
    resources: RunResources
    image: str
    volume: str
    token: str
    name: str = ""
    extra_hosts: dict[str, str] = field(default_factory=dict)
    network: Any = None  # a network.HermeticNetwork: the Gateway's only door; None: Docker's default bridge
    commands: list[dict] = field(default_factory=list)
    ready_timeout_s: float = READY_TIMEOUT_S
    volume_mode: str = "rw"  # "ro": the state mounted read-only (a fault)
    env: dict[str, str] = field(default_factory=dict)  # more environment for the Gateway's containers (a fault's)
    # One-offs (doctor, probes) run from this image when set: the Gateway container's own filesystem, committed after
    # a release was installed in it in place (upgrades/npm_install.py), so doctor is the installed release's.
    oneoff_image: str = ""
    _container: DockerContainer | None = None

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

    def _on_volume(self, name: str, role: str, argv: list[str], image: str = "", **kwargs: Any) -> DockerContainer:
        """A container on the state volume, with the Gateway's hostname and environment. With no route out (the
        hermetic network, or none for a one-off) npm is told not to retry: a plugin the release tries to install
        fails as offline (EAI_AGAIN) at once instead of after npm's ~70 s of backoff per package."""
        kwargs.setdefault("volume_mode", self.volume_mode)
        container = self.resources.container(name, role, image or self.image, argv, state_volume=self.volume,
                                             hostname=self.hostname, **kwargs).with_env("OPENCLAW_GATEWAY_TOKEN", self.token)
        if kwargs.get("network", "none") != "bridge":
            container.with_env(*NO_ROUTE_OUT_ENV)
        for key, value in self.env.items():
            container.with_env(key, value)
        return container

    def start(self) -> StartObservation:
        """Create and start the container on the first call, start it again after a stop or kill; then wait until
        the Gateway is ready, exits, or `ready_timeout_s` passes, and return what it did."""
        self.launch()
        return self.observe_start()

    def launch(self) -> None:
        """Create and start the container (or start it again) without waiting: for faults injected during a start."""
        if self._container is None:
            if self.network is not None:  # the internal network, the witness as resolver and only door
                doors = self.network.container_kwargs()
                extra_hosts = {**self.extra_hosts, **doors.pop("extra_hosts")}
            else:  # Docker's default bridge, ports on the host's loopback
                doors, extra_hosts = {"network": "bridge"}, self.extra_hosts
            self._container = self._on_volume(self.name, "gateway", self.argv, extra_hosts=extra_hosts or None, **doors)
            if self.network is None:
                self._container.ports.update({f"{GATEWAY_PORT}/tcp": LOOPBACK_ONLY, f"{RELAY_PORT}/tcp": LOOPBACK_ONLY})
            self._record("start", self.argv)
            self._container.start()
        else:
            self._record("start", self.argv)
            self._container.get_wrapped_container().start()

    def observe_start(self) -> StartObservation:
        """Wait until the launched Gateway is ready, exits, or `ready_timeout_s` passes; what it did."""
        wait = GatewayReadyOrExited(self.base_url).with_startup_timeout(int(self.ready_timeout_s))
        wait.wait_until_ready(self._container)
        assert wait.observation is not None
        self._record("observed", [], outcome=wait.observation.outcome, seconds=round(wait.observation.seconds, 2))
        return wait.observation

    @property
    def container(self) -> Any:
        """The docker-py container, freshly inspected."""
        if self._container is None:
            raise ContainerFailed("the Gateway container was never started")
        self._container.reload()
        return self._container.get_wrapped_container()

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
            raise ContainerFailed(f"port {port} is not published (is the container running?)")
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
        errors: list[BaseException] = []

        def connected() -> GatewayRpc | None:
            try:
                return GatewayRpc.connect(url, self.token)
            except (OSError, EOFError, WebSocketException) as error:  # refused or reset until the relay listens
                errors.append(error)
                return None

        rpc = poll_until(connected, timeout_s=timeout_s, interval_s=0.2)
        if rpc is None:
            raise ContainerFailed(f"cannot reach the Gateway RPC through {url}: {errors[-1]}") from None
        return rpc

    def keep_output(self, folder: Path) -> None:
        """The evidence every Gateway leaves: its output (every start of its container) and every command that
        touched its state, in order."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "commands.json").write_text(json.dumps(self.commands, indent=2), encoding="utf-8")  # first: logs()
        (folder / "gateway-stdout.log").write_text(self.logs(), encoding="utf-8")  # can fail on a container gone

    def probe_http(self, path: str) -> Any:
        """{status, body} of a GET on the Gateway's published HTTP port, or None when it doesn't answer."""
        return probe_http(self.base_url, path)

    def exec(self, argv: list[str], *, timeout_s: float | None = None, user: str = "node",
             environment: dict[str, str] | None = None) -> ExecResult:
        """Run a command inside the running Gateway container (as node unless `user`, with the container's env and
        `environment` on top)."""
        started = time.monotonic()
        command = argv if timeout_s is None else ["timeout", str(int(timeout_s)), *argv]
        code, output = self.container.exec_run(command, user=user, environment=environment, demux=False)
        result = ExecResult(argv, int(code), (output or b"").decode(errors="replace"), time.monotonic() - started)
        self._record("exec", argv, exit_code=result.exit_code, seconds=round(result.seconds, 2),
                     **({"user": user} if user != "node" else {}))
        return result

    def doctor_fix(self, *, timeout_s: float = DOCTOR_TIMEOUT_S) -> ExecResult:
        """`openclaw doctor --fix --non-interactive` in a one-off on the volume: the user's way on from a refusal."""
        return self.run_oneoff(DOCTOR_FIX, timeout_s=timeout_s)

    def run_oneoff(self, argv: list[str], *, timeout_s: float = 300, user: str | None = None,
                   environment: dict[str, str] | None = None) -> ExecResult:
        """Run a command in a new container on the same volume and hostname while the Gateway is stopped
        (e.g. `openclaw doctor --fix`, which needs exclusive access to the state); as the image's user unless `user`,
        with `environment` on top of the Gateway's."""
        started = time.monotonic()
        oneoff = self._on_volume(f"{self.name}-oneoff-{len(self.commands)}", "oneoff", argv, image=self.oneoff_image,
                                 extra_hosts=self.extra_hosts or None, **({"user": user} if user else {}))
        for key, value in (environment or {}).items():
            oneoff.with_env(key, value)
        try:
            container = oneoff.start().get_wrapped_container()
            try:
                code = int(container.wait(timeout=timeout_s)["StatusCode"])
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as error:
                # The command outlived its budget: the engine sends /wait's headers at once and its body at the end,
                # so the timeout surfaces while reading the body, as a ConnectionError around a read timeout.
                if isinstance(error, requests.exceptions.ConnectionError) and "timed out" not in str(error):
                    raise
                with contextlib.suppress(docker.errors.APIError):  # it may have exited meanwhile
                    container.kill()
                code = 124
            output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        finally:
            oneoff.stop()  # removes it
        result = ExecResult(argv, code, output, time.monotonic() - started)
        self._record("oneoff", argv, exit_code=code, seconds=round(result.seconds, 2), **({"user": user} if user else {}))
        return result

    def logs(self) -> str:
        if self._container is None:
            return ""
        return self.container.logs(stdout=True, stderr=True).decode(errors="replace")

    def commit(self, purpose: str) -> str:
        """The Gateway container's filesystem as an image of this run (removed with the run): what one-offs run from
        once a release was installed in it in place."""
        tag = self.resources.commit(self.container, purpose)
        self._record("commit", [tag])
        self.oneoff_image = tag
        return tag

    def stop(self, timeout_s: int = 20) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`."""
        if self._container is not None and self.status() == "running":
            self.container.stop(timeout=timeout_s)  # docker-py's stop keeps the container; testcontainers' removes it
            self._record("stop", [])

    def kill(self) -> None:
        if self._container is not None and self.status() == "running":
            self.container.kill()
            self._record("kill", ["SIGKILL"])

    def awaited(self, what: str, seconds: float) -> None:
        """Record time spent waiting for the Gateway to report work of its own (its restart recovery's re-run):
        the Gateway's time, as an RPC answer is."""
        self._record("awaited", [what], seconds=round(seconds, 2))

    def busy_seconds(self) -> dict[str, float]:
        """The Gateway's own time, from what was recorded: every start until it was ready (or exited), every
        `openclaw` command it ran for us (doctor --fix, the diagnostics; a one-off's container start included) and
        every wait for a report of its own work."""
        starts = sum(c.get("seconds", 0.0) for c in self.commands if c["kind"] == "observed")
        awaited = sum(c.get("seconds", 0.0) for c in self.commands if c["kind"] == "awaited")
        # Commands run side by side (the two diagnostics) count once: the wall time they cover, not their sum.
        cli = covered_seconds([(c["at"] - c.get("seconds", 0.0), c["at"]) for c in self.commands
                               if c["kind"] in ("exec", "oneoff") and c["argv"][:1] == ["openclaw"]])
        return {"starts": round(starts, 1), "cli": round(cli, 1), "awaited": round(awaited, 1)}

    def version(self) -> str:
        """`openclaw --version` inside the container, e.g. "2026.9.6"."""
        result = self.exec(["openclaw", "--version"])
        return parse_version(result.output)


def covered_seconds(intervals: list[tuple[float, float]]) -> float:
    """How long at least one of the (start, end) intervals was running: overlaps count once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def parse_version(output: str) -> str:
    """"OpenClaw 2026.9.6 (eb377ac)" -> "2026.9.6"."""
    for token in output.split():
        if token[:1].isdigit() and token.count(".") >= 2:
            return token
    return output.strip()

