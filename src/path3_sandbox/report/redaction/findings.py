"""What a redaction pass carries (`_Context`: a credential file or not, the matcher, how deep in JSON inside a
string) and what it finds: `_Hit` (an offset in what was read), `Finding` (a file and a line: what callers get),
`_Refused` (a file that cannot be made safe)."""

from __future__ import annotations

import re
from bisect import bisect_left

from dataclasses import dataclass

from .values import _looks_random, _Matcher, _rememberable


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str  # "key apiKey", "shape Anthropic key", "remembered value", "removed: …"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}"


@dataclass(frozen=True)
class _Context:
    credential: bool = False
    matcher: "_Matcher | None" = None
    depth: int = 0  # JSON inside a JSON string inside …

    def with_credential(self, credential: bool) -> "_Context":
        return _Context(credential, self.matcher, self.depth)

    def deeper(self) -> "_Context":
        return _Context(self.credential, self.matcher, self.depth + 1)


@dataclass(frozen=True)
class _Hit:
    offset: int
    kind: str
    secret: str
    strong: bool = True  # named by its own key or its shape; weak: only somewhere under a secret key

    def rememberable(self) -> bool:
        if not self.strong:
            return _looks_random(self.secret)
        return _rememberable(self.secret)


class _Refused(Exception):
    """A file the redactor cannot make safe (it is removed, never written half-redacted)."""


def _lines_of(text: str, offsets: list[int]) -> list[int]:
    """The 1-based line of each offset, counting the text's newlines once (not once per hit: a log with thousands
    of secrets made that quadratic)."""
    newlines = [match.start() for match in re.finditer("\n", text)] if offsets else []
    return [bisect_left(newlines, offset) + 1 for offset in offsets]
