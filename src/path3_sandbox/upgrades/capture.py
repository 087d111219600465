"""A writer release writes a fixture: `path3-sandbox fixtures capture`.

    recipe = load_recipe(Path("fixtures/recipes/real-7.35.json"))
    capture(client, image, recipe, "real-7.35", FIXTURES_DIR)     # -> fixtures/legacy-stores/real-7.35/

The writer's Gateway (a file-backed release such as 2026.7.35) starts on an EMPTY state volume with the
harness config and the scripted model provider. The recipe's turns go through its WebSocket RPC
(chat.send + agent.wait; chat.history gives the reply as the Gateway stored it), then sessions.compact and
sessions.reset where hello-ok offers them. After a clean stop (SIGTERM), the whole state directory is copied
out of the volume, harness-only things are removed (the gateway token and the scripted provider's config,
logs/), and the fixture is written: state/ as the release left it; fixture.json inferred from the content
(`userstate.infer_manifest`) plus the writer, every turn's text as sent and as replied, and what was removed.

A recipe (fixtures/recipes/<name>.json):

    {
      "writer": "2026.7.35",                                      the release that writes the state
      "catches": "…",                                             optional: what the fixture is for
      "agents": ["main", "work"],                                 optional: agents besides main get an agents.list entry
      "sessions": [{"key": "agent:main:main", "turns": ["hello", "…"]}, …],     turns run in this order
      "compact": ["agent:main:main"],                             then sessions.compact on these
      "reset": ["agent:main:…"],                                  then sessions.reset on these
      "after": [{"key": "…", "turns": ["…"]}]                     optional: turns after compact and reset
    }

Each turn's text is sent with a marker line appended ("path3 scenario turn P3-CAPTURE-T01"); the scripted
provider answers it with "P3-CAPTURE-T01 acknowledged.", so every reply is known and findable by content.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import docker

from ..state.config import CONFIG_NAME, STATE_DIR, deep_merge
from ..errors import CaptureFailed, FixtureError, GatewayNotReady, RpcError
from ..build.images import GatewayImage
from ..paths import PROJECT_ROOT
from ..progress import say
from ..scenario.provider import PROVIDER_ID, ScriptedProvider
from ..containers.resources import RunResources, new_run_id
from ..containers.rpc import GatewayRpc
from ..state.userstate import infer_manifest, write_fixture
from ..containers.volumes import VolumeFile, get_tree
from ..proof.session import StateSession

RECIPES_DIR = PROJECT_ROOT / "fixtures" / "recipes"
RECIPE_KEYS = ("writer", "catches", "agents", "sessions", "compact", "reset", "after")
MARKER_LINE = "path3 scenario turn"  # provider.TURN_RE: the marker on a line of its own
MARKER_PREFIX = "P3-CAPTURE-T"
AGENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KEY_RE = re.compile(r"^agent:([^:\s]+):\S+$")
VERSION_RE = re.compile(r"^\d{4}\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
TURN_TIMEOUT_MS = 120_000
STOP_TIMEOUT_S = 30
ORIGIN = "captured from openclaw {release} by path3-sandbox fixtures capture"
CATCHES = ("the real thing: a legacy state written by openclaw {release} itself (sessions.json, JSONL transcripts "
           "and whatever else the release leaves), not hand-made")
# Harness-only things in the captured state: the file log (the Gateway's view of the harness run) and caches.
HARNESS_DIRS = ("logs", "cache", "tmp", ".cache")
WRITER_PRICING = {"enabled": False}  # set by the capture (writer_config), removed from the captured config


# -- the recipe ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecipeSession:
    key: str
    turns: tuple[str, ...]

    @property
    def agent(self) -> str:
        return self.key.split(":")[1]


@dataclass(frozen=True)
class Recipe:
    source: str  # where it was read from, for messages and the manifest
    writer: str
    sessions: tuple[RecipeSession, ...]
    compact: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()
    after: tuple[RecipeSession, ...] = ()
    agents: tuple[str, ...] = ("main",)
    catches: str = ""

    @property
    def turn_count(self) -> int:
        return sum(len(s.turns) for s in self.sessions + self.after)


def load_recipe(path: Path) -> Recipe:
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in RECIPES_DIR.glob("*.json"))) if RECIPES_DIR.is_dir() else "none"
        raise FixtureError(f"recipe {path} does not exist", hint=f"recipes in {RECIPES_DIR.name}/: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise FixtureError(f"recipe {path} is not valid JSON: {error}", hint="fix the recipe") from None
    return parse_recipe(data, _shown_path(path))


def parse_recipe(data: Any, source: str) -> Recipe:
    """A validated recipe; every problem is a FixtureError naming the field and what it must be."""
    def bad(message: str, hint: str = "see the recipe format in src/path3_sandbox/upgrades/capture.py") -> FixtureError:
        return FixtureError(f"recipe {source}: {message}", hint=hint)

    if not isinstance(data, dict):
        raise bad(f"must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(RECIPE_KEYS))
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)}", hint=f"a recipe has only {', '.join(RECIPE_KEYS)}")
    writer = data.get("writer")
    if not isinstance(writer, str) or not VERSION_RE.match(writer):
        raise bad(f'"writer" must be an exact release version like "2026.7.35", not {writer!r}')
    catches = data.get("catches", "")
    if not isinstance(catches, str):
        raise bad('"catches" must be a string')
    agents = data.get("agents", ["main"])
    if not isinstance(agents, list) or not agents or not all(isinstance(a, str) and AGENT_ID_RE.match(a) for a in agents):
        raise bad(f'"agents" must be a non-empty list of agent ids (lowercase letters, digits, - and _), not {agents!r}')
    if len(set(agents)) != len(agents):
        raise bad(f'"agents" lists an agent twice: {agents}')
    agents = ["main", *[a for a in agents if a != "main"]]
    sessions = _sessions(data.get("sessions"), "sessions", agents, bad, required=True)
    after = _sessions(data.get("after", []), "after", agents, bad, required=False)
    keys = {s.key for s in sessions}
    if len(keys) != len(sessions):
        raise bad('"sessions" lists a key twice: give each session its turns in one place')
    lists = {}
    for field_name in ("compact", "reset"):
        value = data.get(field_name, [])
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise bad(f'"{field_name}" must be a list of session keys, not {value!r}')
        unknown_keys = [k for k in value if k not in keys]
        if unknown_keys:
            raise bad(f'"{field_name}" names {", ".join(unknown_keys)}, which "sessions" does not create',
                      hint="compact and reset act on sessions the recipe's turns wrote")
        lists[field_name] = tuple(value)
    return Recipe(source, writer, sessions, lists["compact"], lists["reset"], after, tuple(agents), catches)


def _sessions(value: Any, field_name: str, agents: list[str], bad, *, required: bool) -> tuple[RecipeSession, ...]:
    if not isinstance(value, list) or (required and not value):
        raise bad(f'"{field_name}" must be a {"non-empty " if required else ""}list of {{"key": …, "turns": […]}}')
    sessions = []
    for index, item in enumerate(value):
        where = f'"{field_name}"[{index}]'
        if not isinstance(item, dict) or set(item) - {"key", "turns"}:
            raise bad(f'{where} must be an object with "key" and "turns" only, not {str(item)[:80]!r}')
        key, turns = item.get("key"), item.get("turns")
        if not isinstance(key, str) or not (match := KEY_RE.match(key)):
            raise bad(f'{where}: key {key!r} is not a session key like "agent:main:main"')
        if key != key.lower():
            raise bad(f"{where}: key {key!r} has capitals; the writer lowercases keys when it stores them",
                      hint=f"write it as {key.lower()!r}")
        if match.group(1) not in agents:
            raise bad(f'{where}: key {key!r} belongs to agent {match.group(1)!r}, which "agents" does not list',
                      hint=f'add it: "agents": {json.dumps(agents + [match.group(1)])}')
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
            raise bad(f"{where}: turns must be a non-empty list of non-empty strings")
        for turn in turns:
            if MARKER_LINE in turn:
                raise bad(f"{where}: a turn contains {MARKER_LINE!r}, which the capture appends itself")
        sessions.append(RecipeSession(key, tuple(turns)))
    return tuple(sessions)


def _shown_path(path: Path) -> str:
    """The recipe's path relative to the checkout (no paths of this machine in a committed manifest)."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name


# -- what the capture records -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    session_key: str
    marker: str
    sent: str
    reply: str

    def to_json(self) -> dict:
        return {"sessionKey": self.session_key, "sent": self.sent, "reply": self.reply}


def turn_message(text: str, number: int) -> tuple[str, str]:
    """(marker, message): the recipe's text with the marker line the scripted provider answers."""
    marker = f"{MARKER_PREFIX}{number:02d}"
    return marker, f"{text}\n{MARKER_LINE} {marker}"


def send_turn(rpc: GatewayRpc, key: str, marker: str, message: str) -> str:
    """One turn through the Gateway's RPC (chat.send, agent.wait until done); returns the reply as chat.history holds it,
    which must be the scripted provider's answer to `marker`."""
    sent = rpc.call("chat.send", {"sessionKey": key, "message": message, "idempotencyKey": str(uuid.uuid4())})
    run_id = (sent or {}).get("runId")
    if not run_id:
        raise CaptureFailed(f"chat.send on {key} returned no runId: {str(sent)[:300]}")
    deadline = time.monotonic() + TURN_TIMEOUT_MS / 1000
    while True:
        remaining = max(1000, int((deadline - time.monotonic()) * 1000))
        answer = rpc.call("agent.wait", {"runId": run_id, "timeoutMs": remaining}, timeout_s=remaining / 1000 + 15)
        if not (isinstance(answer, dict) and answer.get("status") == "pending") or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    status = answer.get("status") if isinstance(answer, dict) else answer
    if status != "ok":
        raise CaptureFailed(f"turn {marker} on {key}: agent.wait answered {str(answer)[:300]}",
                            hint="the scripted provider must be reachable from the container (host.docker.internal)")
    history = rpc.call("chat.history", {"sessionKey": key, "limit": 200})
    replies = [m for m in (history or {}).get("messages", []) if isinstance(m, dict) and m.get("role") == "assistant"]
    reply = message_text(replies[-1]) if replies else ""
    if marker not in reply:
        raise CaptureFailed(f"turn {marker} on {key}: the last reply in chat.history is {reply[:200]!r}, "
                            f"not the scripted provider's answer to {marker}")
    return reply


def message_text(message: Any) -> str:
    """The text of a chat.history message: a string content, or its text parts joined."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return str(message.get("text") or "")


def writer_config(harness: dict) -> dict:
    """The harness config in the writer's dialect: 2026.7.35's strict schema rejects `models.catalogRefresh`
    ("models: Invalid input"); its offline switch for the remote model catalog is `models.pricing.enabled`."""
    config = json.loads(json.dumps(harness))
    models = config.setdefault("models", {})
    models.pop("catalogRefresh", None)
    models["pricing"] = dict(WRITER_PRICING)
    return config


def locate_turns(state: Path, turns: list[Turn]) -> list[dict]:
    """Each turn as the manifest records it, with the transcript file (relative to state/) that holds both its
    sent text (a user message) and its reply (an assistant message), found by content. A reset session's
    earlier turns are in the writer's `<sessionId>.jsonl.reset.<time>` file, not in a live transcript.
    Raises CaptureFailed for a turn no file holds: the writer lost it, or the capture looks in the wrong place."""
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
        found = [path for path, (user, assistant) in texts.items() if turn.sent in user and turn.reply in assistant]
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

    def _timed(self, phase: str, started: float) -> None:
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + time.monotonic() - started, 1)

    def config(self) -> dict:
        return self.session.config(writer_config, lambda config: agents_config(config, self.recipe))

    def run(self, dest: Path) -> tuple[Path, dict]:
        t = time.monotonic()
        volume = self.session.volume("capture", [VolumeFile(CONFIG_NAME, (json.dumps(self.config(), indent=2) + "\n")
                                                            .encode(), time.time(), 0o600)])
        gateway = self.session.gateway(volume, f"path3-{self.resources.run_id}-writer")
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
        rpc = gateway.rpc()
        try:
            hello = {"protocol": rpc.protocol, "server_version": rpc.server_version, "methods": len(rpc.methods),
                     "offers": {m: m in rpc.methods for m in ("sessions.compact", "sessions.reset", "sessions.compaction.list")}}
            self._drive(rpc)
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
        files = sum(1 for p in state.rglob("*") if p.is_file())
        say("capture", f"copied {files} files out of the volume; removed harness-only: {'; '.join(removed) or 'nothing'}")
        if links:
            say("capture", f"links left out (they point into the installed package): {', '.join(links)}")
        if sidecars:
            say("capture", f"SQLite sidecars left after the clean stop (kept): {', '.join(sidecars)}")
        record = {"turns": locate_turns(state, self.turns), "operations": self.operations,
                  "hello": hello, "stop": {"exit_code": exit_code, "seconds": self.seconds["stop"]},
                  "removed": removed, "links_left_out": links, "sqlite_sidecars_after_stop": sidecars, "seconds": self.seconds}
        return state, record

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


def drive_recipe(recipe: Recipe, turn: Callable[[str, str], Any], operation: Callable[[str, dict], Any]) -> None:
    """The recipe's steps in order: every session's turns, the compactions, the resets, the turns after them."""
    for session in recipe.sessions:
        for text in session.turns:
            turn(session.key, text)
    for key in recipe.compact:
        operation("sessions.compact", {"key": key})
    for key in recipe.reset:
        operation("sessions.reset", {"key": key, "reason": "reset"})
    for session in recipe.after:
        for text in session.turns:
            turn(session.key, text)


def operation(rpc: GatewayRpc, release: str, method: str, params: dict, phase: str = "capture") -> dict:
    """A recipe operation (compact, reset) where the release offers it; the record says what happened."""
    record: dict[str, Any] = {"method": method, "params": params}
    if method not in rpc.methods:
        record.update(outcome="skipped", why=f"openclaw {release} does not offer {method} (hello-ok)")
    else:
        try:
            result = rpc.call(method, params, timeout_s=TURN_TIMEOUT_MS / 1000)
            record.update(outcome="ok", result=_summary(result))
        except RpcError as error:
            record.update(outcome="error", error=str(error)[:300])
    say(phase, f"{method} {json.dumps(params)}: {record['outcome']} "
                   f"{json.dumps(record.get('result', record.get('why', record.get('error'))), ensure_ascii=False)[:300]}")
    return record


def agents_config(config: dict, recipe: Recipe | None) -> dict:
    """The recipe's agents in the Gateway's config (main the default), when it has more than main."""
    if recipe is None or len(recipe.agents) <= 1:
        return config
    merged, _ = deep_merge(config, {"agents": {"list": [{"id": agent, **({"default": True} if agent == "main" else {})}
                                                       for agent in recipe.agents]}})
    return merged


def _summary(result: Any) -> Any:
    """An operation's answer as the manifest keeps it: scalar fields only (no transcript text, no nesting)."""
    if not isinstance(result, dict):
        return result if isinstance(result, (int, float, bool, str, type(None))) else type(result).__name__
    return {k: v for k, v in result.items() if isinstance(v, (int, float, bool, str, type(None)))}


def _manifest(state: Path, name: str, recipe: Recipe, image: GatewayImage, record: dict) -> dict:
    inferred = infer_manifest(state, name, catches=recipe.catches or CATCHES.format(release=recipe.writer),
                              origin=ORIGIN.format(release=recipe.writer))
    inferred["state_dir_as_written"] = STATE_DIR
    writer = {"release": recipe.writer, "image": image.tag, "date": dt.datetime.now(dt.timezone.utc).date().isoformat(),
              "recipe": recipe.source}
    head = {k: inferred.pop(k) for k in ("name", "catches", "origin")}
    return {**head, "writer": writer, **inferred, "turns": record.pop("turns"), "operations": record.pop("operations"),
            "capture": record}


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
