"""A recipe: the sessions, turns and operations a writer release runs to write a fixture (upgrades/capture.py), and
the config a writer gets for it.

    recipe = load_recipe(Path("fixtures/recipes/real-7.35.json"))   # validated: every problem is a FixtureError
    writer_config(harness)          the harness config in the writer's dialect (2026.7.35's strict schema)
    agents_config(config, recipe)   the recipe's agents and plugins in the Gateway's config

A recipe (fixtures/recipes/<name>.json):

    {
      "writer": "2026.7.35",                                      the release that writes the state
      "catches": "…",                                             optional: what the fixture is for
      "default_set": false,                                       optional: keep the fixture out of the default set
      "agents": ["main", "work"],                                 optional: agents besides main get an agents.list entry
      "plugins": ["codex", "brave"],                              optional: plugins.entries.<id>.enabled = true
      "sessions": [{"key": "agent:main:main", "turns": ["hello", "…"]}, …],     turns run in this order
      "compact": ["agent:main:main"],                             then sessions.compact on these
      "reset": ["agent:main:…"],                                  then sessions.reset on these
      "after": [{"key": "…", "turns": ["…"]}],                    optional: turns after compact and reset
      "agents_add", "plugins_enable", "channels", "approvals",    optional: what users have beside sessions, written
      "cron", "acp", "long"                                       by the writer's own CLI (upgrades/belongings.py)
    }

Each turn's text is sent with a marker line appended ("path3 scenario turn P3-CAPTURE-T01"); the scripted
provider answers it with "P3-CAPTURE-T01 acknowledged.", so every reply is known and findable by content.

"plugins" enables plugins in the config the writer starts with, the way users' configs do (a user's openclaw.json keeps them across an upgrade); nothing
installs them. codex and brave were bundled in 2026.6.5; 2026.7.1 and 2026.7.35 already treat them as external npm
plugins (@openclaw/codex, @openclaw/brave-plugin), install a configured one at startup from npm and REFUSE to start
when they cannot ("Failed to install missing configured plugin … OpenClaw startup migrations did not complete
cleanly"): on the hermetic network they cannot. So the path's writer hops start without them (their state is a user's
whose plugins were never a problem), the config enables them from the moment an in-place install begins (the updater
and its post-install doctor see them) and on every later hop; `fixtures capture` enables them (online writers).
That codex and brave were bundled in 2026.6.5 is not so for the published package: its dist/extensions/ has neither,
its official-external-plugin-catalog lists them as npm installs (@openclaw/codex, @openclaw/brave-plugin), and
`openclaw plugins enable codex` answers "Plugin not found: codex". "plugins_enable" (belongings.py) has the writer
enable them itself, falling back to `openclaw config set plugins.entries.<id>.enabled true` where it refuses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..build.version import is_version
from ..state.config import deep_merge
from ..errors import FixtureError
from ..paths import PROJECT_ROOT
from .belongings import BELONGING_KEYS, Approval, Channel, CronJob, long_turns, parse_belongings

RECIPES_DIR = PROJECT_ROOT / "fixtures" / "recipes"
RECIPE_KEYS = ("writer", "catches", "default_set", "agents", "plugins", "sessions", "compact", "reset", "after",
               *BELONGING_KEYS)
MARKER_LINE = "path3 scenario turn"  # provider.TURN_RE: the marker on a line of its own
AGENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KEY_RE = re.compile(r"^agent:([^:\s]+):\S+$")
WRITER_PRICING = {"enabled": False}  # set by the capture (writer_config), removed from the captured config


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
    plugins: tuple[str, ...] = ()
    agents_add: tuple[str, ...] = ()  # belongings.py: the writer's own CLI writes these
    plugins_enable: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    approvals: tuple[Approval, ...] = ()
    cron: tuple[CronJob, ...] = ()
    acp: tuple[RecipeSession, ...] = ()
    long: tuple[RecipeSession, ...] = ()
    default_set: bool = True  # false: fixture.json says so, and prove/make test leave it out unless named

    @property
    def turn_count(self) -> int:
        """The turns sent over RPC (sessions, long ones, after); ACP and cron turns go through the writer's CLI."""
        return sum(len(s.turns) for s in self.sessions + self.long + self.after)

    @property
    def all_agents(self) -> tuple[str, ...]:
        return (*self.agents, *self.agents_add)

    @property
    def setup_steps(self) -> bool:
        """Whether the writer's CLI configures anything before its Gateway starts."""
        return bool(self.agents_add or self.plugins_enable or self.channels or self.approvals)


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
    def bad(message: str, hint: str = "see the recipe format in src/path3_sandbox/upgrades/recipe.py") -> FixtureError:
        return FixtureError(f"recipe {source}: {message}", hint=hint)

    if not isinstance(data, dict):
        raise bad(f"must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(RECIPE_KEYS))
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)}", hint=f"a recipe has only {', '.join(RECIPE_KEYS)}")
    writer = data.get("writer")
    if not isinstance(writer, str) or not is_version(writer):
        raise bad(f'"writer" must be an exact release version like "2026.7.35", not {writer!r}')
    catches = data.get("catches", "")
    if not isinstance(catches, str):
        raise bad('"catches" must be a string')
    default_set = data.get("default_set", True)
    if not isinstance(default_set, bool):
        raise bad(f'"default_set" must be true or false, not {default_set!r}')
    agents = data.get("agents", ["main"])
    if not isinstance(agents, list) or not agents or not all(isinstance(a, str) and AGENT_ID_RE.match(a) for a in agents):
        raise bad(f'"agents" must be a non-empty list of agent ids (lowercase letters, digits, - and _), not {agents!r}')
    if len(set(agents)) != len(agents):
        raise bad(f'"agents" lists an agent twice: {agents}')
    agents = ["main", *[a for a in agents if a != "main"]]
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) and AGENT_ID_RE.match(p) for p in plugins):
        raise bad(f'"plugins" must be a list of plugin ids like "codex" (lowercase letters, digits, - and _), not {plugins!r}')
    if len(set(plugins)) != len(plugins):
        raise bad(f'"plugins" lists a plugin twice: {plugins}')
    extra = parse_belongings(data, agents, bad, AGENT_ID_RE, KEY_RE)
    known = [*agents, *extra["agents_add"]]
    sessions = _sessions(data.get("sessions"), "sessions", known, bad, required=True)
    after = _sessions(data.get("after", []), "after", known, bad, required=False)
    keys = {s.key for s in sessions}
    if len(keys) != len(sessions):
        raise bad('"sessions" lists a key twice: give each session its turns in one place')
    acp = tuple(RecipeSession(key, turns) for key, turns in extra.pop("acp"))
    long = tuple(RecipeSession(key, long_turns(key, count)) for key, count in extra.pop("long"))
    made = set(keys)
    for field_name, listed in (("acp", acp), ("long", long)):
        if clash := sorted({s.key for s in listed} & made):
            raise bad(f'"{field_name}" names {", ".join(clash)}, which another list already creates',
                      hint="each session is made in one place")
        made |= {s.key for s in listed}
        if any(MARKER_LINE in turn for s in listed for turn in s.turns):
            raise bad(f'"{field_name}": a turn contains {MARKER_LINE!r}, which the capture appends itself')
    if any(MARKER_LINE in job.message for job in extra["cron"]):
        raise bad(f'"cron": a message contains {MARKER_LINE!r}, which the capture appends itself')
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
    return Recipe(source, writer, sessions, lists["compact"], lists["reset"], after, tuple(agents), catches,
                  tuple(plugins), acp=acp, long=long, default_set=default_set, **extra)


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


def writer_config(harness: dict) -> dict:
    """The harness config in the writer's dialect: 2026.7.35's strict schema rejects `models.catalogRefresh`
    ("models: Invalid input"); its offline switch for the remote model catalog is `models.pricing.enabled`."""
    config = json.loads(json.dumps(harness))
    models = config.setdefault("models", {})
    models.pop("catalogRefresh", None)
    models["pricing"] = dict(WRITER_PRICING)
    return config


def agents_config(config: dict, recipe: Recipe | None, *, plugins: bool = True) -> dict:
    """The recipe's agents in the Gateway's config (main the default), when it has more than main, and (`plugins`)
    its plugins enabled (`plugins.entries.<id>.enabled = true`)."""
    if recipe is None:
        return config
    if len(recipe.agents) > 1:
        config, _ = deep_merge(config, {"agents": {"list": [{"id": agent, **({"default": True} if agent == "main" else {})}
                                                            for agent in recipe.agents]}})
    if recipe.plugins and plugins:
        config, _ = deep_merge(config, {"plugins": {"entries": {p: {"enabled": True} for p in recipe.plugins}}})
    return config
