"""`config_changes`: what changed between two configs, as dotted keys with values redacted as the structured pass
redacts them (`redact_value`); never the configs themselves."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from .. import json5text
from .findings import _Context
from .structured import _nest, _parents, _redact_python
from .values import _matcher


def redact_value(value: Any, path: tuple[str | int, ...] = (), *, root: Any = None) -> Any:
    """A JSON value (at `path` in `root`) with its secrets replaced, as the structured pass would replace them."""
    ctx = _Context(matcher=_matcher(frozenset()))
    if root is None or _parents(root, path) is None:
        root = _nest(path, value)
    return _redact_python(value, list(path), _parents(root, path), ctx)


def config_changes(before: Mapping[str, str], after: Mapping[str, str], *, base: str = "openclaw.json") -> dict:
    """What changed between configs (JSON5 texts by file name), as dotted keys with redacted values: a file that
    exists only after (a backup doctor wrote) is compared with `base` before. Never the configs themselves."""
    files: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old_text = before.get(name, before.get(base) if name != base else None)
        new_text = after.get(name)
        entry: dict[str, Any] = {}
        if name not in before and name != base:
            entry["compared_with"] = f"{base} before"
        old, new = _config_value(old_text), _config_value(new_text)
        if old is _UNREADABLE or new is _UNREADABLE:
            entry["unreadable"] = [side for side, v in (("before", old), ("after", new)) if v is _UNREADABLE]
            entry["sha256"] = {side: hashlib.sha256(t.encode()).hexdigest() for side, t in
                               (("before", old_text), ("after", new_text)) if t is not None}
            files[name] = entry
            continue
        old_leaves, new_leaves = dict(_flatten(old)), dict(_flatten(new))
        changes = []
        for path in sorted(set(old_leaves) | set(new_leaves), key=lambda p: [str(k) for k in p]):
            if path in old_leaves and path in new_leaves and old_leaves[path] == new_leaves[path]:
                continue
            change: dict[str, Any] = {"key": ".".join(str(k) for k in path)}
            for side, leaves, config in (("before", old_leaves, old), ("after", new_leaves, new)):
                if path in leaves:
                    change[side] = redact_value(leaves[path], path, root=config)
            changes.append(change)
        entry["changed"] = changes
        files[name] = entry
    return {"note": "keys that differ (dotted paths), values redacted; the configs themselves are not kept",
            "files": files}


_UNREADABLE = object()


def _config_value(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        value = json5text.loads(text)
        list(_flatten(value))
    except (ValueError, RecursionError):
        return _UNREADABLE
    return value


def _flatten(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _flatten(child, path + (key,))
    elif path:
        yield path, value
