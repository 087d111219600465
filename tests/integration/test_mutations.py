"""Prove the checks can fail: a real 2026.9.6 import, then SQLite and the state tampered, once per case.

The state a real Gateway imported (once per test session: conftest.py's `imports`) is copied inside a one-off
container on its volume, one tamper is applied to the copy (node:sqlite, writable), and the same probes the proof
uses read it back (tests/integration/mutants.py). The
untampered copy must pass every nothing-lost check; each tampered one must fail, naming what was hit.
The table below is the README's mutation table.
"""

from __future__ import annotations

import pytest

from path3_sandbox.faults.judge import tally, unreached_lines
from path3_sandbox.proof.reachable import session_reachable
from path3_sandbox.scenario.steps import _rows_kept
from path3_sandbox.upgrades import era_files

from .mutants import assert_red, KEY, nothing_lost_failures, read_copy

FIXTURE = "minimal"
SID = "1174b3f9-522e-5ab0-8002-2036d072c238"

# tamper -> the JavaScript applied to the copy (root in R, the agent DB open as db), and what the first failure names.
TAMPERS = {
    "delete one event": (f"db.exec(\"delete from transcript_events where session_id='{SID}' and seq=2\")", SID),
    "swap two events' order": (
        f"db.exec(\"update transcript_events set seq=-1 where session_id='{SID}' and seq=1\");"
        f"db.exec(\"update transcript_events set seq=1 where session_id='{SID}' and seq=2\");"
        f"db.exec(\"update transcript_events set seq=2 where session_id='{SID}' and seq=-1\")", SID),
    "change one byte of one event's content": (
        f"db.exec(\"update transcript_events set event_json=replace(event_json, 'release notes', 'release notez') "
        f"where session_id='{SID}' and seq=1\")", SID),
    "drop one metadata field": (
        f"db.exec(\"update session_nodes set entry_json=json_remove(entry_json, '$.model') where session_key='{KEY}'\")",
        "model: dropped"),
    "flip archived": (f"db.exec(\"update session_nodes set archived_at=1 where session_key='{KEY}'\")", KEY),
    "delete one identity row": (
        f"db.exec(\"delete from transcript_event_identities where session_id='{SID}' and seq=1\")", "identities"),
    "delete one archived legacy file": (
        "const dir = path.join(R, 'agents/main/session-sqlite-import-archive');"
        f"fs.unlinkSync(path.join(dir, fs.readdirSync(dir).find(n => n.includes('{SID}'))))", f"{SID}.jsonl"),
    "add one unexplained event": (
        f"const row = db.prepare(\"select * from transcript_events where session_id='{SID}' order by seq desc limit 1\").get();"
        "row.seq += 1; row.event_json = JSON.stringify({type: 'message', id: 'path3-mutant', message: {role: 'user', content: 'x'}});"
        "if ('event_zstd' in row) row.event_zstd = null;"
        "const cols = Object.keys(row);"
        "db.prepare(`insert into transcript_events (${cols.join(',')}) values (${cols.map(() => '?').join(',')})`).run(...Object.values(row))",
        "unexplained event"),
    # minimal's transcripts are v3 with no compaction: a nulled chain is a content change there (v1's synthetic-id
    # chain rule is unit-tested in test_oracle.py), and a firstKeptEntryId tamper has no compaction to hit.
    "null every parentId of a session": (
        f"db.exec(\"update transcript_events set event_json=json_set(event_json, '$.parentId', json('null')) "
        f"where session_id='{SID}' and json_extract(event_json, '$.parentId') is not null\")", SID),
    "change a label": (
        f"db.exec(\"update session_nodes set entry_json=json_set(entry_json, '$.label', 'tampered') where session_key='{KEY}'\")",
        "label: changed"),
}

@pytest.fixture(scope="module")
def imported(imports):
    return imports(FIXTURE)


def test_the_untampered_import_passes_every_nothing_lost_check(imported):
    assert nothing_lost_failures(imported, None) == []


@pytest.mark.parametrize("case", list(TAMPERS))
def test_each_tamper_turns_the_verdict_red_naming_what_it_hit(imported, case):
    script, names = TAMPERS[case]
    failures = nothing_lost_failures(imported, script)
    assert_red(case, failures, names)


# -- the other judges, each on a tampered copy: the faults judge (route 3), the restart step's rows (7), imported
# sessions' reachability (8) and a path hop's era files (9). tamper -> (script, the judge, what its failure names).
def faults_judge(imported, untampered, after, after_files) -> list[str]:
    """The control case's judgement: every readable line a store points at, imported in its own session."""
    counts = tally(imported.inventory, after_files, after)
    return unreached_lines(counts, None, came_up=True, judged_alone=True) + counts.lost


def restart_rows(imported, untampered, after, after_files) -> list[str]:
    proof = (SID, {})
    kept, changed = _rows_kept(untampered[0], after, proof, proof)
    return [] if kept else [str(changed)]


def reachability(imported, untampered, after, after_files) -> list[str]:
    return session_reachable(KEY, SID, after, imported.history)


def era_files_of_a_hop(imported, untampered, after, after_files) -> list[str]:
    check = era_files.gone_check("2026.9.6", era_files.compare(imported.seeded, after_files))
    return [] if check.passed else [str(check.observed)]


JUDGE_TAMPERS = {
    "faults: move a session's events to another session": (
        f"db.exec(\"update transcript_events set session_id='path3-elsewhere' where session_id='{SID}'\")",
        faults_judge, SID),
    "faults: empty one event's content, its id kept": (
        f"db.exec(\"update transcript_events set event_json=json_set(event_json, '$.message.content', '') "
        f"where session_id='{SID}' and seq=2\")", faults_judge, SID),
    "restart: change one byte of an event the session had": (TAMPERS["change one byte of one event's content"][0],
                                                            restart_rows, "seq"),
    "restart: drop the session's last event": (
        f"db.exec(\"delete from transcript_events where session_id='{SID}' and seq=(select max(seq) from "
        f"transcript_events where session_id='{SID}')\")", restart_rows, "fewer"),
    "reachability: delete the session's window": (
        f"db.exec(\"delete from session_windows where session_id='{SID}'\")", reachability, "session_windows"),
    "reachability: rename the newest message's id": (
        f"db.exec(\"update transcript_events set event_json=json_set(event_json, '$.id', 'path3-renamed') where "
        f"session_id='{SID}' and seq=(select max(seq) from transcript_events where session_id='{SID}' and "
        f"json_extract(event_json, '$.type')='message')\")", reachability, "newest message"),
    "paths: delete one archived legacy file": (TAMPERS["delete one archived legacy file"][0], era_files_of_a_hop,
                                              f"{SID}.jsonl"),
}


@pytest.fixture(scope="module")
def untampered(imported):
    return read_copy(imported, None)[:2]


def test_the_untampered_import_passes_every_other_judge(imported, untampered):
    for name, (_, judge, _) in JUDGE_TAMPERS.items():
        assert judge(imported, untampered, *untampered) == [], name


@pytest.mark.parametrize("case", list(JUDGE_TAMPERS))
def test_each_tamper_turns_the_other_judges_red_naming_what_it_hit(imported, untampered, case):
    script, judge, names = JUDGE_TAMPERS[case]
    failures = judge(imported, untampered, *read_copy(imported, script)[:2])
    assert failures, f"{case}: the judge found nothing"
    assert names in " ".join(failures), f"{case}: {failures[:3]} does not name {names!r}"
    print(f"\nMUTATION | {case} | {' '.join(failures)[:300]}")
