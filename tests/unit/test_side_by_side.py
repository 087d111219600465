"""Writers side by side: the judges of the step where the Gateway and the CLI's embedded turn append to one session."""

import json
from types import SimpleNamespace

import pytest

from path3_sandbox.containers.gateway import ExecResult
from path3_sandbox.probes.sqlite import parse_snapshot
from path3_sandbox.scenario.side_by_side import (_run_cli_beside, agent_flags, busy_lines, chain_faults, cli_argv,
                                                  step_side_by_side)

KEY = "agent:main:path3-e2e:run1"


def events(*values):
    snapshot = parse_snapshot({"databases": [{
        "role": "agent", "agent": "main", "path": "/db", "tables": {}, "integrity": ["ok"],
        "sessions": [{"session_key": KEY, "current_session_id": "s-1", "archived_at": None, "entry_json": "{}"}],
        "events": [{"session_id": "s-1", "seq": i, "compressed": False, "event_json": json.dumps(v)}
                   for i, v in enumerate(values)],
        "identities": [],
    }]})
    return snapshot, snapshot.events_of("s-1")


HEADER = {"type": "session", "id": "s-1", "version": 3}


def message(id_, parent, role, text):
    return {"type": "message", "id": id_, "parentId": parent, "message": {"role": role, "content": text}}


GATEWAY_USER = message("g-u", "a0", "user", "path3 scenario turn P3-S9")
CLI_USER = message("c-u", "g-u", "user", "path3 scenario turn P3-S9B")
CLI_REPLY = message("c-a", "c-u", "assistant", "P3-S9B acknowledged.")
BEFORE = (HEADER, message("u0", None, "user", "hello"), message("a0", "u0", "assistant", "hi"))


def test_rows_that_extend_one_chain_with_side_events_pass():
    side = {"type": "custom", "customType": "model-snapshot", "id": "m1", "parentId": "c-a"}
    reply = message("g-a", "m1", "assistant", "P3-S9 acknowledged.")
    _, rows = events(*BEFORE, GATEWAY_USER, CLI_USER, CLI_REPLY, side, reply)
    assert chain_faults(rows, since_seq=2) == []


def test_two_writers_that_read_the_same_tail_fork_the_chain_and_both_ids_are_named():
    # The Gateway's reply chained to its own user message after the CLI had appended its turn there.
    stale = message("g-a", "g-u", "assistant", "P3-S9 acknowledged.")
    _, rows = events(*BEFORE, GATEWAY_USER, CLI_USER, CLI_REPLY, stale)
    faults = chain_faults(rows, since_seq=2)
    assert any("fork" in f and "c-u" in f and "g-a" in f and "g-u" in f for f in faults), faults


def test_an_idempotent_message_stored_twice_fails_naming_both_seqs():
    again = message("c-u2", "c-a", "user", "path3 scenario turn P3-S9B")
    _, rows = events(*BEFORE, GATEWAY_USER, CLI_USER, CLI_REPLY, again)
    assert [f for f in chain_faults(rows, since_seq=2) if "message stored twice: seq 4 and 6" in f]


def test_an_id_stored_twice_fails():
    _, rows = events(*BEFORE, GATEWAY_USER, CLI_USER, message("c-u", "c-u", "assistant", "P3-S9B acknowledged."))
    assert [f for f in chain_faults(rows, since_seq=2) if f.startswith("id c-u stored twice")]


def test_a_fork_among_rows_before_the_step_is_not_this_steps_to_judge():
    old_fork = message("a1", "u0", "assistant", "another hi")
    _, rows = events(*BEFORE, old_fork, message("g-u", "a1", "user", "path3 scenario turn P3-S9"))
    assert chain_faults(rows, since_seq=3) == []
    assert chain_faults(rows) != []


def test_busy_errors_are_found_in_the_output_whatever_their_spelling():
    output = ("ok line\nError: SQLITE_BUSY: database is locked\n"
              '{"level":50,"msg":"append failed: Database Is Locked"}\nsqlite busy_timeout set\n')
    assert busy_lines(output) == ["Error: SQLITE_BUSY: database is locked",
                                  '{"level":50,"msg":"append failed: Database Is Locked"}']


HELP_9X = """Usage: openclaw agent [options]
  -m, --message <text>       Message body for the agent
  --session-key <key>        Explicit session key (agent:<id>:<key>, or scoped to --agent)
  --session-id <id>          Use an explicit session id
  --local                    Run the embedded agent locally (default: false)
  --json                     Output result as JSON (default: false)
  --timeout <seconds>        Override agent command timeout
"""


def test_the_cli_turn_names_the_session_by_key_and_carries_the_marker_as_the_provider_reads_it():
    argv = cli_argv(agent_flags(HELP_9X), session_key=KEY, session_id="s-1", marker="P3-ABC-S9B", timeout_s=150)
    assert argv == ["openclaw", "agent", "--local", "--message", "path3 scenario turn P3-ABC-S9B",
                    "--session-key", KEY, "--json", "--timeout", "120"]
    through_the_gateway = cli_argv(agent_flags(HELP_9X), session_key=KEY, session_id="s-1", marker="P3-ABC-S9B",
                                   timeout_s=150, local=False)
    assert through_the_gateway == [a for a in argv if a != "--local"]


def test_a_cli_without_session_keys_names_the_session_by_its_id():
    flags = agent_flags(HELP_9X.replace("--session-key <key>", ""))
    argv = cli_argv(flags, session_key=KEY, session_id="s-1", marker="P3-ABC-S9B")
    assert argv[argv.index("--session-id") + 1] == "s-1" and "--session-key" not in argv


def test_a_cli_without_an_embedded_mode_skips_the_step_saying_why():
    snapshot, _ = events(*BEFORE)
    help_without_local = HELP_9X.replace("--local", "")
    gateway = SimpleNamespace(exec=lambda argv, timeout_s=None: ExecResult(argv, 0, help_without_local, 0.1))
    ctx = SimpleNamespace(proof_key=KEY, gateway=gateway, marker=lambda step: f"P3-X-{step}")
    outcome = step_side_by_side(ctx, SimpleNamespace(sqlite=snapshot))
    assert outcome.checks == [] and outcome.turns == ()
    [(name, why)] = outcome.skipped_methods
    assert "no --local" in why


def test_the_held_turn_is_released_even_when_the_cli_cannot_be_run():
    released = []

    def broken_exec(argv, timeout_s=None):
        raise ConnectionError("engine gone")

    ctx = SimpleNamespace(gateway=SimpleNamespace(exec=broken_exec),
                          provider=SimpleNamespace(release=lambda: released.append(True)),
                          requests_for=lambda marker: [SimpleNamespace(held=True)] if marker == "P3-G" else [])
    with pytest.raises(ConnectionError):
        _run_cli_beside(ctx, ["openclaw"], "P3-G", "P3-C")
    assert released == [True]


def test_side_by_side_is_taken_once_per_run_and_the_other_fixtures_say_which_one_took_it():
    from path3_sandbox.scenario import STEPS
    from path3_sandbox.scenario.runner import per_run_skip

    assert [s.name for s in STEPS if s.per_run] == ["side-by-side"]  # the one step that touches no imported data
    [step] = [s for s in STEPS if s.per_run]
    assert per_run_skip(step, "minimal", "minimal") is None
    assert per_run_skip(step, "minimal", None) is None  # --every-fixture, or a run of one fixture
    assert "by fixture compaction-v1" in per_run_skip(step, "real-7.35", "compaction-v1")
    assert all(per_run_skip(s, "real-7.35", "compaction-v1") is None for s in STEPS if not s.per_run)
