from path3_sandbox.cli import main
from path3_sandbox.errors import EXIT_USAGE


def test_an_unknown_fixture_is_a_usage_error_before_any_docker_work(capsys):
    assert main(["prove", "--fixture", "no-such-fixture"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no fixture named or at 'no-such-fixture'" in err and "known fixtures:" in err


def test_a_malformed_target_is_a_usage_error_with_the_forms_that_work(capsys):
    assert main(["image", "build", "--openclaw", "^2026"]) == EXIT_USAGE
    assert "--openclaw 2026.9.6" in capsys.readouterr().err


def test_fixtures_check_passes_on_the_shipped_set_and_names_each(capsys):
    assert main(["fixtures", "check"]) == 0
    out = capsys.readouterr().out
    assert "minimal: ok" in out and "stray-orphan: ok" in out


def test_fixtures_check_fails_with_a_usage_code_on_an_inconsistent_fixture(capsys):
    from pathlib import Path

    broken = Path(__file__).parent.parent / "fixtures" / "one-event-short"
    assert main(["fixtures", "check", str(broken)]) == EXIT_USAGE
    assert "events=6 but" in capsys.readouterr().out


def test_prove_refuses_a_fixture_whose_manifest_disagrees_with_its_files_before_any_docker_work(capsys, monkeypatch):
    from pathlib import Path

    import path3_sandbox.containers.docker_client as docker_client

    monkeypatch.setattr(docker_client, "docker_client", lambda: (_ for _ in ()).throw(AssertionError("docker was asked")))
    broken = Path(__file__).parent.parent / "fixtures" / "one-event-short"
    assert main(["prove", "--fixture", str(broken)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "fixture one-event-short is inconsistent" in err
    assert "manifest session agent:main:main: events=6 but" in err and "fixtures check" in err


def test_faults_takes_several_names_after_one_flag_as_the_issue_writes_it_and_the_flag_repeated():
    from path3_sandbox.cli import parser as _parser

    args = _parser().parse_args(["faults", "--openclaw", "2026.9.6", "--fault", "stale-wal-shm", "corrupted-db-page",
                                 "--fault", "clock-jump"])
    assert args.fault == ["stale-wal-shm", "corrupted-db-page", "clock-jump"]
