"""The upgrade path's plan: a release's role from the contract table and what ran before it; bad hops before Docker."""

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE, UsageError
from path3_sandbox.upgrades.hop import ACTION, DOWNGRADE, IMPORTER, WRITER
from path3_sandbox.upgrades.plan import plan
from tests.unit.conftest import FakeRpc


def roles(*specs):
    return [(h.spec, h.role, h.contract) for h in plan(list(specs))]


def test_a_file_backed_release_writes_then_a_sqlite_release_imports_then_the_old_one_is_a_downgrade():
    assert roles("2026.7.35", "2026.9.6", "2026.7.35") == [
        ("2026.7.35", WRITER, None), ("2026.9.6", IMPORTER, "startup-import"), ("2026.7.35", DOWNGRADE, None)]


def test_moving_the_state_database_aside_lets_the_old_release_write_again():
    assert [r[1] for r in roles("2026.7.35", "2026.9.6", "@move-state-db-aside", "2026.7.35", "2026.9.5")] == [
        WRITER, IMPORTER, ACTION, WRITER, IMPORTER]
    assert plan(["2026.7.35", "2026.9.5"])[1].contract == "refuse-then-doctor"


@pytest.mark.parametrize("specs, says", [
    (["2026.7.35"], "at least two hops"),
    (["2026.9.6", "2026.7.35"], "must be a file-backed release"),
    (["2026.7.35", "@teleport"], "unknown action @teleport"),
    (["2026.7.35", "2026.7.20"], "not in the release table"),
])
def test_a_bad_path_is_refused_naming_the_hop(specs, says):
    with pytest.raises(UsageError, match=says):
        plan(specs)


def test_dry_run_prints_the_numbered_plan_and_touches_no_docker(capsys, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    assert main(["path", "2026.7.35", "2026.9.6", "2026.7.35", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1. 2026.7.35" in out and "2. 2026.9.6" in out and "3. 2026.7.35" in out and "downgrade" in out
    assert main(["path", "2026.9.6", "2026.7.35"]) == EXIT_USAGE


class EmptyState:
    """A Gateway whose volume holds no SQLite database and no transcript (what the in-container probes answer)."""

    def exec(self, argv, **_):
        from path3_sandbox.containers.gateway import ExecResult

        return ExecResult(argv, 0, '{"databases": [], "files": {}}', 0.0)


def test_a_message_that_is_no_longer_reachable_fails_naming_it_its_hop_and_its_key(tmp_path):
    from path3_sandbox.report.evidence import Evidence
    from path3_sandbox.upgrades.hop import Hop
    from path3_sandbox.upgrades.reachability import Written, reachable

    evidence = Evidence(tmp_path, "path")
    written = [Written(1, "agent:main:main", "P3-PATH-H1T1", "hop 1 …", "P3-PATH-H1T1 acknowledged."),
               Written(1, "agent:main:hop-1", "P3-PATH-H1T2", "hop 1 …", "P3-PATH-H1T2 acknowledged.")]
    kept = [{"role": "user", "content": "hop 1 … P3-PATH-H1T1"}, {"role": "assistant", "content": "P3-PATH-H1T1 acknowledged."}]
    rpc = FakeRpc(sessions=["agent:main:main"], history={"agent:main:main": kept})
    assert reachable(Hop(2, "2026.7.35", "writer"), EmptyState(), rpc, written=written, last_import=0,
                     evidence=evidence, folder=tmp_path) == "1/2"
    [check] = evidence.assertions
    assert not check.passed and check.observed == [
        "P3-PATH-H1T2 (written by hop 1 on agent:main:hop-1): not in sessions.list, chat.history (sent), "
        "chat.history (reply); no SQLite row holds it"]


def test_moving_the_state_database_aside_before_any_import_is_bad_input():
    with pytest.raises(UsageError, match="no state database to move aside yet"):
        plan(["2026.7.35", "@move-state-db-aside", "2026.9.6"])


def test_restoring_a_backup_names_the_writer_hop_whose_sessions_it_puts_back():
    hops = plan(["2026.7.35", "2026.9.6", "@restore-sessions-backup", "2026.9.6"])
    assert [h.role for h in hops] == [WRITER, IMPORTER, ACTION, IMPORTER]
    assert "as hop 1 left them" in hops[2].does
    assert [h.on_migrated for h in hops] == [False, False, False, True], "a refusal there is followed by doctor --fix"
    assert "a refusal naming doctor --fix: doctor --fix, start" in hops[3].does
    with pytest.raises(UsageError, match="no migrated state to act on yet"):
        plan(["2026.7.35", "@restore-sessions-backup", "2026.9.6"])


def test_another_machines_sessions_can_be_copied_in_before_or_after_an_import():
    for specs in (["2026.7.35", "@copy-sessions-from-another-machine", "2026.9.6"],
                  ["2026.7.35", "2026.9.6", "@copy-sessions-from-another-machine", "2026.9.6"]):
        hops = plan(specs)
        assert hops[-1].role == IMPORTER and "another machine running 2026.7.35" in hops[-2].does


def snapshot(**files):
    from path3_sandbox.probes.files import FilesSnapshot, StateFile

    return FilesSnapshot({p: StateFile(p, 1, 0.0, digest) for p, digest in files.items()})


def test_what_a_hop_did_with_the_legacy_files_is_told_apart_kept_rewritten_moved_gone_created():
    from path3_sandbox.upgrades.era_files import compare

    main = "agents/main/sessions/"
    before = snapshot(**{main + "sessions.json": "s", main + "a.jsonl": "a", main + "b.jsonl": "b", main + "c.jsonl": "c",
                         "state/openclaw.sqlite": "db", "identity/device.json": "i"})
    after = snapshot(**{main + "sessions.json": "s2", main + "a.jsonl": "a",
                        main + "session-sqlite-import-archive/b.jsonl.imported-1": "b", main + "d.jsonl": "d",
                        "agents/main/agent/openclaw-agent.sqlite": "adb"})
    moves = compare(before, after)
    assert moves.kept == [main + "a.jsonl"] and moves.rewritten == [main + "sessions.json"]
    assert moves.moved == {main + "b.jsonl": main + "session-sqlite-import-archive/b.jsonl.imported-1"}
    assert moves.gone == [main + "c.jsonl"] and moves.created == [main + "d.jsonl"]
    assert moves.databases_created == ["agents/main/agent/openclaw-agent.sqlite"]
    assert moves.databases_removed == ["state/openclaw.sqlite"]
    line = moves.line()
    assert "1 **gone** (agents/main/sessions/c.jsonl)" in line and "moved (to agents/main/sessions/session-sqlite" in line


def test_a_path_with_a_recipe_names_it_in_the_plan_and_a_bad_recipe_is_refused_before_docker(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    assert main(["path", "2026.7.35", "2026.9.6", "--recipe", "fixtures/recipes/real-7.35.json", "--dry-run"]) == 0
    assert "every writer hop also drives fixtures/recipes/real-7.35.json (10 turns)" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"writer": "2026.7.35", "sessions": []}')
    assert main(["path", "2026.7.35", "2026.9.6", "--recipe", str(bad)]) == EXIT_USAGE
    assert '"sessions" must be a non-empty list' in capsys.readouterr().err
