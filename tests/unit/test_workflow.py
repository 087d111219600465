"""The example workflow for the OpenClaw repository (examples/github-actions/openclaw-upgrade-proof.yml): its jobs,
its trigger (OpenClaw's own SQLite session-lifecycle path filter), its pins, and every path3-sandbox command in it
parsed by the real CLI parser. actionlint and zizmor run on it in test_workflow_lint.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from path3_sandbox.cli import parser
from path3_sandbox.proof.contracts import CONTRACTS
from path3_sandbox.state.fixtures import default_fixture_dirs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "openclaw-upgrade-proof.yml"


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as True


def steps(workflow: dict, job: str | None = None) -> list[dict]:
    jobs = [workflow["jobs"][job]] if job else workflow["jobs"].values()
    return [step for each in jobs for step in each["steps"]]


def runs(workflow: dict, job: str | None = None) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


def shipped_fixtures() -> list[str]:
    """The default set: a fixture proved by name only (`"default_set": false`, e.g. users-6.5) is in no shard."""
    return sorted(p.name for p in default_fixture_dirs())


# --- the jobs -------------------------------------------------------------------------------------------------

def test_the_workflow_packs_once_builds_the_images_once_and_shards_every_fixture_over_a_matrix():
    workflow = load()
    jobs = workflow["jobs"]
    assert set(jobs) == {"pack", "images", "prove"}
    assert jobs["images"]["needs"] == "pack" and set(jobs["prove"]["needs"]) == {"pack", "images"}
    assert all(job["timeout-minutes"] > 0 for job in jobs.values())
    strategy = jobs["prove"]["strategy"]
    assert strategy["fail-fast"] is False
    sharded = [name for shard in strategy["matrix"]["include"] for name in shard["fixtures"].split()]
    assert sorted(sharded) == shipped_fixtures(), "every fixture in exactly one shard"
    assert len(sharded) == len(set(sharded))
    assert "--jobs" in runs(workflow, "prove"), "the matrix is the scale-out; --jobs packs fixtures inside a shard"


def test_the_pr_is_packed_by_openclaws_packer_on_openclaws_node_setup():
    workflow = load()
    assert workflow["env"]["NODE_VERSION"] == "24.19.0"  # ci.yml's and package-acceptance.yml's NODE_VERSION
    setup = next(s for s in steps(workflow, "pack") if "setup-node-env" in s.get("uses", ""))
    assert setup["uses"] == "$/.github/actions/setup-node-env"  # OpenClaw's own action, at the running commit
    assert setup["with"]["node-version"] == "${{ env.NODE_VERSION }}"
    pack = runs(workflow, "pack")
    assert "scripts/package-openclaw-for-docker.mjs" in pack and "--allow-unreleased-changelog" in pack
    assert "pnpm pack" not in pack and "pnpm build" not in pack, "OpenClaw's packer, not a plain pack"


def test_the_images_are_built_once_saved_under_their_content_hash_and_loaded_by_every_shard():
    workflow = load()
    images, prove = runs(workflow, "images"), runs(workflow, "prove")
    assert "path3-sandbox image build" in images and "docker save" in images
    assert 'artifact="path3-images-${tag##*-}"' in images  # the tag's last part is the image's content hash
    assert "docker save" not in prove and "docker load" in prove
    downloads = [s for s in steps(workflow, "prove") if s.get("uses", "").startswith("actions/download-artifact")]
    assert "${{ needs.images.outputs.artifact }}" in [s["with"]["name"] for s in downloads]
    load_step = next(s for s in steps(workflow, "prove") if "docker load" in s.get("run", ""))
    assert load_step["env"]["GATEWAY_TAG"] == "${{ needs.images.outputs.gateway_tag }}"
    assert '"$tag" != "$GATEWAY_TAG"' in load_step["run"], "a shard that would rebuild the image fails instead"
    checkouts = [s for s in steps(workflow, "prove") if s.get("uses", "").startswith("actions/checkout")]
    assert checkouts[0]["with"]["ref"] == "${{ needs.images.outputs.path3_sandbox_sha }}"


def test_the_contract_comes_from_the_release_table_or_is_declared_by_the_pr():
    workflow = load()
    text = WORKFLOW.read_text()
    assert "PATH3_CONTRACT" not in text
    assert not re.search(r"--contract\s+(startup-import|refuse-then-doctor)", runs(workflow))
    options = triggers(workflow)["workflow_dispatch"]["inputs"]["contract"]["options"]
    assert options == ["release-table", *CONTRACTS]
    decide = next(s for s in steps(workflow, "pack") if s.get("id") == "contract")
    for contract in CONTRACTS:
        assert f"'path3-contract:{contract}'" in "".join(decide["env"].values())
    assert 'if [ -n "$CONTRACT" ]; then contract_args=(--contract "$CONTRACT"); fi' in runs(workflow, "prove")


def test_the_proof_reports_in_the_job_summary_and_uploads_its_evidence_with_hidden_files_even_when_it_fails():
    workflow = load()
    prove = runs(workflow, "prove")
    assert 'cat "$summary" >> "$GITHUB_STEP_SUMMARY"' in prove and 'exit "$status"' in prove
    uploads = [s for s in steps(workflow, "prove") if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and all(s.get("if") == "always()" for s in uploads)
    for upload in (s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact")):
        if ".artifacts" in upload["with"]["path"]:  # a dot-directory: upload-artifact skips it unless told
            assert upload["with"]["include-hidden-files"] is True, upload["with"]["path"]


def test_the_readme_documents_the_commands_the_workflow_runs():
    readme = (ROOT / "README.md").read_text()
    workflow_runs = runs(load())
    for command in ("make venv", "path3-sandbox image build --openclaw", "path3-sandbox prove --openclaw",
                    "--fixture", "--jobs", "scripts/package-openclaw-for-docker.mjs", "docker save", "docker load"):
        assert command in workflow_runs, command
        assert command in readme, f"README does not document {command!r}"
    for label in ("path3-contract:startup-import", "path3-contract:refuse-then-doctor"):
        assert label in readme


# --- review gates: least privilege, no injection, pins --------------------------------------------------------

def test_least_privilege_no_persisted_credentials_no_expression_in_a_script_and_superseded_runs_cancelled():
    workflow = load()
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    checkouts = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)
    for step in steps(workflow):
        assert "${{" not in step.get("run", ""), f"an expression in a script (template injection): {step}"
    concurrency = workflow["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


# Each action at the commit its release tag points to. How each was verified (stored sources, no network):
# - checkout v7.0.1: Dependabot's bump 7.0.0 -> 7.0.1 lists 3d3c42e5… "prep v7.0.1 release"; OpenClaw's
#   package-acceptance.yml pins the same; Node 24 since v5.0.0 (its changelog).
# - upload-artifact v7.0.1: a note that checked the tags with GitHub's API (v7 and v7.0.1 name 043fb46d…), OpenClaw's
#   package-acceptance.yml pins it as v7; Node 24 only (v6.0.0 moved to Node 24).
# - download-artifact v8.0.1: its release table row (tag v8.0.1, 2026-03-11, commit 3e5f45b2…, node24); OpenClaw
#   pins it as v8.
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/upload-artifact": ("043fb46d1a93c77aae656e7c1c64a875d1fc6a0a", "v7.0.1"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
}


def test_every_action_is_pinned_to_the_verified_commit_of_a_node24_release_with_its_version_beside_it():
    uses = [line.split("uses:", 1)[1].strip() for line in WORKFLOW.read_text().splitlines()
            if line.strip().startswith(("uses:", "- uses:"))]
    assert len(uses) >= 10
    for ref in uses:
        if ref.startswith("$/"):  # this repository at the running commit
            continue
        match = re.fullmatch(r"([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", ref)
        assert match, f"not pinned by full commit SHA with its version in a comment: {ref}"
        action, sha, version = match.groups()
        assert PINNED.get(action) == (sha, version), f"{ref}: not the verified pin {PINNED.get(action)}"


# --- the path filter: OpenClaw's SQLite session-lifecycle trigger -----------------------------------------------

# OpenClaw selects its SQLite session-lifecycle lane with hasSqliteSessionLifecycleAffectingChange() in
# scripts/lib/ci-changed-node-test-plan.mts (openclaw/openclaw, read at 0068c3892a40dfec00972899796973045f16483c; the
# same constants in the other stored versions of the file): a changed path selects it when it
#   - starts with one of SQLITE_SESSION_LIFECYCLE_PREFIX_RE's prefixes and is not a test file (isTestFileTarget in
#     scripts/test-projects.test-support.mts: a name ending .test or .spec, then .ts .js .tsx .jsx .mts .cts .mjs …),
#   - is one of SQLITE_SESSION_LIFECYCLE_EXACT_RE's paths (test files too),
#   - or is a non-test source under SQLITE_SESSION_LIFECYCLE_IMPORT_CANDIDATE_RE's folder whose imports reach the
#     lifecycle proof (or that was deleted): globs cannot follow imports, so the whole folder triggers here.
PREFIXES = ("src/agents/sessions/", "src/commands/doctor-session-", "src/config/sessions/",
            "src/gateway/agent-turn/agent-session-persist", "src/gateway/server-chat.load-gateway-session-row",
            "src/gateway/server-chat.persist-session-lifecycle", "src/gateway/server-methods/sessions",
            "src/gateway/server.sessions", "src/gateway/session-", "src/gateway/sessions-", "src/plugin-sdk/session-",
            "src/sessions/", "src/state/openclaw-agent-db", "src/state/openclaw-agent-schema",
            ".github/actions/setup-node-env/")
AGENT_FILE_WORDS = ("session", "transcript", "compaction")  # src/agents/<a name holding one of these>…
EXACT = ("src/config/sessions.ts", "test/helpers/openclaw-test-instance.ts",
         "test/helpers/sqlite-sessions-transcripts-flip-proof.ts",
         "test/helpers/sqlite-sessions-transcripts-flip-proof-assertions.ts",
         "test/scripts/sqlite-sessions-transcripts-flip-proof.e2e.test.ts",
         "test/scripts/sqlite-sessions-transcripts-flip-proof.built-cli.e2e.test.ts",
         "test/scripts/vitest-e2e-global-setup.test.ts", "test/vitest/vitest.e2e.config.ts",
         "test/vitest/vitest.e2e.global-setup.ts", "scripts/lib/ci-changed-node-test-plan.mts",
         ".github/workflows/ci.yml", "openclaw.mjs", "package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml")
IMPORT_CANDIDATES = "src/agents/embedded-agent-runner/run/"
TEST_FILE = re.compile(r"\.(?:test|spec)\.[cm]?[jt]sx?$")
SELF = ".github/workflows/path3-upgrade-proof.yml"  # the workflow itself, as OpenClaw's list holds ci.yml

# The same list as GitHub path globs (`*` within a name, `**` across folders, `!` drops, a later pattern wins).
EXPECTED_PATHS = [
    *(p + "**" for p in PREFIXES), *(f"src/agents/*{word}**" for word in AGENT_FILE_WORDS), IMPORT_CANDIDATES + "**",
    *(f"!**/*.{kind}.{ext}" for kind in ("test", "spec") for ext in ("[jt]s", "[jt]sx", "[cm][jt]s", "[cm][jt]sx")),
    *EXACT, SELF,
]


def test_the_path_filter_is_openclaws_sqlite_session_lifecycle_list():
    paths = triggers(load())["pull_request"]["paths"]
    assert sorted(paths) == sorted(EXPECTED_PATHS) and len(paths) == len(set(paths))


def openclaw_selects(path: str) -> bool:
    if path in EXACT or path == SELF:
        return True
    if TEST_FILE.search(path):
        return False
    agent_name = path.removeprefix("src/agents/").split("/")[0] if path.startswith("src/agents/") else ""
    return (path.startswith(PREFIXES) or path.startswith(IMPORT_CANDIDATES)
            or any(word in agent_name for word in AGENT_FILE_WORDS))


def glob_regex(glob: str) -> re.Pattern:
    """GitHub's filter pattern syntax (the characters this workflow uses; `?` and `+` mean other things there)."""
    assert not set(glob) & set("?+{}"), glob
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "[":
            end = glob.index("]", i)
            out, i = out + glob[i:end + 1], end + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def github_selects(paths: list[str], path: str) -> bool:
    selected = False
    for pattern in paths:
        if glob_regex(pattern.lstrip("!")).match(path):
            selected = not pattern.startswith("!")
    return selected


def sample_paths() -> list[str]:
    samples = ["docs/ci/pipeline.md", "src/agents/foo.ts", "src/agents/sub/session.ts", "src/gateway/session.ts",
               "src/config/sessions.tsx", "packages/foo/package.json", "README.md", "src/agents/x.session.test.ts",
               "src/gateway/server-methods/sessions.test.ts", "src/state/openclaw-agent-db.spec.mjs",
               "src/state/openclaw-state-lease.ts", "test/helpers/other.ts", ".github/workflows/other.yml"]
    for base in (*PREFIXES, IMPORT_CANDIDATES, *(f"src/agents/my-{w}" for w in AGENT_FILE_WORDS)):
        for tail in ("x.ts", "x.mts", "dir/y.tsx", "x.test.ts", "x.spec.cjs", "x.test.jsx", "dir/x.e2e.test.ts",
                     "x.test.json", "x.testing.ts"):
            samples.append(base + tail)
    return [*samples, *EXACT, SELF]


@pytest.mark.parametrize("path", sample_paths())
def test_the_path_filter_selects_exactly_what_openclaws_trigger_selects(path):
    paths = triggers(load())["pull_request"]["paths"]
    assert github_selects(paths, path) == openclaw_selects(path)


# --- every path3-sandbox command, parsed by the real parser ----------------------------------------------------

# A value for each shell variable the commands use (the workflow's own env where it has one); an unknown variable
# fails the test, so a new one is looked at.
def variables(workflow: dict) -> dict[str, list[str]]:
    env = workflow["env"]
    return {"GITHUB_WORKSPACE": ["/home/runner/work/openclaw/openclaw"], "PACKAGE_NAME": [env["PACKAGE_NAME"]],
            "PATH3_BASE": [env["PATH3_BASE"]], "PATH3_JOBS_PER_SHARD": [env["PATH3_JOBS_PER_SHARD"]],
            "PATH3_LATEST_STABLE": [env["PATH3_LATEST_STABLE"]],
            "CONTRACT": list(CONTRACTS), "name": shipped_fixtures()}


def invocations(script: str) -> list[str]:
    """The argument text of each `.venv/bin/path3-sandbox …` in a script (continuations joined, `$(…)` closed)."""
    script = script.replace("\\\n", " ")
    found = []
    for match in re.finditer(r"\.venv/bin/path3-sandbox\s", script):
        rest, quote, depth = script[match.end():].split("\n", 1)[0], None, 0
        for end, char in enumerate(rest):
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")" and depth == 0:
                rest = rest[:end]
                break
            elif char == ")":
                depth -= 1
        found.append(rest)
    return found


def expand(text: str, script: str, values: dict[str, list[str]], pick: int) -> list[str]:
    """shlex words with each "${array[@]}" replaced by every word assigned to it and each $VAR by a value."""
    words = []
    for word in shlex.split(text):
        array = re.fullmatch(r"\$\{(\w+)\[@\]\}", word)
        if array:
            assigned = re.findall(rf"\b{array.group(1)}\+?=\((.*?)\)", script)
            assert assigned, f"{word}: no assignment in the script"
            for part in assigned:
                words += expand(part, script, values, pick)
            continue
        for name in re.findall(r"\$\{?(\w+)\}?", word):
            assert name in values, f"${name}: give the test a value for it"
            choice = values[name][pick % len(values[name])]
            word = re.sub(rf"\$\{{?{name}\}}?", choice, word)
        words.append(word)
    return words


def test_every_path3_sandbox_command_in_the_workflow_parses_with_the_real_cli_parser(capsys):
    workflow = load()
    values = variables(workflow)
    commands = []
    for step in steps(workflow):
        script = step.get("run", "")
        for text in invocations(script):
            for pick in range(max(len(v) for v in values.values())):
                argv = expand(text, script, values, pick)
                try:
                    args = parser().parse_args(argv)
                except SystemExit:
                    pytest.fail(f"path3-sandbox {' '.join(argv)}: {capsys.readouterr().err}")
                commands.append((args.command, args))
    kinds = [command for command, _ in commands]
    assert "image" in kinds and "prove" in kinds
    prove = next(args for command, args in commands if command == "prove")
    assert prove.jobs > 0 and prove.fixture and prove.openclaw.endswith(".tgz")
