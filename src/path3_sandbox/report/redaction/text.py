"""Free text: values under a secret key written as text (`KEY=value`, `"token": "…"`, `token: {…}`), every shape,
and every remembered value, also where JSON escapes are left in the text (encoded twice)."""

from __future__ import annotations

import re
from typing import Any

from .. import json5text
from .findings import _Context, _Hit
from .keys import CREDENTIAL_KEY_RE, _ENV_NAME, _NOT_A_SECRET, _TOKENS_RE, is_secret_key
from .shapes import SHAPES, _AUTH_SCHEME, _SHAPE_HINT, _VALID
from .values import tag

# key, an optional closing quote (plain or escaped inside a JSON string), a separator, then the value; after ':'
# the value may be on the next line (JSON5), after '=' it may not (.env, shell).
_KEY_VALUE = re.compile(
    r"""(?<![A-Za-z0-9_-])(?P<key>[A-Za-z_][A-Za-z0-9_-]*)(?:\\?["'])?[ \t]*(?P<sep>:\s*|=[ \t]*)"""
    r"""(?:\\"(?P<escaped>[^"\\]*)\\"|"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'|(?P<open>[\[{])|"""
    r"""(?P<bare>\$\{[^}\s]*\}|[^\s,;}\]"'&<>\\]+))""")
_BLOCK_STRING = re.compile(r"""\\"(?P<escaped>(?:[^"\\]|\\\\[^"])*)\\"|"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>[^'\n]*)'""")
# After `key:` in free text, a word (or `delivery.mode=`, the start of an assignment) is prose, not a value…
_PROSE_WORD = re.compile(r"^(?:[A-Za-z]{1,15}|[A-Za-z][A-Za-z._-]{0,40}=)$")
_PASSWORD_KEY = re.compile(r"pass|pwd|secret", re.I)  # …unless the key is a password's
# The verdict word of our own summaries and progress lines ("✅ PASS: upgrade path …", "PASS: 9/9 fixtures; …"): an
# upper-case PASS with a colon whose value goes on in words on the same line; a password (`PASS: hunter2`, `PASS=…`)
# ends its line or is assigned.
_VERDICT_REST = re.compile(r"[ \t]+[^\s]+")


def _shape_spans(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, secret) of every token shape in `text` that passes its validation; none when no shape's
    prefix is there at all (_SHAPE_HINT: most strings of a transcript)."""
    if not _SHAPE_HINT.search(text):
        return []
    found = []
    for kind, pattern in SHAPES:
        valid = _VALID.get(kind)
        group = "v" if "v" in pattern.groupindex else 0
        for match in pattern.finditer(text):
            if valid is None or valid(match.group(group)):
                found.append((match.start(group), match.end(group), kind, match.group(group)))
    return found


def _free_text(text: str, ctx: _Context, *, key_values: bool = True) -> tuple[str, list[_Hit]]:
    spans: list[tuple[int, int, str, str, Any, bool]] = []  # start, end, kind, secret, replacement (None: its tag), strong
    if key_values:
        spans += _key_value_spans(text, ctx)
    spans += [(start, end, f"shape {kind}", secret, None, True) for start, end, kind, secret in _shape_spans(text)]
    if ctx.matcher is not None:
        for start, end, value in ctx.matcher.spans(text):
            spans.append((start, end, "remembered value", value, None, True))
    if "\\u" in text or "\\/" in text:  # `\u0073k-…`, `https:\/\/…`: JSON escapes left in a text (encoded twice)
        view, starts = _unescaped(text)
        spans += [(starts[start], starts[end], f"shape {kind} (escaped)", secret, None, True)
                  for start, end, kind, secret in _shape_spans(view)]
        if ctx.matcher is not None:
            spans += [(starts[a], starts[b], "remembered value (escaped)", v, None, True) for a, b, v in ctx.matcher.spans(view)]
    if not spans:
        return text, []
    out, hits, position = [], [], 0
    for start, end, kind, secret, replacement, strong in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if end <= position or _NOT_A_SECRET.match(secret):
            continue  # inside a span already replaced, or nothing secret
        if start < position:  # overlaps the span before: its remainder goes too
            start = position
        out.append(text[position:start])
        out.append(tag(secret) if replacement is None else replacement)
        hits.append(_Hit(start, kind, secret, strong))
        position = end
    if not hits:
        return text, []
    out.append(text[position:])
    return "".join(out), hits


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(/)")


def _unescaped(text: str) -> tuple[str, list[int]]:
    """`text` with its `\\uXXXX` and `\\/` escapes decoded, and for each character of that view (and its end) the
    index in `text` it came from."""
    view, starts, position = [], [], 0
    for match in _JSON_ESCAPE.finditer(text):
        view.append(text[position:match.start()])
        starts.extend(range(position, match.start()))
        view.append(chr(int(match.group(1), 16)) if match.group(1) else "/")
        starts.append(match.start())
        position = match.end()
    view.append(text[position:])
    starts.extend(range(position, len(text) + 1))
    return "".join(view), starts


def _key_value_spans(text: str, ctx: _Context) -> list[tuple[int, int, str, str, Any, bool]]:
    """Values under a secret key written as text: `KEY=value`, `"token": "…"`, `password: 1234`, `token: {…}`."""
    spans = []
    position = 0
    while (match := _KEY_VALUE.search(text, position)) is not None:
        key = match.group("key")
        group = next(g for g in ("escaped", "dq", "sq", "open", "bare") if match.group(g) is not None)
        secret_key = (is_secret_key(key) or (ctx.credential and CREDENTIAL_KEY_RE.match(key))
                      or (group == "open" and _TOKENS_RE.search(key)))
        if not secret_key:  # go on inside its value: an object's keys, a string's "token=…"
            position = match.start(group) + (1 if group == "open" else 0)
            continue
        position = match.end()
        if group == "open":
            end = _block_end(text, match.start("open"))
            spans += _block_spans(text, match.start("open"), end, key, ctx)
            position = end
            continue
        value = match.group(group)
        start, stop = match.start(group), match.end(group)
        if key == "PASS" and group == "bare" and match.group("sep") == ": " and _VERDICT_REST.match(text, stop):
            continue  # "PASS: 9/9 fixtures; summary: …": the verdict, not a password
        if group == "bare":
            if _AUTH_SCHEME.match(value):  # `Authorization: Basic …`: the credential is the next word
                continue
            if match.group("sep").startswith(":") and not _ENV_NAME.match(key) and _PROSE_WORD.match(value) \
                    and not _PASSWORD_KEY.search(key):
                continue  # prose ("webhook: send …", "Webhook: mode=…"), not a value
        if _NOT_A_SECRET.match(value) or not value:
            continue
        spans.append((start, stop, f"key {key}", value, None, True))
    return spans


def _block_spans(text: str, start: int, end: int, key: str, ctx: _Context) -> list[tuple[int, int, str, str, Any, bool]]:
    """The values inside `key: {…}` / `key: […]` in free text: by structure when the block parses, else each
    string that is not a key (a truncated line)."""
    # imported here, not at the top: structured.py imports this module (its strings are read as free text)
    from .structured import _encode, _leaf, _parents
    block = text[start:end]
    try:
        value, leaves = json5text.parse(block)
    except ValueError:
        value = None
    if value is not None:
        root = {key: value}
        spans = []
        for leaf in leaves:
            if leaf.kind == "key":
                continue
            path = (key, *leaf.path)
            replacement, hits = _leaf(path, leaf.value, block[leaf.start:leaf.end], _parents(root, path), ctx)
            if replacement is not None and hits:
                spans.append((start + leaf.start, start + leaf.end, hits[0].kind, hits[0].secret,
                              _encode(replacement, leaf, block[leaf.start:leaf.end]), hits[0].strong))
        return spans
    spans = []
    for inner in _BLOCK_STRING.finditer(text, start, end):
        if re.match(r"\s*:", text[inner.end():inner.end() + 8]):
            continue  # a key
        group = next(g for g in ("escaped", "dq", "sq") if inner.group(g) is not None)
        spans.append((inner.start(group), inner.end(group), f"key {key}", inner.group(group), None, False))
    return spans


def _block_end(text: str, start: int) -> int:
    """The index after the bracket closing the one at `start` (strings skipped), or the end of the text."""
    depth, index, quote_char = 0, start, None
    while index < len(text):
        char = text[index]
        if quote_char:
            if char == "\\":
                index += 1
            elif char == quote_char:
                quote_char = None
        elif char in "\"'":
            quote_char = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(text)
