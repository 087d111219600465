"""`path3-sandbox bench` without Docker: the generator's shapes and determinism, argument errors, the start's state
machine on a scripted Gateway, the reports (md table, notes), the floor's DDL, the plot with and without matplotlib."""

from __future__ import annotations

import json
import sys

import pytest

from path3_sandbox.bench import generate as gen
from path3_sandbox.bench.floor import floor_ddl
from path3_sandbox.bench.measure import DOCTOR_IMPORTED, IMPORTED, TIMEOUT, GatewayRun, _start
from path3_sandbox.bench.memory import PSUTIL, MemoryPeak, cgroup_peak_bytes
from path3_sandbox.bench.plot import INSTALL_HINT, plot
from path3_sandbox.bench.probe import ImportState, import_lines
from path3_sandbox.bench.report import BenchRow, bench_json, bench_markdown
from path3_sandbox.bench.run import exit_code, parse_events, parse_sizes, parse_time_limit
from path3_sandbox.cli import main
from path3_sandbox.state.config import STATE_DIR
from path3_sandbox.containers.waits import StartObservation
from path3_sandbox.errors import EXIT_USAGE, UsageError

NOW_MS = 1_796_000_000_000


def lines_of(state, session_id):
    data = next(f.data for f in state.files if f.path == f"{gen.SESSIONS_DIR}/{session_id}.jsonl")
    return [json.loads(line) for line in data.decode().splitlines()]


def store_of(state):
    return json.loads(next(f.data for f in state.files if f.path == gen.STORE_PATH))


# -- the generator ----------------------------------------------------------------------------------------------
def test_the_store_has_one_entry_per_session_keyed_and_shaped_as_real_releases_write_them():
    state = gen.generate(60, 4, now_ms=NOW_MS)
    store = store_of(state)
    assert len(store) == 60 and list(store)[0] == "agent:main:main"
    assert all(key.startswith("agent:main:") and key == key.lower() for key in store)
    assert {"agent:main:telegram:direct:5", "agent:main:cron:travel-1"} <= set(store)
    for key, entry in store.items():
        assert entry["sessionFile"] == f"{STATE_DIR}/{gen.SESSIONS_DIR}/{entry['sessionId']}.jsonl"
        assert isinstance(entry["updatedAt"], int) and entry["updatedAt"] <= NOW_MS - gen.NEWEST_AGE_MS
        assert {"sessionStartedAt", "lastInteractionAt", "model", "modelProvider", "status"} <= set(entry)
    assert len({e["sessionId"] for e in store.values()}) == 60
    assert {f.path for f in state.transcripts} == {f"{gen.SESSIONS_DIR}/{e['sessionId']}.jsonl" for e in store.values()}


def test_a_transcript_is_a_header_then_alternating_messages_chained_by_id_and_parent_in_time_order():
    state = gen.generate(3, 7, now_ms=NOW_MS)
    for entry in store_of(state).values():
        header, *events = lines_of(state, entry["sessionId"])
        assert header["type"] == "session" and header["version"] == 3 and header["id"] == entry["sessionId"]
        assert len(events) == 7
        assert [e["message"]["role"] for e in events] == ["user", "assistant"] * 3 + ["user"]
        assert events[0]["parentId"] is None
        assert [e["parentId"] for e in events[1:]] == [e["id"] for e in events[:-1]]
        assert len({e["id"] for e in events}) == 7 and all(len(e["id"]) == 8 for e in events)
        stamps = [header["timestamp"]] + [e["timestamp"] for e in events]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert isinstance(events[1]["message"]["content"], list) and "usage" in events[1]["message"]
    assert state.events == 3 * 8, "every line is a row, the header included"


def test_one_session_in_fifty_has_one_event_big_enough_to_be_compressed():
    state = gen.generate(120, 5, now_ms=NOW_MS)
    assert state.big_events == 3  # sessions 1, 51 and 101
    big = [line for f in state.transcripts for line in f.data.splitlines() if len(line) > 1024]
    assert len(big) == 3 and all(len(line) >= gen.BIG_BYTES for line in big)
    assert gen.generate(10, 5, now_ms=NOW_MS).big_events == 1, "even the smallest size exercises compression"


def test_the_same_seed_and_clock_give_the_same_bytes_another_seed_other_ones():
    one, two = gen.generate(40, 6, seed=7, now_ms=NOW_MS), gen.generate(40, 6, seed=7, now_ms=NOW_MS)
    assert [(f.path, f.data, f.mtime) for f in one.files] == [(f.path, f.data, f.mtime) for f in two.files]
    other = gen.generate(40, 6, seed=8, now_ms=NOW_MS)
    assert {f.path for f in other.files} != {f.path for f in one.files}


def test_no_two_lines_are_byte_identical_and_every_line_is_json():
    state = gen.generate(200, 10, now_ms=NOW_MS)
    lines = [line for f in state.transcripts for line in f.data.splitlines()]
    assert len(lines) == state.events == len(set(lines)), "a repeated line would be de-duplicated by the import"
    assert all(json.loads(line) for line in lines)
    assert state.bytes == sum(len(f.data) for f in state.files)


def test_mtimes_are_recent_and_the_store_is_the_newest_file():
    state = gen.generate(5, 2, now_ms=NOW_MS)
    newest = (NOW_MS - gen.NEWEST_AGE_MS) / 1000
    assert max(f.mtime for f in state.files) == newest
    assert next(f for f in state.files if f.path == gen.STORE_PATH).mtime == newest


# -- arguments ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0", "abc", "", "10,,100", "-5", "10,abc", "1.5", "10, 0"])
def test_a_bad_size_is_a_usage_error_with_a_hint(text):
    with pytest.raises(UsageError) as raised:
        parse_sizes(text)
    assert raised.value.hint and "--sessions" in raised.value.hint


def test_sizes_parse_in_the_order_given_and_each_once():
    assert parse_sizes("10,100,1000,5000") == (10, 100, 1000, 5000)
    assert parse_sizes(" 100 , 10 ") == (100, 10)
    with pytest.raises(UsageError, match="twice"):
        parse_sizes("10,10")


def test_time_limits_and_events():
    assert [parse_time_limit(t) for t in ("15m", "90s", "1h", "2")] == [900, 90, 3600, 120]
    for bad in ("0", "5x", "-1m", "m"):
        with pytest.raises(UsageError, match="--time-limit"):
            parse_time_limit(bad)
    assert parse_events(20) == 20
    with pytest.raises(UsageError, match="--events 0"):
        parse_events(0)


@pytest.mark.parametrize("argv", [["--sessions", "0"], ["--sessions", "abc"], ["--events", "0"],
                                  ["--time-limit", "soon"]])
def test_the_command_exits_2_on_bad_input_before_any_docker_work(argv, capsys, monkeypatch):
    import path3_sandbox.containers.docker_client as docker_client

    monkeypatch.setattr(docker_client, "docker_client", lambda: (_ for _ in ()).throw(AssertionError("docker was asked")))
    assert main(["bench", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "path3-sandbox: error:" in err and "fix: e.g." in err and "Traceback" not in err


# -- the start, on a scripted Gateway -------------------------------------------------------------------------------
REPORT = "│  - Legacy entries: 2; SQLite entries: 2.  │\n│  - Transcript events: imported=6; validated=0.  │\n"
REFUSAL = ('Gateway failed to start: Legacy session store requires migration: /home/node/.openclaw/agents/main/'
           'sessions/sessions.json. Run "openclaw doctor --fix"\n')


class ScriptedGateway:
    """launch/observe_start/start/doctor_fix/logs as Gateway has them, replaying scripted starts."""

    def __init__(self, starts, doctor_output=""):
        self.starts, self.output, self.doctor_output = list(starts), "", doctor_output
        self.ready_timeout_s, self.calls = 60.0, []

    def launch(self):
        self.calls.append("launch")

    def observe_start(self):
        observation, output = self.starts.pop(0)
        self.output += output
        return observation

    def start(self):
        self.calls.append("start")
        return self.observe_start()

    def doctor_fix(self, timeout_s):
        from path3_sandbox.containers.gateway import ExecResult

        self.calls.append(f"doctor({timeout_s > 0})")
        return ExecResult(["openclaw", "doctor", "--fix"], 0, self.doctor_output, 2.5)

    def logs(self):
        return self.output


def test_a_startup_import_is_measured_from_the_launch_with_the_gateways_report():
    gateway = ScriptedGateway([(StartObservation("ready", 12.0), REPORT)])
    run = GatewayRun()
    _start(gateway, run, deadline=float("inf"), label="t")
    assert (run.outcome, run.imported_entries, run.imported_events) == (IMPORTED, 2, 6)
    assert run.seconds_to_ready is not None and run.doctor is None


def test_a_refusal_gets_doctor_fix_then_a_start_and_the_report_is_doctors():
    gateway = ScriptedGateway([(StartObservation("exited", 3.0, 78), REFUSAL), (StartObservation("ready", 9.0), "")],
                              doctor_output=REPORT)
    run = GatewayRun()
    _start(gateway, run, deadline=float("inf"), label="t")
    assert gateway.calls == ["start", "doctor(True)", "start"]
    assert (run.outcome, run.imported_events, run.doctor["exit_code"]) == (DOCTOR_IMPORTED, 6, 0)
    assert [s.kind for s in run.starts] == ["refused", "ready-without-import"]


def test_a_start_not_ready_within_the_limit_is_a_timeout():
    gateway = ScriptedGateway([(StartObservation("timeout", 60.0), "")])
    run = GatewayRun()
    _start(gateway, run, deadline=float("inf"), label="t")
    assert run.outcome == TIMEOUT and run.seconds_to_ready is None


# -- what the Gateway reports, and the floor's table ---------------------------------------------------------------
def test_the_gateways_lines_about_the_import_keep_their_time_and_timing():
    stdout = (REPORT + "2026-11-30T14:01:49.982+00:00 [session-sqlite] slow SQLite reclamation Worker operation "
              "elapsedMs=2290 outcome=resolved\n2026-11-30T14:02:05.840+00:00 [gateway] http server listening "
              "(14 plugins: a, b; 31.3s)\n2026-11-30T14:02:06.000+00:00 [gateway] ready\n")
    found = import_lines(stdout)
    assert [line["text"] for line in found][:2] == ["- Legacy entries: 2; SQLite entries: 2.",
                                                    "- Transcript events: imported=6; validated=0."]
    assert [(line["time"], line["seconds"]) for line in found[2:]] == [("2026-11-30T14:01:49.982+00:00", 2.29),
                                                                       ("2026-11-30T14:02:05.840+00:00", 31.3)]


def test_the_import_seconds_are_the_manifests_and_progress_says_what_was_done():
    state = ImportState(({"agent": "main", "rows": 40, "bytes": 4096, "wal_bytes": 1024, "columns": [{"name": "seq"}],
                          "schema": [{"type": "table", "name": "transcript_events", "sql": "CREATE TABLE t (x)"}]},),
                        ({"startedAt": "2026-11-30T14:01:20.869Z", "completedAt": None, "plannedMoves": 11,
                          "completedMoves": 4},), ())
    assert state.import_seconds is None
    assert state.progress() == {"manifests": 1, "planned_moves": 11, "completed_moves": 4, "completed": False,
                                "rows": 40, "sqlite_bytes": 5120}
    done = ImportState(state.databases, ({"startedAt": "2026-11-30T14:01:20.869Z",
                                          "completedAt": "2026-11-30T14:01:24.751Z"},), ())
    assert done.import_seconds == pytest.approx(3.882)


def test_the_floor_creates_the_table_and_its_indexes_never_its_triggers():
    schema = ({"type": "table", "name": "transcript_events", "sql": "CREATE TABLE transcript_events (a) STRICT"},
              {"type": "index", "name": "by_a", "sql": "CREATE INDEX by_a ON transcript_events(a)"},
              {"type": "trigger", "name": "t", "sql": "CREATE TRIGGER t AFTER INSERT ON transcript_events BEGIN END"})
    assert floor_ddl(schema) == ("CREATE TABLE IF NOT EXISTS transcript_events (a) STRICT",
                                 "CREATE INDEX IF NOT EXISTS by_a ON transcript_events(a)")


def test_a_cgroup_peak_is_read_from_the_last_line():
    assert cgroup_peak_bytes("1062531072\n") == 1062531072
    assert cgroup_peak_bytes("cat: no such file\n") is None and cgroup_peak_bytes("") is None


# -- reports ----------------------------------------------------------------------------------------------------------
META = {"openclaw": "2026.9.6", "contract": "startup-import", "events_per_session": 20, "time_limit_s": 900.0,
        "cpus": 2}


def row(sessions, outcome=IMPORTED, imported=None, **extra):
    events = sessions * 21
    values = dict(sessions=sessions, events_per_session=20, events=events, legacy_bytes=sessions * 15 * 2**10,
                  big_events=sessions // 50, outcome=outcome, seconds_to_ready=60.5, import_seconds=4.0,
                  import_began_s=25.2, imported_entries=sessions,
                  imported_events=events if imported is None else imported,
                  rows_in_sqlite=events if imported is None else imported, peak_rss_mib=1240.0, memory_source=PSUTIL,
                  cgroup_peak_mib=1013.3, sqlite_bytes=2**20, events_per_s=events / 4.0, events_per_s_basis="x",
                  floor_seconds=0.05, floor_events_per_s=events / 0.05, floor_bytes=2**19, floor_peak_rss_mib=60.0,
                  evidence=f"{sessions}x20")
    values.update(extra)
    return BenchRow(**values)


def test_the_md_table_has_a_row_per_size_with_the_gateway_beside_the_floor():
    text = bench_markdown(META, [row(10), row(100)])
    assert text.startswith("# Import scaling: openclaw 2026.9.6 (startup-import)")
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0].startswith("| sessions | events | legacy MiB | outcome | ready s | import s (began at s) |")
    assert table[0].endswith("| floor s | floor events/s | × floor |") and len(table) == 4
    assert table[2] == ("| 10 | 210 | 0.1 | imported | 60.5 | 4.0 (25.2) | 210 | 1,240 | 1.0 | 52 | 0.05 | 4,200 "
                        "| 80 |")
    assert "Peak RSS: psutil" in text


def test_a_timeout_says_what_was_done_by_then_and_a_refusal_its_phases():
    timeout = row(5000, TIMEOUT, imported=None, seconds_to_ready=None, import_seconds=None, events_per_s=None,
                  at_time_limit={"manifests": 1, "planned_moves": 5001, "completed_moves": 1200, "completed": False,
                                 "rows": 30000, "sqlite_bytes": 40 * 2**20})
    refused = row(10, DOCTOR_IMPORTED, refusal_seconds=3.1, doctor_seconds=27.4)
    text = bench_markdown(META, [refused, timeout])
    assert "- 10x20: refused in 3.1s, then doctor --fix 27.4s, then the start; ready 60.5s" in text
    assert ("- 5000x20: **not ready within 900s**. By then: 1200/5001 moves of 1 migration run(s) completed, "
            "30000 transcript rows committed of 105000, 40.0 MiB of SQLite.") in text
    assert "| 5000 | 105000 |" in text and "| timeout |" in text


def test_a_size_that_imported_fewer_events_is_marked_and_fails_the_run():
    short = row(10, imported=200)
    text = bench_markdown(META, [short])
    assert "| 200 ⚠ |" in text and "| **imported** |" in text
    assert "the Gateway reports 200 events imported and SQLite holds 200 rows; 210 were generated" in text
    assert exit_code([row(10), short]) == 1
    assert exit_code([row(10), row(5000, TIMEOUT, imported=None, seconds_to_ready=None)]) == 0


def test_bench_json_carries_every_figure_per_size():
    data = json.loads(bench_json({**META, "sessions": [10]}, [row(10)]))
    size = data["sizes"][0]
    for key in ("sessions", "events", "legacy_bytes", "seconds_to_ready", "import_seconds", "peak_rss_mib",
                "sqlite_bytes", "events_per_s", "floor_seconds", "floor_events_per_s", "outcome", "imported_events"):
        assert size[key] is not None, key
    assert size["size"] == "10x20" and size["complete"] is True


def test_a_memory_peak_in_mib():
    assert MemoryPeak(3 * 2**20, 4, PSUTIL).to_json() == {"peak_mib": 3.0, "samples": 4, "source": PSUTIL}


# -- the plot --------------------------------------------------------------------------------------------------------
def test_without_matplotlib_the_plot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    why = plot([row(10)], tmp_path / "bench.png", title="t", time_limit_s=900)
    assert why and INSTALL_HINT in why and not (tmp_path / "bench.png").exists()


def test_with_matplotlib_the_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [row(10), row(100), row(5000, TIMEOUT, seconds_to_ready=None, import_seconds=None)]
    assert plot(rows, tmp_path / "bench.png", title="t", time_limit_s=900) is None
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_gateways_own_timings_are_named_in_the_notes():
    log = ({"time": None, "text": "- Transcript events: imported=210; validated=0.", "seconds": None},
           {"time": "t", "text": "[gateway] http server listening (14 plugins: a; 47.0s)", "seconds": 47.0},
           {"time": "t", "level": "WARN", "text": "slow SQLite session write", "operation": "session.import.batch",
            "elapsedMs": 7347, "queueWaitMs": 2000, "writerExecutionMs": 5347})
    text = bench_markdown(META, [row(100, import_log=log)])
    assert ("- 100x20: the Gateway's own timings: HTTP server listening after 47.0s; `session.import.batch` 7.3s, "
            "2.0s of it queued.") in text


def test_a_harness_failure_fails_the_run_with_its_cause_in_one_line():
    from path3_sandbox.bench.run import short

    error = "ProbeFailed: probe script failed (exit 1): [eval]:51\n  insert.run(...)\n\nError: NOT NULL constraint failed: x"
    assert short(error) == "Error: NOT NULL constraint failed: x"
    assert short("RuntimeError: the engine went away\nmore") == "RuntimeError: the engine went away"
    broken = row(10, harness_error="the floor failed: Error: NOT NULL constraint failed: x (floor-error.txt)",
                 floor_seconds=None, floor_events_per_s=None)
    text = bench_markdown(META, [broken])
    assert "| imported |" in text, "the Gateway's outcome is not a finding"
    assert "- 10x20: **harness failure**: the floor failed: Error: NOT NULL constraint failed: x" in text
    assert exit_code([broken]) == 4, "only the bench failed: the harness could not judge (exit 4), not a finding"
