"""The numbered plan of an upgrade path (path.py), from the hops as given alone (no Docker): each release's role from
the contract table (proof/contracts.py) and from what ran before it on the volume, each action checked against the
state it needs; bad input is a UsageError before anything runs. `plan_text` prints the plan.

A release installed in place is spelled `@npm-install=<version>` (npm's global install) or `@openclaw-update=<version>`
(the previous release's own `openclaw update`), both in npm_install.py: one hop, the release it installs playing its
role as any release hop does, in the container of the release hop just before it; options after a comma (hop.py)."""

from __future__ import annotations

from ..errors import UsageError
from ..build.target import Target
from ..build.version import is_version
from ..proof.contracts import CONTRACT_TABLE, CONTRACTS, OUT_OF_SCOPE, REFUSE_THEN_DOCTOR, ContractRule
from .actions import ACTIONS
from .hop import (ACTION, DOWNGRADE, IMPORTER, INSTALL_OPTIONS, INSTALLERS, NPM_INSTALL, OPENCLAW_UPDATE, WRITER, Hop,
                  installer_of)

IN_PLACE_AFTER = (WRITER, IMPORTER)  # an in-place install needs the container of a release that came up


def plan(specs: list[str], contract: str | None = None) -> list[Hop]:
    """The numbered plan, from the specs alone (no Docker): bad input is an error before anything runs. A packed
    tarball (`./openclaw-x.tgz`, e.g. a pull request's build) plays the role of its package.json's version; `contract`
    is the one of a tarball whose version the release table does not know."""
    if len(specs) < 2:
        raise UsageError("a path needs at least two hops", hint="e.g. path3-sandbox path 2026.7.35 2026.9.6")
    hops: list[Hop] = []
    claimed = False  # has a SQLite release claimed the state database?
    last_writer = 0
    last_release: Hop | None = None  # the last release hop: whose doctor a doctor action runs
    for number, spec in enumerate(specs, start=1):
        installs, options, packed = installer_of(spec), (), False
        if installs:
            version, options = _in_place_version(number, spec, hops)
        elif spec.startswith("@"):
            action = ACTIONS.get(spec[1:])
            if action is None:
                raise UsageError(f"hop {number}: unknown action {spec}",
                                 hint="actions: " + ", ".join(f"@{a}" for a in ACTIONS)
                                      + f", {NPM_INSTALL}<version>, {OPENCLAW_UPDATE}<version>")
            if action.needs_claim and not claimed:
                what = "no state database to move aside yet" if action.unclaims else "no migrated state to act on yet"
                raise UsageError(f"hop {number}: {spec} before any SQLite release: there is {what}",
                                 hint=f"put it after a SQLite release, e.g. 2026.7.35 2026.9.6 {spec} 2026.9.6")
            if action.needs_release and (last_release is None or (
                    action.needs_release == "sqlite" and last_release.role != IMPORTER)):
                after = "no release" if last_release is None else f"{last_release.spec} ({last_release.role})"
                raise UsageError(f"hop {number}: {spec} runs the last release's doctor, but the last release hop is "
                                 f"{after}", hint=f"put it after a SQLite release, e.g. 2026.7.35 2026.9.6 {spec}")
            claimed = claimed and not action.unclaims
            hops.append(Hop(number, spec, ACTION, does=action.does.format(
                writer=last_writer, first=specs[0], release=last_release.number if last_release else "-")))
            continue
        else:
            version = spec
            target = Target.parse(spec) if not is_version(spec) else None  # a bad tarball: TargetError, exit 2
            if target is not None and target.tarball:
                version, packed = target.version, True
        rule = next((r for r in CONTRACT_TABLE if r.covers(version)), None)
        if rule is None and packed and contract in CONTRACTS:
            rule = ContractRule(version, version, contract, "declared with --contract")
        if rule is None and packed:
            raise UsageError(f"hop {number}: {spec} is openclaw {version}, a build the release table does not know",
                             hint="say what its first start does: --contract startup-import or refuse-then-doctor")
        if rule is None:
            raise UsageError(f"hop {number}: openclaw {version} is not in the release table",
                             hint="a path takes exact versions the table knows (src/path3_sandbox/contracts.py)")
        if rule.contract == OUT_OF_SCOPE:
            raise UsageError(f"hop {number}: openclaw {version} is out of scope: {rule.why}",
                             hint="pick 2026.7.2-beta.4 or a later release")
        prefix = _in_place_words(number, version, installs, options) if installs else ""
        if rule.contract is None and not claimed:
            last_writer = number
            hops.append(Hop(number, spec, WRITER, does=prefix + "start on the state as it is, take two turns",
                            installs=installs, options=options))
        elif rule.contract is None:
            if installs:
                raise UsageError(f"hop {number}: {spec} would downgrade in place onto a state a SQLite release claimed",
                                 hint="a downgrade runs as a release hop of its own (its own image): "
                                      f"path3-sandbox path … {version}")
            hops.append(Hop(number, spec, DOWNGRADE, does="start on a state a SQLite release claimed: must refuse "
                                                          "and write nothing"))
        else:
            how = ("first start imports" if rule.contract != REFUSE_THEN_DOCTOR
                   else "first start refuses, doctor --fix, start")
            if claimed:  # a migrated state: legacy files an action put there are this start's to import or refuse
                how = "starts on the migrated state (a refusal naming doctor --fix: doctor --fix, start)"
            hops.append(Hop(number, spec, IMPORTER, rule.contract, does=f"{prefix}{how}; take two turns",
                            on_migrated=claimed, installs=installs, options=options))
            claimed = True
        last_release = hops[-1]
    if hops[0].role != WRITER or hops[0].installs:
        raise UsageError(f"hop 1 ({hops[0].spec}) must be a file-backed release that writes the legacy state",
                         hint="start the path with a writer such as 2026.7.35")
    return hops


def _in_place_version(number: int, spec: str, before: list[Hop]) -> tuple[str, tuple[str, ...]]:
    """The version and options of `@npm-install=<version>[,option…]` (or `@openclaw-update=…`); the hop before it must
    be a release whose container it installs in."""
    prefix = next(p for p in INSTALLERS if spec.startswith(p.rstrip("=")))
    kind = INSTALLERS[prefix]
    version, *options = spec.removeprefix(prefix).split(",") if spec.startswith(prefix) else ("",)
    if not version or "=" in version or "@" in version:
        raise UsageError(f"hop {number}: {spec}: name the exact release to install",
                         hint=f"e.g. {prefix}2026.9.6 (installs openclaw@2026.9.6 in place)")
    for option in options:
        if kind not in INSTALL_OPTIONS.get(option, ()):
            takes = [o for o, kinds in INSTALL_OPTIONS.items() if kind in kinds]
            raise UsageError(f"hop {number}: {spec}: {prefix.rstrip('=')} has no option {option!r}",
                             hint=f"its options: {', '.join(takes)}")
    if len(set(options)) != len(options):
        raise UsageError(f"hop {number}: {spec}: an option is given twice")
    previous = before[-1] if before else None
    if previous is None or previous.role not in IN_PLACE_AFTER:
        after = "nothing" if previous is None else f"{previous.spec} ({previous.role})"
        raise UsageError(f"hop {number}: {spec} installs in place into the previous release's container, but it "
                         f"follows {after}",
                         hint=f"put it right after a release that comes up, e.g. 2026.7.35 {prefix}{version}")
    return version, tuple(options)


def _in_place_words(number: int, version: str, installs: str, options: tuple[str, ...]) -> str:
    how = (f"`npm install -g openclaw@{version}`" if installs == "npm" else
           f"hop {number - 1}'s `openclaw update --tag {version}` (after its --dry-run)")
    extra = "".join({"old-gateway-turn": "; the old Gateway takes a turn after it",
                     "kill-at-doctor": "; the updater killed when its post-install doctor starts",
                     "as-user": ""}[o] for o in options)
    who = "as the Gateway's user (its prefix chowned to it)" if "as-user" in options else "as root"
    return f"{how} {who} in hop {number - 1}'s container while its Gateway runs{extra}, the container restarted; "


def in_place_releases(hops: list[Hop]) -> tuple[str, ...]:
    """The releases the path installs in place, with npm or openclaw update (the registry is seeded with these, the
    same packages either way), in path order, each once."""
    return tuple(dict.fromkeys(h.release for h in hops if h.installs))


def image_releases(hops: list[Hop]) -> tuple[str, ...]:
    """The releases that run from their own Gateway image, in path order, each once."""
    return tuple(dict.fromkeys(h.spec for h in hops if h.role != ACTION and not h.installs))


def plan_text(hops: list[Hop]) -> str:
    return "\n".join(f"  {h.number}. {h.spec:<24} {h.role:<9} {h.contract or '':<18} {h.does}" for h in hops)
