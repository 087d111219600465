"""One Docker client for the process, after making sure an engine answers."""

from __future__ import annotations

import functools

import docker

from ..build.engine import ensure_engine


@functools.cache
def docker_client() -> docker.DockerClient:
    ensure_engine()
    # Builds and image imports can take minutes per API call.
    return docker.from_env(timeout=900)
