"""Where things live: the checkout's docker/ and fixtures/ folders, and the evidence root."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = PROJECT_ROOT / "docker"
FIXTURES_DIR = PROJECT_ROOT / "fixtures" / "legacy-stores"


def artifacts_root() -> Path:
    """`.artifacts/` in the current directory, unless PATH3_ARTIFACTS says otherwise."""
    return Path(os.environ.get("PATH3_ARTIFACTS", ".artifacts")).resolve()
