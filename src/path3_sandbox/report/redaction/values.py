"""Remembered values: the per-process key that tags a secret, the values remembered this process (this module
owns both), and the matcher that finds them and their encoded forms (JSON-escaped, URL-encoded, base64) in one pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as _random
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

from .keys import _NOT_A_SECRET, _PLAIN_WORD

MIN_REMEMBERED = 6  # shorter values are redacted where they stand, not searched for everywhere
_NUMBER = re.compile(r"^-?\d[\d.eE+-]*$")

_KEY = _random.token_bytes(16)  # per process: tags are stable within a run, never linkable across runs
_remembered: set[str] = set()


def tag(secret: str) -> str:
    return "REDACTED-" + hmac.new(_KEY, secret.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:8]


def remember(*values: str) -> None:
    """Values to redact wherever they appear, for the rest of this process (harness tokens, a state's secrets)."""
    _remembered.update(v for v in values if _rememberable(v))


def _rememberable(value: str) -> bool:
    return (bool(value) and len(value) >= MIN_REMEMBERED and not _NOT_A_SECRET.match(value)
            and not (len(value) < 16 and _PLAIN_WORD.match(value)) and "REDACTED-" not in value)


def _looks_random(value: str) -> bool:
    return (_rememberable(value) and len(value) >= 8 and not any(c.isspace() for c in value)
            and any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


class _Matcher:
    """Remembered values and their encoded forms (JSON-escaped, with `\\/`, URL-encoded, each twice; base64 of the
    value at any alignment), found in one pass by a trie-shaped regex."""

    def __init__(self, values: frozenset[str]) -> None:
        self.form_to_value: dict[str, str] = {}
        for value in sorted(values, key=len):
            for form in _forms(value):
                self.form_to_value.setdefault(form, value)
        words = [f for f in self.form_to_value if not _NUMBER.match(f)]
        numbers = [f for f in self.form_to_value if _NUMBER.match(f)]
        self.long = [f for f in words if len(f) > 160]  # a PEM body: found by str.find, not in the trie
        short = [f for f in words if len(f) <= 160]
        parts = ([_trie(short)] if short else []) + ([rf"(?<!\d){_trie(numbers)}(?!\d)"] if numbers else [])
        self.regex = re.compile("|".join(parts)) if parts else None
        self.bytes_regex = re.compile("|".join(parts).encode("utf-8", "surrogateescape")) if parts else None
        self.bytes_long = [f.encode("utf-8", "surrogateescape") for f in self.long]

    def spans(self, text: str) -> Iterable[tuple[int, int, str]]:
        if self.regex is not None:
            for match in self.regex.finditer(text):
                yield match.start(), match.end(), self.form_to_value[match.group(0)]
        for form in self.long:
            start = text.find(form)
            while start != -1:
                yield start, start + len(form), self.form_to_value[form]
                start = text.find(form, start + len(form))

    def in_bytes(self, data: bytes) -> bool:
        return bool(self.bytes_regex is not None and self.bytes_regex.search(data)) or any(
            form in data for form in self.bytes_long)


@lru_cache(maxsize=64)
def _matcher_for(values: frozenset[str]) -> _Matcher:
    return _Matcher(values)


def _matcher(also: frozenset[str]) -> _Matcher:
    # remember() let only rememberable values into _remembered: `also` is the part still to be filtered
    return _matcher_for(frozenset(_remembered | {v for v in also if _rememberable(v)}))


@lru_cache(maxsize=4096)
def _forms(value: str) -> frozenset[str]:
    def text_forms(v: str) -> set[str]:
        escaped = json.dumps(v, ensure_ascii=False)[1:-1]
        return {escaped, json.dumps(v)[1:-1], escaped.replace("/", "\\/"), quote(v, safe=""), quote_plus(v, safe="")}

    once = text_forms(value)
    forms = {value} | once | {twice for form in once for twice in text_forms(form)}
    raw = value.encode("utf-8", "surrogateescape")
    if len(raw) >= 12:
        for shift in range(3):  # the secret's bytes at any offset of a larger base64 text
            encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
            core = encoded[(0, 2, 3)[shift]:len(encoded) - (1 if (shift + len(raw)) % 3 else 0)]
            if len(core) >= 12:
                forms |= {core, core.replace("+", "-").replace("/", "_")}
    return frozenset(f for f in forms if len(f) >= MIN_REMEMBERED)


def _trie(words: list[str]) -> str:
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    stack_safe = max((len(w) for w in words), default=0) < 900  # the regex nests one group per character
    return build(trie) if stack_safe else "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
