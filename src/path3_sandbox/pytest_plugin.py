"""pytest plugin (entry point `pytest11`): upgrade tests in a few lines, for people who change OpenClaw's migration code.

    def test_my_importer_keeps_labels(upgraded_gateway):
        gw = upgraded_gateway(fixture="unicode", openclaw="./openclaw-2026.9.7.tgz")
        assert gw.sqlite.session("agent:main:main").label == "…"
        assert gw.rpc.call("sessions.list", {})["sessions"]

Fixtures
    path3_docker        session   a Docker client, once an engine answers (see the `docker` marker below)
    path3_image         session   a factory: path3_image(openclaw=None) -> GatewayImage, built once per target, cached
    legacy_state        function  a factory: legacy_state(fixture=None) -> Fixture (a fixture name or a directory)
    upgraded_gateway    function  a factory: upgraded_gateway(fixture=None, openclaw=None, contract=None)
                                  -> UpgradedGateway (.rpc, .sqlite, .gateway, .starts, .evidence, .provider), upgraded the
                                  way the target's contract says; removed, with everything it made, after the test
    gateway_rpc         function  upgraded_gateway().rpc          (the --fixture / --openclaw defaults)
    gateway_sqlite      function  upgraded_gateway().sqlite       (read-only)
    path3_evidence      function  this test's evidence folder, kept after the test (.artifacts/pytest/<test>/)
Options: --openclaw (npm version, dist-tag or .tgz; default: the README's), --fixture (default: minimal).
Marker `docker`: every test using these fixtures gets it. Without an engine such a test is skipped on a laptop and
fails under CI=true or PATH3_REQUIRE_DOCKER=1: a CI run that skipped the Gateway proves nothing.
A failing test's report gets each of its Gateways' last output lines.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

DOCKER_FIXTURES = {"path3_docker", "path3_image", "upgraded_gateway", "gateway_rpc", "gateway_sqlite"}
REPORT_TAIL_LINES = 60


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("path3", "path3-sandbox: OpenClaw upgrade tests")
    group.addoption("--openclaw", default=None,
                    help="the Gateway under test: npm version, dist-tag or a packed .tgz (default: path3-sandbox's)")
    group.addoption("--fixture", default="minimal", help="the legacy state upgraded_gateway() seeds (name or directory)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a Docker engine; builds images and drives the real OpenClaw Gateway")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker"):
        require_docker()


def require_docker() -> None:
    """Skip without an engine, or fail where the Docker tests must run (CI, PATH3_REQUIRE_DOCKER)."""
    from .build.engine import probe

    if probe() is None:
        message = "no Docker engine answers (start one, or `path3-sandbox engine`)"
        if os.environ.get("CI") or os.environ.get("PATH3_REQUIRE_DOCKER"):
            pytest.fail(message + ": Docker tests must run here, not skip", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def path3_docker():
    require_docker()
    from .containers.docker_client import docker_client

    return docker_client()


@pytest.fixture(scope="session")
def path3_image(path3_docker, pytestconfig):
    from .build.images import ensure_gateway_image
    from .paths import image_logs
    from .build.target import DEFAULT_SPEC, Target

    built: dict[str, object] = {}

    def image(openclaw: str | None = None):
        spec = openclaw or pytestconfig.getoption("openclaw") or DEFAULT_SPEC
        if spec not in built:
            target = Target.parse(spec)
            target = target.resolve() if target.needs_resolution() else target
            built[spec] = ensure_gateway_image(path3_docker, target, log_dir=image_logs())
        return built[spec]

    return image


@pytest.fixture
def legacy_state(pytestconfig):
    from .errors import FixtureError
    from .state.fixtures import check, resolve_fixture

    def state(fixture: str | os.PathLike | None = None):
        found = resolve_fixture(str(fixture or pytestconfig.getoption("fixture")))
        if problems := check(found):
            raise FixtureError(f"fixture {found.name} is inconsistent: " + "; ".join(problems),
                               hint=f"`path3-sandbox fixtures check {found.root}`")
        return found

    return state


@pytest.fixture
def path3_evidence(request):
    from .paths import artifacts_root
    from .report.redaction import sweep

    folder = artifacts_root() / "pytest" / re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
    shutil.rmtree(folder, ignore_errors=True)  # this run's evidence only, never a previous run's beside it
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    sweep(folder)  # tokens and the fixture's secrets never stay in evidence


@pytest.fixture
def upgraded_gateway(path3_docker, path3_image, legacy_state, path3_evidence, request, pytestconfig):
    from .containers.resources import RunResources, new_run_id
    from .proof.contracts import contract_for
    from .scenario.provider import ScriptedProvider
    from .proof.run import bridge_gateway_address
    from .build.target import DEFAULT_SPEC
    from .upgrades.upgraded import upgrade

    made: dict[tuple, object] = {}
    resources = RunResources(path3_docker, new_run_id())
    provider = ScriptedProvider(host=bridge_gateway_address(path3_docker)).start()  # chat turns work; all recorded

    def upgraded(fixture: str | os.PathLike | None = None, openclaw: str | None = None, contract: str | None = None):
        # The defaults spelled out: upgraded_gateway() and upgraded_gateway(fixture="minimal") are one Gateway.
        key = (str(fixture or pytestconfig.getoption("fixture")), openclaw or pytestconfig.getoption("openclaw")
               or DEFAULT_SPEC, contract or "")
        if key not in made:
            state, image = legacy_state(key[0]), path3_image(key[1])
            choice = contract_for(image.target.version, contract)
            made[key] = upgrade(resources, image, state, choice, path3_evidence / f"{state.name}-{len(made)}", provider)
        return made[key]

    request.node.path3_gateways = made
    try:
        with resources:
            try:
                yield upgraded
            finally:
                for gateway in made.values():
                    gateway.close()
    finally:
        provider.stop()


@pytest.fixture
def gateway_rpc(upgraded_gateway):
    return upgraded_gateway().rpc


@pytest.fixture
def gateway_sqlite(upgraded_gateway):
    return upgraded_gateway().sqlite


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    from .report.redaction import scrub_text

    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for key, gateway in getattr(item, "path3_gateways", {}).items():
            try:
                tail = "\n".join(gateway.gateway.logs().splitlines()[-REPORT_TAIL_LINES:])
            except Exception as error:  # the container may be gone: say so, never hide the test's own failure
                tail = f"(its output could not be read: {error})"
            report.sections.append((f"path3 Gateway {gateway.fixture.name} on {gateway.image.tag}",
                                    scrub_text(tail)[0]))  # the report leaves the machine: no token, no fixture secret
