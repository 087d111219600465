"""Ryuk where it can run, our label-based clean where it cannot (an air-gapped or registry-less host)."""

from path3_sandbox.containers import reaper
from tests.unit.conftest import FakeDockerClient


def Client(present=False, pull_error=None):
    return FakeDockerClient(present=present, pull_error=pull_error)


def test_ryuk_runs_when_its_image_is_present():
    choice = reaper.decide(Client(present=True), keep=False, user_disabled=None)
    assert choice.ryuk and "present" in choice.reason


def test_ryuk_runs_when_its_image_can_be_pulled():
    client = Client(present=False)
    choice = reaper.decide(client, keep=False, user_disabled=None)
    assert choice.ryuk and client.images.pulled == [choice.to_json()["image"]]


def test_a_host_that_cannot_pull_ryuk_falls_back_to_clean_and_says_why():
    choice = reaper.decide(Client(pull_error="dial tcp: lookup registry-1.docker.io: no such host"), keep=False,
                           user_disabled=None)
    assert not choice.ryuk
    assert "cannot pull testcontainers/ryuk" in choice.reason and "no such host" in choice.reason
    assert "path3-sandbox clean" in choice.reason


def test_keep_turns_ryuk_off_so_kept_containers_survive_the_process():
    client = Client(present=True)
    choice = reaper.decide(client, keep=True, user_disabled=None)
    assert not choice.ryuk and "--keep" in choice.reason


def test_the_users_own_setting_wins_and_nothing_is_pulled():
    client = Client(present=False)
    choice = reaper.decide(client, keep=False, user_disabled=True)
    assert not choice.ryuk and "TESTCONTAINERS_RYUK_DISABLED" in choice.reason and client.images.pulled == []


def test_configure_tells_testcontainers_once_per_process(monkeypatch):
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(reaper, "_chosen", None)
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    first = reaper.configure(Client(pull_error="no registry"))
    assert testcontainers_config.ryuk_disabled is True and not first.ryuk
    assert reaper.configure(Client(present=True)) is first  # decided once: the first container already ran without it


def test_a_ryuk_that_cannot_start_falls_back_to_clean_instead_of_failing_the_run(monkeypatch):
    from testcontainers.core import container as tc_container
    from testcontainers.core.config import testcontainers_config

    def refuse():
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(reaper, "_chosen", None)
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    monkeypatch.setattr(tc_container.Reaper, "get_instance", staticmethod(refuse))
    choice = reaper.configure(Client(present=True))
    assert not choice.ryuk and "did not start (connection refused)" in choice.reason
    assert testcontainers_config.ryuk_disabled is True
