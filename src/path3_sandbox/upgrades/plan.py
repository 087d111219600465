"""The numbered plan of an upgrade path (path.py), from the hops as given alone (no Docker): each release's role from
the contract table (proof/contracts.py) and from what ran before it on the volume, each action checked against the
state it needs; bad input is a UsageError before anything runs. `plan_text` prints the plan."""

from __future__ import annotations

from ..errors import UsageError
from ..proof.contracts import CONTRACT_TABLE, OUT_OF_SCOPE, REFUSE_THEN_DOCTOR
from .actions import ACTIONS
from .hop import ACTION, DOWNGRADE, IMPORTER, WRITER, Hop


def plan(specs: list[str]) -> list[Hop]:
    """The numbered plan, from the specs alone (no Docker): bad input is an error before anything runs."""
    if len(specs) < 2:
        raise UsageError("a path needs at least two hops", hint="e.g. path3-sandbox path 2026.7.35 2026.9.6")
    hops: list[Hop] = []
    claimed = False  # has a SQLite release claimed the state database?
    last_writer = 0
    for number, spec in enumerate(specs, start=1):
        if spec.startswith("@"):
            action = ACTIONS.get(spec[1:])
            if action is None:
                raise UsageError(f"hop {number}: unknown action {spec}",
                                 hint="actions: " + ", ".join(f"@{a}" for a in ACTIONS))
            if action.needs_claim and not claimed:
                what = "no state database to move aside yet" if action.unclaims else "no migrated state to act on yet"
                raise UsageError(f"hop {number}: {spec} before any SQLite release: there is {what}",
                                 hint=f"put it after a SQLite release, e.g. 2026.7.35 2026.9.6 {spec} 2026.9.6")
            claimed = claimed and not action.unclaims
            hops.append(Hop(number, spec, ACTION, does=action.does.format(writer=last_writer, first=specs[0])))
            continue
        rule = next((r for r in CONTRACT_TABLE if r.covers(spec)), None)
        if rule is None:
            raise UsageError(f"hop {number}: openclaw {spec} is not in the release table",
                             hint="a path takes exact versions the table knows (src/path3_sandbox/contracts.py)")
        if rule.contract == OUT_OF_SCOPE:
            raise UsageError(f"hop {number}: openclaw {spec} is out of scope: {rule.why}",
                             hint="pick 2026.7.2-beta.4 or a later release")
        if rule.contract is None and not claimed:
            last_writer = number
            hops.append(Hop(number, spec, WRITER, does="start on the state as it is, take two turns"))
        elif rule.contract is None:
            hops.append(Hop(number, spec, DOWNGRADE, does="start on a state a SQLite release claimed: must refuse "
                                                          "and write nothing"))
        else:
            how = ("first start imports" if rule.contract != REFUSE_THEN_DOCTOR
                   else "first start refuses, doctor --fix, start")
            if claimed:  # a migrated state: legacy files an action put there are this start's to import or refuse
                how = "starts on the migrated state (a refusal naming doctor --fix: doctor --fix, start)"
            hops.append(Hop(number, spec, IMPORTER, rule.contract, does=f"{how}; take two turns", on_migrated=claimed))
            claimed = True
    if hops[0].role != WRITER:
        raise UsageError(f"hop 1 ({hops[0].spec}) must be a file-backed release that writes the legacy state",
                         hint="start the path with a writer such as 2026.7.35")
    return hops


def plan_text(hops: list[Hop]) -> str:
    return "\n".join(f"  {h.number}. {h.spec:<24} {h.role:<9} {h.contract or '':<18} {h.does}" for h in hops)
