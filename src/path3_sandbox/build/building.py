"""Run one `docker build` through the engine API, keeping every line of its log in a file.

docker-py's high-level `images.build()` only hands the log back at the end (and not at all on
some failures); here each chunk is written as it arrives and the build steps become progress lines.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import docker

from ..progress import say
from ..errors import BuildError
from ..report.redaction import scrub_text


@contextmanager
def build_context(files: dict[str, bytes]) -> Iterator[Path]:
    """A throwaway build context holding exactly `files` (relative path -> bytes)."""
    root = Path(tempfile.mkdtemp(prefix="path3-build-"))
    try:
        for relative, data in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def stream_build(
    client: docker.DockerClient,
    *,
    context: Path,
    tag: str,
    buildargs: dict[str, str],
    labels: dict[str, str],
    log_path: Path,
    phase: str,
) -> str:
    """Build `context` as `tag`; return the image id, or raise BuildError with the log's tail."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tail: list[str] = []
    with log_path.open("w") as log:
        log.write(f"# docker build -t {tag} {context}\n")
        for name, value in sorted(buildargs.items()):  # the evidence of what the build used, redacted
            log.write(f"# --build-arg {name}={scrub_text(value)[0]}\n")
        chunks = client.api.build(
            path=str(context), tag=tag, buildargs=buildargs, labels=labels,
            rm=True, forcerm=True, pull=False, decode=True,
        )
        for chunk in chunks:
            text = chunk.get("stream") or chunk.get("status") or ""
            if "error" in chunk:
                text = f"ERROR: {chunk['error']}\n"
            if not text:
                continue
            text = scrub_text(text)[0]  # a registry URL with credentials, echoed by a tool, stays out of the log
            log.write(text if text.endswith("\n") else text + "\n")
            log.flush()
            for line in text.splitlines():
                if line.strip():
                    tail = (tail + [line.rstrip()])[-40:]
                if line.startswith("Step "):
                    say(phase, f"{line.strip()[:110]}  ({time.monotonic() - started:.0f}s)")
            if "error" in chunk:
                raise BuildError(scrub_text(chunk["error"].strip())[0], tail)
    return client.images.get(tag).id
