"""The upgrade path's plan: a release's role from the contract table and what ran before it; bad hops before Docker."""

import pytest

from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE, UsageError
from path3_sandbox.upgrades.path import ACTION, DOWNGRADE, IMPORTER, WRITER, plan


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


class FakeRpc:
    def __init__(self, listed, history):
        self.listed, self.history = listed, history

    def call(self, method, params=None, **_):
        if method == "sessions.list":
            return {"sessions": [{"key": k} for k in self.listed]}
        return {"messages": self.history.get(params["sessionKey"], [])}


class EmptyState:
    """A Gateway whose volume holds no SQLite database and no transcript (what the in-container probes answer)."""

    def exec(self, argv, **_):
        from path3_sandbox.containers.gateway import ExecResult

        return ExecResult(argv, 0, '{"databases": [], "files": {}}', 0.0)


def test_a_message_that_is_no_longer_reachable_fails_naming_it_its_hop_and_its_key(tmp_path):
    from path3_sandbox.evidence import Evidence
    from path3_sandbox.upgrades.path import Hop, PathRun, Written

    evidence = Evidence(tmp_path, "path")
    run = PathRun({}, [], None, None, evidence, written=[
        Written(1, "agent:main:main", "P3-PATH-H1T1", "hop 1 …", "P3-PATH-H1T1 acknowledged."),
        Written(1, "agent:main:hop-1", "P3-PATH-H1T2", "hop 1 …", "P3-PATH-H1T2 acknowledged.")])
    kept = [{"role": "user", "content": "hop 1 … P3-PATH-H1T1"}, {"role": "assistant", "content": "P3-PATH-H1T1 acknowledged."}]
    rpc = FakeRpc(["agent:main:main"], {"agent:main:main": kept})
    assert run._reachable(Hop(2, "2026.7.35", "writer"), EmptyState(), rpc) == "1/2"
    [check] = evidence.assertions
    assert not check.passed and check.observed == [
        "P3-PATH-H1T2 (written by hop 1 on agent:main:hop-1): not in sessions.list, chat.history (sent), "
        "chat.history (reply); no SQLite row holds it"]


def test_moving_the_state_database_aside_before_any_import_is_bad_input():
    with pytest.raises(UsageError, match="no state database to move aside yet"):
        plan(["2026.7.35", "@move-state-db-aside", "2026.9.6"])
