"""Each legacy field's fate says where its value went, and the oracle finds the same value there; a turn changes
only the enumerated turn fields of an imported entry."""

import hashlib
import json

from path3_sandbox.proof import oracle
from tests.unit.test_oracle import ENTRY, HEADER, M1, M2, failed, fixture, inventory, sqlite

KEPT = {k: v for k, v in ENTRY.items() if k != "sessionFile"}
# As 2026.7.35 wrote a webchat session (fixtures/legacy-stores/real-7.35).
WEBCHAT = {"route": {"channel": "webchat"}, "deliveryContext": {"channel": "webchat"}, "lastChannel": "webchat",
           "origin": {"provider": "webchat", "surface": "webchat", "chatType": "direct"}}
TELEGRAM = {"lastChannel": "telegram", "lastTo": "chat-42", "lastThreadId": 7, "lastAccountId": "bot",
            "deliveryContext": {"channel": "telegram", "to": "chat-42", "accountId": "bot", "threadId": 7},
            "origin": {"provider": "telegram", "chatType": "group"}}
ROUTED = {"kind": "external", "route": {"channel": "telegram", "accountId": "bot", "target": {"to": "chat-42"},
                                        "thread": {"id": 7}},
          "context": {"channel": "telegram", "to": "chat-42", "accountId": "bot", "threadId": 7},
          "origin": {"provider": "telegram", "chatType": "group", "to": "chat-42", "accountId": "bot", "threadId": 7}}


def metadata_failures(legacy: dict, stored: dict, extra=None, tables=None) -> list[str]:
    after = sqlite(HEADER, M1, M2, entry=stored)
    after.agents["main"].tables.update(tables or {})
    return [f.detail for f in failed(oracle.metadata_kept(inventory(HEADER, M1, M2, entry=legacy, extra=extra), after,
                                                         fixture(3))[0])]


def test_an_internal_webchat_route_must_become_delivery_kind_internal_and_anything_else_fails_naming_each_key():
    legacy = {**ENTRY, **WEBCHAT}
    assert metadata_failures(legacy, {**KEPT, "chatType": "direct", "delivery": {"kind": "internal"}}) == []
    [detail] = metadata_failures(legacy, {**KEPT, "chatType": "direct", "delivery": {}})
    assert all(f"{k}: folded into delivery" in detail for k in WEBCHAT)
    [detail] = metadata_failures(legacy, {**KEPT, "delivery": {"kind": "internal"}})
    assert "origin: folded into delivery: origin.chatType 'direct' must become chatType" in detail


def test_an_external_route_keeps_every_value_at_its_place_in_delivery():
    legacy = {**ENTRY, **TELEGRAM}
    assert metadata_failures(legacy, {**KEPT, "delivery": ROUTED}) == []
    for tamper, field in ((dict(ROUTED, context={**ROUTED["context"], "to": None}), "lastTo"),
                          (dict(ROUTED, context={k: v for k, v in ROUTED["context"].items() if k != "threadId"}), "lastThreadId"),
                          (dict(ROUTED, origin={"provider": "telegram"}), "origin"),
                          ({"kind": "external"}, "deliveryContext")):
        [detail] = metadata_failures(legacy, {**KEPT, "delivery": tamper})
        assert f"{field}: folded into delivery" in detail, (field, detail)


def test_a_legacy_value_that_lost_the_merge_to_another_legacy_key_passes_but_an_invented_one_fails():
    legacy = {**ENTRY, **TELEGRAM, "deliveryContext": {"channel": "telegram", "to": "stale-chat"}}
    assert metadata_failures(legacy, {**KEPT, "delivery": ROUTED}) == []  # lastTo wins the `to` slot
    invented = dict(ROUTED, context={**ROUTED["context"], "to": "elsewhere"})
    [detail] = metadata_failures(legacy, {**KEPT, "delivery": invented})
    assert "lastTo: folded into delivery" in detail and "deliveryContext: folded into delivery" in detail


def test_created_by_renamed_to_created_actor_keeps_its_values():
    legacy = {**ENTRY, "createdBy": {"id": "u-1", "name": "Ana"}}
    actor = {"id": "u-1", "name": "Ana", "type": "human", "source": "unknown"}
    assert metadata_failures(legacy, {**KEPT, "createdActor": actor}) == []
    for stored in ({**KEPT, "createdActor": None}, {**KEPT, "createdActor": {**actor, "name": "Bob"}}, KEPT):
        [detail] = metadata_failures(legacy, stored)
        assert "createdBy: renamed into createdActor" in detail


def test_prefixed_pending_reply_fallback_and_flush_fields_are_found_in_their_objects():
    legacy = {**ENTRY, "pendingFinalDeliveryText": " the reply ", "pendingFinalDeliveryCreatedAt": 9,
              "pendingFinalDeliveryAttemptCount": 2, "fallbackNoticeSelectedModel": "a", "fallbackNoticeActiveModel": "b",
              "memoryFlushCompactionCount": 3, "memoryFlushAt": 4}
    stored = {**KEPT, "pendingFinalDelivery": {"kind": "replayable", "text": "the reply", "createdAt": 9},
              "fallbackNotice": {"kind": "active", "selectedModel": "a", "activeModel": "b"},
              "memoryFlush": {"kind": "succeeded", "compactionCount": 3}}
    assert metadata_failures(legacy, stored) == []
    [detail] = metadata_failures(legacy, {**stored, "pendingFinalDelivery": {"kind": "replayable", "text": "", "createdAt": 9}})
    assert "pendingFinalDeliveryText: folded into pendingFinalDelivery.text" in detail
    [detail] = metadata_failures(legacy, {**stored, "fallbackNotice": {"kind": "active", "selectedModel": "a"}})
    assert "fallbackNoticeActiveModel: folded into fallbackNotice.activeModel" in detail


def test_an_exact_canonical_name_is_kept_as_is_not_covered_by_a_prefix_rule():
    pending = {"kind": "transport-only", "createdAt": 5}
    assert oracle.field_fate("pendingFinalDelivery") is None and oracle.field_fate("memoryFlush") is None
    [detail] = metadata_failures({**ENTRY, "pendingFinalDelivery": pending}, KEPT)
    assert "pendingFinalDelivery: dropped" in detail


def test_snapshot_fields_stay_in_entry_json_without_a_snapshot_table_with_their_values():
    report = {"source": "run", "model": "m"}
    legacy = {**ENTRY, "systemPromptReport": report}
    assert metadata_failures(legacy, {**KEPT, "systemPromptReport": report}) == []
    [detail] = metadata_failures(legacy, KEPT)
    assert "systemPromptReport: dropped" in detail
    [detail] = metadata_failures(legacy, {**KEPT, "systemPromptReport": {**report, "model": "x"}})
    assert "systemPromptReport: changed" in detail
    checks = oracle.metadata_kept(inventory(HEADER, M1, M2, entry=legacy), sqlite(HEADER, M1, M2, entry=KEPT), fixture(3))[0]
    assert failed(checks)[0].blame == "gateway"


def test_a_snapshot_table_the_probe_does_not_read_is_a_harness_gap_never_a_pass():
    legacy = {**ENTRY, "skillsSnapshot": {"skills": []}}
    after = sqlite(HEADER, M1, M2, entry=KEPT)
    after.agents["main"].tables["session_entry_snapshots"] = 1
    [failure] = failed(oracle.metadata_kept(inventory(HEADER, M1, M2, entry=legacy), after, fixture(3))[0])
    assert failure.blame == "harness" and "whose values the probe does not read" in failure.detail


def test_a_skills_snapshot_may_trade_its_prompt_ref_for_the_prompt_it_names_but_not_lose_it():
    prompt = "use the skills"
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    ref = {"version": 1, "algorithm": "sha256", "hash": digest, "bytes": len(prompt)}
    legacy = {**ENTRY, "skillsSnapshot": {"skills": [{"name": "weather"}], "promptRef": ref}}
    blob = {f"agents/main/sessions/skills-prompts/sha256/{digest[:2]}/{digest}.txt": (prompt.encode(), 1.0)}
    hydrated = {"skills": [{"name": "weather"}], "prompt": prompt}
    assert metadata_failures(legacy, {**KEPT, "skillsSnapshot": hydrated}, extra=blob) == []
    assert metadata_failures(legacy, {**KEPT, "skillsSnapshot": legacy["skillsSnapshot"]}, extra=blob) == []
    for stored, problem in ((KEPT, "skillsSnapshot: dropped"),
                            ({**KEPT, "skillsSnapshot": {**hydrated, "prompt": "other"}}, "skillsSnapshot: changed"),
                            ({**KEPT, "skillsSnapshot": {**hydrated, "skills": []}}, "skillsSnapshot: changed")):
        [detail] = metadata_failures(legacy, stored, extra=blob)
        assert problem in detail
    # No blob seeded: hydrateSessionStoreSkillPromptRefs drops the snapshot, so keeping it is the odd thing.
    assert metadata_failures(legacy, KEPT) == []


def turned_after(entry: dict) -> tuple:
    fx = fixture(3)
    baseline = oracle.imported_rows(sqlite(HEADER, M1, M2, entry={**KEPT, "displayName": "Notes"}), fx)
    return oracle.imported_rows_unchanged(baseline, sqlite(HEADER, M1, M2, entry=entry), fx,
                                          turned={"agent:main:main"}, when="t")


def test_a_turned_session_may_change_only_the_enumerated_turn_fields():
    before = {**KEPT, "displayName": "Notes"}
    bookkeeping = {**before, "updatedAt": 99, "model": "other", "totalTokens": 7, "status": "done",
                   "delivery": {"kind": "internal"}, "lastInteractionAt": 98, "lastRunId": "r-1", "chatType": "direct"}
    assert turned_after(bookkeeping).passed
    for entry, problem in (({k: v for k, v in before.items() if k != "label"}, "label: dropped"),
                           ({k: v for k, v in before.items() if k != "model"}, "model: dropped"),
                           ({**before, "displayName": "x"}, "displayName: changed"),
                           ({**before, "thinkingLevel": "high"}, "thinkingLevel: added")):
        # chatType may be added by a turn (TURN_MAY_ADD) but, once there, no turn changes it
        failure = turned_after(entry)
        assert not failure.passed and problem in failure.observed[0], (problem, failure.observed)
    assert json.dumps(sorted(oracle.TURN_FIELDS))  # enumerated, not a pattern
