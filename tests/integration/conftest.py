"""Docker integration tests: real engine, real images, the real Gateway.

Without an engine they are skipped on a laptop, but fail under CI or PATH3_REQUIRE_DOCKER=1:
a CI run that skipped the Gateway proves nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from path3_sandbox.engine import probe


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client():
    if probe() is None:
        message = "no Docker engine answers (run `make engine`)"
        if os.environ.get("CI") or os.environ.get("PATH3_REQUIRE_DOCKER"):
            pytest.fail(message + ": integration tests must run here, not skip", pytrace=False)
        pytest.skip(message)
    from path3_sandbox.containers.docker_client import docker_client as client

    return client()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="session")
def default_image(docker_client, artifacts):
    from path3_sandbox.images import ensure_gateway_image
    from path3_sandbox.target import DEFAULT_SPEC, Target

    return ensure_gateway_image(docker_client, Target.parse(DEFAULT_SPEC), log_dir=artifacts / "images")
