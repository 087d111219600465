import pytest

from path3_sandbox.build.engine import HostFacts, plan
from path3_sandbox.errors import EngineUnavailable


def facts(**overrides):
    base = dict(is_root=True, has_apt=True, os_ids=("debian",), has_dockerd=False, docker_host=None)
    return HostFacts(**{**base, **overrides})


def test_root_on_debian_without_dockerd_installs_it():
    assert plan(facts()) == "install"


def test_an_installed_but_stopped_dockerd_is_started_not_reinstalled():
    assert plan(facts(has_dockerd=True)) == "start"


def test_ubuntu_counts_as_debian_like():
    assert plan(facts(os_ids=("ubuntu", "debian"))) == "install"


def test_a_non_root_user_is_told_how_to_get_an_engine():
    with pytest.raises(EngineUnavailable, match="only starts one when run as root") as raised:
        plan(facts(is_root=False))
    assert "systemctl start docker" in str(raised.value)


def test_a_host_without_apt_is_not_touched():
    with pytest.raises(EngineUnavailable, match="not a Debian/Ubuntu host"):
        plan(facts(has_apt=False, os_ids=("fedora",)))


def test_a_remote_docker_host_that_does_not_answer_is_reported_not_replaced():
    with pytest.raises(EngineUnavailable, match="DOCKER_HOST=tcp://10.0.0.5:2375 does not answer"):
        plan(facts(docker_host="tcp://10.0.0.5:2375", has_dockerd=True))


def test_clean_counts_a_container_that_vanished_between_listing_and_removal_as_removed():
    import docker.errors

    from path3_sandbox.containers.cleanup import clean
    from path3_sandbox.containers.resources import LABEL_RUN

    class Vanished:
        name, labels = "path3-x-oneoff-3", {LABEL_RUN: "x"}

        def remove(self, **_):
            raise docker.errors.NotFound("No such container")

    class Client:
        class containers:  # noqa: N801 - docker-py's attribute name
            @staticmethod
            def list(**_):
                return [Vanished()]

        class volumes:  # noqa: N801
            @staticmethod
            def list(**_):
                return []

        networks = volumes

    assert clean(Client(), run_id="x") == ["container path3-x-oneoff-3 (run x): already gone"]


def test_a_started_engine_is_waited_for_until_it_answers_and_a_silent_one_is_an_environment_error(monkeypatch, tmp_path):
    from path3_sandbox.build import engine
    from path3_sandbox.errors import EngineUnavailable

    answers = iter([None, None, "engine 20.10"])
    monkeypatch.setattr(engine, "probe", lambda: next(answers))
    monkeypatch.setattr("path3_sandbox.containers.waits.time.sleep", lambda s: None)
    assert engine._wait_until_answering(5) == "engine 20.10"
    monkeypatch.setattr(engine, "probe", lambda: None)
    monkeypatch.setattr(engine, "ENGINE_LOG", tmp_path / "dockerd.log")
    (tmp_path / "dockerd.log").write_text("failed to start daemon\n")
    with pytest.raises(EngineUnavailable, match="did not answer within 0s"):
        engine._wait_until_answering(0)
