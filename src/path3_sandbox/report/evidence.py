"""The evidence directory: every observation in order, every assertion with expected and observed.

    .artifacts/path3-upgrade/<run-id>/<fixture>/
        events.jsonl            ordered observations and assertion records
        summary.json            arguments, target, contract expected vs observed, verdict, first failure
        summary.md              the same for a person, verdict first
        sqlite-before.json, sqlite-after.json, legacy-files.json, gateway-log-scan.json, …
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..progress import say


GATEWAY = "gateway"  # a failure that is a finding about the Gateway
HARNESS = "harness"  # a failure of the test bed: a probe that failed, a check it could not make


@dataclass(frozen=True)
class Assertion:
    name: str
    passed: bool
    expected: Any
    observed: Any
    detail: str = ""
    status: str = ""  # "passed" | "failed" | "skipped"; derived from passed unless skipped
    blame: str = GATEWAY  # who a failure is about: GATEWAY (a finding) or HARNESS (a check it could not make)

    @property
    def outcome(self) -> str:
        return self.status or ("passed" if self.passed else "failed")

    def to_json(self) -> dict:
        record = {"assertion": self.name, "outcome": self.outcome, "expected": self.expected,
                  "observed": self.observed, "detail": self.detail}
        if self.outcome == "failed":
            record["blame"] = self.blame
        return record

    def message(self) -> str:
        text = f"{self.name}: expected {_short(self.expected)}, observed {_short(self.observed)}"
        return f"{text} ({self.detail})" if self.detail else text


def skipped(name: str, why: str) -> Assertion:
    return Assertion(name, True, None, None, why, status="skipped")


class Evidence:
    def __init__(self, root: Path, phase_label: str) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.label = phase_label
        self.assertions: list[Assertion] = []
        self.by_phase: dict[str, list[Assertion]] = {}
        self._events = (root / "events.jsonl").open("a", encoding="utf-8")
        self._started = time.monotonic()
        self._written = 0  # lines in events.jsonl
        self._lines: list[int] = []  # per assertion, its line in events.jsonl

    def event(self, phase: str, event: str, /, **data: Any) -> None:
        record = {"t": round(time.monotonic() - self._started, 3), "at": time.time(), "phase": phase, "event": event, **data}
        self._events.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._events.flush()
        self._written += 1

    def check(self, phase: str, assertion: Assertion) -> Assertion:
        self.assertions.append(assertion)
        self.by_phase.setdefault(phase, []).append(assertion)
        self.event(phase, "assertion", **assertion.to_json())
        self._lines.append(self._written)
        if assertion.outcome == "failed":
            say(f"{self.label}/{phase}", f"FAILED {assertion.message()}")
        return assertion

    def write_json(self, name: str, value: Any) -> Path:
        path = self.root / name
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return path

    def write_text(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    @property
    def failed_count(self) -> int:
        return sum(1 for a in self.assertions if a.outcome == "failed")

    def failures(self) -> list[dict]:
        """Every failed assertion with who it is about and where it is recorded (events.jsonl line)."""
        return [{"blame": a.blame, "message": a.message(), "evidence": f"events.jsonl:{line}"}
                for a, line in zip(self.assertions, self._lines) if a.outcome == "failed"]

    @property
    def findings(self) -> int:
        """Failed assertions about the Gateway (a run failed on none of these could not judge it: exit 4)."""
        return sum(1 for a in self.assertions if a.outcome == "failed" and a.blame == GATEWAY)

    @property
    def first_failure(self) -> Assertion | None:
        return next((a for a in self.assertions if a.outcome == "failed"), None)

    @property
    def passed(self) -> bool:
        return self.first_failure is None and any(a.outcome == "passed" for a in self.assertions)

    def phase_results(self) -> list[dict]:
        """Per phase: how many assertions passed, failed, were skipped, and the first failure."""
        results = []
        for phase, checks in self.by_phase.items():
            outcomes = [a.outcome for a in checks]
            first = next((a for a in checks if a.outcome == "failed"), None)
            results.append({"phase": phase, "passed": outcomes.count("passed"), "failed": outcomes.count("failed"),
                            "skipped": outcomes.count("skipped"), "first_failure": first.message() if first else None,
                            "skip_reasons": [f"{a.name}: {a.detail}" for a in checks if a.outcome == "skipped"]})
        return results

    def close(self) -> None:
        self._events.close()


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
