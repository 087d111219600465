"""A writer release writes a fixture: `path3-sandbox fixtures capture`.

    recipe = load_recipe(Path("fixtures/recipes/real-7.35.json"))  # upgrades/recipe.py
    capture(client, image, recipe, "real-7.35", FIXTURES_DIR)     # -> fixtures/legacy-stores/real-7.35/

The writer's Gateway (a file-backed release such as 2026.7.35) starts on an EMPTY state volume with the
harness config and the scripted model provider. The recipe's turns go through its WebSocket RPC
(chat.send + agent.wait; chat.history gives the reply as the Gateway stored it), then sessions.compact and
sessions.reset where hello-ok offers them. After a clean stop (SIGTERM), the whole state directory is copied
out of the volume, harness-only things are removed (the gateway token and the scripted provider's config,
logs/), and the fixture is written: state/ as the release left it; fixture.json inferred from the content
(`userstate.infer_manifest`) plus the writer, every turn's text as sent and as replied, and what was removed.

The recipe and its format are in upgrades/recipe.py; sending its turns and operations over RPC, in
upgrades/turns.py. This module runs the writer, finds each turn in the transcripts it wrote (locate_turns) and
removes what the harness, not the writer, put into the state (scrub_state).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import docker

from ..state.config import CONFIG_NAME, STATE_DIR
from ..errors import CaptureFailed, FixtureError, GatewayNotReady
from ..build.images import GatewayImage
from ..progress import say
from ..scenario.provider import PROVIDER_ID, ScriptedProvider
from ..containers.resources import RunResources, new_run_id
from ..containers.rpc import GatewayRpc
from ..state.layout import SCRATCH_DIRS
from ..state.userstate import infer_manifest, write_fixture
from ..containers.volumes import VolumeFile, get_tree
from ..proof.session import StateSession
from .recipe import WRITER_PRICING, Recipe, agents_config, writer_config
from .turns import Turn, drive_recipe, message_text, operation, send_turn, turn_message
from .writer_steps import cron_sessions, run_acp, run_cron, run_setup

STOP_TIMEOUT_S = 30
ORIGIN = "captured from openclaw {release} by path3-sandbox fixtures capture"
CATCHES = ("the real thing: a legacy state written by openclaw {release} itself (sessions.json, JSONL transcripts "
           "and whatever else the release leaves), not hand-made")
# Harness-only things in the captured state: the file log (the Gateway's view of the harness run) and caches
# (the root's scratch folders, which seeding would leave out anyway).
HARNESS_DIRS = ("logs", *SCRATCH_DIRS, ".cache")


def locate_turns(state: Path, turns: list[Turn], *, required: bool = True) -> list[dict]:
    """Each turn as the manifest records it, with the transcript file (relative to state/) that holds both its
    sent text (a user message) and its reply (an assistant message), found by content. A reset session's
    earlier turns are in the writer's `<sessionId>.jsonl.reset.<time>` file, not in a live transcript.
    Raises CaptureFailed for a turn no file holds: the writer lost it, or the capture looks in the wrong place (unless
    not `required`: a cron job's run, which the release may skip; then its record says "transcript": null)."""
    texts: dict[str, tuple[set[str], set[str]]] = {}
    for path in sorted(state.glob("agents/*/sessions/*.jsonl*")):
        if ".trajectory" in path.name or not path.is_file():
            continue
        user, assistant = set(), set()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            message = event.get("message") if isinstance(event, dict) and event.get("type") == "message" else None
            role = message.get("role") if isinstance(message, dict) else None
            if role in ("user", "assistant"):
                (user if role == "user" else assistant).add(message_text(message))
        texts[path.relative_to(state).as_posix()] = (user, assistant)
    located = []
    for turn in turns:
        found = [path for path, (user, assistant) in texts.items() if turn.reply in assistant and (
            any(turn.marker in text for text in user) if turn.wrapped else turn.sent in user)]
        if not found and not required:
            say("capture", f"turn {turn.marker} on {turn.session_key}: no transcript holds its reply {turn.reply!r}")
            located.append({**turn.to_json(), "transcript": None})
            continue
        if not found:
            raise CaptureFailed(f"turn {turn.marker} on {turn.session_key}: no transcript under agents/*/sessions/ holds "
                                f"both its message and its reply {turn.reply!r}")
        located.append({**turn.to_json(), "transcript": found[0]})
    return located


# -- scrubbing harness-only things out of the captured state --------------------------------------------
def scrub_state(state: Path, token: str) -> list[str]:
    """Remove what the harness, not the writer, put into the state; returns one line per removal.

    The gateway token and the scripted provider's config (openclaw.json and its backups, agents' models.json),
    the file log (logs/: it records the harness run) and caches. Raises CaptureFailed when the token is still
    in any file afterwards: a fixture never carries a credential, even a throwaway one."""
    removed: list[str] = []
    for name in HARNESS_DIRS:
        if (state / name).is_dir():
            count = sum(1 for p in (state / name).rglob("*") if p.is_file())
            shutil.rmtree(state / name)
            removed.append(f"{name}/ ({count} file(s))")
    for config in sorted(state.glob(f"{CONFIG_NAME}*")):
        if config.is_file():
            removed += _scrub_json(config, state, token)
    for models in sorted(state.glob("agents/*/agent/models.json")):
        removed += _scrub_json(models, state, token)
    leaked = [str(p.relative_to(state)) for p in sorted(state.rglob("*")) if p.is_file() and token.encode() in p.read_bytes()]
    if leaked:
        raise CaptureFailed(f"the harness's gateway token is still in the captured state: {', '.join(leaked)}",
                            hint="teach capture.scrub_state about this file before committing the fixture")
    return removed


def _scrub_json(path: Path, state: Path, token: str) -> list[str]:
    relative = str(path.relative_to(state))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    removed = [f"{relative}: {key}" for key in _scrub_config(data, token)]
    if not removed:
        return []
    if path.name == "models.json" and not (data.get("providers") or {}):
        path.unlink()  # written for the scripted provider alone
        return [f"{relative} (it held only the scripted provider)"]
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return removed


def _scrub_config(config: dict, token: str) -> list[str]:
    """Remove, in place, the harness token, the scripted provider and the capture's pricing switch from a
    config-shaped object (openclaw.json, or an agent's models.json whose providers sit at the top)."""
    removed = []
    auth = (config.get("gateway") or {}).get("auth")
    if isinstance(auth, dict) and auth.get("token") == token:
        del auth["token"]
        removed.append("gateway.auth.token")
    providers = config.get("providers")
    if isinstance(providers, dict) and PROVIDER_ID in providers:  # models.json
        del providers[PROVIDER_ID]
        removed.append(f"providers.{PROVIDER_ID}")
    models = config.get("models")
    if isinstance(models, dict):
        providers = models.get("providers")
        if isinstance(providers, dict) and PROVIDER_ID in providers:
            del providers[PROVIDER_ID]
            removed.append(f"models.providers.{PROVIDER_ID}")
            if not providers:
                del models["providers"]
                if models.get("mode") == "merge":
                    del models["mode"]  # set by the harness only to merge the scripted provider in
        if models.get("pricing") == WRITER_PRICING:
            del models["pricing"]
            removed.append("models.pricing")
        if not models:
            del config["models"]
    model = ((config.get("agents") or {}).get("defaults") or {}).get("model")
    if isinstance(model, dict) and str(model.get("primary", "")).startswith(f"{PROVIDER_ID}/"):
        del model["primary"]
        removed.append("agents.defaults.model.primary")
        if not model:
            del config["agents"]["defaults"]["model"]
    return removed


# -- the capture ---------------------------------------------------------------------------------------------
def capture(client: docker.DockerClient, image: GatewayImage, recipe: Recipe, name: str, dest_root: Path,
            *, keep: bool = False, replace: bool = False) -> Path:
    """Run `recipe` on the writer release in `image` and write the fixture `dest_root/name`; returns its folder."""
    dest = dest_root / name
    if dest.exists() and any(dest.iterdir()) and not replace:
        raise FixtureError(f"{dest} already exists", hint="pick another --name, or pass --replace to capture it again")
    if image.target.version != recipe.writer:
        raise FixtureError(f"recipe {recipe.source} is for openclaw {recipe.writer}, the image holds {image.target.version}",
                           hint=f"capture with --writer {recipe.writer}")
    run_id = new_run_id()
    provider = ScriptedProvider(host=_bridge_address(client)).start()
    try:
        with RunResources(client, run_id, keep=keep) as resources, \
                tempfile.TemporaryDirectory(prefix="path3-capture-") as work:
            writer = _Writer(image, recipe, resources, provider)
            state, record = writer.run(Path(work) / "state")
            manifest = _manifest(state, name, recipe, image, record)
            return _write(state, dest, manifest, replace=replace)
    finally:
        provider.stop()


def _operator_rpc(gateway) -> tuple[GatewayRpc, str]:
    """An RPC client with operator scopes, and the client identity it took ("" for the usual one). 2026.6.5 clears the
    scopes of a token-only "cli" client without a device identity even on its own loopback (hello-ok's auth.scopes is
    empty; chat.send answers "missing scope: operator.write"); it keeps them for a local backend client
    ("gateway-client", mode "backend": its shouldSkipLocalBackendSelfPairing), which is what the writer is here."""
    rpc = gateway.rpc()
    scopes = ((rpc.hello.get("auth") or {}).get("scopes"))
    if not isinstance(scopes, list) or "operator.write" in scopes:
        return rpc, ""
    rpc.close()
    rpc = GatewayRpc.connect(gateway.rpc_url(), gateway.token, client_id="gateway-client", mode="backend")
    granted = (rpc.hello.get("auth") or {}).get("scopes")
    say("capture", f"hello-ok granted the cli client no operator scopes ({scopes}); as a local backend client: {granted}")
    return rpc, "gateway-client/backend"


def _bridge_address(client: docker.DockerClient) -> str:
    from ..proof.run import bridge_gateway_address  # run.py imports the proof; only this helper is needed here

    return bridge_gateway_address(client)


class _Writer:
    """One writer Gateway on one empty volume: start, drive the recipe, stop, copy out, scrub."""

    def __init__(self, image: GatewayImage, recipe: Recipe, resources: RunResources,
                 provider: ScriptedProvider) -> None:
        self.image, self.recipe, self.resources, self.provider = image, recipe, resources, provider
        # hermetic as every writer hop of a path: the scripted provider is the writer's only door
        self.session = StateSession(resources, image.tag, provider=provider)
        self.token = self.session.token
        self.seconds: dict[str, float] = {}
        self.turns: list[Turn] = []
        self.operations: list[dict] = []
        self.belongings: dict = {}  # what the writer's own CLI wrote beside sessions (writer_steps.py)

    def _timed(self, phase: str, started: float) -> None:
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + time.monotonic() - started, 1)

    def config(self) -> dict:
        return self.session.config(writer_config, lambda config: agents_config(config, self.recipe))

    def run(self, dest: Path) -> tuple[Path, dict]:
        t = time.monotonic()
        volume = self.session.volume("capture", [VolumeFile(CONFIG_NAME, (json.dumps(self.config(), indent=2) + "\n")
                                                            .encode(), time.time(), 0o600)])
        gateway = self.session.gateway(volume, f"path3-{self.resources.run_id}-writer")
        if self.recipe.setup_steps:
            self.belongings["setup"], self.belongings["installed"] = run_setup(gateway, self.recipe)
        say("capture", f"starting openclaw {self.recipe.writer} ({self.image.tag}) on an empty state volume")
        start = gateway.start()
        self._timed("ready", t)
        if start.outcome != "ready":
            tail = "\n".join(gateway.logs().splitlines()[-20:])
            raise GatewayNotReady(f"the writer's Gateway did not become ready ({start.outcome} after {start.seconds:.1f}s, "
                                  f"exit code {start.exit_code}); last lines of its output:\n{tail}",
                                  hint="rerun with --keep to inspect the container")
        version = gateway.version()
        say("capture", f"ready in {start.seconds:.1f}s; openclaw --version inside: {version}")
        if version != self.recipe.writer:
            raise CaptureFailed(f"the image's Gateway reports openclaw {version}, the recipe wants {self.recipe.writer}")
        t = time.monotonic()
        rpc, client = _operator_rpc(gateway)
        try:
            hello = {"protocol": rpc.protocol, "server_version": rpc.server_version, "methods": len(rpc.methods),
                     **({"client": client} if client else {}),
                     "offers": {m: m in rpc.methods for m in ("sessions.compact", "sessions.reset", "sessions.compaction.list")}}
            self._drive(rpc)
            cron, acp = self._belongings(gateway)
        finally:
            rpc.close()
        self._timed("recipe", t)
        t = time.monotonic()
        gateway.stop(timeout_s=STOP_TIMEOUT_S)
        self._timed("stop", t)
        exit_code = gateway.exit_code()
        say("capture", f"stopped with SIGTERM in {self.seconds['stop']:.1f}s (exit {exit_code})")
        if exit_code == 137 or self.seconds["stop"] >= STOP_TIMEOUT_S:
            raise CaptureFailed(f"the writer's Gateway did not stop on SIGTERM within {STOP_TIMEOUT_S}s (exit {exit_code}): "
                                "its SQLite state may be mid-transaction, so it is not captured")
        t = time.monotonic()
        state = dest
        links = get_tree(self.resources, self.image.tag, volume, state)
        sidecars = sorted(str(p.relative_to(state)) for p in state.rglob("*.sqlite-*") if p.is_file())
        removed = scrub_state(state, self.token)
        self._timed("copy", t)
        if self.recipe.cron:
            cron_sessions(state, self.belongings["cron"])
            cron = [replace(turn, session_key=_run_key(record)) for turn, record in zip(cron, self.belongings["cron"])]
        check_channels(state, self.recipe)
        files = sum(1 for p in state.rglob("*") if p.is_file())
        say("capture", f"copied {files} files out of the volume; removed harness-only: {'; '.join(removed) or 'nothing'}")
        if links:
            say("capture", f"links left out (they point into the installed package): {', '.join(links)}")
        if sidecars:
            say("capture", f"SQLite sidecars left after the clean stop (kept): {', '.join(sidecars)}")
        record = {"turns": locate_turns(state, self.turns + acp) + locate_turns(state, cron, required=False),
                  "operations": self.operations, **self.belongings,
                  "hello": hello, "stop": {"exit_code": exit_code, "seconds": self.seconds["stop"]},
                  "removed": removed, "links_left_out": links, "sqlite_sidecars_after_stop": sidecars, "seconds": self.seconds}
        return state, record

    def _belongings(self, gateway) -> tuple[list[Turn], list[Turn]]:
        """Cron jobs and ACP sessions, through the writer's own CLI while its Gateway runs: (cron turns, ACP turns)."""
        cron: list[Turn] = []
        acp: list[Turn] = []
        if self.recipe.cron:
            self.belongings["cron"], cron = run_cron(gateway, self.recipe)
        if self.recipe.acp:
            self.belongings["acp"], acp = run_acp(gateway, self.recipe)
        return cron, acp

    # -- the recipe over RPC --
    def _drive(self, rpc: GatewayRpc) -> None:
        missing = sorted({"chat.send", "agent.wait", "chat.history"} - rpc.methods)
        if missing:
            raise CaptureFailed(f"openclaw {self.recipe.writer} does not offer {', '.join(missing)} over RPC "
                                f"(hello-ok lists {len(rpc.methods)} methods)")
        say("capture", f"RPC protocol {rpc.protocol}, server {rpc.server_version}, {len(rpc.methods)} methods; "
                       f"{self.recipe.turn_count} turns to send")
        drive_recipe(self.recipe, lambda key, text: self.turns.append(self._turn(rpc, key, text)),
                     lambda method, params: self.operations.append(operation(rpc, self.recipe.writer, method, params)))

    def _turn(self, rpc: GatewayRpc, key: str, text: str) -> Turn:
        marker, message = turn_message(text, len(self.turns) + 1)
        reply = send_turn(rpc, key, marker, message)
        say("capture", f"{key}: turn {marker} ({len(message.encode())} bytes) -> {reply!r}")
        return Turn(key, marker, message, reply)


def _manifest(state: Path, name: str, recipe: Recipe, image: GatewayImage, record: dict) -> dict:
    installed = record.pop("installed", None)
    pending: tuple[str, ...] = ()
    if installed is not None:  # plugins the writer's config enables that it never had installed
        installed["configured_not_installed"] = sorted(set(enabled_plugins(state)) - set(installed.pop("ids")))
        pending = tuple(installed["configured_not_installed"])
    inferred = infer_manifest(state, name, catches=recipe.catches or CATCHES.format(release=recipe.writer),
                              origin=ORIGIN.format(release=recipe.writer), plugins_pending=pending)
    inferred["state_dir_as_written"] = STATE_DIR
    writer = {"release": recipe.writer, "image": image.tag, "date": dt.datetime.now(dt.timezone.utc).date().isoformat(),
              "recipe": recipe.source}
    head = {k: inferred.pop(k) for k in ("name", "catches", "origin")}
    return {**head, **({} if recipe.default_set else {"default_set": False}), "writer": writer,
            **({"installed": installed} if installed is not None else {}), **inferred,
            "turns": record.pop("turns"), "operations": record.pop("operations"), "capture": record}


def enabled_plugins(state: Path) -> list[str]:
    """The plugins the captured config enables (plugins.entries.<id>.enabled)."""
    try:
        config = json.loads((state / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = (config.get("plugins") or {}).get("entries") or {} if isinstance(config, dict) else {}
    return sorted(pid for pid, entry in entries.items() if isinstance(entry, dict) and entry.get("enabled") is True)


def check_channels(state: Path, recipe: Recipe) -> None:
    """Each channel account the recipe asks for is in the config the writer left (a release may answer exit 0 and
    write nothing, as 2026.6.5's `channels add --channel discord` does when it cannot fetch the plugin offline)."""
    try:
        channels = json.loads((state / CONFIG_NAME).read_text(encoding="utf-8")).get("channels") or {}
    except (OSError, ValueError, AttributeError):
        channels = {}
    for channel in recipe.channels:
        found = channels.get(channel.channel) if isinstance(channels, dict) else None
        if channel.account:
            found = ((found or {}).get("accounts") or {}).get(channel.account) if isinstance(found, dict) else None
        if not isinstance(found, dict) or channel.token not in json.dumps(found):
            raise CaptureFailed(f"the writer did not write channel {channel.channel} account {channel.account or 'default'} "
                                f"into {CONFIG_NAME} ({channel.via})", hint='try "via": "config-set" for this channel')


def _run_key(record: dict) -> str:
    """The session a cron job's run wrote its turn to: the run's own (":run:") key when the store has one."""
    keys = sorted(record.get("sessions") or {})
    return next((k for k in keys if ":run:" in k), keys[0] if keys else f"cron:{record['id']}")


def _write(state: Path, dest: Path, manifest: dict, *, replace: bool) -> Path:
    """Write the fixture; with `replace`, the old one goes only once the new one is complete."""
    if not (replace and dest.exists()):
        return write_fixture(state, dest, manifest)
    fresh = dest.with_name(f".{dest.name}.capturing")
    shutil.rmtree(fresh, ignore_errors=True)
    write_fixture(state, fresh, manifest)
    old = dest.with_name(f".{dest.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    dest.rename(old)
    fresh.rename(dest)
    shutil.rmtree(old)
    return dest
