"""The fault catalogue's mutations and the nothing-lost oracle of a fault case, without Docker."""

import dataclasses
import json

import pytest

from path3_sandbox.containers.volumes import VolumeFile
from path3_sandbox.errors import EXIT_USAGE, UsageError
from path3_sandbox.faults import catalogue
from path3_sandbox.faults.judge import COMPLETED, LOST, REFUSED, outcome, tally
from path3_sandbox.state.inventory import build_inventory
from path3_sandbox.probes.files import FilesSnapshot, StateFile
from path3_sandbox.probes.sqlite import AgentDatabase, SqliteEvent, SqliteSnapshot

STORE = "agents/main/sessions/sessions.json"
LOG = "agents/main/sessions/s1.jsonl"


def event(eid, text):
    return {"type": "message", "id": eid, "message": {"role": "user", "content": text}}


def state(lines=3):
    body = b"\n".join(json.dumps(event(f"e{n}", f"line {n}")).encode() for n in range(1, lines + 1)) + b"\n"
    store = json.dumps({"agent:main:main": {"sessionId": "s1", "updatedAt": 1}}).encode()
    return [VolumeFile(STORE, store, 1.0), VolumeFile(LOG, body, 1.0), VolumeFile("openclaw.json", b"{}", 1.0)]


def inventory_of(files):
    return build_inventory({f.path: (f.data, f.mtime) for f in files})


def files_after(files, moved=()):
    import hashlib

    found = {}
    for f in files:
        path = f"agents/main/session-sqlite-import-archive/{f.path.rsplit('/', 1)[1]}" if f.path in moved else f.path
        found[path] = StateFile(path, len(f.data), 1.0, hashlib.sha256(f.data).hexdigest())
    return FilesSnapshot(found)


def sqlite_with(*ids, twice=()):
    rows = [SqliteEvent("s1", n, eid, "x", False, event(eid, f"line {eid[1:]}")) for n, eid in enumerate(ids, 1)]
    rows += [SqliteEvent("s1", 100 + n, eid, "x", False, event(eid, f"line {eid[1:]}")) for n, eid in enumerate(twice)]
    db = AgentDatabase("main", "agents/main/agent/openclaw-agent.sqlite", {}, ("ok",), None, 1, events={"s1": tuple(rows)})
    return SqliteSnapshot({"main": db}, None)


def test_an_import_that_holds_every_line_once_with_the_bytes_archived_is_completed():
    files = state()
    counts = tally(inventory_of(files), files_after(files, moved=(LOG, STORE)), sqlite_with("e1", "e2", "e3"))
    assert (counts.events, counts.imported, counts.lost, counts.duplicates) == (3, 3, [], [])
    assert counts.legacy_kept == counts.legacy_files == 2
    assert outcome(True, counts, []) == COMPLETED


def test_a_line_neither_in_sqlite_nor_in_any_kept_file_is_lost_and_a_repeated_id_is_a_duplicate():
    files = state()
    after = files_after([f for f in files if f.path != LOG])  # the transcript's bytes are gone
    counts = tally(inventory_of(files), after, sqlite_with("e1", "e2", twice=("e2",)))
    assert counts.lost == [f"{LOG} line 3 (e3)"] and counts.duplicates == ["main:s1: e2 ×2"]
    assert outcome(True, counts, []) == LOST


def test_a_line_the_control_imported_and_the_fault_case_did_not_is_lost_even_with_its_bytes_kept():
    files = state()
    control = tally(inventory_of(files), files_after(files, moved=(LOG,)), sqlite_with("e1", "e2", "e3"))
    case = tally(inventory_of(files), files_after(files, moved=(LOG,)), sqlite_with("e1"))
    assert case.bytes_only == 2 and case.lost == []
    assert case.versus(control) == [f"{LOG}:2", f"{LOG}:3"]
    assert outcome(True, case, case.versus(control)) == LOST


def test_a_refusal_is_refused_only_while_every_file_it_moved_had_its_lines_imported_first():
    files = state()
    untouched = tally(inventory_of(files), files_after(files), sqlite_with())
    assert outcome(False, untouched, []) == REFUSED
    moved = tally(inventory_of(files), files_after(files, moved=(STORE,)), sqlite_with())
    assert moved.moved_unimported and outcome(False, moved, []) == LOST, "its store archived, the transcript unimported"
    # A refusal that still imported what it could (another agent's sessions, here this one) and archived it.
    imported = tally(inventory_of(files), files_after(files, moved=(STORE, LOG)), sqlite_with("e1", "e2", "e3"))
    assert imported.moved_unimported == [] and outcome(False, imported, []) == REFUSED
    # A fault on a migrated state: the legacy files are archived already; its refusal is judged by the files the fault
    # left (kept_every_file), whatever happened to the seeded ones.
    assert outcome(False, moved, [], kept_migrated=True) == REFUSED
    assert outcome(False, imported, [], kept_migrated=False) == LOST


def test_a_truncated_last_line_leaves_the_readable_prefix_to_import():
    files = catalogue.truncate_last_line(state())
    transcript = next(f for f in files if f.path == LOG)
    assert not transcript.data.endswith(b"\n") and transcript.data.count(b"\n") == 2
    counts = tally(inventory_of(files), files_after(files, moved=(LOG,)), sqlite_with("e1"))
    assert counts.readable_not_imported() == [f"{LOG}:2"], "line 2 is well-formed and before the cut: it must import"


def test_an_invalid_utf8_line_is_malformed_and_lines_after_it_are_not_required():
    files = catalogue.invalid_utf8_line(state(4))
    inventory = inventory_of(files)
    [transcript] = inventory.transcripts
    assert transcript.malformed_lines == (3,)
    counts = tally(inventory, files_after(files, moved=(LOG,)), sqlite_with("e1", "e2"))
    assert counts.readable_not_imported() == []


def test_a_json5_store_still_names_its_sessions_but_is_not_strict_json():
    files = catalogue.BY_NAME["json5-store"].mutate(state())
    data = next(f for f in files if f.path == STORE).data.decode()
    assert data.startswith("// ") and ",\n}" in data
    with pytest.raises(ValueError):
        json.loads(data)


def test_the_event_over_1mib_is_one_line_over_a_mebibyte():
    files = catalogue.big_event(state())
    last = next(f for f in files if f.path == LOG).data.rstrip(b"\n").split(b"\n")[-1]
    assert len(last) > 1024 * 1024 and json.loads(last)["parentId"] == "e3"


def test_the_50mib_transcript_continues_the_conversation_as_one_chain_of_well_formed_turns():
    files = catalogue.big_transcript(state())
    data = next(f for f in files if f.path == LOG).data
    lines = [json.loads(line) for line in data.rstrip(b"\n").split(b"\n")]
    assert len(data) >= 50 << 20 and data.endswith(b"\n")
    assert [e["id"] for e in lines[:3]] == ["e1", "e2", "e3"] and lines[3]["parentId"] == "e3"
    assert all(after["parentId"] == before["id"] for before, after in zip(lines[3:], lines[4:]))
    assert len({e["id"] for e in lines}) == len(lines)


def test_a_refusal_on_a_migrated_state_must_leave_its_databases_archive_and_manifests_as_they_were():
    from path3_sandbox.faults.judge import kept_every_file

    def snap(**files):
        return FilesSnapshot({p: StateFile(p, 1, 1.0, h) for p, h in files.items()})

    db, shm, log = "agents/main/agent/openclaw-agent.sqlite", "agents/main/agent/openclaw-agent.sqlite-shm", "logs/x.log"
    before = snap(**{db: "a", shm: "s", log: "l"})
    assert kept_every_file(before, snap(**{db: "a", shm: "rebuilt", log: "more"}))
    assert not kept_every_file(before, snap(**{db: "b", shm: "s", log: "l"}))
    assert not kept_every_file(before, snap(**{shm: "s", log: "l"}))


def test_the_clock_fault_preloads_the_images_libfaketime_a_year_ahead_with_real_timers():
    from pathlib import Path

    env = catalogue.clock_ahead_env()
    assert env == {"LD_PRELOAD": catalogue.FAKETIME_LIB, "FAKETIME": "+365d", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    dockerfile = (Path(__file__).parents[2] / "docker" / "gateway" / "Dockerfile").read_text()
    assert "libfaketime" in dockerfile and catalogue.FAKETIME_LIB in dockerfile


def test_unknown_faults_are_bad_input_and_the_list_names_every_fault(capsys):
    from path3_sandbox.cli import main

    with pytest.raises(UsageError, match="unknown fault"):
        catalogue.select(["kill-mid-import", "teleport"])
    assert main(["faults", "--fault", "teleport"]) == EXIT_USAGE
    assert main(["faults", "--fault", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(f.name in listed for f in catalogue.FAULTS)


def test_every_fault_allows_only_known_outcomes_and_the_make_test_cases_exist():
    assert all(set(f.allowed) <= {COMPLETED, REFUSED} for f in catalogue.FAULTS)
    assert set(catalogue.MAKE_TEST) <= set(catalogue.BY_NAME)
    assert [f.name for f in catalogue.FAULTS if f.skipped] == [], "every fault of the issue's catalogue runs"


@pytest.mark.parametrize("message, names", [
    ('Legacy session store requires migration: /home/node/.openclaw/agents/main/sessions/sessions.json. Run "openclaw '
     'doctor --fix" against the same state/config', True),
    ("database or disk is full | gateway.maintenance_required | ERR_SQLITE_ERROR. Stop the service …, then run openclaw "
     "doctor --fix", False),  # the fix, but no file
    ("OpenClaw startup migrations did not complete cleanly; refusing to report the gateway ready.", False),
])
def test_an_error_must_name_the_file_and_the_fix(message, names):
    from path3_sandbox.proof.contracts import StartKind
    from path3_sandbox.faults.case import _names_file_and_fix

    assert _names_file_and_fix(StartKind("refused", 78, 1.0, message=message)) is names
    assert _names_file_and_fix(StartKind("imported", None, 1.0)) is None, "a start that did not exit says nothing"


def _swept(point, hit, seen=0):
    from path3_sandbox.faults.result import CaseResult

    return CaseResult(f"kill-mid-import@{point}", catalogue.BY_NAME["kill-mid-import"], COMPLETED, True, None, [],
                      {"points_seen": [{}] * seen}, [], 0.0, 0.0, "x", hit=hit, point=point)


def _sweep(how, last_point, most=12):
    """The points a sweep kills at when the import passes `last_point` observed points."""
    from path3_sandbox.faults.run import next_sweep_point

    tried = []
    while (point := next_sweep_point(tried, how, most)) is not None:
        hit = point <= last_point
        tried.append(_swept(point, hit, seen=0 if hit else last_point))
    return [r.point for r in tried]


def test_a_doubling_sweep_kills_at_powers_of_two_until_the_import_outruns_it_then_at_its_last_point():
    assert _sweep("doubling", 37) == [1, 2, 4, 8, 16, 32, 64, 37]
    assert _sweep("doubling", 8) == [1, 2, 4, 8, 16]  # the last point was already a kill point


def test_an_every_point_sweep_kills_at_each_point_until_the_import_outruns_it_and_stops_at_the_cap():
    assert _sweep("every", 3) == [1, 2, 3, 4]
    assert _sweep("every", 37, most=5) == [1, 2, 3, 4, 5]
    assert _sweep("doubling", 10_000, most=3) == [1, 2, 4]


def test_a_case_whose_fault_never_happened_says_not_hit_never_pass_and_a_loss_is_a_fail_all_the_same():
    from path3_sandbox.faults.run import counted

    untouched, killed = _swept(64, hit=False, seen=37), _swept(1, hit=True)
    lost = dataclasses.replace(_swept(2, hit=False), passed=False)
    assert (untouched.verdict, killed.verdict, lost.verdict) == ("not hit", "pass", "fail")
    assert counted([untouched, killed, lost]) == "1 pass, 1 fail, 1 not hit, 0 skipped"


def test_an_exited_start_names_the_file_and_the_fix_when_one_error_and_the_lines_after_it_do():
    from path3_sandbox.proof.contracts import StartKind
    from path3_sandbox.faults.case import _advice

    # 2026.9.5 with its state dir owned by another uid: the advice comes first, a misleading last line after it.
    output = ("read failed: Error: EACCES: permission denied, open '/home/node/.openclaw/openclaw.json'\n\n"
              "Config file is not readable by the current process. If running in a container\n"
              "or 1-click deployment, fix ownership with:\n  chown 1000 \"/home/node/.openclaw/openclaw.json\"\n"
              "Gateway start blocked: existing config is missing gateway.mode.\n")
    exited = StartKind("crashed", 78, 1.0, message="Config write audit: SQLite diagnostic_events/config-audit state")
    assert "chown 1000" in _advice(exited, output)
    assert _advice(exited, "Error: database or disk is full\nbye\n") is None, "no file named: no advice"
    assert _advice(exited, "a path /home/node/x.json\nremove it\n") is None, "advice must follow an error"
    assert _advice(StartKind("imported", None, 1.0), output) is None
    # 2026.9.6 with a full disk: a box naming a backup file, then config notes that "moved" a key: no error, no fix.
    disk = ("│    /home/node/.openclaw/state/openclaw.sqlite.pre-startup-migration-6f23.bak  │\n"
            "[config] warnings: agents.entries: Moved agents.list to keyed agents.entries.; Removed retired markers.\n"
            "[sqlite/transaction] slow SQLite transaction hold database=/home/node/.openclaw/state/openclaw.sqlite\n")
    assert _advice(exited, disk) is None


def test_a_ready_gateway_that_logs_run_doctor_fix_is_advice_to_follow_and_a_quiet_ready_start_is_not():
    from path3_sandbox.faults.case import _logged_advice

    # 2026.9.5 on an agent database with a corrupted page: ready first, then this, from a plugin.
    corrupted = ("2026-11-30T15:03:31.571+00:00 [gateway] ready\n"
                 "2026-11-30T15:03:32.381+00:00 [plugins] memory-core: dreaming startup cleanup failed for agent main: "
                 "SQLite integrity_check failed for /home/node/.openclaw/agents/main/agent/openclaw-agent.sqlite\n"
                 'Sessions remain unavailable. Stop the Gateway, run "openclaw doctor --fix" to inspect and repair '
                 "this agent database, and restart.\n"
                 'Sessions remain unavailable. Stop the Gateway, run "openclaw doctor --fix" to inspect and repair '
                 "this agent database, and restart.\n")
    advice = _logged_advice(corrupted)
    assert advice and advice.count("doctor --fix") == 1, "the same line twice is one piece of advice"
    quiet = ("2026-11-30T14:51:40.889+00:00 [gateway] ready\n"
             "2026-11-30T14:51:44.323+00:00 [plugins] memory-core: created managed dreaming cron job.\n")
    assert _logged_advice(quiet) is None


def test_a_fault_whose_setup_cannot_bring_the_gateway_up_is_the_gateways_finding_not_a_harness_error(tmp_path):
    from path3_sandbox.errors import GatewayStuck
    from path3_sandbox.faults.case import Case

    def stuck(case):
        raise GatewayStuck("the import before the fault did not come up: ['refused', 'refused']: startup "
                           "migrations did not complete cleanly")

    fault = catalogue.Fault("stuck-setup", "leftovers", "a setup that needs the Gateway up", catalogue.SAFE,
                            inject=stuck)
    case = Case(fault, image=None, fixture=None, contract=None, resources=None, root=tmp_path)
    case._seed = lambda evidence: None  # no volume: the injection fails before it would need one
    result = case.run()
    assert result.verdict == "fail"
    assert result.first_failure.startswith("[gateway]"), result.first_failure
    assert "did not come up" in result.first_failure


def test_a_line_counts_as_imported_only_in_its_own_session_with_its_own_content():
    files = state()
    inventory, after = inventory_of(files), files_after(files, moved=(LOG,))
    elsewhere = sqlite_with("e1", "e2", "e3")
    elsewhere.agents["main"].events["s2"] = elsewhere.agents["main"].events.pop("s1")  # another session holds them
    assert tally(inventory, after, elsewhere).imported == 0
    emptied = sqlite_with("e1", "e2", "e3")
    rows = emptied.agents["main"].events["s1"]
    emptied.agents["main"].events["s1"] = (rows[0], dataclasses.replace(rows[1], value=event("e2", "")), rows[2])
    counts = tally(inventory, after, emptied)
    assert counts.imported == 2 and counts.bytes_only == 1, "e2's id with emptied content is not e2"


def test_the_control_must_import_every_readable_line_so_an_import_that_archives_all_makes_no_empty_baseline():
    from path3_sandbox.faults.judge import unreached_lines

    files = state()
    nothing = tally(inventory_of(files), files_after(files, moved=(LOG, STORE)), sqlite_with())
    assert nothing.lost == [] and nothing.bytes_only == 3, "every byte archived: nothing lost as bytes"
    control_unreached = unreached_lines(nothing, None, came_up=True, judged_alone=True)
    assert control_unreached == [f"{LOG}:1", f"{LOG}:2", f"{LOG}:3"]
    assert outcome(True, nothing, control_unreached) == LOST
    assert unreached_lines(nothing, None, came_up=False, judged_alone=True) == []  # a refusal: judged by what it kept


def test_a_kill_watcher_that_never_said_it_watches_is_a_harness_failure_not_a_case_not_hit():
    from path3_sandbox.errors import HarnessFailure
    from path3_sandbox.faults.kill import KillRecord, _watcher_started

    _watcher_started(KillRecord("SIGKILL at observed point 1", watching=True))
    with pytest.raises(HarnessFailure, match="never said it watches"):
        _watcher_started(KillRecord("SIGKILL at observed point 1", hit=False, watching=False))


def test_a_fault_that_never_met_the_run_exits_5_while_a_sweeps_last_point_not_hit_does_not_count():
    from types import SimpleNamespace

    from path3_sandbox.faults.run import exit_code, not_hit

    def case(fault, verdict, findings=0):
        return SimpleNamespace(fault=SimpleNamespace(name=fault), verdict=verdict, passed=verdict != "fail",
                               findings=findings)

    sweep = [case("control", "pass"), case("kill-mid-import", "pass"), case("kill-mid-import", "not hit")]
    assert not_hit(sweep) == [] and exit_code(sweep) == 0
    never = sweep + [case("clock-ahead", "not hit")]
    assert not_hit(never) == ["clock-ahead"] and exit_code(never) == 5
    assert exit_code(never + [case("disk-full", "fail", findings=1)]) == 1
    assert exit_code(sweep + [case("disk-full", "fail", findings=0)]) == 4
