"""What users have beside chat sessions, in a capture recipe: agents added with the release's own `agents add`,
plugins it enables, channel accounts, exec approvals, cron jobs, ACP sessions and long (trajectory-heavy) sessions.
Parsed and validated here (every problem a FixtureError naming the key), and turned into the writer release's own
CLI commands (its argv), which upgrades/writer_steps.py runs in the writer's containers.

    "agents_add": ["ops", "research", …]        openclaw agents add <id> --workspace <state>/workspace-<id>
                                                 --non-interactive: the legacy agents.list shape, as the release writes it
    "plugins_enable": ["codex", "brave"]        openclaw plugins enable <id>; where the release refuses (the plugin is
                                                 not installed) openclaw config set plugins.entries.<id>.enabled true,
                                                 as a user whose install of it failed has it
    "channels": [{"channel": "telegram", "account": "personal", "name": "…", "token": "…FAKE…",
                  "via": "channels-add" | "config-set"}]
                                                 openclaw channels add …, or (a channel whose plugin the release would
                                                 fetch from npm, offline here) openclaw config set channels.<c>…
    "approvals": [{"agent": "main" | "*", "pattern": "/usr/bin/uptime"}]
                                                 openclaw approvals allowlist add --agent <a> <pattern>
    "cron": [{"name": "…", "agent": "main", "message": "…", "every": "1d" | "cron": "0 8 * * *", "run": true}]
                                                 openclaw cron add … (through the Gateway), then cron run once: the
                                                 session its run creates is in the state
    "acp": [{"key": "agent:main:acp-editor", "turns": ["…"]}]
                                                 an editor's turns through `openclaw acp` (the release's ACP bridge)
    "long": [{"key": "agent:main:long-task", "turns": 40}]
                                                 that many generated turns on one session (trajectory-heavy)

Channel tokens must be obviously fake (contain FAKE): a fixture is committed, and the writer never starts a channel
(the images set OPENCLAW_SKIP_CHANNELS=1 and the writer's network has no route out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

STATE_DIR = "/home/node/.openclaw"  # the writer's state dir (state.config.STATE_DIR); agents' workspaces go in it
BELONGING_KEYS = ("agents_add", "plugins_enable", "channels", "approvals", "cron", "acp", "long")
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
EVERY_RE = re.compile(r"^[1-9][0-9]*(s|m|h|d)$")
CRON_EXPR_RE = re.compile(r"^(\S+\s+){4,5}\S+$")
CHANNEL_VIAS = ("channels-add", "config-set")
LONG_TURNS_MAX = 500
FILLER = ("Keep the running log of this task: what was done, what is next, and any blocker with its owner. "
          "Record numbers exactly as given; they are checked later.")


@dataclass(frozen=True)
class Channel:
    channel: str
    token: str
    account: str = ""  # "" is the channel's default account
    name: str = ""
    via: str = "channels-add"

    def argvs(self) -> list[list[str]]:
        """The writer's commands that configure this account."""
        if self.via == "channels-add":
            return [["openclaw", "channels", "add", "--channel", self.channel,
                     *(["--account", self.account] if self.account else []),
                     *(["--name", self.name] if self.name else []), "--token", self.token]]
        base = f"channels.{self.channel}" + (f".accounts.{self.account}" if self.account else "")
        sets = [(f"channels.{self.channel}.enabled", "true"), (f"{base}.token", _json_string(self.token))]
        if self.name:
            sets.append((f"{base}.name", _json_string(self.name)))
        return [["openclaw", "config", "set", path, value, "--strict-json"] for path, value in sets]


@dataclass(frozen=True)
class Approval:
    agent: str
    pattern: str

    def argv(self) -> list[str]:
        return ["openclaw", "approvals", "allowlist", "add", "--agent", self.agent, self.pattern]


@dataclass(frozen=True)
class CronJob:
    name: str
    agent: str
    message: str
    every: str = ""
    cron: str = ""
    run: bool = True

    def add_argv(self, message: str) -> list[str]:
        """`cron add` with `message` (the recipe's text and its marker line): an isolated agent turn, no delivery."""
        schedule = ["--every", self.every] if self.every else ["--cron", self.cron]
        return ["openclaw", "cron", "add", "--name", self.name, "--agent", self.agent, *schedule,
                "--session", "isolated", "--message", message, "--no-deliver", "--json"]

    @staticmethod
    def run_argv(job_id: str) -> list[str]:
        return ["openclaw", "cron", "run", job_id, "--wait", "--wait-timeout", "3m", "--timeout", "60000"]


def agent_add_argv(agent: str) -> list[str]:
    return ["openclaw", "agents", "add", agent, "--workspace", f"{STATE_DIR}/workspace-{agent}", "--non-interactive",
            "--json"]


def plugin_enable_argvs(plugin: str) -> tuple[list[str], list[str]]:
    """(the release's own enable, the config write a user whose install failed has instead)."""
    return (["openclaw", "plugins", "enable", plugin],
            ["openclaw", "config", "set", f"plugins.entries.{plugin}.enabled", "true", "--strict-json"])


def long_turns(key: str, count: int) -> tuple[str, ...]:
    """`count` generated turns for one long session: each different, each a few hundred bytes."""
    topic = key.split(":", 2)[2]
    return tuple(f"{topic}, step {i} of {count}: measured {i * 37 % 1000} items, {i * 13 % 97} flagged. {FILLER}"
                 for i in range(1, count + 1))


def _json_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


# -- parsing -------------------------------------------------------------------------------------------------
def parse_belongings(data: dict, agents: list[str], bad: Callable[..., Exception], id_re: re.Pattern,
                     key_re: re.Pattern) -> dict[str, Any]:
    """The belonging keys of a recipe, validated; `agents` are the recipe's "agents" (main first)."""
    added = _ids(data, "agents_add", bad, id_re)
    if "main" in added or set(added) & set(agents):
        raise bad(f'"agents_add" lists an agent the recipe already has: {sorted(({"main"} | set(agents)) & set(added))}',
                  hint='"agents_add" are the agents the writer adds with its own `openclaw agents add`')
    if added and len(agents) > 1:
        raise bad('"agents_add" and "agents" (besides main) both make agents.list: use one',
                  hint='"agents" writes agents.list into the config the writer starts with; "agents_add" has the '
                       'writer write it')
    known = [*agents, *added]
    plugins = _ids(data, "plugins_enable", bad, id_re)
    if set(plugins) & set(data.get("plugins") or []):
        raise bad('"plugins_enable" names a plugin "plugins" already enables in the config')
    return {"agents_add": tuple(added), "plugins_enable": tuple(plugins),
            "channels": _channels(data.get("channels", []), bad),
            "approvals": _approvals(data.get("approvals", []), known, bad),
            "cron": _cron(data.get("cron", []), known, bad, id_re),
            "acp": _keyed(data.get("acp", []), "acp", known, bad, key_re, lambda turns: _texts(turns)),
            "long": _keyed(data.get("long", []), "long", known, bad, key_re, _count)}


def _ids(data: dict, field: str, bad, id_re: re.Pattern) -> list[str]:
    value = data.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and id_re.match(v) for v in value):
        raise bad(f'"{field}" must be a list of ids (lowercase letters, digits, - and _), not {value!r}')
    if len(set(value)) != len(value):
        raise bad(f'"{field}" lists an id twice: {value}')
    return value


def _items(value: Any, field: str, allowed: set[str], required: set[str], bad) -> list[dict]:
    if not isinstance(value, list):
        raise bad(f'"{field}" must be a list of objects, not {type(value).__name__}')
    for index, item in enumerate(value):
        where = f'"{field}"[{index}]'
        if not isinstance(item, dict):
            raise bad(f"{where} must be an object, not {str(item)[:80]!r}")
        if unknown := sorted(set(item) - allowed):
            raise bad(f"{where} has unknown key(s) {', '.join(unknown)}", hint=f"{field} items have {', '.join(sorted(allowed))}")
        if missing := sorted(required - set(item)):
            raise bad(f"{where} lacks {', '.join(missing)}")
    return value


def _text(item: dict, key: str, where: str, bad, *, optional: bool = False) -> str:
    value = item.get(key, "" if optional else None)
    if not isinstance(value, str) or (not optional and not value.strip()) or "\n" in value:
        raise bad(f'{where}: "{key}" must be a non-empty one-line string, not {value!r}')
    return value


def _channels(value: Any, bad) -> tuple[Channel, ...]:
    channels, seen = [], set()
    for index, item in enumerate(_items(value, "channels", {"channel", "account", "name", "token", "via"},
                                        {"channel", "token"}, bad)):
        where = f'"channels"[{index}]'
        channel, token = _text(item, "channel", where, bad), _text(item, "token", where, bad)
        account, name = _text(item, "account", where, bad, optional=True), _text(item, "name", where, bad, optional=True)
        via = item.get("via", "channels-add")
        if not CHANNEL_RE.match(channel):
            raise bad(f'{where}: "channel" {channel!r} is not a channel id like "telegram"')
        if account and not ACCOUNT_RE.match(account):
            raise bad(f'{where}: "account" {account!r} is not an account id (letters, digits, - and _)')
        if "FAKE" not in token.upper():
            raise bad(f'{where}: "token" must be obviously fake (contain FAKE): a fixture is committed',
                      hint='e.g. "123456789:path3-FAKE-telegram-token"')
        if via not in CHANNEL_VIAS:
            raise bad(f'{where}: "via" must be one of {", ".join(CHANNEL_VIAS)}, not {via!r}')
        if (channel, account) in seen:
            raise bad(f'{where}: channel {channel!r} account {account or "default"!r} is listed twice')
        seen.add((channel, account))
        channels.append(Channel(channel, token, account, name, via))
    return tuple(channels)


def _approvals(value: Any, agents: list[str], bad) -> tuple[Approval, ...]:
    approvals = []
    for index, item in enumerate(_items(value, "approvals", {"agent", "pattern"}, {"pattern"}, bad)):
        where = f'"approvals"[{index}]'
        agent, pattern = item.get("agent", "main"), _text(item, "pattern", where, bad)
        if agent != "*" and agent not in agents:
            raise bad(f'{where}: "agent" {agent!r} is neither "*" nor an agent the recipe has ({", ".join(agents)})')
        approvals.append(Approval(agent, pattern))
    return tuple(approvals)


def _cron(value: Any, agents: list[str], bad, id_re: re.Pattern) -> tuple[CronJob, ...]:
    jobs, names = [], set()
    for index, item in enumerate(_items(value, "cron", {"name", "agent", "message", "every", "cron", "run"},
                                        {"name", "message"}, bad)):
        where = f'"cron"[{index}]'
        name, message = _text(item, "name", where, bad), _text(item, "message", where, bad)
        agent, run = item.get("agent", "main"), item.get("run", True)
        every, expr = item.get("every", ""), item.get("cron", "")
        if agent not in agents:
            raise bad(f'{where}: "agent" {agent!r} is not an agent the recipe has ({", ".join(agents)})')
        if bool(every) == bool(expr):
            raise bad(f'{where}: give exactly one schedule, "every" (like "1d") or "cron" (like "0 8 * * *")')
        if every and not (isinstance(every, str) and EVERY_RE.match(every)):
            raise bad(f'{where}: "every" {every!r} is not a duration like "30m" or "1d"')
        if expr and not (isinstance(expr, str) and CRON_EXPR_RE.match(expr.strip())):
            raise bad(f'{where}: "cron" {expr!r} is not a 5- or 6-field cron expression')
        if not isinstance(run, bool):
            raise bad(f'{where}: "run" must be true or false')
        if name in names:
            raise bad(f'{where}: a cron job named {name!r} is listed twice')
        names.add(name)
        jobs.append(CronJob(name, agent, message, every, expr.strip() if expr else "", run))
    return tuple(jobs)


def _texts(turns: Any) -> tuple[str, ...] | None:
    if isinstance(turns, list) and turns and all(isinstance(t, str) and t.strip() for t in turns):
        return tuple(turns)
    return None


def _count(turns: Any) -> int | None:
    return turns if isinstance(turns, int) and not isinstance(turns, bool) and 1 <= turns <= LONG_TURNS_MAX else None


def _keyed(value: Any, field: str, agents: list[str], bad, key_re: re.Pattern, turns_of) -> tuple[tuple[str, Any], ...]:
    """(key, turns) pairs: "acp" with a list of texts, "long" with a count of turns."""
    found = []
    for index, item in enumerate(_items(value, field, {"key", "turns"}, {"key", "turns"}, bad)):
        where = f'"{field}"[{index}]'
        key = item["key"]
        if not isinstance(key, str) or not (match := key_re.match(key)) or key != key.lower():
            raise bad(f'{where}: key {key!r} is not a lowercase session key like "agent:main:main"')
        if match.group(1) not in agents:
            raise bad(f'{where}: key {key!r} belongs to agent {match.group(1)!r}, which the recipe does not have')
        if (turns := turns_of(item["turns"])) is None:
            what = "a non-empty list of non-empty strings" if field == "acp" else f"a number of turns from 1 to {LONG_TURNS_MAX}"
            raise bad(f'{where}: "turns" must be {what}, not {str(item["turns"])[:80]!r}')
        if key in {k for k, _ in found}:
            raise bad(f'{where}: key {key!r} is listed twice')
        found.append((key, turns))
    return tuple(found)
