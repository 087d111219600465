"""`path3-sandbox compat`: for one user's state, which target releases upgrade it cleanly, and the first that does not.

    path3-sandbox compat ~/Downloads/openclaw-state.tgz --releases 2026.9.5..latest [--first-start-only]
    path3-sandbox compat ./state --releases 2026.9.5,2026.9.6

The releases: `A..B` is every version the npm registry published from A through B, in publish order (the package
document's `time`, as `npm view openclaw time` shows it; not version order), B may be a dist-tag; pre-releases (any
version with a `-` suffix, as semver and npm read it) are left out unless A or B is one. A comma list is taken as
given. A release the contract table does not know, or a file-backed one, is skipped and said so (`--contract` gives
the unknown ones a contract; a file-backed release has nothing to upgrade).

Trying a release is one `prove` run of the state (as `repro` turns it into a fixture) against it. Up to
BISECT_ABOVE releases are all tried, in order. Beyond that the search bisects, on the assumption that once a release
fails on this state every later one fails too: the last is tried first (clean: done), then the first (bad: it is the
first bad), then a binary search between them. What was not tried is reported as not tried, never as passed.

    .artifacts/path3-compat/<run>/compat.md, compat.json, <version>/ (that release's prove evidence)

The logic here takes the publish list and a `try_release` callable, so it runs without Docker or a network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..proof.contracts import CONTRACT_TABLE, REFUSE_THEN_DOCTOR, STARTUP_IMPORT, ContractChoice, contract_for
from ..errors import UsageError, exit_for
from ..progress import say
from ..build.target import DIST_TAG_RE, PACKAGE
from ..build.version import is_prerelease, is_version

BISECT_ABOVE = 4  # more releases to try than this: bisect instead of trying each
NOT_TRIED = "not tried (bisection)"
ASSUMPTION = ("bisection assumes that once a release fails on this state, every later one fails too (and so every "
              "earlier one is clean); releases marked not tried were not run")


@dataclass(frozen=True)
class Release:
    version: str
    published: str | None = None  # ISO 8601, from the registry


@dataclass(frozen=True)
class Candidate:
    release: Release
    contract: ContractChoice | None  # None: not tried
    skipped: str | None = None  # why it is not tried

    @property
    def version(self) -> str:
        return self.release.version


@dataclass(frozen=True)
class Outcome:
    """One tried release: its verdict on the state."""

    passed: bool
    observed: str | None  # the first start observed (observed contract)
    first_failure: str | None  # "[gateway] …" or "[harness] …"
    evidence: str  # relative to the compat folder
    seconds: float = 0.0
    findings: int = 0  # the Gateway's; a failed outcome with none failed on the harness alone

    @classmethod
    def of(cls, verdict, evidence: str) -> Outcome:
        return cls(verdict.passed, verdict.observed_contract, verdict.first_failure, evidence, verdict.seconds,
                   len(verdict.findings))


@dataclass
class Answer:
    spec: str
    candidates: list[Candidate]
    bisected: bool
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    tried: list[str] = field(default_factory=list)  # in the order tried
    first_bad: str | None = None
    done: bool = False

    @property
    def triable(self) -> list[Candidate]:
        return [c for c in self.candidates if c.contract]

    @property
    def skipped(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.contract]

    @property
    def clean(self) -> list[str]:
        """The tried releases that passed, in publish (list) order."""
        return [c.version for c in self.triable if c.version in self.outcomes and self.outcomes[c.version].passed]

    @property
    def not_tried(self) -> list[str]:
        return [c.version for c in self.triable if c.version not in self.outcomes]

    @property
    def exit_code(self) -> int:
        return exit_for(all(o.passed for o in self.outcomes.values()),
                        findings=any(o.findings for o in self.outcomes.values() if not o.passed))

    def status(self, candidate: Candidate) -> str:
        if not candidate.contract:
            return f"skipped: {candidate.skipped}"
        if candidate.version in self.outcomes:
            return "tried"
        return NOT_TRIED if self.done else "not tried yet"

    def assumed(self, candidate: Candidate) -> str | None:
        """What the bisection's assumption says of a release it did not try."""
        if not self.done or not candidate.contract or candidate.version in self.outcomes:
            return None
        versions = [c.version for c in self.triable]
        if self.first_bad is None or versions.index(candidate.version) < versions.index(self.first_bad):
            return "assumed clean"
        return "assumed bad"

    def counts(self) -> str:
        parts = [f"{len(self.tried)} tried", f"{len(self.skipped)} skipped"]
        if self.not_tried:
            parts.append(f"{len(self.not_tried)} {NOT_TRIED if self.done else 'not tried yet'}")
        return ", ".join(parts)

    def line(self, root: Path | None = None) -> str:
        """The one-line answer."""
        clean = ", ".join(self.clean) or "none"
        if self.first_bad is None:
            return f"compat: clean on {clean}; first bad: none ({self.counts()})"
        outcome = self.outcomes[self.first_bad]
        evidence = root / outcome.evidence if root else outcome.evidence
        return (f"compat: clean on {clean}; first bad: {self.first_bad} ({_short(blamed(outcome.first_failure))}) "
                f"evidence: {evidence} ({self.counts()})")

    def to_json(self, **extra) -> dict:
        bad = self.outcomes.get(self.first_bad) if self.first_bad else None
        return {
            **extra, "releases_asked": self.spec, "answer": self.line(), "done": self.done,
            "strategy": "bisection" if self.bisected else "every release, in order",
            "assumption": ASSUMPTION if self.bisected else None,
            "first_bad": {"version": self.first_bad, "first_failure": bad.first_failure, "evidence": bad.evidence}
            if bad else None,
            "tried_order": self.tried, "clean": self.clean,
            "releases": [_release_json(self, c) for c in self.candidates],
        }


def _release_json(answer: Answer, candidate: Candidate) -> dict:
    outcome = answer.outcomes.get(candidate.version)
    return {"version": candidate.version, "published": candidate.release.published,
            "contract": candidate.contract.contract if candidate.contract else None,
            "contract_source": candidate.contract.source if candidate.contract else None,
            "status": answer.status(candidate), "verdict": ("pass" if outcome.passed else "fail") if outcome else None,
            "observed_contract": outcome.observed if outcome else None,
            "first_failure": outcome.first_failure if outcome else None,
            "evidence": outcome.evidence if outcome else None,
            "seconds": round(outcome.seconds, 1) if outcome else None, "assumed": answer.assumed(candidate)}


# ---- the releases -------------------------------------------------------------------------------------------------

def publish_order(times: dict[str, str]) -> list[Release]:
    """The registry's `time` document (version -> ISO time, plus `created`/`modified`) as releases in publish order."""
    published = [Release(version, when) for version, when in times.items() if version not in ("created", "modified")]
    return sorted(published, key=lambda r: (_when(r.published), r.version))


def _when(text: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.max
    return moment.replace(tzinfo=None) - moment.utcoffset() if moment.tzinfo else moment


def check_spec(spec: str) -> list[str]:
    """The syntax of --releases, with no registry: `A..B` or `A,B,…`, each a version or a dist-tag (`openclaw@`
    allowed). Returns the dist-tags it names (to resolve before the publish list is fetched); bad syntax is a UsageError
    (exit 2) before any network call. Whether a version is published, or a tag exists, only the registry can say."""
    return _tags(spec, _split(spec)[0])


def _split(spec: str) -> tuple[list[str], bool]:
    """The items --releases names, and whether they are the two ends of a range."""
    text = spec.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        if not first.strip() or not last.strip() or ".." in last or "," in text:
            raise UsageError(f"--releases {spec!r} is not a range A..B", hint=_FORMS)
        return [first.strip(), last.strip()], True
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError(f"an empty release list: {spec!r}", hint=_FORMS)
    return items, False


def _tags(spec: str, items: list[str]) -> list[str]:
    """The dist-tags among `items`, each once; an item that is neither a version nor a dist-tag is a UsageError."""
    tags: list[str] = []
    for item in items:
        bare = item.removeprefix(f"{PACKAGE}@")
        if is_version(bare):
            continue
        if not DIST_TAG_RE.match(bare):
            raise UsageError(f"--releases {spec}: {item!r} is neither a version nor a dist-tag", hint=_FORMS)
        if bare not in tags:
            tags.append(bare)
    return tags


def select_releases(spec: str, published: list[Release], resolve_tag: Callable[[str], str]) -> list[Release]:
    """`A..B` in publish order (pre-releases only when an end is one), or a comma list as given; every named
    release must be published, a dist-tag is resolved by `resolve_tag`. Bad input is a UsageError (exit 2)."""
    items, is_range = _split(spec)
    _tags(spec, items)
    known = {r.version: r for r in published}
    if is_range:
        first_spec, last_spec = items
        first = _endpoint(first_spec, known, resolve_tag, spec)
        last = _endpoint(last_spec, known, resolve_tag, spec)
        order = [r.version for r in published]
        start, end = order.index(first), order.index(last)
        if start > end:
            raise UsageError(f"--releases {spec}: {first} was published after {last} "
                             f"({known[first].published} > {known[last].published}); a range runs in publish order",
                             hint=f"--releases {last_spec}..{first_spec}")
        with_pre = is_prerelease(first) or is_prerelease(last)
        return [r for r in published[start:end + 1] if with_pre or not is_prerelease(r.version)]
    versions = dict.fromkeys(_endpoint(item, known, resolve_tag, spec) for item in items)  # each once, as given
    return [known[v] for v in versions]


_FORMS = "e.g. --releases 2026.9.5..latest (publish order) or --releases 2026.9.5,2026.9.6 (as given)"


def _endpoint(text: str, known: dict[str, Release], resolve_tag: Callable[[str], str], spec: str) -> str:
    bare = text.strip().removeprefix(f"{PACKAGE}@")
    if bare in known:
        return bare
    newest = ", ".join(sorted(known, key=lambda v: _when(known[v].published))[-3:])
    if is_version(bare):
        raise UsageError(f"--releases {spec}: openclaw {bare} is not published in the registry "
                         f"({len(known)} versions are)",
                         hint=f"pick a published version (`npm view {PACKAGE} time`); the newest: {newest}")
    if DIST_TAG_RE.match(bare):
        version = resolve_tag(bare)  # a tag the registry does not have is a TargetError (exit 2) naming it
        if version not in known:
            raise UsageError(f"--releases {spec}: dist-tag {bare} names openclaw {version}, which the registry's "
                             "publish list does not hold", hint=f"name the version itself; the newest: {newest}")
        return version
    raise UsageError(f"--releases {spec}: {text.strip()!r} is neither a version nor a dist-tag", hint=_FORMS)


def plan(releases: list[Release], override: str | None = None) -> list[Candidate]:
    """Each release with the contract it is held to, or why it is skipped. `override` (--contract) applies to the
    releases the table does not know; a release the table lists without a contract (file-backed: no upgrade to prove;
    a row the test bed does not prove) stays skipped. Nothing to try is bad input."""
    candidates: list[Candidate] = []
    for release in releases:
        try:
            candidates.append(Candidate(release, contract_for(release.version)))
            continue
        except UsageError:
            pass
        rule = next((r for r in CONTRACT_TABLE if r.covers(release.version)), None)
        if rule is not None:  # in the table without a contract to prove: file-backed, or a row it does not prove
            reason = "file-backed" if rule.contract is None else str(rule.contract)
            candidates.append(Candidate(release, None, f"{reason} ({rule.why})"))
        elif override:
            candidates.append(Candidate(release, contract_for(release.version, override)))
        else:
            candidates.append(Candidate(release, None, "no contract known for it (--contract C tries it)"))
    if not any(c.contract for c in candidates):
        shown = "; ".join(f"{c.version}: {c.skipped}" for c in candidates[:8]) + ("; …" if len(candidates) > 8 else "")
        raise UsageError(f"none of the {len(candidates)} release(s) selected can be tried: {shown}",
                         hint="pick SQLite releases (2026.7.2-beta.x, 2026.8.1 or later), or pass --contract "
                              f"{STARTUP_IMPORT} / {REFUSE_THEN_DOCTOR} for releases the table does not know")
    return candidates


# ---- the search ---------------------------------------------------------------------------------------------------

def find_first_bad(spec: str, candidates: list[Candidate], try_release: Callable[[Candidate], Outcome], *,
                   on_outcome: Callable[[Answer], None] | None = None, bisect_above: int = BISECT_ABOVE) -> Answer:
    """Try the releases (all of them, or by bisection beyond `bisect_above`) and name the first bad one."""
    triable = [c for c in candidates if c.contract]
    answer = Answer(spec, candidates, bisected=len(triable) > bisect_above)
    if answer.bisected:
        say("compat", f"{len(triable)} releases to try: bisecting; {ASSUMPTION}")

    def clean(index: int) -> bool:
        candidate = triable[index]
        say("compat", f"try {len(answer.tried) + 1}: release {index + 1}/{len(triable)} openclaw {candidate.version}"
                      f" (published {candidate.release.published or '?'}), contract {candidate.contract.contract} "
                      f"({candidate.contract.source})")
        outcome = try_release(candidate)
        answer.outcomes[candidate.version] = outcome
        answer.tried.append(candidate.version)
        if on_outcome:
            on_outcome(answer)
        return outcome.passed

    if not answer.bisected:
        verdicts = [clean(index) for index in range(len(triable))]
        bad = next((index for index, passed in enumerate(verdicts) if not passed), None)
    else:
        last = len(triable) - 1
        if clean(last):
            bad = None
        elif not clean(0):
            bad = 0
        else:  # 0 is clean, last is bad: the first bad lies in (lo, hi]
            lo, hi = 0, last
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if clean(mid):
                    lo = mid
                else:
                    hi = mid
            bad = hi
    answer.first_bad = triable[bad].version if bad is not None else None
    answer.done = True
    if on_outcome:
        on_outcome(answer)
    return answer


# ---- the report ---------------------------------------------------------------------------------------------------

BLAME_RE = re.compile(r"^\[(\w+)\]\s*(.*)$", re.S)


def blamed(first_failure: str | None) -> str:
    """`[gateway] message` as `gateway: message`."""
    if not first_failure:
        return "no failure recorded"
    match = BLAME_RE.match(first_failure)
    return f"{match.group(1)}: {match.group(2)}" if match else first_failure


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def compat_markdown(answer: Answer, state: str, seconds: float) -> str:
    bad = answer.outcomes.get(answer.first_bad) if answer.first_bad else None
    if not answer.done:
        title = f"⏳ compat (in progress): {state}"
    elif bad:
        title = f"❌ compat: first bad release for {state} is openclaw {answer.first_bad}"
    else:
        title = f"✅ compat: every tried release upgrades {state}"
    lines = [f"# {title}", "", f"`{answer.line()}`", "",
             f"- **releases asked**: `{answer.spec}`: {len(answer.candidates)} release(s), {answer.counts()}; {seconds:.0f}s",
             "- **order of trying**: " + (f"bisection: {ASSUMPTION}" if answer.bisected else "every release, in order")]
    if answer.tried:
        lines.append(f"- **tried, in order**: {', '.join(answer.tried)}")
    if bad:
        lines += [f"- **first bad**: openclaw {answer.first_bad}: {_cell(blamed(bad.first_failure), 1000)} "
                  f"([evidence]({bad.evidence}))"]
    lines += ["", "| release | published | contract | status | verdict | evidence | first failure |",
              "|---|---|---|---|---|---|---|"]
    for candidate in answer.candidates:
        outcome = answer.outcomes.get(candidate.version)
        contract = f"`{candidate.contract.contract}`" if candidate.contract else "-"
        if outcome:
            verdict = ("✅ pass" if outcome.passed else "❌ **fail**") + (f" `{outcome.observed}`" if outcome.observed else "")
            row = [verdict, f"[evidence]({outcome.evidence})", _cell(blamed(outcome.first_failure)) if not outcome.passed else ""]
        else:
            assumed = answer.assumed(candidate)
            row = [f"_{assumed}_" if assumed else "-", "", ""]
        name = f"**{candidate.version}**" if candidate.version == answer.first_bad else candidate.version
        lines.append(f"| {name} | {(candidate.release.published or '-')[:19]} | {contract} | "
                     f"{_cell(answer.status(candidate))} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str, limit: int = 300) -> str:
    return _short(text, limit).replace("|", "/")


def write(root: Path, answer: Answer, *, state: str, seconds: float, first_start_only: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "compat.md").write_text(compat_markdown(answer, state, seconds), encoding="utf-8")
    data = answer.to_json(state=state, first_start_only=first_start_only, seconds=round(seconds, 1))
    (root / "compat.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
