"""session.py: the one home of a state on a Gateway, and the one way to start it as a user would."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import path3_sandbox
from path3_sandbox.report import redaction
from path3_sandbox.proof import session
from path3_sandbox.containers.gateway import ExecResult
from path3_sandbox.containers.network import HERMETIC, OPEN
from path3_sandbox.containers.waits import StartObservation
from path3_sandbox.state.fixtures import Fixture
from path3_sandbox.proof.session import StateSession, never, start_as_a_user

PACKAGE = Path(path3_sandbox.__file__).parent
REFUSAL = "Legacy session store found at /home/node/.openclaw/agents/main/sessions/sessions.json; run openclaw doctor --fix"


@pytest.fixture
def docker_faked(monkeypatch):
    """Networks and Gateways recorded instead of created; volumes named; what is put on them kept."""
    made = SimpleNamespace(networks=[], gateways=[], files={})

    class Network:
        def __init__(self, resources, image, name, provider_port=None, provider_host=None):
            self.args = {"name": name, "provider_port": provider_port, "provider_host": provider_host}

        def create(self):
            made.networks.append(self.args)
            return self

    def gateway(resources, image, volume, token, **options):
        made.gateways.append({"volume": volume, "token": token, **options})
        return SimpleNamespace(**options)

    monkeypatch.setattr(session, "HermeticNetwork", Network)
    monkeypatch.setattr(session, "Gateway", gateway)
    monkeypatch.setattr(session, "put_files", lambda resources, image, volume, files: made.files.update(
        {volume: {f.path: f.data for f in files}}))
    made.resources = SimpleNamespace(run_id="run-1", volumes=[],
                                     volume=lambda purpose, driver_opts=None: f"path3-run-1-{purpose}")
    return made


def test_a_hermetic_session_puts_each_gateway_alone_on_its_own_network_with_the_provider_as_its_door(docker_faked):
    provider = SimpleNamespace(base_url_for_containers="http://host.docker.internal:4000/v1", port=4000, host="172.17.0.1")
    state = StateSession(docker_faked.resources, "img", network=HERMETIC, provider=provider)
    first, second = state.gateway("vol", "path3-run-1-a"), state.gateway("vol", "path3-run-1-b")
    assert [n["name"] for n in docker_faked.networks] == ["path3-run-1-a", "path3-run-1-b"]
    assert docker_faked.networks[0]["provider_port"] == 4000 and docker_faked.networks[0]["provider_host"] == "172.17.0.1"
    assert first.network is state.networks[0] and second.network is state.networks[1]
    assert first.extra_hosts == {"host.docker.internal": "host-gateway"}
    assert {g["token"] for g in docker_faked.gateways} == {state.token}


def test_an_open_session_or_an_open_gateway_builds_no_network_and_without_a_provider_no_host_alias(docker_faked):
    state = StateSession(docker_faked.resources, "img", network=OPEN)
    gateway = state.gateway("vol", "path3-run-1-a", env={"TZ": "UTC"})
    hermetic = StateSession(docker_faked.resources, "img")
    oneoff = hermetic.gateway("vol", "path3-run-1-floor", network=OPEN)
    assert docker_faked.networks == [] and gateway.network is None and oneoff.network is None
    assert gateway.extra_hosts == {} and gateway.env == {"TZ": "UTC"}
    with pytest.raises(ValueError, match="hermetic, open"):
        StateSession(docker_faked.resources, "img", network="bridge")


def test_seeding_through_the_session_registers_the_states_secrets_with_the_redactor(docker_faked, tmp_path):
    state_dir = tmp_path / "fx" / "state"
    (state_dir / "agents" / "main" / "sessions").mkdir(parents=True)
    (state_dir / "agents" / "main" / "sessions" / "sessions.json").write_text("{}")
    (state_dir / "openclaw.json").write_text(json.dumps({"channels": {"telegram": {"botToken": "tg-user-secret-9f8e7d"}}}))
    fixture = Fixture("fx", tmp_path / "fx", "", "", None, ())
    state = StateSession(docker_faked.resources, "img")
    seed = state.seed(fixture)
    volume = state.volume("state-fx", seed.files)
    seeded = json.loads(docker_faked.files[volume]["openclaw.json"])
    assert seeded["gateway"]["auth"]["token"] == state.token  # the harness config, the session's token
    assert seeded["channels"]["telegram"]["enabled"] is False  # and the user's state kept offline
    assert "tg-user-secret-9f8e7d" not in redaction.scrub_text("a log line: tg-user-secret-9f8e7d")[0]


class FakeGateway:
    """Starts that answer from a script: each an (outcome, exit code, output appended to the log)."""

    def __init__(self, *starts):
        self.starts, self.log, self.doctors, self.ready_timeout_s = list(starts), "", [], 180.0

    def logs(self):
        return self.log

    def start(self):
        outcome, exit_code, output = self.starts.pop(0)
        self.log += output
        return StartObservation(outcome, 1.0, exit_code)

    def doctor_fix(self, **kwargs):
        self.doctors.append(kwargs)
        return ExecResult(["openclaw", "doctor", "--fix"], 0, "doctor ok", 2.0)


def test_a_refusal_naming_doctor_fix_gets_doctor_and_one_more_start_with_where_each_start_begins():
    gateway = FakeGateway(("exited", 1, REFUSAL + "\n"), ("ready", None, "[gateway] ready\n"))
    kept = []
    starts = start_as_a_user(gateway, on_doctor=kept.append)
    assert [k.kind for k in starts.kinds] == ["refused", "ready-without-import"] and starts.came_up
    assert starts.doctor.output == "doctor ok" and kept == [starts.doctor]
    assert starts.log_offsets == [0, len(REFUSAL) + 1]


def test_the_policy_decides_whether_a_refusal_is_followed():
    gateway = FakeGateway(("exited", 1, REFUSAL + "\n"))
    starts = start_as_a_user(gateway, doctor_when=never)
    assert [k.kind for k in starts.kinds] == ["refused"] and starts.doctor is None and not starts.came_up
    assert gateway.doctors == []


def test_a_deadline_bounds_doctor_and_a_passed_deadline_means_no_second_start():
    gateway = FakeGateway(("exited", 1, REFUSAL + "\n"), ("ready", None, ""))
    starts = start_as_a_user(gateway, deadline=time.monotonic() - 1)
    assert gateway.doctors == [{"timeout_s": 1.0}] and len(starts.kinds) == 1


# Where a Gateway container, a hermetic network, a seed or the state's secrets are made: session.py alone (and the
# classes themselves, and helpers that only run one-offs on a path's volume).
WIRING = {
    r"\bHermeticNetwork\(": {"proof/session.py", "containers/network.py"},
    r"\bbuild_seed\(": {"proof/session.py", "state/seeding.py"},
    r"remember\(\*known_secrets\(": {"proof/session.py"},  # a seeded state's secrets (live reads an operator's)
    r"\bGateway\(self\.resources|\bGateway\(resources": {"proof/session.py", "upgrades/runner.py"},
}


@pytest.mark.parametrize("pattern", sorted(WIRING))
def test_the_wiring_of_a_state_on_a_gateway_lives_in_session_py_only(pattern):
    found = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if re.search(pattern, p.read_text())}
    assert found <= WIRING[pattern], f"{pattern} outside its home: {sorted(found - WIRING[pattern])}"


def test_every_exception_class_the_package_defines_is_in_errors_py():
    """One error tree (errors.py's docstring draws it); a private control-flow signal (`_Loop`) never leaves its module."""
    defined = {f"{p.relative_to(PACKAGE)}: {m.group(1)}" for p in PACKAGE.rglob("*.py") if p.name != "errors.py"
               for m in re.finditer(r"^class (\w+)\((?:\w+\.)?\w*(?:Error|Exception|Failed|Stuck)\)", p.read_text(), re.M)
               if not m.group(1).startswith("_")}
    assert not defined, f"exception classes outside errors.py: {sorted(defined)}"
