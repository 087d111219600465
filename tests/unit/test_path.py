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


class StateWith:
    """A Gateway whose volume holds these files (path -> text) and no SQLite database: every probe gets the same answer,
    so the reader's own filtering is what is tested."""

    def __init__(self, files):
        self.files = files

    def exec(self, argv, **_):
        import json

        from path3_sandbox.containers.gateway import ExecResult

        return ExecResult(argv, 0, json.dumps({"databases": [], "files": self.files}), 0.0)


def test_a_marker_is_carried_only_as_a_whole_token_so_h1t1_is_not_found_inside_h1t10(tmp_path):
    from path3_sandbox.report.evidence import Evidence
    from path3_sandbox.upgrades.hop import Hop
    from path3_sandbox.upgrades.reachability import Written, reachable
    from path3_sandbox.upgrades.turns import carries_marker

    assert carries_marker("hop 1\npath3 scenario turn P3-PATH-H1T1", "P3-PATH-H1T1")
    assert carries_marker('{"text":"hop 1\\npath3 scenario turn P3-PATH-H1T1\\n"}', "P3-PATH-H1T1")
    assert carries_marker("P3-PATH-H1T1 acknowledged.", "P3-PATH-H1T1")
    assert not carries_marker("path3 scenario turn P3-PATH-H1T10", "P3-PATH-H1T1")
    assert not carries_marker("P3-PATH-H1T10 acknowledged.", "P3-PATH-H1T1")
    only_t10 = [{"role": "user", "content": "turn P3-PATH-H1T10"}, {"role": "assistant", "content": "P3-PATH-H1T10 ok."}]
    rpc = FakeRpc(sessions=["agent:main:main"], history={"agent:main:main": only_t10})
    evidence = Evidence(tmp_path, "path")
    written = [Written(1, "agent:main:main", "P3-PATH-H1T1", "…", "P3-PATH-H1T1 ok.")]
    assert reachable(Hop(2, "2026.7.35", "writer"), EmptyState(), rpc, written=written, last_import=0,
                     evidence=evidence, folder=tmp_path) == "0/1"


def test_a_message_before_the_last_import_is_on_the_volume_only_in_a_transcript_not_in_the_gateways_log(tmp_path):
    import re

    from path3_sandbox.report.evidence import Evidence
    from path3_sandbox.state.layout import TRANSCRIPT_COPY_PATTERN, holds_transcript_copy
    from path3_sandbox.upgrades.hop import Hop
    from path3_sandbox.upgrades.reachability import Written, reachable

    copies = ("agents/main/sessions/s.jsonl", "agents/main/sessions/s.jsonl.reset.2026-11-23T19-44-59.407Z",
              "agents/main/session-sqlite-import-archive/main_k.s.jsonl.imported-1", "sessions/stray.jsonl")
    for path in copies + ("logs/gateway.jsonl", "workspace/notes.jsonl", "agents/main/agent/x.jsonl"):
        assert holds_transcript_copy(path) == (path in copies) == bool(re.search(TRANSCRIPT_COPY_PATTERN, path)), path
    earlier = [Written(1, "agent:main:main", "P3-PATH-H1T1", "…", "P3-PATH-H1T1 ok.")]
    rpc = FakeRpc(sessions=["agent:main:main"], history={})
    for files, kept in (({"logs/gateway.jsonl": "chat.send P3-PATH-H1T1"}, False),
                        ({"agents/main/session-sqlite-import-archive/main_k.s.jsonl.imported-1": "turn P3-PATH-H1T1"}, True)):
        evidence = Evidence(tmp_path / str(kept), "path")
        reachable(Hop(3, "2026.7.35", "writer"), StateWith(files), rpc, written=earlier, last_import=2,
                  evidence=evidence, folder=tmp_path)
        [check] = [a for a in evidence.assertions if "still on the volume" in a.name]
        assert check.passed is kept and check.observed == ([] if kept else ["P3-PATH-H1T1"])


def test_a_legacy_file_whose_bytes_are_nowhere_after_a_hop_fails_it_while_archived_rewritten_stores_and_reset_copies_pass(tmp_path):
    from path3_sandbox.report.evidence import Evidence
    from path3_sandbox.upgrades.era_files import compare
    from path3_sandbox.upgrades.hop import Hop
    from path3_sandbox.upgrades.runner import PathRun

    main = "agents/main/sessions/"
    before = snapshot(**{main + "sessions.json": "s", main + "a.jsonl": "a", main + "c.jsonl": "c"})
    after = snapshot(**{"agents/main/session-sqlite-import-archive/legacy-store.sessions.json.imported-9": "s-rewritten",
                        main + "a.jsonl.reset.2026-11-23T19-44-59.407Z": "a-grown"})
    moves = compare(before, after)
    assert moves.gone == [main + "c.jsonl"] and sorted(moves.transformed) == [main + "a.jsonl", main + "sessions.json"]
    run = PathRun(images={}, hops=[], resources=None, provider=None, evidence=Evidence(tmp_path, "path"))
    run._record_era_files(Hop(2, "2026.9.6", "importer"), moves, {})
    [check] = run.evidence.assertions
    assert not check.passed and check.observed == [main + "c.jsonl"] and check.blame == "gateway"
    kept = snapshot(**{main + "c.jsonl": "c"}, **{p: f.sha256 for p, f in after.files.items()})
    run._record_era_files(Hop(3, "2026.9.6", "importer"), compare(before, kept), {})
    assert run.evidence.assertions[-1].passed


def _packed(tmp_path, version: str):
    """A packed OpenClaw tarball as a pull request's build would be: package.json and a built dist/."""
    import io
    import json
    import tarfile

    path = tmp_path / f"openclaw-{version}.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("package/package.json", json.dumps({"name": "openclaw", "version": version}).encode()),
                           ("package/dist/index.js", b"// the built Gateway")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def test_a_pull_requests_packed_build_plays_its_versions_role_after_the_latest_release(tmp_path):
    hops = plan(["2026.7.35", "2026.9.6", _packed(tmp_path, "2026.9.6")])
    assert [h.role for h in hops] == [WRITER, IMPORTER, IMPORTER] and hops[2].on_migrated
    assert "/" not in hops[2].label and hops[2].label.endswith("openclaw-2026.9.6.tgz")  # an evidence folder's name


def test_a_build_the_release_table_does_not_know_needs_its_contract_said(tmp_path):
    unknown = _packed(tmp_path, "2026.9.7-0.pr123")
    with pytest.raises(UsageError, match="a build the release table does not know") as raised:
        plan(["2026.7.35", "2026.9.6", unknown])
    assert "--contract startup-import" in raised.value.hint
    hops = plan(["2026.7.35", "2026.9.6", unknown], "refuse-then-doctor")
    assert (hops[2].role, hops[2].contract) == (IMPORTER, "refuse-then-doctor")
    assert main(["path", "2026.7.35", "2026.9.6", unknown, "--contract", "startup-import", "--dry-run"]) == 0


def test_a_cut_tarball_hop_is_bad_input_before_docker(tmp_path):
    whole = _packed(tmp_path, "2026.9.6")
    cut = tmp_path / "cut-openclaw.tgz"
    cut.write_bytes(open(whole, "rb").read()[:60])
    assert main(["path", "2026.7.35", str(cut), "--dry-run"]) == EXIT_USAGE
