"""Fakes the unit tests share: each stands in for one outside thing (the Docker engine's API, the Gateway's RPC)
and answers as the real one does, so a test states only what differs."""

from __future__ import annotations

import docker.errors


class FakeImages:
    """`client.images`: an image present or not; a pull that works or fails as on a host without a registry."""

    def __init__(self, present: bool = False, pull_error: str | None = None) -> None:
        self.present, self.pull_error, self.pulled = present, pull_error, []

    def get(self, image):
        if not self.present:
            raise docker.errors.ImageNotFound(f"No such image: {image}")

    def pull(self, image):
        self.pulled.append(image)
        if self.pull_error:
            raise docker.errors.APIError(self.pull_error)


class FakeResource:
    """A container or volume whose remove() works (logged), finds it gone, or finds it in use."""

    def __init__(self, name: str, outcome: str = "removed", log: list[str] | None = None) -> None:
        self.name, self.outcome, self.log = name, outcome, log if log is not None else []

    def remove(self, **_):
        if self.outcome == "gone":
            raise docker.errors.NotFound("gone")
        if self.outcome == "in use":
            raise docker.errors.APIError("409 Conflict", explanation="volume is in use")
        self.log.append(self.name)


class FakeCollection:
    def __init__(self, items: dict[str, FakeResource]) -> None:
        self.items = items

    def get(self, name):
        return self.items[name]


class FakeDockerClient:
    """The Docker API calls the reaper and a run's cleanup make: images.get/pull, containers/volumes.get().remove()."""

    def __init__(self, *, present: bool = False, pull_error: str | None = None,
                 containers: dict[str, str] | None = None, volumes: dict[str, str] | None = None,
                 removed: list[str] | None = None) -> None:
        self.removed: list[str] = removed if removed is not None else []
        self.images = FakeImages(present, pull_error)
        self.containers = FakeCollection({n: FakeResource(n, o, self.removed) for n, o in (containers or {}).items()})
        self.volumes = FakeCollection({n: FakeResource(n, o, self.removed) for n, o in (volumes or {}).items()})


class FakeRpc:
    """The Gateway's RPC as the code under test calls it: `config.get` answers `config`, `sessions.list` the keys in
    `sessions`, `chat.history` the messages in `history` by session key. Any other method fails the test: a fake
    that answers what it was not told would let a wrong call pass."""

    def __init__(self, config: dict | None = None, sessions=(), history: dict[str, list] | None = None) -> None:
        self.config, self.sessions, self.history = config or {}, tuple(sessions), history or {}
        self.calls: list[str] = []

    def call(self, method: str, params: dict | None = None, **_):
        self.calls.append(method)
        if method == "config.get":
            return {"config": self.config}
        if method == "sessions.list":
            return {"sessions": [{"key": key} for key in self.sessions]}
        if method == "chat.history":
            return {"messages": self.history.get((params or {})["sessionKey"], [])}
        raise AssertionError(f"FakeRpc was not told how to answer {method}")

    def list_sessions(self, params: dict | None = None, **_):
        return self.call("sessions.list", params)["sessions"]
