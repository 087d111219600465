"""JSON, JSON5 and JSONL by structure (json5text): only the value tokens that hold a secret are rewritten, every
other byte stays; JSON inside a string value is redacted as JSON; the result must parse as the input did. A leaf is
secret under a key that names one (at any depth), unless it is a SecretRef's field or a JSON Schema's word."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .. import json5text
from .findings import _Context, _Hit, _lines_of, _Refused
from .keys import (CREDENTIAL_KEY_RE, _ENUM_WORD, _JSON_TYPES, _NAMING_FIELDS, _NOT_A_SECRET, _SCHEMA_WORDS,
                   _SECRET_REF_SOURCES, _TOKENS_RE, _VALUE_FIELDS, is_secret_key)
from .shapes import _SCHEMED
from .text import _free_text
from .values import _matcher, tag


def scrub_text(text: str, *, also: Iterable[str] = (), credential_file: bool = False) -> tuple[str, list[tuple[int, str]]]:
    """`text` with every secret replaced by its tag, and (line, kind) for each replacement. A text that is a JSON or
    JSON5 document, or JSONL, is redacted by structure (and keeps its syntax); anything else as text."""
    ctx = _Context(credential=credential_file, matcher=_matcher(frozenset(also)))
    try:
        new, hits = _document(text, "", ctx)
    except _Refused:
        new, hits = _free_text(text, ctx)
    return new, list(zip(_lines_of(text, [hit.offset for hit in hits]), (hit.kind for hit in hits)))


def _document(text: str, name: str, ctx: _Context) -> tuple[str, list[_Hit]]:
    parsed = _parse(text)
    if parsed is not None:
        return _structured(text, parsed, ctx)
    if "\n" in text.rstrip("\r\n") or ".jsonl" in name:
        lines = text.split("\n")
        sample = [line for line in lines[:50] if line.strip()]
        if ".jsonl" in name or (sample and 2 * sum(_parse_line(line) is not None for line in sample) >= len(sample)):
            return _jsonl(lines, ctx)
    return _free_text(text, ctx)


def _parse(text: str) -> tuple[Any, bool] | None:
    """(value, strict) when `text` is one JSON (strict) or JSON5 document holding an object or an array."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head or head[0] not in "{[/":
        return None
    try:
        value = json.loads(text)
        return (value, True) if isinstance(value, (dict, list)) else None
    except (ValueError, RecursionError):
        pass
    try:
        value = json5text.loads(text)
    except ValueError:
        return None
    return (value, False) if isinstance(value, (dict, list)) else None


def _parse_line(line: str) -> Any:
    body = line[:-1] if line.endswith("\r") else line
    if not body.lstrip().startswith(("{", "[")):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def _jsonl(lines: list[str], ctx: _Context) -> tuple[str, list[_Hit]]:
    out, hits, offset = [], [], 0
    for line in lines:
        body, cr = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        value = _parse_line(body)
        new, found = _structured(body, (value, True), ctx) if value is not None else _free_text(body, ctx)
        out.append(new + cr if found else line)
        hits += [_Hit(offset + h.offset, h.kind, h.secret, h.strong) for h in found]
        offset += len(line) + 1
    return "\n".join(out), hits


def _structured(text: str, parsed: tuple[Any, bool], ctx: _Context) -> tuple[str, list[_Hit]]:
    """A JSON/JSON5 document with only its secret-bearing value tokens rewritten; refused (_Refused) if the result
    would not parse as the input did."""
    value, strict = parsed
    if not _needs_redaction(value, ctx):
        return text, []
    try:
        _, leaves = json5text.parse(text)
    except ValueError:  # JSON that the JSON5 reader refuses (it should not happen): treat it as text
        return _free_text(text, ctx)
    out, hits, position = [], [], 0
    for leaf in leaves:
        token = text[leaf.start:leaf.end]
        if leaf.kind == "key":  # a key is a name, unless it is a secret by shape or value (a cache keyed by a token)
            new_key, found = _free_text(leaf.value, ctx, key_values=False)
            replacement = new_key if found else None
        else:
            parents = _parents(value, leaf.path)
            if parents is None:
                continue  # a duplicate key the parsed value dropped
            replacement, found = _leaf(leaf.path, leaf.value, token, parents, ctx)
        if replacement is None:
            continue
        out.append(text[position:leaf.start])
        out.append(_encode(replacement, leaf, token))
        position = leaf.end
        hits += [_Hit(leaf.start, h.kind, h.secret, h.strong) for h in found]
    if not hits:
        return text, []
    out.append(text[position:])
    new = "".join(out)
    try:
        try:
            (json.loads if strict else json5text.loads)(new)
        except RecursionError:  # deeper than json.loads goes: the iterative reader checks it
            json5text.loads(new)
    except ValueError as error:
        raise _Refused(f"redacted, it would not parse ({error})") from None
    return new, hits


def _encode(replacement: Any, leaf: json5text.Leaf, token: str) -> str:
    if leaf.kind == "string" or (leaf.kind == "key" and leaf.quote):
        ascii_only = token.isascii() and "\\u" in token
        return json5text.encode_string(replacement, leaf.quote or '"', ascii_only=ascii_only)
    return json5text.encode_string(str(replacement))


def _needs_redaction(value: Any, ctx: _Context) -> bool:
    """Whether any leaf of the parsed value would change: the common case (nothing to do) costs no tokenising."""
    stack: list[tuple[Any, tuple | None]] = [(value, None)]  # paths as links (key, parent): deep stays linear
    while stack:
        node, link = stack.pop()
        if isinstance(node, dict):
            if any(_free_text(key, ctx, key_values=False)[1] for key in node):
                return True
            stack += [(child, (key, link)) for key, child in node.items()]
        elif isinstance(node, list):
            stack += [(child, (index, link)) for index, child in enumerate(node)]
        elif node is not None and not isinstance(node, bool):
            path = []
            while link is not None:
                path.append(link[0])
                link = link[1]
            path.reverse()
            if _leaf(tuple(path), node, "", _parents(value, path), ctx)[0] is not None:
                return True
    return False


def _parents(root: Any, path: Iterable[str | int]) -> list | None:
    """The containers along `path`: parents[i] holds path[i]; None when the path is not in `root`."""
    parents, node = [], root
    for key in path:
        parents.append(node)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return parents


def _nest(path: tuple[str | int, ...], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value} if isinstance(key, str) else [None] * key + [value]
    return value


def _leaf(path: tuple, value: Any, token: str, parents: list, ctx: _Context) -> tuple[Any, list[_Hit]]:
    """(the new value for a leaf, or None to keep its token; what was found)."""
    if value is None or isinstance(value, bool):
        return None, []
    secret, own = _secret_context(path, parents, ctx)
    exempt = _exempt(path, parents)
    if isinstance(value, (int, float)):
        if secret and own and not exempt:
            raw = token or json.dumps(value)
            return tag(raw), [_Hit(0, f"key {secret}", raw)]
        return None, []
    if not isinstance(value, str):
        return None, []
    if secret and not exempt:
        if _NOT_A_SECRET.match(value) or (not own and _ENUM_WORD.match(value)):
            return None, []
        schemed = _SCHEMED.match(value)
        if schemed:
            credential = schemed.group("v")
            if _NOT_A_SECRET.match(credential):
                return None, []
            return f"{schemed.group('scheme')} {tag(credential)}", [_Hit(0, f"key {secret}", credential, own)]
        return tag(value), [_Hit(0, f"key {secret}", value, own)]
    new, hits = _string(value, ctx)
    return (new if hits else None), hits


def _secret_context(path: tuple, parents: list, ctx: _Context) -> tuple[str | None, bool]:
    """(the nearest secret-naming key on the path, or None; whether the leaf's own key names a secret)."""
    secret: str | None = None
    own = False
    for index, key in enumerate(path):
        if not isinstance(key, str):
            continue
        container = parents[index]
        named = (is_secret_key(key) or ((ctx.credential or secret is not None) and bool(CREDENTIAL_KEY_RE.match(key)))
                 or (bool(_TOKENS_RE.search(key)) and index + 1 < len(path)))  # a container under `…Tokens`
        label = key
        if not named and key in _VALUE_FIELDS and isinstance(container, dict):
            for field_name in _NAMING_FIELDS:  # {"key": "gateway.auth.token", "before": …}
                named_by = container.get(field_name)
                if isinstance(named_by, str) and is_secret_key(re.split(r"[./:\[\]]", named_by.strip("[]."))[-1]):
                    named, label = True, named_by
                    break
        if named and secret is None:
            secret = label  # the outermost name says what it is: `token` for token.value
        own = named
    return secret, own


def _exempt(path: tuple, parents: list) -> bool:
    """A SecretRef's source/provider/id, or a JSON Schema's words about a field named like a secret."""
    if not path or not parents or not isinstance(parents[-1], dict) or not isinstance(path[-1], str):
        return False
    parent, key = parents[-1], path[-1]
    source, kind = parent.get("source"), parent.get("type")
    if key in ("source", "provider", "id") and isinstance(source, str) and source in _SECRET_REF_SOURCES \
            and isinstance(parent.get("id"), str):
        return True
    return (key in _SCHEMA_WORDS and isinstance(kind, str) and kind in _JSON_TYPES
            and any(k in parent for k in ("description", "properties", "items", "enum", "title", "format")))


def _redact_python(value: Any, path: list, parents: list, ctx: _Context) -> Any:
    if isinstance(value, dict):
        return {k: _redact_python(v, path + [k], parents + [value], ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_python(v, path + [i], parents + [value], ctx) for i, v in enumerate(value)]
    replacement, _ = _leaf(tuple(path), value, "", parents, ctx)
    return value if replacement is None else replacement


def _string(value: str, ctx: _Context) -> tuple[str, list[_Hit]]:
    """A string value (decoded): JSON inside it by structure, anything else as text."""
    stripped = value.strip()
    if ctx.depth < 8 and stripped[:1] in "{[" and stripped[-1:] in "}]":
        parsed = _parse(value)
        if parsed is not None:
            try:
                return _structured(value, parsed, ctx.deeper())
            except _Refused:
                pass
    return _free_text(value, ctx)
