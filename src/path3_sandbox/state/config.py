"""The Gateway config the harness needs, and a deep merge that records what it overrode.

The harness keys keep the Gateway quiet, offline and reachable (openclaw.md §6); everything else
in a fixture's or user's openclaw.json is kept as they had it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STATE_DIR = "/home/node/.openclaw"
CONFIG_NAME = "openclaw.json"  # relative to the state directory
CONFIG_PATH = f"{STATE_DIR}/{CONFIG_NAME}"
GATEWAY_LOG_FILE = f"{STATE_DIR}/logs/gateway.jsonl"
GATEWAY_PORT = 18789


def harness_config(token: str, *, port: int = GATEWAY_PORT) -> dict[str, Any]:
    return {
        "gateway": {"mode": "local", "port": port, "bind": "lan", "auth": {"mode": "token", "token": token}},
        "update": {"checkOnStart": False},
        "discovery": {"mdns": {"mode": "off"}},
        "models": {"catalogRefresh": {"enabled": False}},
        "agents": {"defaults": {"heartbeat": {"every": "0m"}}},
        "logging": {"file": GATEWAY_LOG_FILE},
    }


# A user's state never goes live, whatever the network: every channel it configures is turned off, and every model
# provider it defines or names is pointed at an address where nothing answers, so no bot starts and no API key is spent.
# Keys under `channels` that are not channels (OpenClaw's ChannelsSchema; every other key is a channel, bundled or a
# plugin's, and a channel starts unless `enabled: false`).
NOT_CHANNELS = frozenset({"defaults", "modelByChannel", "runtimeByChannel"})
# The Gateway container's own loopback, discard port: nothing listens there, a request is refused at once and never
# leaves the container. Used as a provider's baseUrl (which is also the only origin OpenClaw then trusts for it).
UNREACHABLE_BASE_URL = "http://127.0.0.1:9/v1"
OFFLINE_API_KEY = "path3-offline-not-a-key"  # for a provider the user names but does not define (a built-in one)
PROVIDER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Keys whose values are model refs ("provider/model", a list of them, or {primary, fallbacks}).
MODEL_REF_KEY_RE = re.compile(r"(^|[a-z])(model|Model|primary|fallbacks?)$")


@dataclass(frozen=True)
class Offline:
    """What was done to keep a user's state offline (seed.json `user_state_offline`, summary.md)."""
    channels: dict[str, int] = field(default_factory=dict)  # channel -> accounts it configures, all disabled
    providers: tuple[str, ...] = ()  # made unreachable: defined by the user (config or an agent's models.json) or named

    @property
    def accounts(self) -> int:
        return sum(self.channels.values())

    def to_json(self) -> dict:
        return {"channels_disabled": dict(self.channels), "channel_accounts_disabled": self.accounts,
                "providers_unreachable": list(self.providers), "provider_base_url": UNREACHABLE_BASE_URL,
                "why": "a user's state never goes live, whatever --network says: its channels are off (channels.<name>."
                       "enabled=false) and every provider it defines or names points where nothing answers (baseUrl "
                       f"{UNREACHABLE_BASE_URL}); sessions.json, the data under test, is not edited"}


def model_ref_providers(config: Any) -> set[str]:
    """Providers a config names in model refs: agents' model/primary/fallbacks/imageModel…, the agents.defaults.models
    allowlist's keys, channels.modelByChannel. Bare aliases (no `provider/`) name none."""
    found: set[str] = set()

    def refs(value: Any) -> None:
        if isinstance(value, str):
            provider = value.split("/", 1)[0].strip() if "/" in value else ""
            if PROVIDER_ID_RE.match(provider):
                found.add(provider)
        elif isinstance(value, list):
            for item in value:
                refs(item)
        elif isinstance(value, dict):
            for item in value.values():
                refs(item)

    def walk(value: Any, path: tuple[str, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                key = str(key)
                if path[-1:] == ("providers",) and path[-2:-1] == ("models",):
                    continue  # the provider definitions themselves
                if key == "modelByChannel" or MODEL_REF_KEY_RE.search(key):
                    refs(item)
                elif key == "models" and isinstance(item, dict) and path[:1] == ("agents",):
                    refs(list(item))  # the allowlist: {"provider/model": {...}}
                walk(item, (*path, key))
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    walk(config, ())
    return found


def offline_overlay(user_config: dict[str, Any], *, named_providers: Iterable[str] = (),
                    keep: Iterable[str] = ()) -> tuple[dict[str, Any], Offline]:
    """What to merge into a user's config so that it never goes live: `channels.<name>.enabled: false` for every channel
    it configures; `baseUrl` of every provider it defines pointed at UNREACHABLE_BASE_URL; every other provider it names
    (model refs here, `named_providers` from its sessions' overrides and auth profiles) defined there too, with a
    placeholder key. `keep`: the harness's own providers (its scripted one), left alone."""
    keep = set(keep)
    overlay: dict[str, Any] = {}
    channels: dict[str, int] = {}
    for name, value in sorted(((user_config.get("channels") or {}) if isinstance(user_config.get("channels"), dict)
                               else {}).items()):
        if name in NOT_CHANNELS or not isinstance(value, dict):
            continue
        accounts = value.get("accounts")
        channels[name] = len(accounts) if isinstance(accounts, dict) and accounts else 1
        overlay.setdefault("channels", {})[name] = {"enabled": False}
    models = user_config.get("models") if isinstance(user_config.get("models"), dict) else {}
    defined = {p for p, v in (models.get("providers") or {}).items() if isinstance(v, dict)} \
        if isinstance(models.get("providers"), dict) else set()
    providers: dict[str, Any] = {}
    for provider in sorted(defined - keep):
        providers[provider] = {"baseUrl": UNREACHABLE_BASE_URL}
    named = {p for p in (*named_providers, *model_ref_providers(user_config)) if PROVIDER_ID_RE.match(str(p))}
    for provider in sorted(named - defined - keep):
        providers[provider] = {"baseUrl": UNREACHABLE_BASE_URL, "apiKey": OFFLINE_API_KEY, "models": []}
    if providers:
        overlay["models"] = {"providers": providers}
    return overlay, Offline(channels, tuple(sorted(providers)))


@dataclass(frozen=True)
class Override:
    path: str  # dotted key path
    before: Any  # the user's value (None when absent)
    after: Any

    def to_json(self) -> dict:
        return {"key": self.path, "before": self.before, "after": self.after}


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> tuple[dict[str, Any], list[Override]]:
    """`overlay` merged into a copy of `base`; objects merge key by key, anything else is replaced.

    Returns the merged config and every leaf the overlay set, with the value it replaced
    (absent keys count too: the evidence shows exactly what the harness added or changed).
    """
    merged = copy.deepcopy(base)
    overrides: list[Override] = []

    def merge_into(target: dict[str, Any], layer: dict[str, Any], prefix: str) -> None:
        for key, value in layer.items():
            path = f"{prefix}{key}"
            current = target.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                merge_into(current, value, f"{path}.")
            elif isinstance(value, dict):
                target[key] = {}
                merge_into(target[key], value, f"{path}.")
                if current is not None:  # a scalar the harness replaced with an object
                    overrides.append(Override(path, current, value))
            else:
                overrides.append(Override(path, copy.deepcopy(current), copy.deepcopy(value)))
                target[key] = copy.deepcopy(value)

    merge_into(merged, overlay, "")
    return merged, overrides
