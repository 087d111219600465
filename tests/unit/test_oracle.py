import json

from path3_sandbox.proof import fates, oracle
from path3_sandbox.state.fixtures import ExpectedSession, Fixture
from path3_sandbox.state.inventory import build_inventory, js_json
from path3_sandbox.probes.files import FilesSnapshot, StateFile
from path3_sandbox.probes.sqlite import parse_snapshot

HEADER = {"type": "session", "version": 3, "id": "s-1", "timestamp": "2026-11-20T09:00:00.000Z"}
M1 = {"type": "message", "id": "m1", "parentId": None, "message": {"role": "user", "content": "hi"}}
M2 = {"type": "message", "id": "m2", "parentId": "m1", "message": {"role": "assistant", "content": [{"type": "text", "text": "yo"}]}}
ENTRY = {"sessionId": "s-1", "sessionFile": "/x/s-1.jsonl", "label": "Release notes", "updatedAt": 5, "model": "gpt"}


def lines(*values):
    return ("\n".join(json.dumps(v) for v in values) + "\n").encode()


def inventory(*events, entry=ENTRY, extra=None):
    return build_inventory({
        "agents/main/sessions/sessions.json": (json.dumps({"agent:main:main": entry}).encode(), 1.0),
        "agents/main/sessions/s-1.jsonl": (lines(*events), 1.0), **(extra or {}),
    })


def sqlite(*events, archived_at=None, entry=None, identities=True, columns=("archived_at",)):
    stored = entry if entry is not None else {k: v for k, v in ENTRY.items() if k != "sessionFile"}
    return parse_snapshot({"databases": [{
        "role": "agent", "agent": "main", "path": "/db", "columns": {"session_nodes": ["session_key", *columns]},
        "tables": {"session_nodes": 1, "transcript_events": len(events)}, "integrity": ["ok"],
        "sessions": [{"session_key": "agent:main:main", "current_session_id": "s-1", "archived_at": archived_at,
                      "entry_json": json.dumps(stored)}],
        "windows": [{"session_id": "s-1", "session_key": "agent:main:main"}],
        "events": [{"session_id": "s-1", "seq": i, "compressed": False, "event_json": js_json(e)} for i, e in enumerate(events)],
        "identities": [{"session_id": "s-1", "event_id": e["id"], "seq": i} for i, e in enumerate(events)
                       if identities and "id" in e],
    }]})


def fixture(events, duplicates=()):
    return Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None,
                   sessions=(ExpectedSession("main", "agent:main:main", "s-1", events, duplicates=duplicates),))


def failed(assertions):
    return [a for a in assertions if a.outcome == "failed"]


def event_failures(fx, inv, after):
    return failed(oracle.events_kept(fx, inv, after)[0])


def test_a_complete_import_passes_every_check():
    inv, after = inventory(HEADER, M1, M2), sqlite(HEADER, M1, M2)
    checks = (oracle.sessions_present(fixture(3), after) + oracle.legacy_entries_covered(inv, after, fixture(3))
              + oracle.events_kept(fixture(3), inv, after)[0] + oracle.metadata_kept(inv, after, fixture(3))[0])
    assert failed(checks) == [] and len(checks) == 6


def test_a_missing_event_is_named_by_session_line_and_the_seq_it_should_follow():
    [failure, total] = event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M1))
    assert "agent:main:main (s-1)" in failure.detail and "line 3 (id=m2, type=message) missing" in failure.detail
    assert "after seq 1" in failure.detail and (total.expected, total.observed) == (3, 2)


def test_a_changed_byte_of_content_fails_naming_the_event_and_the_key():
    tampered = {**M2, "message": {"role": "assistant", "content": [{"type": "text", "text": "yO"}]}}
    [failure, *_] = event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M1, tampered))
    assert "line 3 (id=m2, type=message) changed or missing at seq 2" in failure.detail and '"message"' in failure.detail


def test_two_swapped_events_fail_as_out_of_order():
    [failure] = event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M2, M1))
    assert "out of order" in failure.detail


def test_an_event_no_legacy_line_explains_fails():
    extra = {"type": "message", "id": "m9", "parentId": "m2", "message": {"role": "user", "content": "new"}}
    failures = event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M1, M2, extra))
    assert "unexplained event at seq 3 (id=m9, type=message)" in failures[0].detail


def test_an_event_without_its_identity_row_fails():
    [failure] = event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, M1, M2, identities=False))
    assert "has no transcript_event_identities row" in failure.detail


def test_an_added_or_nulled_key_is_not_an_accepted_normalisation():
    for tampered in ({**M1, "extra": 1}, {**M1, "message": None}):
        assert event_failures(fixture(3), inventory(HEADER, M1, M2), sqlite(HEADER, tampered, M2))


def test_v1_transcripts_may_gain_synthetic_ids_and_a_raised_header_and_each_change_is_recorded():
    v1_header = {"type": "session", "id": "s-1", "timestamp": "t"}
    bare = {"type": "message", "message": {"role": "user", "content": "hi"}}
    rows = sqlite({**v1_header, "version": 3}, {**bare, "id": "0123456789abcdef-1", "parentId": None})
    checks, records = oracle.events_kept(fixture(2), inventory(v1_header, bare), rows)
    assert failed(checks) == []
    assert [r["normalisations"] for r in records] == [["header-version-raised"], ["synthetic-id"]]
    renamed = sqlite({**v1_header, "version": 3, "id": "other"}, {**bare, "id": "0123456789abcdef-1", "parentId": None})
    assert event_failures(fixture(2), inventory(v1_header, bare), renamed)


def test_only_declared_duplicates_may_be_stored_once():
    inv = inventory(HEADER, M1, M1, M2)
    assert event_failures(fixture(3, duplicates=(3,)), inv, sqlite(HEADER, M1, M2)) == []
    assert event_failures(fixture(3), inv, sqlite(HEADER, M1, M2))


def test_a_session_expected_active_but_archived_fails():
    [failure] = failed(oracle.sessions_present(fixture(3), sqlite(HEADER, M1, M2, archived_at=5)))
    assert failure.observed["archived"] is True


def test_a_missing_archived_at_column_is_a_check_the_harness_cannot_make_never_a_default():
    [failure] = oracle.sessions_present(fixture(3), sqlite(HEADER, M1, M2, columns=()))
    assert failure.outcome == "failed" and failure.blame == "harness" and "archived_at" in failure.detail


def test_a_changed_label_or_a_dropped_field_fails_naming_the_field_while_declared_fates_pass():
    inv = inventory(HEADER, M1, M2)
    kept = {k: v for k, v in ENTRY.items() if k != "sessionFile"}
    for entry, problem in (({**kept, "label": "other"}, "label: changed"), ({k: v for k, v in kept.items() if k != "model"}, "model: dropped")):
        [failure] = failed(oracle.metadata_kept(inv, sqlite(HEADER, M1, M2, entry=entry), fixture(3))[0])
        assert problem in failure.detail
    checks, records = oracle.metadata_kept(inv, sqlite(HEADER, M1, M2, entry=kept), fixture(3))
    assert failed(checks) == [] and [r["field"] for r in records] == ["sessionFile"]


def test_an_external_last_channel_must_be_the_delivery_context_channel_not_just_any_delivery_object():
    inv = inventory(HEADER, M1, M2, entry={**ENTRY, "lastChannel": "telegram"})
    kept = {k: v for k, v in ENTRY.items() if k != "sessionFile"}
    # What normalizeSessionDeliveryState builds from a channel alone: the value is found at delivery.context.channel.
    routed = {"kind": "external", "route": {"channel": "telegram"}, "context": {"channel": "telegram"},
              "origin": {"provider": "telegram"}}
    assert not failed(oracle.metadata_kept(inv, sqlite(HEADER, M1, M2, entry={**kept, "delivery": routed}), fixture(3))[0])
    for delivery in (None, {"kind": "external"}, {**routed, "context": {"channel": "discord"}}, {"kind": "internal"}):
        entry = kept if delivery is None else {**kept, "delivery": delivery}
        [failure] = failed(oracle.metadata_kept(inv, sqlite(HEADER, M1, M2, entry=entry), fixture(3))[0])
        assert "lastChannel: folded into delivery" in failure.detail


def test_every_seeded_file_needs_a_fate_and_an_unknown_one_is_a_harness_gap():
    device = {"deviceId": "d1", "publicKeyPem": "K", "createdAtMs": 5, "privateKeyPem": "P"}
    inv = inventory(HEADER, M1, extra={"identity/device.json": (json.dumps(device).encode(), 1.0), "mystery/thing.bin": (b"x", 1.0)})
    transcript = next(f for f in inv.files if f.path.endswith(".jsonl"))
    archive = "agents/main/session-sqlite-import-archive/agent_main_main.s-1.jsonl.imported-1"
    after = FilesSnapshot({archive: StateFile(archive, 1, 1.0, transcript.sha256),
                           "agents/main/session-sqlite-import-archive/legacy-store.sessions.json.imported-1":
                               StateFile("x", 1, 1.0, "rewritten")})
    with_identity = parse_snapshot({"databases": [{"role": "global", "agent": None, "path": "/g", "tables": {},
                                                   "rows": {"device_identities": [{"identity_key": "primary", "device_id": "d1",
                                                                                    "public_key_pem": "K", "created_at_ms": 5}]}}]})
    checks, file_fates = fates.files_accounted(inv, after, with_identity)
    by_path = {f["path"]: f["fate"] for f in file_fates}
    assert by_path[transcript.path] == "preserved" and by_path["agents/main/sessions/sessions.json"] == "transformed"
    assert by_path["identity/device.json"].startswith("imported into device_identities as primary")
    [unknown] = failed(checks)
    assert unknown.name == "unaccounted legacy file mystery/thing.bin" and unknown.blame == "harness"
    checks, _ = fates.files_accounted(inv, FilesSnapshot({}), parse_snapshot({"databases": []}))
    assert {a.name for a in failed(checks)} >= {"transcript agents/main/sessions/s-1.jsonl: bytes-kept",
                                                 "device identity identity/device.json: in-sqlite"}


def test_the_state_database_is_judged_by_its_rows_not_its_bytes():
    inv = inventory(HEADER, M1, extra={"state/openclaw.sqlite": (b"SQLite format 3", 1.0)})
    db = next(f for f in inv.files if f.path == "state/openclaw.sqlite")
    original = {"audit_events": {"columns": ["id", "kind"], "rows": ["r1", "r2"]}, "meta": {"columns": ["k"], "rows": ["m"]}}
    before = {"state/openclaw.sqlite": {"tables": original}}
    migrated = FilesSnapshot({"state/openclaw.sqlite": StateFile("s", 1, 1.0, "migrated")})
    no_rows = parse_snapshot({"databases": []})
    reshaped = {**original, "audit_events": {"columns": ["id", "kind", "v2"], "rows": ["x1", "x2"],
                                             "projected": {"columns": ["id", "kind"], "rows": ["r1", "r2"]}}}
    kept = fates.StateDbContent(before, {"state/openclaw.sqlite": {"tables": reshaped},
                                         "state/openclaw.sqlite.pre-1.bak": {"tables": original}})
    fate, ok, _ = fates.judge(db, migrated, no_rows, kept)
    assert ok and fate == "migrated, every row kept, backup with the same content: state/openclaw.sqlite.pre-1.bak"
    lost = fates.StateDbContent(before, {"state/openclaw.sqlite": {"tables": {**original, "meta": {"columns": ["k"], "rows": []}}}})
    fate, ok, _ = fates.judge(db, migrated, no_rows, lost)
    assert not ok and "table meta: 1 of 1 rows gone or changed" in fate and "no backup" in fate
    with_backup = fates.StateDbContent(before, {**lost.after, "state/openclaw.sqlite.pre-1.bak": {"tables": original}})
    assert fates.judge(db, migrated, no_rows, with_backup)[1]
    bookkeeping = {**original, "schema_meta": {"columns": ["v"], "rows": ["old"]}}
    rewritten = fates.StateDbContent({"state/openclaw.sqlite": {"tables": bookkeeping}},
                                     {"state/openclaw.sqlite": {"tables": {**original, "schema_meta": {"columns": ["v"], "rows": ["new"]}}}})
    assert fates.judge(db, migrated, no_rows, rewritten)[1]
    assert fates.rule_for("state/openclaw.sqlite-shm").fate == "wal-index" and fates.is_volatile("state/openclaw.sqlite-shm")


def test_a_trajectory_pointer_beside_a_reset_copy_may_stay_but_not_beside_nothing():
    pointer = "agents/main/sessions/ad93.trajectory-path.json"
    with_copy = FilesSnapshot({pointer: StateFile(pointer, 1, 1.0, "p"),
                               "agents/main/sessions/ad93.jsonl.reset.2026-11-23T19-44-59.407Z": StateFile("r", 1, 1.0, "r")})
    assert fates.left_in_place(pointer, with_copy)
    assert not fates.left_in_place(pointer, FilesSnapshot({pointer: StateFile(pointer, 1, 1.0, "p")}))


def test_session_state_before_the_first_start_fails_unless_declared():
    assert not oracle.no_session_state_before(sqlite(HEADER, M1), fixture(2)).passed
    assert oracle.no_session_state_before(parse_snapshot({"databases": []}), fixture(2)).passed


def test_imported_rows_must_stay_byte_identical_while_a_turned_session_may_only_grow():
    fx = fixture(3)
    baseline = oracle.imported_rows(sqlite(HEADER, M1, M2), fx)
    turn = {"type": "message", "id": "t1", "parentId": "m2", "message": {"role": "user", "content": "turn"}}
    assert oracle.imported_rows_unchanged(baseline, sqlite(HEADER, M1, M2, turn), fx, turned={"agent:main:main"}, when="t").passed
    assert not oracle.imported_rows_unchanged(baseline, sqlite(HEADER, M1, M2, turn), fx, when="t").passed
    tampered = {**M2, "message": {"role": "assistant", "content": "x"}}
    failure = oracle.imported_rows_unchanged(baseline, sqlite(HEADER, M1, tampered), fx, turned={"agent:main:main"}, when="t")
    assert not failure.passed and "seq 2 changed" in failure.observed[0]


def test_warnings_must_match_exactly():
    fx = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=(),
                 expected_warnings=("transcript_missing",))
    assert oracle.warnings_as_expected(fx, {"transcript_missing"}).passed
    assert not oracle.warnings_as_expected(fx, {"transcript_missing", "entry_invalid"}).passed
    assert not oracle.warnings_as_expected(fx, set()).passed


def test_no_live_legacy_fails_on_a_store_left_in_place_but_not_on_a_users_own_sessions_json():
    from path3_sandbox.proof.fates import no_live_legacy as _no_live_legacy

    users = ("workspace/proj/sessions.json", "agents/main/sessions/old/sessions.json")
    after = FilesSnapshot({p: StateFile(p, 1, 1.0, p) for p in users})
    assert _no_live_legacy(after).passed
    store = "agents/main/sessions/sessions.json"
    left = FilesSnapshot({**after.files, store: StateFile(store, 1, 1.0, "s")})
    check = _no_live_legacy(left)
    assert not check.passed and check.observed == ["agents/main/sessions/sessions.json"]


def test_a_store_kept_pending_for_an_uninstalled_plugin_may_stay_live_only_in_that_agents_folder():
    from path3_sandbox.proof.fates import no_live_legacy

    files = ("agents/machine/sessions/sessions.json", "agents/machine/sessions/s1.jsonl", "agents/work/sessions/sessions.json")
    after = FilesSnapshot({p: StateFile(p, 1, 1.0, p) for p in files})
    check = no_live_legacy(after, {"machine"})
    assert not check.passed and check.observed == ["agents/work/sessions/sessions.json"]
    assert "kept pending for uninstalled plugins (agents machine): 2 file(s)" in check.detail
    assert no_live_legacy(after, {"machine", "work"}).passed


RETAINED_MANIFEST = [{"targets": [{"agentId": "machine", "issues": [{
    "code": "plugin_migration_source_retained",
    "message": "Canonical session import is verified. Original session migration inputs, including unindexed history, "
               "remain pending for plugin(s): codex, brave. Install the plugin and run openclaw doctor --fix to finish."}]}]}]


def test_the_plugins_the_gateway_keeps_inputs_for_must_be_exactly_those_the_fixture_leaves_uninstalled():
    from path3_sandbox.proof import reports

    retained = reports.retained_for_plugins(RETAINED_MANIFEST)
    assert retained == {"machine": {"codex", "brave"}}
    fixture = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=(),
                      plugins_pending=("brave", "codex"))
    assert reports.plugins_pending_check(fixture, retained)[0].passed
    only_codex = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=(),
                         plugins_pending=("codex",))
    assert not reports.plugins_pending_check(only_codex, retained)[0].passed  # brave retained unexpectedly
    assert not reports.plugins_pending_check(fixture, {})[0].passed  # nothing retained where two were expected
    plain = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=())
    assert reports.plugins_pending_check(plain, {}) == []


def test_validate_may_report_the_pending_plugins_issue_and_nothing_else_only_where_the_fixture_expects_it():
    import json as _json

    from path3_sandbox.proof import reports

    def output(*codes):
        return _json.dumps({"targets": [{"issues": [{"code": c, "message": "m"} for c in codes]}],
                           "totals": {"issues": len(codes)}})
    pending = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=(),
                      plugins_pending=("codex",))
    plain = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, sessions=())
    assert all(c.passed for c in reports.doctor_validate_checks(0, output("plugin_migration_source_retained"), pending))
    mixed = reports.doctor_validate_checks(1, output("plugin_migration_source_retained", "active_sqlite_transcript_jsonl"), pending)
    assert [c.passed for c in mixed] == [False, False]
    assert mixed[1].observed == ["plugin_migration_source_retained", "active_sqlite_transcript_jsonl"]
    assert not reports.doctor_validate_checks(0, output("plugin_migration_source_retained"), plain)[1].passed


V1_HEADER = {"type": "session", "id": "s-1", "timestamp": "t"}
V1_USER = {"type": "message", "message": {"role": "user", "content": "hi"}}
V1_REPLY = {"type": "message", "message": {"role": "assistant", "content": [{"type": "text", "text": "yo"}]}}
V1_COMPACTION = {"type": "compaction", "summary": "s", "firstKeptEntryIndex": 2, "tokensBefore": 9}
IDS = ("0123456789abcdef-1", "0123456789abcdef-2", "0123456789abcdef-3")


def v1_rows(*parents, kept=IDS[1], compaction=V1_COMPACTION):
    """The v1 session as 9.6 stores it: synthetic ids, parents as given, the compaction's index turned into `kept`."""
    stored = {k: v for k, v in compaction.items() if k != "firstKeptEntryIndex"}
    stored.update({} if kept is None else {"firstKeptEntryId": kept})
    events = [V1_USER, V1_REPLY, stored]
    return sqlite({**V1_HEADER, "version": 3}, *({**e, "id": i, "parentId": p} for e, i, p in zip(events, IDS, parents)))


def test_a_v1_compactions_first_kept_id_must_be_the_id_of_the_entry_its_index_names():
    inv, chain = inventory(V1_HEADER, V1_USER, V1_REPLY, V1_COMPACTION), (None, IDS[0], IDS[1])
    checks, records = oracle.events_kept(fixture(4), inv, v1_rows(*chain))
    assert failed(checks) == [] and "first-kept-index-to-id" in records[-1]["normalisations"]
    for wrong in ("ffffffffffffffff-9", IDS[0], None):  # an id no event has, another event's, none at all
        assert event_failures(fixture(4), inv, v1_rows(*chain, kept=wrong)), wrong
    # An index naming the header (or beyond the file) gives no firstKeptEntryId.
    at_header = {**V1_COMPACTION, "firstKeptEntryIndex": 0}
    inv = inventory(V1_HEADER, V1_USER, V1_REPLY, at_header)
    assert event_failures(fixture(4), inv, v1_rows(*chain, kept=None, compaction=at_header)) == []
    assert event_failures(fixture(4), inv, v1_rows(*chain, kept=IDS[0], compaction=at_header))


def test_v1_synthetic_parent_ids_must_chain_each_event_to_the_one_before_only_the_first_may_be_null():
    inv = inventory(V1_HEADER, V1_USER, V1_REPLY, V1_COMPACTION)
    assert event_failures(fixture(4), inv, v1_rows(None, IDS[0], IDS[1])) == []
    for broken in ((None, None, None), (None, IDS[0], IDS[0]), ("s-1", IDS[0], IDS[1])):
        assert event_failures(fixture(4), inv, v1_rows(*broken)), broken


def test_the_codex_api_rename_is_the_only_change_allowed_to_an_assistant_message_api():
    import json as _json

    from path3_sandbox.probes.sqlite import SqliteEvent
    from path3_sandbox.proof.oracle import normalised_like
    from path3_sandbox.state.inventory import LegacyEvent

    line = {"type": "message", "id": "10ca250b", "parentId": "ed390a8b", "timestamp": "t",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "done"}],
                        "api": "openai-codex-responses", "provider": "openai", "model": "gpt-5.5"}}
    legacy = LegacyEvent(3, "10ca250b", "message", "x", line, _json.dumps(line).encode())

    def row(api, text="done"):
        value = _json.loads(_json.dumps(line))
        value["message"]["api"], value["message"]["content"][0]["text"] = api, text
        return SqliteEvent("s", 2, "10ca250b", "y", False, value, _json.dumps(value, separators=(",", ":")))

    assert "codex-api-renamed" in normalised_like(legacy, row("openai-chatgpt-responses"), version=3, session_id="s",
                                                  previous_id="ed390a8b")
    assert normalised_like(legacy, row("openai-responses"), version=3, session_id="s", previous_id="ed390a8b") is None
    assert normalised_like(legacy, row("openai-chatgpt-responses", "changed"), version=3, session_id="s",
                           previous_id="ed390a8b") is None


def test_a_restart_reimports_only_when_its_report_imported_events_or_cannot_be_read():
    from path3_sandbox.proof.reports import imports_again

    box = "│  - Legacy entries: 1; SQLite entries: 2.  │\n│  - Transcript events: imported={n}; validated=3.  │\n"
    assert not imports_again("gateway ready\n")
    assert not imports_again(box.format(n=0))  # validated again, nothing imported (a plugin still pending)
    assert imports_again(box.format(n=3))
    assert imports_again("│  - Legacy entries: 1; SQLite entries: 2.  │\n")  # no event count: cannot be read as none
