"""Golden shapes of what users and CI read: summary.json's key paths, the plans `path` prints, the exit codes.

Taken before the one-house move (issue 22) from real runs of the code as it was; a move that changes one of them
changed behaviour. `key_paths` flattens a document to its dotted key paths (lists as `[]`; the per-fixture keys of
`contract.observed` as `*`), so values may differ from run to run while the shape may not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"
PER_FIXTURE = ("contract.observed",)


def key_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        if prefix in PER_FIXTURE:
            return {f"{prefix}.*"}
        paths = {prefix} if prefix else set()
        for key, item in value.items():
            paths |= key_paths(item, f"{prefix}.{key}" if prefix else key)
        return paths
    if isinstance(value, list):
        paths = {f"{prefix}[]"}
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
        return paths
    return {prefix}


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))
