"""Peak memory of the containers a phase runs (the Gateway, its `doctor --fix` one-off), sampled at SAMPLE_HZ.

Two readings, each saying what it is:
    psutil   the resident set (RSS) of every process in the container (the Gateway and its worker children),
             summed, read on this host through the container's init pid: what the import's processes hold
    docker   when the engine's processes are not visible here (a remote engine): the cgroup's memory usage from the
             engine's stats API, which also counts the page cache the import's writes fill
The Gateway container's own cgroup high-water mark (page cache included) is read separately, from inside it
(cgroup_peak_bytes).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import docker
import docker.errors
import psutil
import requests

SAMPLE_HZ = 2.0
PSUTIL = "psutil: RSS of the container's processes summed, sampled at 2 Hz"
DOCKER_STATS = "docker stats: the container cgroup's memory usage (page cache included), sampled at 2 Hz"
# The cgroup's high-water mark as the container sees it: cgroup v2, then v1.
CGROUP_PEAK_ARGV = ["sh", "-c", "cat /sys/fs/cgroup/memory.peak 2>/dev/null || "
                                "cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes"]


@dataclass(frozen=True)
class MemoryPeak:
    peak_bytes: int  # 0: no sample was taken (nothing ran long enough)
    samples: int
    source: str  # PSUTIL or DOCKER_STATS

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20

    def to_json(self) -> dict:
        return {"peak_mib": round(self.peak_mib, 1), "samples": self.samples, "source": self.source}


class PeakSampler:
    """While the block runs, every running container whose name starts with `prefix` is sampled; `peak` is the
    highest sum over one sample of all of them."""

    def __init__(self, client: docker.DockerClient, prefix: str, *, hz: float = SAMPLE_HZ) -> None:
        self.client, self.prefix, self.interval = client, prefix, 1.0 / hz
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"peak-{prefix}", daemon=True)
        self._peak, self._samples, self._source = 0, 0, PSUTIL

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def peak(self) -> MemoryPeak:
        return MemoryPeak(self._peak, self._samples, self._source)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(docker.errors.DockerException, requests.RequestException, psutil.Error):
                total = sum(self._bytes(c) for c in self.client.containers.list(filters={"name": self.prefix})
                            if c.name.startswith(self.prefix))
                if total:
                    self._peak, self._samples = max(self._peak, total), self._samples + 1
            self._stop.wait(self.interval)

    def _bytes(self, container) -> int:
        pid = int(container.attrs["State"].get("Pid") or 0)
        if pid and _is_in(pid, container.id):
            self._source = PSUTIL
            root = psutil.Process(pid)
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
            return total
        self._source = DOCKER_STATS
        stats = container.stats(stream=False, one_shot=True)
        return int((stats.get("memory_stats") or {}).get("usage") or 0)


def _is_in(pid: int, container_id: str) -> bool:
    """Is host pid `pid` this container's (the engine runs here, its pids are ours to read)?"""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as cgroups:
            return container_id in cgroups.read()
    except OSError:
        return False


def cgroup_peak_bytes(output: str) -> int | None:
    """The number CGROUP_PEAK_ARGV printed, or None."""
    text = output.strip().splitlines()[-1].strip() if output.strip() else ""
    return int(text) if text.isdigit() else None
