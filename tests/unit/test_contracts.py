import pytest

from path3_sandbox.proof.contracts import (
    REFUSE_THEN_DOCTOR, STARTUP_IMPORT, classify_start, contract_for, version_key, warning_codes,
)
from path3_sandbox.errors import UsageError
from path3_sandbox.containers.waits import StartObservation

IMPORT_BOX = """│  - Legacy entries: 3; SQLite entries: 3.                                 │
│  - Transcript events: imported=11; validated=0.                          │"""


@pytest.mark.parametrize("version, contract", [
    ("2026.9.6", STARTUP_IMPORT), ("2026.7.2-beta.4", STARTUP_IMPORT), ("2026.7.2-beta.7", STARTUP_IMPORT),
    ("2026.8.1", REFUSE_THEN_DOCTOR), ("2026.9.0", REFUSE_THEN_DOCTOR), ("2026.9.5", REFUSE_THEN_DOCTOR),
])
def test_the_release_table_maps_measured_releases_to_their_contract(version, contract):
    assert contract_for(version).contract == contract


def test_prereleases_sort_before_their_release():
    assert version_key("2026.7.2-beta.2") < version_key("2026.7.2-beta.10") < version_key("2026.7.2") < version_key("2026.8.1")


def test_an_override_wins_over_the_table_and_says_so():
    choice = contract_for("2026.9.6", "refuse-then-doctor")
    assert (choice.contract, choice.source) == (REFUSE_THEN_DOCTOR, "--contract")


def test_a_release_that_writes_legacy_stores_has_nothing_to_prove():
    with pytest.raises(UsageError, match="no upgrade to prove"):
        contract_for("2026.7.35")


def test_an_unknown_release_asks_for_an_explicit_contract():
    with pytest.raises(UsageError, match="no contract is known for openclaw 2026.10.1") as raised:
        contract_for("2026.10.1")
    assert "--contract startup-import" in str(raised.value)


def test_a_ready_start_with_the_import_report_is_an_import():
    kind = classify_start(StartObservation("ready", 12.0), "boot\n" + IMPORT_BOX)
    assert (kind.kind, kind.imported_entries, kind.imported_events) == ("imported", 3, 11)


def test_the_beta_style_import_line_is_recognised_too():
    line = "[gateway] session: imported legacy session metadata/transcripts into SQLite: importedEntries=3 importedTranscriptEvents=13"
    assert classify_start(StartObservation("ready", 6.7), line).imported_events == 13


def test_a_ready_start_without_a_report_is_not_called_an_import():
    assert classify_start(StartObservation("ready", 10.0), "[gateway] ready").kind == "ready-without-import"


def test_an_exit_naming_the_legacy_store_is_a_refusal_with_its_code_and_message():
    output = ('Gateway failed to start: Legacy session store requires migration: /s/sessions.json. Run "openclaw doctor --fix"')
    kind = classify_start(StartObservation("exited", 2.4, exit_code=78), output)
    assert (kind.kind, kind.exit_code) == ("refused", 78)
    assert kind.message.startswith("Legacy session store requires migration")


def test_any_other_exit_is_a_crash_and_keeps_the_last_line():
    kind = classify_start(StartObservation("exited", 1.0, exit_code=1), "x\nAnother Gateway owner lease is still active")
    assert (kind.kind, kind.message) == ("crashed", "Another Gateway owner lease is still active")


def test_warning_codes_are_read_from_the_import_report():
    output = "│    [entry_invalid]   │\n│    [transcript_missing] Transcript file is missing │ [gateway]"
    assert warning_codes(output) == {"entry_invalid", "transcript_missing"}


def test_the_beta_import_report_spread_over_lines_is_recognised():
    output = ("2026-11-23T14:47:09.454+00:00 [gateway] session: imported legacy session metadata/transcripts into SQLite:\n"
              "- targets=1 legacyEntries=3 sqliteEntries=3\n- importedEntries=3 importedTranscriptEvents=11\n")
    kind = classify_start(StartObservation("ready", 12.8), output)
    assert (kind.kind, kind.imported_entries, kind.imported_events) == ("imported", 3, 11)


@pytest.mark.parametrize("version", ["2026.9.6-1", "2026.9.6-0.pr123", "2026.9.6.1", "2026.9.5-beta.1", "2026.8.1-rc.2"])
def test_a_build_the_table_does_not_list_exactly_needs_an_explicit_contract(version):
    with pytest.raises(UsageError):
        contract_for(version)
    assert contract_for(version, STARTUP_IMPORT).source == "--contract"


REFUSALS = {
    "legacy-session-store": 'Gateway failed to start: Legacy session store requires migration: /x/sessions.json. Run "openclaw doctor --fix" …',
    "state-database-schema": "Gateway failed to start: OpenClaw state database schema migration required (audit-events-v2) at "
                             "/x/state/openclaw.sqlite; run openclaw doctor --fix to migrate it.",
    "other (names doctor --fix)": "Gateway failed to start: Failed migrating legacy device identity: EACCES. Stop the Gateway "
                                  "and run `openclaw doctor --fix` again.",
}


@pytest.mark.parametrize("reason, output", REFUSALS.items())
def test_every_exit_that_names_doctor_fix_is_a_refusal_with_its_reason(reason, output):
    kind = classify_start(StartObservation("exited", 3.0, 78), output)
    assert (kind.kind, kind.refusal_reason, kind.exit_code) == ("refused", reason, 78)


def test_an_exit_that_does_not_name_doctor_fix_stays_a_crash():
    kind = classify_start(StartObservation("exited", 3.0, 1), "TypeError: cannot read properties of undefined")
    assert (kind.kind, kind.refusal_reason) == ("crashed", None)


def test_the_betas_with_the_old_session_tables_are_out_of_scope_with_the_reason():
    from path3_sandbox.errors import UsageError
    from path3_sandbox.upgrades.plan import plan

    for beta in ("2026.7.2-beta.1", "2026.7.2-beta.3"):
        with pytest.raises(UsageError, match="out of scope: .*session_entries"):
            contract_for(beta)
        with pytest.raises(UsageError, match="hop 2: openclaw .* is out of scope"):
            plan(["2026.7.35", beta])
    assert contract_for("2026.7.2-beta.4").contract == "startup-import"


def test_a_start_came_up_when_it_reported_ready_with_or_without_an_import_and_not_otherwise():
    from path3_sandbox.proof.contracts import StartKind

    came_up = {kind: StartKind(kind, None, 1.0).came_up
               for kind in ("imported", "ready-without-import", "refused", "crashed", "hung")}
    assert came_up == {"imported": True, "ready-without-import": True, "refused": False, "crashed": False,
                       "hung": False}
