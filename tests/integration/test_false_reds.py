"""Issue 23's false reds: a user's state the real Gateway upgrades correctly must come out green through `repro`.

One state holds every route at once, built from `minimal` as users' states look: a workspace project with its own
`cache/`, `tmp/`, `node_modules/` and `sessions.json` (routes 10, 11), a transcript whose last line was cut while
it was written (12: the Gateway imports the readable lines and says `transcript_malformed`), and lines a JavaScript
writer spelled as JavaScript does or cut mid-emoji (13: `1e2`, `1.0`, a lone surrogate escape). Before issue 23 each
of these turned the verdict red, blamed on the Gateway.
"""

from __future__ import annotations

import json
import shutil

from path3_sandbox.cli import main
from path3_sandbox.state.fixtures import resolve_fixture

SESSION = "1174b3f9-522e-5ab0-8002-2036d072c238"


def users_state(root):
    state = root / "state"
    shutil.copytree(resolve_fixture("minimal").state, state)
    project = state / "workspace" / "my-app"
    for folder in ("cache", "tmp", "node_modules/left-pad"):
        (project / folder).mkdir(parents=True)
        (project / folder / "index.js").write_text("module.exports = 1;\n")
    (project / "sessions.json").write_text(json.dumps({"my-app": {"sessionId": "not-openclaws"}}) + "\n")
    (project / "sessions" / "old").mkdir(parents=True)
    (project / "sessions" / "old" / "sessions.json").write_text("{}\n")
    transcript = state / "agents" / "main" / "sessions" / f"{SESSION}.jsonl"
    last = json.loads(transcript.read_text().splitlines()[-1])["id"]
    # Spelled as a JavaScript writer spells them (json.dumps would write 100.0 and a paired surrogate).
    transcript.write_text(transcript.read_text()
                          + '{"type":"message","id":"p3num01","parentId":"' + last + '","timestamp":"2025-11-20T09:02:00.000Z",'
                          '"message":{"role":"user","content":[{"type":"text","text":"sizes 1e2 and 1.0"}],'
                          '"timestamp":1763629320000,"meta":{"ratio":1.0,"count":1e2,"tiny":1e-7}}}\n'
                          + '{"type":"message","id":"p3emo01","parentId":"p3num01","timestamp":"2025-11-20T09:02:10.000Z",'
                          '"message":{"role":"user","content":[{"type":"text","text":"cut emoji \\ud83d"}],'
                          '"timestamp":1763629330000}}\n'
                          + '{"type":"message","id":"p3cut01","parentId":"p3emo01","timestamp":"2025-11-20T09:02:2')
    return state


def test_a_users_state_with_a_workspace_project_a_cut_last_line_and_js_spelled_numbers_is_green(default_image, tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setenv("PATH3_ARTIFACTS", str(tmp_path / "artifacts"))
    code = main(["repro", str(users_state(tmp_path)), "--first-start-only"])
    [summary] = (tmp_path / "artifacts" / "path3-repro").glob("*/proof/summary.json")
    verdict = json.loads(summary.read_text())
    assert code == 0, verdict["first_failure"]
    [fixture] = verdict["fixtures"]
    assert fixture["gateway_findings"] == [] and fixture["harness_failures"] == []
    [inferred] = (tmp_path / "artifacts" / "path3-repro").glob("*/fixture/fixture.json")
    manifest = json.loads(inferred.read_text())
    assert "transcript_malformed" in manifest["expected_warnings"]
