"""`path3-sandbox matrix`: every captured fixture of the source releases, proved against every target release.

    path3-sandbox matrix --from 2026.7.35,2026.7.1 --to 2026.9.5,2026.9.6,latest [--first-start-only]

A source is a writer release; its fixtures are the committed captures whose manifest names it as the writer
(`fixtures capture`). Each target is proved on all of them in one run (`prove`, its contract from the release table),
and `matrix.md` gets a row per source fixture and a column per target: the verdict, the first start observed, and a
link to the evidence; `matrix.json` holds the same. Bad input (a source with no capture, a target without a contract)
is an error before any image is built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..proof.contracts import ContractChoice, contract_for
from ..errors import FixtureError, UsageError
from ..state.fixtures import Fixture, check, default_fixture_dirs
from ..build.target import Target


@dataclass(frozen=True)
class Cell:
    source: str  # fixture name
    target: str  # version
    passed: bool
    observed: str | None
    first_failure: str | None
    evidence: str  # relative to the matrix folder
    findings: int = 0  # the Gateway's; a failed cell with none failed on the harness alone

    def to_json(self) -> dict:
        return {"source": self.source, "target": self.target, "verdict": "pass" if self.passed else "fail",
                "observed_contract": self.observed, "first_failure": self.first_failure, "evidence": self.evidence}


def captured_fixtures(writers: list[str]) -> list[Fixture]:
    """The committed captures written by each release, in the order asked; a release with none is bad input."""
    found: list[Fixture] = []
    for writer in dict.fromkeys(writers):  # each once, in the order asked
        mine = []
        for folder in default_fixture_dirs():
            try:
                data = json.loads((folder / "fixture.json").read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as error:
                raise FixtureError(f"{folder / 'fixture.json'} is not valid JSON: {error}",
                                   hint=f"`path3-sandbox fixtures check {folder}`") from None
            if (data.get("writer") or {}).get("release") == writer:
                fixture = Fixture.load(folder)
                if problems := check(fixture):
                    raise FixtureError(f"fixture {fixture.name} is inconsistent: " + "; ".join(problems),
                                       hint=f"`path3-sandbox fixtures check {folder}`")
                mine.append(fixture)
        if not mine:
            raise UsageError(f"--from {writer}: no committed fixture was captured from openclaw {writer}",
                             hint=f"capture one: path3-sandbox fixtures capture --recipe fixtures/recipes/<name>.json "
                                  f"(a recipe whose writer is {writer})")
        found += mine
    return found


def resolve_targets(specs: list[str]) -> list[tuple[Target, ContractChoice]]:
    """Each target with its exact version and contract, before any build."""
    targets: dict[str, tuple[Target, ContractChoice]] = {}
    for spec in specs:
        target = Target.parse(spec)
        target = target.resolve() if target.needs_resolution() else target
        targets.setdefault(target.version, (target, contract_for(target.version)))  # `latest` may be one of the others
    return list(targets.values())


def split(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise UsageError(f"an empty release list: {value!r}", hint="e.g. --from 2026.7.35,2026.7.1")
    return items


def matrix_markdown(fixtures: list[Fixture], targets: list[str], cells: list[Cell], seconds: float) -> str:
    by = {(c.source, c.target): c for c in cells}
    failed = sum(not c.passed for c in cells)
    lines = [f"# {'✅' if not failed else '❌'} Upgrade matrix: {len(fixtures)} captured state(s) × {len(targets)} target(s)",
             "", f"{len(cells) - failed}/{len(cells)} cells pass, {seconds:.0f}s. Each cell: verdict, the first start "
                 "observed, the evidence.", "",
             "| source (writer) | " + " | ".join(f"→ {t}" for t in targets) + " |",
             "|---|" + "---|" * len(targets)]
    for fixture in fixtures:
        writer = json.loads((fixture.root / "fixture.json").read_text(encoding="utf-8")).get("writer", {}).get("release")
        row = [f"`{fixture.name}` ({writer})"]
        for target in targets:
            cell = by.get((fixture.name, target))
            row.append("not run" if cell is None else
                       f"{'✅ pass' if cell.passed else '❌ **fail**'} `{cell.observed}` [evidence]({cell.evidence})")
        lines.append("| " + " | ".join(row) + " |")
    failures = [c for c in cells if not c.passed]
    if failures:
        lines += ["", "## First failures", ""] + [f"- `{c.source}` → {c.target}: {c.first_failure}" for c in failures]
    return "\n".join(lines) + "\n"


def write(root: Path, fixtures: list[Fixture], targets: list[str], cells: list[Cell], seconds: float) -> None:
    (root / "matrix.md").write_text(matrix_markdown(fixtures, targets, cells, seconds), encoding="utf-8")
    (root / "matrix.json").write_text(json.dumps({"sources": [f.name for f in fixtures], "targets": targets,
                                                  "cells": [c.to_json() for c in cells], "seconds": round(seconds, 1)},
                                                 indent=2, ensure_ascii=False) + "\n")
