from pathlib import Path

import yaml

from path3_sandbox.state.fixtures import default_fixture_dirs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "openclaw-upgrade-proof.yml"


def load():
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_example_workflow_is_valid_yaml_with_a_pack_job_and_a_proof_matrix():
    workflow = load()
    jobs = workflow["jobs"]
    assert set(jobs) == {"pack", "prove"} and jobs["prove"]["needs"] == "pack"
    strategy = jobs["prove"]["strategy"]
    assert strategy["fail-fast"] is False and jobs["prove"]["timeout-minutes"] > 0
    shipped = sorted(p.name for p in default_fixture_dirs())  # less the fixtures proved by name only (default_set)
    assert sorted(strategy["matrix"]["fixture"]) == shipped


def test_the_workflow_packs_the_pr_and_calls_the_documented_commands():
    runs = "\n".join(step.get("run", "") for job in load()["jobs"].values() for step in job["steps"])
    readme = (ROOT / "README.md").read_text()
    assert "pnpm pack" in runs
    for command in ("make venv", "path3-sandbox prove --openclaw", "--contract", "--fixture"):
        assert command in runs, command
        assert command in readme, f"README does not document {command!r}"
    assert "GITHUB_STEP_SUMMARY" in runs and "exit $status" in runs


def test_the_workflow_uploads_the_evidence_even_when_the_proof_fails():
    uploads = [s for s in load()["jobs"]["prove"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and all(s.get("if") == "always()" for s in uploads)
