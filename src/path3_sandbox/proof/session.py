"""A state on a Gateway: the one place that builds the harness config, seeds a volume, registers the state's
secrets with the redactor, puts the Gateway on its hermetic network and starts it as a user would.

Every command that runs a Gateway goes through it (prove, repro, compat, matrix, path, capture, faults, bench, smoke
and the pytest plugin's `upgraded_gateway`); what they really differ in is a parameter, not a copy:

    session = StateSession(resources, image.tag, network=HERMETIC, provider=provider)
    seed = session.seed(fixture)                          # harness config merged; the state's secrets remembered
    volume = session.volume("state-minimal", seed.files)  # a labelled volume holding exactly those bytes
    gateway = session.gateway(volume, name)               # alone on its hermetic network (network=OPEN: the bridge)
    starts = start_as_a_user(gateway, doctor_when=refused)  # a refusal naming doctor --fix: doctor, one more start

The `network` mode and the `provider` are the session's; the config layers (a writer's dialect, a recipe's agents),
the mutation a fault applies to the seeded files and the volume's driver options are each call's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..state.config import deep_merge, harness_config
from ..containers.gateway import ExecResult, Gateway
from ..containers.network import HERMETIC, OPEN, HermeticNetwork
from ..containers.resources import RunResources
from ..containers.volumes import VolumeFile, put_files
from .contracts import StartKind, classify_start
from ..state.fixtures import Fixture
from ..scenario.provider import ScriptedProvider, provider_config
from ..report.redaction import known_secrets, remember
from ..state.seeding import Seed, build_seed, read_state

NETWORKS = (HERMETIC, OPEN)


@dataclass
class StateSession:
    """What every Gateway of one fixture (or one path, one fault case) shares: the run's resources, the image, the
    token, the network mode and the scripted provider, if the Gateway takes turns."""

    resources: RunResources
    image: str  # the Gateway image's tag
    network: str = HERMETIC
    provider: ScriptedProvider | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    networks: list[HermeticNetwork] = field(default_factory=list)  # one per Gateway created on HERMETIC

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ValueError(f"network {self.network!r}: one of {', '.join(NETWORKS)}")

    def config(self, *layers: Callable[[dict], dict]) -> dict:
        """The harness config (quiet, offline, reachable), the scripted provider's routing when there is one, then
        each layer in turn (a writer release's dialect, a recipe's agents)."""
        config = harness_config(self.token)
        if self.provider:
            config, _ = deep_merge(config, provider_config(self.provider.base_url_for_containers))
        for layer in layers:
            config = layer(config)
        return config

    def seed(self, fixture: Fixture, *, config: dict | None = None) -> Seed:
        """The files a fresh volume receives for `fixture` (seeding.build_seed). The state's secrets, as the user had
        them and as seeded, are redacted from every evidence file and progress line from now on."""
        as_the_user_had_it = read_state(fixture)  # read once: seeded from, and its secrets known
        seed = build_seed(fixture, self.config() if config is None else config, files=as_the_user_had_it)
        # and as seeded: only the files seeding changed can hold a secret the user's did not (the harness's own)
        changed = {f.path: f.data for f in seed.files if as_the_user_had_it.get(f.path) != f.data}
        remember(*known_secrets(as_the_user_had_it), *known_secrets(changed))
        return seed

    def volume(self, purpose: str, files: Iterable[VolumeFile], *, driver_opts: dict[str, str] | None = None) -> str:
        """A labelled volume of this run holding exactly `files`."""
        volume = self.resources.volume(purpose, driver_opts=driver_opts)
        put_files(self.resources, self.image, volume, list(files))
        return volume

    def gateway(self, volume: str, name: str, *, network: str | None = None, **options) -> Gateway:
        """The Gateway container on `volume` (not started): on HERMETIC, alone on its own internal network whose
        witness is its DNS and only door (to the scripted provider, if any); on OPEN, Docker's default bridge.
        `network` overrides the session's mode for this one Gateway; `options` go to Gateway (env, volume_mode)."""
        mode = network or self.network
        hermetic = None
        if mode == HERMETIC:
            hermetic = HermeticNetwork(self.resources, self.image, name,
                                       provider_port=self.provider.port if self.provider else None,
                                       provider_host=self.provider.host if self.provider else None).create()
            self.networks.append(hermetic)
        extra_hosts = {"host.docker.internal": "host-gateway"} if self.provider else {}
        return Gateway(self.resources, self.image, volume, self.token, name=name, network=hermetic,
                       extra_hosts=extra_hosts, **options)


def refused(kind: StartKind) -> bool:
    """The policy of a user who reads the refusal: it names doctor --fix, so they run it."""
    return kind.kind == "refused"


def never(kind: StartKind) -> bool:
    return False


@dataclass
class Starts:
    """Starting a Gateway as a user does, one move at a time: each start classified, the doctor --fix run in between
    (if any), and where each start's output begins in the container's log (a restarted container's log holds every
    start). `start_as_a_user` makes the moves by a policy; a proof makes them itself, checking between them."""

    gateway: Gateway
    deadline: float | None = None  # time.monotonic(): doctor and a later start get only what is left of it
    kinds: list[StartKind] = field(default_factory=list)
    doctor: ExecResult | None = None
    log_offsets: list[int] = field(default_factory=list)
    launched_at: float = 0.0  # time.monotonic() at the first launch
    ended_at: float = 0.0  # time.monotonic() when the last start was classified

    @property
    def last(self) -> StartKind:
        return self.kinds[-1]

    @property
    def came_up(self) -> bool:
        return bool(self.kinds) and self.last.came_up

    @property
    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def start(self) -> StartKind:
        """One start (the first creates the container), classified from what it did and printed."""
        if not self.kinds:
            self.launched_at = time.monotonic()
        elif self.deadline is not None:
            self.gateway.ready_timeout_s = max(self.deadline - time.monotonic(), 1.0)
        self.log_offsets.append(len(self.gateway.logs()))
        self.kinds.append(classify_start(self.gateway.start(), self.gateway.logs()))
        self.ended_at = time.monotonic()
        return self.last

    def doctor_fix(self) -> ExecResult:
        """`openclaw doctor --fix --non-interactive` in a one-off on the volume, within the deadline if there is one."""
        timeout = {} if self.deadline is None else {"timeout_s": max(self.deadline - time.monotonic(), 1.0)}
        self.doctor = self.gateway.doctor_fix(**timeout)
        return self.doctor

    def to_json(self) -> list[dict]:
        return [kind.to_json() for kind in self.kinds]


def start_as_a_user(gateway: Gateway, *, doctor_when: Callable[[StartKind], bool] = refused,
                    deadline: float | None = None, on_start: Callable[[int], None] | None = None,
                    on_doctor: Callable[[ExecResult], None] | None = None) -> Starts:
    """Start the Gateway; when `doctor_when` says so of that start, run `openclaw doctor --fix --non-interactive` and
    start once more. With `deadline` (time.monotonic()), doctor and the second start get only what is left of it.
    `on_start(n)` is told before each start, `on_doctor` gets doctor's result before the second start."""
    starts = Starts(gateway, deadline)
    if on_start:
        on_start(1)
    if not doctor_when(starts.start()):
        return starts
    doctor = starts.doctor_fix()
    if on_doctor:
        on_doctor(doctor)
    if starts.out_of_time:
        return starts
    if on_start:
        on_start(2)
    starts.start()
    return starts
