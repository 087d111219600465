"""One case of the reported-bug corpus: `fixtures/reported/<openclaw issue number>/report.json` and what writes its
state. The file says what the report says (link, symptom, the release it was reported on, the release that fixed
it) and what this test bed must see on each release it runs:

    {"issue": 156382, "link": "https://github.com/openclaw/openclaw/issues/156382", "title": "…",
     "symptom": "one line: what the user saw",
     "reported_on": "2026.9.5", "fixed_in": null, "fix": null,
     "status": "reproduced",                      # or "not-reproduced" (then "missing" says what is missing)
     "reproduce": {"from_report": "recovery-report.md"},   # or {"state": "state"}: a state directory beside it,
                                                  # or {"path": ["2026.7.35", "{release}", "@restore-sessions-backup",
                                                  #  "{release}"]}: an upgrade path, {release} the one under test,
                                                  # (with "recipe": "plugins": fixtures/recipes/plugins.json),
                                                  # or {"fixture": "plugin-codex"}: a committed fixture, its manifest
     "first_start_only": true,                    # optional: the proof stops after the first start
     "doctor_first": true,                        # optional: the user ran doctor --fix before starting the release
     "expect": {"2026.9.5": {"verdict": "red", "names": ["plugin_migration_source_retained"]},
                "2026.9.6": {"verdict": "red", "names": ["…"]}}}

A red expectation's `names` are what the Gateway itself must say (its doctor, validate and inspect output, its
logs, its reports) or what a finding of the proof names (a lost message, an exit code): the reported symptom, not
any red. The reported release must be expected red and the fixing release, where there is one, green; a case that
is not reproduced is listed with what is missing and never run, so it can never pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import FixtureError
from ..paths import FIXTURES_DIR, PROJECT_ROOT, REPORTED_DIR

REPRODUCED, NOT_REPRODUCED = "reproduced", "not-reproduced"
RED, GREEN = "red", "green"
REPORT_NAME = "report.json"
HOW = ("from_report", "state", "path", "fixture")
RELEASE_SLOT = "{release}"
RECIPES_DIR = PROJECT_ROOT / "fixtures" / "recipes"
RELEASE_RE = re.compile(r"^\d{4}\.\d{1,2}\.\d{1,3}(?:-[0-9A-Za-z.]+)?$")
LINK_RE = re.compile(r"^https://github\.com/openclaw/openclaw/(?:issues|pull)/(\d+)$")


@dataclass(frozen=True)
class Expectation:
    release: str
    verdict: str  # red | green
    names: tuple[str, ...] = ()  # for red: what the Gateway's output or the proof's findings must say

    def to_json(self) -> dict:
        return {"release": self.release, "verdict": self.verdict, "names": list(self.names)}


@dataclass(frozen=True)
class ReportedCase:
    issue: int
    root: Path
    link: str
    title: str
    symptom: str
    reported_on: str
    fixed_in: str | None
    fix: str | None
    status: str
    missing: str | None
    how: str  # from_report | state | path | fixture
    source: Path  # the recovery report, the state directory or the fixture's folder (a path: the case's folder)
    first_start_only: bool
    expect: tuple[Expectation, ...]
    hops: tuple[str, ...] = ()  # a path's hops, RELEASE_SLOT standing for the release under test
    recipe: Path | None = None  # a path's recipe (fixtures/recipes/<name>.json): what every writer hop drives
    doctor_first: bool = False  # the user ran `openclaw doctor --fix` before the first start (prove --doctor-first)

    def proof_options(self) -> list[str]:
        """The options of the proof command (repro, prove) that the case's flow asks for."""
        return [*(["--first-start-only"] if self.first_start_only else []),
                *(["--doctor-first"] if self.doctor_first else [])]

    def hops_on(self, release: str) -> list[str]:
        return [hop.replace(RELEASE_SLOT, release) for hop in self.hops]

    @property
    def reproduced(self) -> bool:
        return self.status == REPRODUCED

    @classmethod
    def load(cls, folder: Path) -> "ReportedCase":
        """Read and check `folder/report.json`; every problem is a FixtureError naming the field and the fix."""
        path = folder / REPORT_NAME
        problems: list[str] = []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise FixtureError(f"{path}: not readable JSON ({error})", hint="see fixtures/reported/README.md") from None
        if not isinstance(data, dict):
            raise FixtureError(f"{path}: a JSON object is expected", hint="see fixtures/reported/README.md")

        def text(name: str, *, optional: bool = False) -> str | None:
            value = data.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name}: a non-empty string is required")
                return None
            return value

        issue = data.get("issue")
        if not isinstance(issue, int) or str(issue) != folder.name:
            problems.append(f"issue: {issue!r} must be the folder's number ({folder.name})")
        link = text("link") or ""
        if link and (not (found := LINK_RE.match(link)) or found.group(1) != folder.name):
            problems.append(f"link: {link!r} must be https://github.com/openclaw/openclaw/issues/{folder.name}")
        reported_on, fixed_in = text("reported_on"), text("fixed_in", optional=True)
        for name, release in (("reported_on", reported_on), ("fixed_in", fixed_in)):
            if release and not RELEASE_RE.match(release):
                problems.append(f"{name}: {release!r} is not a release (e.g. 2026.9.5)")
        status = data.get("status")
        if status not in (REPRODUCED, NOT_REPRODUCED):
            problems.append(f"status: {status!r} must be {REPRODUCED!r} or {NOT_REPRODUCED!r}")
        missing = text("missing", optional=status != NOT_REPRODUCED)
        reproduce = data.get("reproduce") or {}
        how = next((key for key in HOW if key in reproduce), None) if isinstance(reproduce, dict) else None
        hops = tuple(reproduce["path"]) if how == "path" and isinstance(reproduce["path"], list) else ()
        source = folder / str(reproduce.get(how, "")) if how in ("from_report", "state") else folder
        if how == "fixture":
            source = FIXTURES_DIR / str(reproduce["fixture"])
            if not (source / "fixture.json").is_file() or "/" in str(reproduce["fixture"]):
                problems.append(f"reproduce.fixture: {reproduce['fixture']!r} is not a fixture in {FIXTURES_DIR}")
        elif how == "path":
            if not hops or not all(isinstance(h, str) for h in hops) or not any(RELEASE_SLOT in h for h in hops):
                problems.append(f"reproduce.path: a list of hops with {RELEASE_SLOT} for the release under test")
        elif status == REPRODUCED and (how is None or not source.exists() or source == folder
                                       or not source.resolve().is_relative_to(folder.resolve())):
            problems.append(f"reproduce: {reproduce!r} must name a file or folder inside {folder} "
                            f"({', '.join(HOW)})")
        recipe = None
        if how == "path" and reproduce.get("recipe") is not None:
            recipe = RECIPES_DIR / f"{reproduce['recipe']}.json"
            if "/" in str(reproduce["recipe"]) or not recipe.is_file():
                problems.append(f"reproduce.recipe: {reproduce['recipe']!r} is not a recipe in {RECIPES_DIR}")
        for flag in ("first_start_only", "doctor_first"):
            if not isinstance(data.get(flag, False), bool):
                problems.append(f"{flag}: {data[flag]!r} must be true or false")
        if how == "path" and data.get("doctor_first"):
            problems.append("doctor_first: a path says where the user runs doctor with an @doctor-fix hop")
        expect = _expectations(data.get("expect") or {}, problems)
        if hops and not problems:
            _plannable(hops, expect, problems)
        if status == REPRODUCED:
            verdicts = {e.release: e.verdict for e in expect}
            if verdicts.get(reported_on) != RED:
                problems.append(f"expect: the reported release {reported_on} must be expected red")
            if fixed_in and verdicts.get(fixed_in) != GREEN:
                problems.append(f"expect: the fixing release {fixed_in} must be expected green")
        if problems:
            raise FixtureError(f"{path} is not a valid reported case:\n  " + "\n  ".join(problems),
                               hint="fix report.json; fixtures/reported/README.md lists its fields")
        return cls(issue, folder, link, text("title") or "", text("symptom") or "", reported_on or "", fixed_in,
                   text("fix", optional=True), status, missing, how or "", source,
                   data.get("first_start_only") is True, expect, hops, recipe, data.get("doctor_first") is True)

    def to_json(self) -> dict:
        return {"issue": self.issue, "link": self.link, "symptom": self.symptom, "reported_on": self.reported_on,
                "fixed_in": self.fixed_in, "fix": self.fix, "status": self.status, "missing": self.missing,
                "expect": [e.to_json() for e in self.expect]}


def _expectations(raw: object, problems: list[str]) -> tuple[Expectation, ...]:
    if not isinstance(raw, dict):
        problems.append("expect: an object of release -> {verdict, names} is required")
        return ()
    found: list[Expectation] = []
    for release, spec in raw.items():
        if not RELEASE_RE.match(str(release)) or not isinstance(spec, dict):
            problems.append(f"expect: {release!r} must be a release with an object")
            continue
        verdict, names = spec.get("verdict"), spec.get("names", [])
        if verdict not in (RED, GREEN):
            problems.append(f"expect.{release}.verdict: {verdict!r} must be {RED!r} or {GREEN!r}")
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            problems.append(f"expect.{release}.names: a list of non-empty strings is required")
            names = []
        if verdict == RED and not names:  # any red is not the reported symptom
            problems.append(f"expect.{release}.names: a red expectation must name the symptom it shows")
        found.append(Expectation(str(release), str(verdict), tuple(names)))
    return tuple(found)


def _plannable(hops: tuple[str, ...], expect: tuple[Expectation, ...], problems: list[str]) -> None:
    """The path must plan (upgrades/plan.py: known releases and actions in a sensible order) on every release."""
    from ..errors import UsageError
    from ..upgrades.plan import plan

    for expectation in expect:
        try:
            plan([h.replace(RELEASE_SLOT, expectation.release) for h in hops])
        except UsageError as error:
            problems.append(f"reproduce.path on {expectation.release}: {error.message}")


def load_corpus(root: Path | None = None, issues: list[int] | None = None) -> list[ReportedCase]:
    root = root or REPORTED_DIR
    folders = sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)) \
        if root.is_dir() else []
    if issues:
        known = {int(p.name) for p in folders}
        if unknown := [i for i in issues if i not in known]:
            raise FixtureError(f"no reported case for issue(s) {', '.join(map(str, unknown))} in {root}",
                               hint="`path3-sandbox reported --list` lists the corpus")
        folders = [p for p in folders if int(p.name) in issues]
    if not folders:
        raise FixtureError(f"no reported cases in {root}", hint="fixtures/reported/<issue number>/report.json")
    return [ReportedCase.load(folder) for folder in folders]
