"""The pytest plugin as a contributor meets it: its options, its fixtures, and the `docker` rule (skip on a laptop
without an engine, fail in CI). Driving the real Gateway through it: examples/contributor-test and tests/integration.

Each inner pytest runs in a subprocess, as a contributor's would: an in-process run unloads the modules it imported
first, and the next test would meet two copies of httpx's exception classes."""

import pytest

CONTRIBUTOR_TEST = """
def test_upgrade(upgraded_gateway):
    upgraded_gateway(fixture="minimal")
"""


@pytest.fixture
def no_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # nothing answers there
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PATH3_REQUIRE_DOCKER", raising=False)


def test_a_docker_test_skips_on_a_laptop_without_an_engine(pytester, no_engine):
    pytester.makepyfile(CONTRIBUTOR_TEST)
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no Docker engine answers*"])


def test_a_docker_test_fails_in_ci_without_an_engine(pytester, no_engine, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(CONTRIBUTOR_TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Docker tests must run here, not skip*"])


def test_the_marker_alone_brings_the_rule(pytester, no_engine, monkeypatch):
    monkeypatch.setenv("PATH3_REQUIRE_DOCKER", "1")
    pytester.makepyfile("""
import pytest

@pytest.mark.docker
def test_mine():
    pass
""")
    pytester.runpytest_subprocess("--strict-markers").assert_outcomes(errors=1)


def test_the_options_and_fixtures_are_offered(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--openclaw=OPENCLAW*", "*--fixture=FIXTURE*"])
    fixtures = pytester.runpytest_subprocess("--fixtures").stdout.str()
    for name in ("path3_docker", "path3_image", "legacy_state", "upgraded_gateway", "gateway_rpc", "gateway_sqlite",
                 "path3_evidence"):
        assert name in fixtures


def test_legacy_state_resolves_a_fixture_name_and_refuses_an_unknown_one(pytester):
    pytester.makepyfile("""
import pytest
from path3_sandbox.errors import FixtureError

def test_states(legacy_state):
    assert legacy_state("unicode").name == "unicode"
    assert legacy_state().name == "minimal"  # the --fixture default
    with pytest.raises(FixtureError):
        legacy_state("no-such-fixture")
""")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
