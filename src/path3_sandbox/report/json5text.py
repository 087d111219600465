"""A JSON5 reader that also says where every value is: the redactor rewrites only the value tokens it must, so the
rest of a config, a store or a transcript line keeps its bytes (comments, unquoted keys, quotes, spacing, order).

JSON5 is what the Gateway reads `openclaw.json` (and its .bak / .last-good copies) as: comments, unquoted keys,
single-quoted strings, trailing commas, hex, Infinity/NaN, `+1`, `.5`, line continuations. Strict JSON is a subset.
Iterative, not recursive, so a document nested 100,000 deep is read (or refused) without a RecursionError.
No new dependency: the json5 package on PyPI parses but does not give positions, and positions are the point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from typing import Any

from ..errors import JSON5Error

_SPACE = re.compile(r"(?:[\s\ufeff]+|//[^\n\r\u2028\u2029]*|/\*.*?\*/)*", re.S)
_DQ = re.compile(r'"((?:[^"\\\n\r]|\\(?:\r\n|.))*)"', re.S)
_SQ = re.compile(r"'((?:[^'\\\n\r]|\\(?:\r\n|.))*)'", re.S)
_NUMBER = re.compile(r"[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_IDENT = re.compile(r"(?:[A-Za-z_$]|[^\x00-\x7f\s\ufeff])(?:[A-Za-z0-9_$]|[^\x00-\x7f\s\ufeff])*")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(\r\n|[\n\r\u2028\u2029])|(.))", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "0": "\0"}
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Leaf:
    """One scalar in the document: where its token is, the key path to it, and what it reads as."""
    start: int
    end: int
    path: tuple[str | int, ...]
    value: Any
    kind: str  # "string", "number", "literal" (true, false, null), or "key" (an object's key: its path ends in it)
    quote: str = ""  # '"' or "'" for strings


def loads(text: str) -> Any:
    return parse(text)[0]


def parse(text: str) -> tuple[Any, list[Leaf]]:
    """The document's value and every leaf, in document order; JSON5Error (a ValueError) when it is not JSON5."""
    leaves: list[Leaf] = []
    frames: list[tuple[dict | list, list[str]]] = []  # open containers; for objects, the key being filled
    path: list[str | int] = []
    n, p = len(text), _skip(text, 0)
    root: Any = None
    state = "value"
    while True:
        if state == "value":
            if p >= n:
                raise JSON5Error(f"a value was expected at the end (char {p})")
            char = text[p]
            if char == "{":
                frames.append(({}, [""]))
                p, state = _skip(text, p + 1), "key"
                continue
            if char == "[":
                frames.append(([], []))
                p, state = _skip(text, p + 1), "item"
                continue
            value, end, kind, quote = _scalar(text, p)
            leaves.append(Leaf(p, end, tuple(path), value, kind, quote))
            p = _skip(text, end)
        elif state == "key":
            if p < n and text[p] == "}":
                value, p = frames.pop()[0], _skip(text, p + 1)
            else:
                start = p
                key, p, quote = _key(text, p)
                leaves.append(Leaf(start, p, (*path, key), key, "key", quote))
                p = _skip(text, p)
                if p >= n or text[p] != ":":
                    raise JSON5Error(f"':' expected after key {key!r} (char {p})")
                frames[-1][1][0] = key
                path.append(key)
                p, state = _skip(text, p + 1), "value"
                continue
        elif state == "item":
            if p < n and text[p] == "]":
                value, p = frames.pop()[0], _skip(text, p + 1)
            else:
                path.append(len(frames[-1][0]))
                state = "value"
                continue
        else:  # "after": a value inside a container was read; a comma or the container's end follows
            container = frames[-1][0]
            close = "}" if isinstance(container, dict) else "]"
            if p < n and text[p] == ",":
                p, state = _skip(text, p + 1), "key" if close == "}" else "item"
                continue
            if p < n and text[p] == close:
                value, p = frames.pop()[0], _skip(text, p + 1)
            else:
                raise JSON5Error(f"',' or {close!r} expected (char {p})")
        # `value` is complete: it goes into the container around it, or it is the document
        if not frames:
            root = value
            break
        container, key = frames[-1]
        if isinstance(container, dict):
            container[key[0]] = value
        else:
            container.append(value)
        path.pop()
        state = "after"
    if p != n:
        raise JSON5Error(f"text after the document (char {p})")
    return root, leaves


def encode_string(value: str, quote: str = '"', *, ascii_only: bool = False) -> str:
    """`value` as a string token in the given quote style (a lone surrogate is always written escaped)."""
    import json

    ascii_only = ascii_only or any("\ud800" <= c <= "\udfff" for c in value)
    body = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
    if quote == "'":
        body = body.replace('\\"', '"').replace("'", "\\'")
    return quote + body + quote


def _skip(text: str, p: int) -> int:
    end = _SPACE.match(text, p).end()
    if text.startswith("/*", end):
        raise JSON5Error(f"unterminated comment (char {end})")
    return end


def _scalar(text: str, p: int) -> tuple[Any, int, str, str]:
    char = text[p]
    if char in "\"'":
        match = (_DQ if char == '"' else _SQ).match(text, p)
        if not match:
            raise JSON5Error(f"unterminated string (char {p})")
        return _unescape(match.group(1)), match.end(), "string", char
    match = _NUMBER.match(text, p)
    if match:
        return _number(match.group(0)), match.end(), "number", ""
    match = _IDENT.match(text, p)
    if match and match.group(0) in _LITERALS:
        return _LITERALS[match.group(0)], match.end(), "literal", ""
    raise JSON5Error(f"unexpected {text[p:p + 12]!r} (char {p})")


def _key(text: str, p: int) -> tuple[str, int, str]:
    if p < len(text) and text[p] in "\"'":
        value, end, _, quote = _scalar(text, p)
        return value, end, quote
    match = _IDENT.match(text, p)
    if not match:
        raise JSON5Error(f"a key was expected (char {p}): {text[p:p + 12]!r}")
    return match.group(0), match.end(), ""


def _number(token: str) -> int | float:
    sign = -1 if token.startswith("-") else 1
    body = token.lstrip("+-")
    if body == "Infinity":
        return sign * math.inf
    if body == "NaN":
        return math.nan
    if body[:2] in ("0x", "0X"):
        return sign * int(body, 16)
    if any(c in body for c in ".eE"):
        return sign * float(body)
    return sign * int(body)


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body

    def one(match: re.Match) -> str:
        hex4, hex2, newline, other = match.groups()
        if hex4:
            return chr(int(hex4, 16))
        if hex2:
            return chr(int(hex2, 16))
        if newline:
            return ""  # a line continuation
        return _SIMPLE.get(other, other)

    decoded = _ESCAPE.sub(one, body)
    # \uD83E\uDD9E: a surrogate pair written as two escapes is one character
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass") if any(
        "\ud800" <= c <= "\udbff" for c in decoded) else decoded
