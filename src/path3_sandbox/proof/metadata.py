"""Session metadata: where every legacy sessions.json field went in SQLite, with its value, and what a turn may change.

Each legacy field is kept in entry_json with the same value, or has a fate that says where its value went
(a path in entry_json, or a table), and the value is looked up there. Read from the Gateway's importer:
src/commands/doctor-session-sqlite-legacy-store.ts (normalizeLegacySessionStore: normalizeLegacySessionEntryDelivery,
stripPersistedSkillsCache), src/config/sessions/store-entry-shape.ts (projectCanonicalSessionEntryShape),
src/config/sessions/skill-prompt-blobs.ts (hydrateSessionStoreSkillPromptRefs), src/utils/delivery-context.shared.ts
(normalizeSessionDeliveryState), src/state/*session-creator* (migrateLegacySessionCreator).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..report.evidence import HARNESS, Assertion
from ..state.fixtures import Fixture
from ..state.inventory import Inventory, LegacyEntry, content_hash
from ..probes.sqlite import SqliteSnapshot


@dataclass(frozen=True)
class FieldFate:
    fate: str  # "dropped" | "folded" (into another key) | "renamed" | "moved" (to another table)
    into: str | None  # where the value is: a dotted path in entry_json, or a table
    why: str


_DELIVERY_WHY = ("normalizeLegacySessionEntryDelivery builds one canonical `delivery` state from the legacy routing "
                 "keys and deletes them; an internal route (webchat, heartbeat, cron, webhook, voice, sessions_send) "
                 "becomes {kind: internal} and keeps no target (normalizeSessionDeliveryState)")
_SHAPE = "projectCanonicalSessionEntryShape"
_SNAPSHOT = ("splitSessionEntrySnapshots, where the schema has session_entry_snapshots; 2026.9.6 (agent schema 23) "
             "has no such table and keeps it in entry_json")
# What 2026.8.1-2026.9.6 do with a legacy entry's fields. Every other field must be in entry_json with the same value.
FIELD_FATES: dict[str, FieldFate] = {
    "sessionFile": FieldFate("dropped", None, f"SQLite is the transcript's home: {_SHAPE} drops it"),
    "transcriptPath": FieldFate("dropped", None, "as sessionFile"),
    "route": FieldFate("folded", "delivery.route", _DELIVERY_WHY),
    "deliveryContext": FieldFate("folded", "delivery.context", _DELIVERY_WHY),
    "origin": FieldFate("folded", "delivery.origin", _DELIVERY_WHY),
    "channel": FieldFate("folded", "delivery.context.channel", _DELIVERY_WHY),
    "lastChannel": FieldFate("folded", "delivery.context.channel", _DELIVERY_WHY),
    "lastTo": FieldFate("folded", "delivery.context.to", _DELIVERY_WHY),
    "lastAccountId": FieldFate("folded", "delivery.context.accountId", _DELIVERY_WHY),
    "lastThreadId": FieldFate("folded", "delivery.context.threadId", _DELIVERY_WHY),
    "createdBy": FieldFate("renamed", "createdActor", "migrateLegacySessionCreator: {...createdBy, type: human, source}"),
    **{k: FieldFate("dropped", None, f"not in the canonical entry shape of 9.x ({_SHAPE})")
       for k in ("owner", "participants", "participantCount", "pendingFinalDeliveryLastAttemptAt",
                 "pendingFinalDeliveryAttemptCount", "pendingFinalDeliveryLastError", "memoryFlushAt",
                 "memoryFlushContextHash", "memoryFlushLastFailedAt", "memoryFlushLastFailureError")},
    "pendingFinalDeliveryText": FieldFate("folded", "pendingFinalDelivery.text", f"{_SHAPE}: kind replayable"),
    "pendingFinalDeliveryCreatedAt": FieldFate("folded", "pendingFinalDelivery.createdAt", _SHAPE),
    "pendingFinalDeliveryContext": FieldFate("folded", "pendingFinalDelivery.context", _SHAPE),
    "pendingFinalDeliveryIntentId": FieldFate("folded", "pendingFinalDelivery.intentId", _SHAPE),
    "fallbackNoticeSelectedModel": FieldFate("folded", "fallbackNotice.selectedModel", _SHAPE),
    "fallbackNoticeActiveModel": FieldFate("folded", "fallbackNotice.activeModel", _SHAPE),
    "fallbackNoticeReason": FieldFate("folded", "fallbackNotice.reason", _SHAPE),
    "memoryFlushCompactionCount": FieldFate("folded", "memoryFlush.compactionCount", _SHAPE),
    "memoryFlushFailureCount": FieldFate("folded", "memoryFlush.failureCount", _SHAPE),
    **{k: FieldFate("moved", "session_entry_snapshots", _SNAPSHOT)
       for k in ("sessionDiffBaseline", "skillsSnapshot", "systemPromptReport")},
}
SNAPSHOT_TABLE = "session_entry_snapshots"
INTERNAL_CHANNELS = frozenset({"webchat", "heartbeat", "cron", "webhook", "voice", "sessions_send"})
# Which delivery slot each legacy source feeds: a value not found in its slot passes only when another legacy
# source's value won the merge there (mergeDeliveryContext keeps one owner per slot).
_SLOT_SOURCES = {
    "channel": (("lastChannel",), ("channel",), ("deliveryContext", "channel"), ("route", "channel"), ("origin", "provider")),
    "to": (("lastTo",), ("deliveryContext", "to"), ("route", "target", "to"), ("origin", "to")),
    "accountId": (("lastAccountId",), ("deliveryContext", "accountId"), ("route", "accountId"), ("origin", "accountId")),
    "threadId": (("lastThreadId",), ("deliveryContext", "threadId"), ("route", "thread", "id"), ("origin", "threadId")),
}
_ROUTE_SLOTS = {"channel": ("channel",), "to": ("target", "to"), "accountId": ("accountId",), "threadId": ("thread", "id")}
_MISSING = object()


def field_fate(key: str) -> FieldFate | None:
    return FIELD_FATES.get(key)


def dig(value: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return False
    if isinstance(a, (str, int, float)) and isinstance(b, (str, int, float)) and not isinstance(a, bool):
        return str(a).strip().lower() == str(b).strip().lower()  # the importer trims and lower-cases channel/account ids
    return content_hash(a) == content_hash(b)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _count(value: Any) -> int | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return int(value) if ok else None


def delivery_problems(legacy: dict, row: dict) -> list[tuple[str, str]]:
    """(field, problem) for each legacy routing key whose value is not where normalizeLegacySessionEntryDelivery puts it."""
    present = [k for k in ("route", "deliveryContext", "origin", "channel", "lastChannel", "lastTo", "lastAccountId",
                           "lastThreadId") if k in legacy]
    if not present:
        return []
    delivery = row.get("delivery")
    channels = {str(c).strip().lower() for src in _SLOT_SOURCES["channel"] if isinstance(c := dig(legacy, *src), str) and c.strip()}
    if not channels:
        return []  # nothing routable: only a none state can come of it, which the Gateway may omit
    if channels <= INTERNAL_CHANNELS:
        problems = [] if delivery == {"kind": "internal"} else [
            (k, f"an internal route must become delivery {{kind: internal}}, entry_json has {json.dumps(delivery)}")
            for k in present]
        chat_type = dig(legacy, "origin", "chatType")
        if "chatType" not in legacy and chat_type in ("direct", "group", "channel") and row.get("chatType") != chat_type:
            problems.append(("origin", f"origin.chatType {chat_type!r} must become chatType, entry_json has "
                                       f"{row.get('chatType')!r}"))
        return problems
    if not isinstance(delivery, dict) or delivery.get("kind") != "external":
        return [(k, f"an external route must become delivery {{kind: external}}, entry_json has {json.dumps(delivery)}")
                for k in present]
    problems = []

    def expect(field: str, where: tuple[str, ...], value: Any, slot: str | None) -> None:
        got = dig(delivery, *where)
        if got is not _MISSING and _same(got, value):
            return
        winners = [s for s in _SLOT_SOURCES.get(slot or "", ()) if (v := dig(legacy, *s)) is not _MISSING and got is not _MISSING
                   and _same(v, got)]
        if not winners:
            problems.append((field, f"{json.dumps(value)} is not at delivery.{'.'.join(where)} "
                                    f"(found {json.dumps(None if got is _MISSING else got)})"))

    for field in present:
        value = legacy[field]
        if field == "origin" and isinstance(value, dict):
            for k, v in value.items():  # normalizeSessionDeliveryState copies the legacy origin as it was
                expect(field, ("origin", k), v, None)
        elif field in ("deliveryContext", "route") and isinstance(value, dict):
            for slot, path in _ROUTE_SLOTS.items():
                v = dig(value, *(path if field == "route" else (slot,)))
                if v is not _MISSING and v is not None:
                    expect(field, ("context", slot) if field == "deliveryContext" else ("route", *path), v, slot)
        elif field in ("lastChannel", "channel", "lastTo", "lastAccountId", "lastThreadId") and value is not None:
            slot = {"lastTo": "to", "lastAccountId": "accountId", "lastThreadId": "threadId"}.get(field, "channel")
            expect(field, ("context", slot), value, slot)
    return problems


def folded_target(field: str, legacy: dict) -> tuple[str, Any] | None:
    """Where projectCanonicalSessionEntryShape puts a prefixed legacy field's value and which value, or None when
    it drops it (a canonical object already there wins; incomplete legacy groups build nothing)."""
    prefix, _, leaf = FIELD_FATES[field].into.partition(".")
    if isinstance(legacy.get(prefix), dict) and legacy.get(prefix):
        return None
    value = legacy[field]
    if prefix == "pendingFinalDelivery":
        if not (_text(legacy.get("pendingFinalDeliveryText")) or legacy.get("pendingFinalDelivery") is True):
            return None
        want = {"text": _text(value), "intentId": _text(value), "createdAt": _count(value),
                "context": value if isinstance(value, dict) else None}[leaf]
    elif prefix == "fallbackNotice":
        if not (_text(legacy.get("fallbackNoticeSelectedModel")) and _text(legacy.get("fallbackNoticeActiveModel"))):
            return None
        want = _text(value)
    else:
        want = _count(value)
        if leaf == "failureCount" and not want:
            return None
    return (f"{prefix}.{leaf}", want) if want is not None else None


def snapshot_value(field: str, value: Any, store: str, inventory: Inventory) -> tuple[str, Any]:
    """The value a snapshot field must have after import: ("kept", value) or ("gone", why)."""
    if field != "skillsSnapshot" or not isinstance(value, dict):
        return "kept", value
    value = {k: v for k, v in value.items() if k != "resolvedSkills"}  # stripPersistedSkillsCache
    ref = value.get("promptRef")
    if isinstance(value.get("prompt"), str) or not isinstance(ref, dict):
        return "kept", value
    blob = str(PurePosixPath(store).parent / "skills-prompts" / "sha256" / str(ref.get("hash"))[:2] / f"{ref.get('hash')}.txt")
    if not any(f.path == blob and f.sha256 == ref.get("hash") for f in inventory.files):
        return "gone", f"hydrateSessionStoreSkillPromptRefs drops a snapshot whose prompt blob {blob} is not readable"
    return "kept", value


def _same_snapshot(want: Any, got: Any) -> bool:
    """A skills snapshot keeps its promptRef, or holds the prompt that ref names (hydrateSessionStoreSkillPromptRefs)."""
    if isinstance(want, dict) and isinstance(got, dict) and isinstance(want.get("promptRef"), dict) and "prompt" in got:
        hashed = hashlib.sha256(str(got["prompt"]).encode("utf-8")).hexdigest()
        rest = {k: v for k, v in got.items() if k != "prompt"}
        return hashed == want["promptRef"].get("hash") and _same({k: v for k, v in want.items() if k != "promptRef"}, rest)
    return content_hash(want) == content_hash(got)


def entry_problems(entry: LegacyEntry, row: dict, tables: dict, inventory: Inventory) -> tuple[list[dict], list[dict]]:
    """Every legacy field of one entry against its SQLite row: (what went wrong, one record per field with a fate)."""
    legacy, wrong, records = entry.fields, [], []
    routed = dict(delivery_problems(legacy, row))
    for field, value in legacy.items():
        fate = field_fate(field)
        if fate is None:
            if field not in row:
                wrong.append({"field": field, "problem": "dropped", "legacy": value})
            elif content_hash(row[field]) != content_hash(value):
                wrong.append({"field": field, "problem": "changed", "legacy": value, "sqlite": row[field]})
            continue
        records.append({"field": field, "fate": fate.fate, "into": fate.into, "why": fate.why})
        if field in routed:
            wrong.append({"field": field, "problem": f"folded into delivery: {routed[field]}", "legacy": value})
        elif fate.into and fate.into.startswith("delivery"):
            continue
        elif fate.fate == "renamed" and isinstance(value, dict):
            actor = row.get("createdActor")
            lost = [k for k, v in value.items() if k not in ("type", "source") and not _same(dig(actor, k), v)]
            if not isinstance(actor, dict) or actor.get("type") != "human" or lost:
                wrong.append({"field": field, "problem": f"renamed into createdActor, which lacks its values {lost or ''}"
                              f" (found {json.dumps(actor)})", "legacy": value})
        elif fate.fate == "folded" and (target := folded_target(field, legacy)):
            got = dig(row, *target[0].split("."))
            if got is _MISSING or not _same(got, target[1]):
                wrong.append({"field": field, "problem": f"folded into {target[0]}, which holds "
                              f"{json.dumps(None if got is _MISSING else got)} not {json.dumps(target[1])}", "legacy": value})
        elif fate.fate == "moved":
            if SNAPSHOT_TABLE in tables:
                wrong.append({"field": field, "problem": f"moved to {SNAPSHOT_TABLE}, whose values the probe does not read",
                              "harness": True})
                continue
            how, want = snapshot_value(field, value, entry.store, inventory)
            if how == "gone":
                if field in row:
                    wrong.append({"field": field, "problem": f"kept although {want}", "sqlite": row[field]})
            elif field not in row:
                wrong.append({"field": field, "problem": "dropped: no session_entry_snapshots table, so entry_json must "
                                                         "keep it", "legacy": value})
            elif not _same_snapshot(want, row[field]):
                wrong.append({"field": field, "problem": "changed", "legacy": value, "sqlite": row[field]})
        elif fate.fate == "dropped" and field in row and content_hash(row[field]) != content_hash(value):
            wrong.append({"field": field, "problem": "kept with another value", "legacy": value, "sqlite": row[field]})
    return wrong, records


def metadata_kept(inventory: Inventory, after: SqliteSnapshot, fixture: Fixture) -> tuple[list[Assertion], list[dict]]:
    """Every field of every legacy entry is in SQLite with the same value, or its value is where its fate says.
    Returns the assertions and one record per field that was not kept as is."""
    stored = {(s.agent, s.key): s.stored_key for s in fixture.sessions}
    results, records = [], []
    for entry in inventory.entries:
        if not entry.session_id or not isinstance(entry.fields, dict):
            continue
        key = stored.get((entry.agent, entry.key), entry.key)
        found = after.session(key)
        if not found:
            continue  # sessions_present names it
        row = found[1].get("entry")
        if not isinstance(row, dict):
            results.append(Assertion(f"entry_json of {key} is a JSON object", False, "object", found[1].get("entry_json")))
            continue
        wrong, fates = entry_problems(entry, row, found[0].tables, inventory)
        records += [{"session": key, **r} for r in fates]
        harness = wrong and all(w.get("harness") for w in wrong)
        results.append(Assertion(f"every legacy field of {key} is in SQLite (same value, or where its fate puts it)",
                                 not wrong, f"{len(entry.fields)} field(s) of {entry.store}", wrong or "all kept",
                                 f"{key}: " + "; ".join(f"{w['field']}: {w['problem']}" for w in wrong) if wrong else "",
                                 **({"blame": HARNESS} if harness else {})))
    return results, records


# -- what a turn may change ----------------------------------------------------------------------

# The fields a chat turn writes to a session entry (values may change, the key stays): the run's bookkeeping in
# updateSessionStoreAfterAgentRun (src/commands/agent/session-store.ts: updatedAt, modelProvider, model,
# contextTokens, abortedLastRun, inputTokens, outputTokens, totalTokens) and persistSessionUsageUpdate
# (src/auto-reply/reply/session-usage.ts: totalTokensFresh, cacheRead, cacheWrite, estimatedCostUsd,
# systemPromptReport), the run's lifecycle (status, startedAt, endedAt, runtimeMs), and what a reply writes when it
# starts (lastInteractionAt, systemSent, skillsSnapshot, delivery: the turn's route). The fields 2026.7.35 wrote
# during its own turns (fixtures/legacy-stores/real-7.35) are exactly these. Everything else (label, displayName,
# thinkingLevel, chatType, compactionCheckpoints...) keeps the value the import gave it, which metadata_kept ties
# to the legacy entry. 2026.9.6's first turn on an imported session (test_scenario: real-7.35, compaction-v1) also
# adds its run bookkeeping: activeWriterRunId, lastRunId, agentHarnessId, contextTokensSource, contextBudgetStatus,
# totalTokensVersion; and chatType where the entry had none (TURN_MAY_ADD: set once, never changed).
TURN_FIELDS = frozenset({
    "updatedAt", "lastInteractionAt", "status", "startedAt", "endedAt", "runtimeMs", "abortedLastRun", "systemSent",
    "model", "modelProvider", "contextTokens", "inputTokens", "outputTokens", "totalTokens", "totalTokensFresh",
    "cacheRead", "cacheWrite", "estimatedCostUsd", "systemPromptReport", "skillsSnapshot", "delivery",
    "activeWriterRunId", "lastRunId", "agentHarnessId", "contextTokensSource", "contextBudgetStatus", "totalTokensVersion",
})
# 2026.9.5's first turn on a session without a model (its doctor --fix dropped it) resolves an auth profile and
# records it: authProfileOverride, authProfileOverrideSource ("auto"), authProfileOverrideCompactionCount (measured).
TURN_MAY_ADD = frozenset({"chatType", "authProfileOverride", "authProfileOverrideSource",
                          "authProfileOverrideCompactionCount"})


def turn_changes(was: str | None, now: str | None) -> list[str]:
    """What a turn did to an entry beyond TURN_FIELDS: every other field dropped, changed or added, by name;
    a turn field may take a new value but not vanish (a turn writes it, it never deletes it)."""
    try:
        before, after = json.loads(was or "null"), json.loads(now or "null")
    except ValueError:
        return ["entry_json is not JSON"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [] if was == now else ["entry_json is no longer an object"]
    problems = [f"{k}: dropped" for k in before if k not in after]
    problems += [f"{k}: changed ({json.dumps(before[k])[:80]} -> {json.dumps(after[k])[:80]})" for k in before
                 if k in after and k not in TURN_FIELDS and content_hash(before[k]) != content_hash(after[k])]
    problems += [f"{k}: added ({json.dumps(after[k])[:80]})" for k in after
                 if k not in before and k not in TURN_FIELDS | TURN_MAY_ADD]
    return problems
