"""Docker integration tests: real engine, real images, the real Gateway, through our own pytest plugin
(path3_sandbox.pytest_plugin: its `docker` marker skips on a laptop without an engine and fails under CI or
PATH3_REQUIRE_DOCKER=1, as a contributor's tests do)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client(path3_docker):
    return path3_docker


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="session")
def default_image(path3_image):
    return path3_image()


@pytest.fixture(scope="session")
def imports(docker_client, default_image):
    """A fixture imported by the real Gateway, once per test session on first use, for the mutation suites
    (tests/integration/mutants.py): `imports("minimal")`. Its volume is removed when the session ends."""
    from .mutants import import_fixture

    made = {}

    def get(name: str):
        if name not in made:
            made[name] = import_fixture(docker_client, default_image.tag, name)
        return made[name]
    try:
        yield get
    finally:
        for imported in made.values():
            imported.resources.close()


@pytest.fixture(scope="session")
def packed_release(tmp_path_factory) -> Path:
    """The published tarball of the default release, as `npm pack openclaw@<it>` writes it (what OpenClaw's packer
    produces for a release), fetched once per test session from the registry this host uses."""
    import httpx

    from path3_sandbox.build.cacerts import ssl_context
    from path3_sandbox.build.target import DEFAULT_SPEC, registry_url

    meta = httpx.get(f"{registry_url()}/openclaw/{DEFAULT_SPEC}", verify=ssl_context(), timeout=30).json()
    tgz = tmp_path_factory.mktemp("packed") / f"openclaw-{DEFAULT_SPEC}.tgz"
    with httpx.stream("GET", meta["dist"]["tarball"], verify=ssl_context(), timeout=300) as response:
        response.raise_for_status()
        with tgz.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    return tgz
