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
