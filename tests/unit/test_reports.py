"""The Gateway's own reports, parsed and held against our counts."""

import json

from path3_sandbox.proof import reports
from path3_sandbox.state.fixtures import ExpectedSession, Fixture
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.probes.files import FilesSnapshot, StateFile

BOX = """◇  Session SQLite ───────────────╮
│  - Legacy entries: 2; SQLite entries: 2.                                 │
│  - Transcript events: imported=5; validated=0.                          │
│  - Archived 1 legacy transcript artifact(s).                             │
│  - Found 2 session SQLite issue(s). Inspect with "openclaw doctor".   │"""


def state(lines=5):
    store = {"agent:main:main": {"sessionId": "s-1"}, "agent:main:x": {"sessionId": "s-2"}, "agent:main:cron": {}}
    transcript = b'{"type":"session","id":"s-1"}\n' + b"".join(
        b'{"type":"message","id":"m%d","message":{"role":"user","content":"hi %d"}}\n' % (i, i) for i in range(lines - 1))
    return build_inventory({"agents/main/sessions/sessions.json": (json.dumps(store).encode(), 1.0),
                            "agents/main/sessions/s-1.jsonl": (transcript, 1.0)})


def fixture(events=5, warnings=("entry_invalid", "transcript_missing")):
    return Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None, expected_warnings=warnings,
                   sessions=(ExpectedSession("main", "agent:main:main", "s-1", events),
                             ExpectedSession("main", "agent:main:x", "s-2", 0)))


def test_the_session_sqlite_box_is_parsed_through_its_borders():
    report = reports.parse_import_report("noise\n" + BOX)
    assert (report.legacy_entries, report.sqlite_entries, report.imported_events, report.archived_transcripts,
            report.issues) == (2, 2, 5, 1, 2)


def test_the_report_must_agree_with_entries_that_have_a_session_id_and_with_every_distinct_event():
    report = reports.parse_import_report(BOX)
    assert all(a.passed for a in reports.import_report_agrees(report, state(), fixture()))
    [wrong, _] = reports.import_report_agrees(report, state(lines=6), fixture(events=6))
    assert not wrong.passed and (wrong.expected["imported_events"], wrong.observed["imported_events"]) == (6, 5)


def test_the_events_the_report_must_count_come_from_the_transcripts_not_the_manifest():
    report = reports.parse_import_report(BOX)  # imported=5, and the transcript holds 5 lines
    [counts, _] = reports.import_report_agrees(report, state(lines=5), fixture(events=6))
    assert counts.passed, counts.message()


def test_no_report_is_a_check_the_harness_cannot_make():
    [failure] = reports.import_report_agrees(None, state(), fixture())
    assert not failure.passed and failure.blame == "harness"


def test_a_manifest_move_whose_archive_lost_the_recorded_bytes_fails():
    sha = next(f.sha256 for f in state().files if f.path.endswith("s-1.jsonl"))
    move = {"sourcePath": "/home/node/.openclaw/agents/main/sessions/s-1.jsonl", "kind": "transcript",
            "archivePath": "/home/node/.openclaw/agents/main/session-sqlite-import-archive/a.jsonl.imported-1",
            "artifact": {"identity": {"sha256": sha}}}
    manifest = {"path": "m.json", "completedAt": "t", "targets": [
        {"agentId": "main", "plannedMoves": [move], "completedMoves": [move], "validationBeforeArchive": "passed"}]}
    archive = "agents/main/session-sqlite-import-archive/a.jsonl.imported-1"
    good = FilesSnapshot({archive: StateFile(archive, 1, 1.0, sha)})
    assert all(a.passed for a in reports.manifest_agrees([manifest], state(), good))
    bad = FilesSnapshot({archive: StateFile(archive, 1, 1.0, "other")})
    assert [a.name for a in reports.manifest_agrees([manifest], state(), bad) if not a.passed] == [
        "m.json agent main: every completed move left the source's bytes at its archive path"]
    unfinished = {**manifest, "targets": [{**manifest["targets"][0], "completedMoves": []}]}
    assert not all(a.passed for a in reports.manifest_agrees([unfinished], state(), good))


def test_doctor_validate_must_exit_zero_with_no_issue():
    assert all(a.passed for a in reports.doctor_validate_checks(0, 'log line\n{"totals": {"issues": 0}}'))
    assert [a.passed for a in reports.doctor_validate_checks(1, '{"totals": {"issues": 2}}')] == [False, False]


def test_recovered_orphan_transcripts_count_as_entries_in_the_gateways_report():
    orphan = Fixture(name="t", root=None, catches="", origin="", state_dir_as_written=None,
                     sessions=(ExpectedSession("main", "agent:main:main", "s-1", 1),
                               ExpectedSession("main", "agent:main:recovered:o-1", "o-1", 2, archived=True)))
    report = reports.ImportReport(3, 2, 3, 0, 0, 0)  # two entries with a sessionId (one has no transcript) + the orphan
    # The orphan's 2 events are counted off its transcript on disk, never off the manifest.
    orphan_file = b'{"type":"session","id":"o-1"}\n{"type":"message","id":"m1","message":{"role":"user","content":"x"}}\n'
    with_orphan = build_inventory({"agents/main/sessions/sessions.json": (json.dumps({"agent:main:main": {"sessionId": "s-1"},
                                       "agent:main:x": {"sessionId": "s-2"}, "agent:main:cron": {}}).encode(), 1.0),
                                   "agents/main/sessions/s-1.jsonl": (b'{"type":"session","id":"s-1"}\n', 1.0),
                                   "agents/main/sessions/o-1.jsonl": (orphan_file, 1.0)})
    assert all(a.passed for a in reports.import_report_agrees(report, with_orphan, orphan))
