"""The Gateway config the harness needs, and a deep merge that records what it overrode.

The harness keys keep the Gateway quiet, offline and reachable (openclaw.md §6); everything else
in a fixture's or user's openclaw.json is kept as they had it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
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
