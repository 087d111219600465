"""Where things live: the checkout's docker/ and fixtures/ folders, and the evidence root."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = PROJECT_ROOT / "docker"
FIXTURES_DIR = PROJECT_ROOT / "fixtures" / "legacy-stores"
REPORTED_DIR = PROJECT_ROOT / "fixtures" / "reported"  # the reported-bug corpus (reported/case.py)


def artifacts_root() -> Path:
    """`.artifacts/` in the current directory, unless PATH3_ARTIFACTS says otherwise."""
    return Path(os.environ.get("PATH3_ARTIFACTS", ".artifacts")).resolve()


def run_folder(command: str, run_id: str) -> Path:
    """Where a command's run keeps its evidence: `.artifacts/path3-<command>/<run-id>/` (clean --artifacts prunes them)."""
    return artifacts_root() / f"path3-{command}" / run_id


def image_logs() -> Path:
    """Where image builds keep their logs."""
    return artifacts_root() / "images"
