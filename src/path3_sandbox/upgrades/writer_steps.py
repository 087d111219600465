"""A recipe's belongings (upgrades/belongings.py) written by the writer release's own CLI, in the writer's containers.

    run_setup(gateway, recipe)         before the Gateway starts, in one offline one-off on the state volume:
                                       agents add, plugins enable (or config set), channels add (or config set),
                                       approvals allowlist add; then what the release has installed (plugins list --json
                                       and its bundled plugins' package.json versions)
    run_cron(gateway, recipe)          with the Gateway running: cron add through it, cron run once
    run_acp(gateway, recipe)           with the Gateway running: an editor's turns through `openclaw acp` (stdio JSON-RPC)
    cron_sessions(state, records)      after the capture: the sessions each cron job's run created, found in the stores

Every command is the release's own; none writes a file of the state itself. The progress spinners some commands draw are
kept out by TERM=dumb and no standard input.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CaptureFailed
from ..progress import say
from ..proof.reports import last_json
from .belongings import CronJob, agent_add_argv, plugin_enable_argvs
from .recipe import MARKER_LINE, Recipe
from .turns import Turn

if TYPE_CHECKING:
    from ..containers.gateway import Gateway

QUIET_ENV = {"TERM": "dumb", "NO_COLOR": "1", "CI": "1"}
SETUP_TIMEOUT_S = 900
STEP_END_RE = re.compile(r"^@@path3-step (\d+) end rc=(\d+)$", re.M)
PACKAGE_DIR = "/opt/openclaw/lib/node_modules/openclaw"  # where the Gateway images install openclaw
VERSIONS_JS = (f"const fs=require('fs'),p=require('path'),d='{PACKAGE_DIR}/dist/extensions',o={{}};"
               "for(const x of fs.readdirSync(d)){try{const j=JSON.parse(fs.readFileSync(p.join(d,x,'package.json')));"
               "o[x]={name:j.name,version:j.version}}catch{}}console.log(JSON.stringify(o))")
# An editor driving `openclaw acp` over stdio (ndjson JSON-RPC): initialize, session/new, one session/prompt.
ACP_DRIVER = r"""
const { spawn } = require("node:child_process");
const [key, text, timeoutMs] = process.argv.slice(-3);
const child = spawn("openclaw", ["acp", "--session", key, "--no-prefix-cwd"], { stdio: ["pipe", "pipe", "pipe"] });
let buf = "", next = 1, stderr = ""; const waiting = new Map(), updates = [];
child.stderr.on("data", d => { stderr += d; });
child.stdout.on("data", d => {
  buf += d; let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, i).trim(); buf = buf.slice(i + 1); let msg;
    try { msg = JSON.parse(line); } catch { continue; }
    if (msg.id !== undefined && waiting.has(msg.id)) { waiting.get(msg.id)(msg); waiting.delete(msg.id); }
    else if (msg.method === "session/update") updates.push(msg.params?.update?.sessionUpdate);
    else if (msg.id !== undefined && msg.method) child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "not supported" } }) + "\n");
  }
});
const call = (method, params) => new Promise(resolve => { const id = next++; waiting.set(id, resolve);
  child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n"); });
const done = (out, code) => { console.log(JSON.stringify({ ...out, updates, stderr: stderr.slice(-400) })); child.kill("SIGTERM"); process.exit(code); };
setTimeout(() => done({ error: "timeout" }, 124), Number(timeoutMs));
(async () => {
  const init = await call("initialize", { protocolVersion: 1, clientCapabilities: {} });
  if (init.error) return done({ step: "initialize", error: init.error }, 1);
  const made = await call("session/new", { cwd: process.env.HOME || "/", mcpServers: [] });
  if (made.error) return done({ step: "session/new", error: made.error }, 1);
  const said = await call("session/prompt", { sessionId: made.result.sessionId, prompt: [{ type: "text", text }] });
  if (said.error) return done({ step: "session/prompt", error: said.error, acpSessionId: made.result.sessionId }, 1);
  done({ protocolVersion: init.result.protocolVersion, acpSessionId: made.result.sessionId, stopReason: said.result.stopReason }, 0);
})();
"""


@dataclass(frozen=True)
class Step:
    label: str
    argv: list[str]
    fallback: list[str] | None = None  # run when argv fails (the release refuses); then it must succeed


def setup_steps(recipe: Recipe) -> list[Step]:
    """The writer's CLI commands for the recipe's agents, plugins, channels and approvals, in that order."""
    steps = [Step(f"agents add {agent}", agent_add_argv(agent)) for agent in recipe.agents_add]
    for plugin in recipe.plugins_enable:
        enable, config_set = plugin_enable_argvs(plugin)
        steps.append(Step(f"plugins enable {plugin}", enable, config_set))
    for channel in recipe.channels:
        for index, argv in enumerate(channel.argvs()):
            steps.append(Step(f"channel {channel.channel}/{channel.account or 'default'} ({channel.via} {index + 1})", argv))
    steps += [Step(f"approvals allowlist add {a.agent} {a.pattern}", a.argv()) for a in recipe.approvals]
    return steps


def setup_script(steps: list[Step]) -> str:
    """One shell script: each command between begin/end marker lines that carry its exit code; a fallback runs only
    when its command failed."""
    lines = ['step() { n=$1; shift; printf "\\n@@path3-step %s begin\\n" "$n"; "$@" </dev/null 2>&1; rc=$?; '
             'printf "\\n@@path3-step %s end rc=%s\\n" "$n" "$rc"; return $rc; }']
    number = 0
    for step in steps:
        line = f"step {number} {shlex.join(step.argv)}"
        number += 1
        if step.fallback:
            line += f" || step {number} {shlex.join(step.fallback)}"
        number += 1
        lines.append(line)
    lines.append(f"step {number} openclaw plugins list --json")
    lines.append(f"step {number + 1} node -e {shlex.quote(VERSIONS_JS)}")
    lines.append("true")
    return "\n".join(lines) + "\n"


def step_outputs(output: str) -> dict[int, tuple[int, str]]:
    """Step number -> (exit code, what it printed) from the script's output."""
    found: dict[int, tuple[int, str]] = {}
    for match in STEP_END_RE.finditer(output):
        number = int(match.group(1))
        begin = output.rfind(f"@@path3-step {number} begin\n", 0, match.start())
        text = output[begin + len(f"@@path3-step {number} begin\n"):match.start()] if begin >= 0 else ""
        found[number] = (int(match.group(2)), text.strip())
    return found


def judge_setup(steps: list[Step], outputs: dict[int, tuple[int, str]]) -> list[dict]:
    """One record per command the writer ran; CaptureFailed when one failed without a fallback that worked."""
    records = []
    for index, step in enumerate(steps):
        code, text = outputs.get(2 * index, (None, ""))
        record: dict[str, Any] = {"step": step.label, "argv": _shown(step.argv), "exit_code": code, "said": _tail(text)}
        if code != 0 and step.fallback:
            fallback_code, fallback_text = outputs.get(2 * index + 1, (None, ""))
            record["fallback"] = {"argv": _shown(step.fallback), "exit_code": fallback_code, "said": _tail(fallback_text)}
            code = fallback_code
        if code != 0:
            raise CaptureFailed(f"the writer's `{' '.join(_shown(step.argv))}` failed (exit {code}): {_tail(text)}",
                                hint="the release's CLI refused what the recipe asks; see belongings.py")
        records.append(record)
    return records


def installed_plugins(outputs: dict[int, tuple[int, str]], number: int) -> dict:
    """What the writer had installed, from its own files: `plugins list --json` (step `number`) joined with each
    bundled plugin's package.json version (step `number` + 1)."""
    listed = last_json(outputs.get(number, (1, ""))[1]) or {}
    versions = last_json(outputs.get(number + 1, (1, ""))[1]) or {}
    plugins = [p for p in listed.get("plugins") or [] if isinstance(p, dict) and p.get("id")]
    rows = []
    for plugin in plugins:
        package = versions.get(Path(str(plugin.get("rootDir") or "")).name) or {}
        rows.append({"id": plugin["id"], "origin": plugin.get("origin"), "enabled": bool(plugin.get("enabled")),
                     "status": plugin.get("status"), "version": plugin.get("version") or package.get("version"),
                     **({"package": package["name"]} if package.get("name") else {})})
    return {"source": "openclaw plugins list --json; dist/extensions/*/package.json", "discovered": len(rows),
            "enabled": [r for r in rows if r["enabled"]], "ids": sorted(r["id"] for r in rows)}


def run_setup(gateway: Gateway, recipe: Recipe) -> tuple[list[dict], dict]:
    """The recipe's setup through the writer's CLI, offline, before its Gateway starts: (records, installed)."""
    steps = setup_steps(recipe)
    say("capture", f"the writer's own CLI: {len(steps)} setup command(s) in one offline one-off")
    result = gateway.run_oneoff(["sh", "-c", setup_script(steps)], timeout_s=SETUP_TIMEOUT_S, environment=QUIET_ENV)
    outputs = step_outputs(result.output)
    records = judge_setup(steps, outputs)
    for record in records:
        fallback = record.get("fallback")
        say("capture", f"{record['step']}: exit {record['exit_code']}"
                       + (f"; the release refused ({record['said'][:120]!r}), so: {' '.join(fallback['argv'][1:4])} "
                          f"exit {fallback['exit_code']}" if fallback else ""))
    installed = installed_plugins(outputs, 2 * len(steps))
    say("capture", f"the writer has {installed['discovered']} plugins, {len(installed['enabled'])} enabled: "
                   f"{', '.join(p['id'] for p in installed['enabled'])}")
    return records, installed


def run_cron(gateway: Gateway, recipe: Recipe) -> tuple[list[dict], list[Turn]]:
    """Each cron job added through the writer's Gateway (`cron add`) and, where the recipe says, run once."""
    records, turns = [], []
    for number, job in enumerate(recipe.cron, start=1):
        marker = f"P3-CAPTURE-C{number:02d}"
        message = f"{job.message}\n{MARKER_LINE} {marker}"
        added = gateway.exec(job.add_argv(message), timeout_s=120, environment=QUIET_ENV)
        document = last_json(added.output) or {}
        if added.exit_code != 0 or not document.get("id"):
            raise CaptureFailed(f"the writer's `openclaw cron add --name {job.name}` failed (exit {added.exit_code}): "
                                f"{_tail(added.output)}")
        record: dict[str, Any] = {"name": job.name, "agent": job.agent, "id": document["id"],
                                  "schedule": document.get("schedule"), "sessionTarget": document.get("sessionTarget")}
        if job.run:
            ran = gateway.exec(CronJob.run_argv(document["id"]), timeout_s=240, environment=QUIET_ENV)
            record["run"] = {"exit_code": ran.exit_code, "seconds": round(ran.seconds, 1), "said": _tail(ran.output)}
            if ran.exit_code != 0:
                raise CaptureFailed(f"the writer's `openclaw cron run {document['id']}` failed (exit {ran.exit_code}): "
                                    f"{_tail(ran.output)}")
            history = gateway.exec(["openclaw", "cron", "runs", "--id", document["id"], "--limit", "1"], timeout_s=60,
                                   environment=QUIET_ENV)
            entries = (last_json(history.output) or {}).get("entries") or []
            record["run"]["history"] = _summary(entries[-1]) if entries else _tail(history.output)
            turns.append(Turn(f"cron:{document['id']}", marker, message, f"{marker} acknowledged.", wrapped=True))
        say("capture", f"cron job {job.name!r} ({document['id']}) added" + (f", run once: exit {record['run']['exit_code']}"
                                                                           if job.run else ""))
        records.append(record)
    return records, turns


def run_acp(gateway: Gateway, recipe: Recipe) -> tuple[list[dict], list[Turn]]:
    """Each ACP session's turns through the writer's ACP bridge, as an editor sends them."""
    records, turns, number = [], [], 0
    for session in recipe.acp:
        for text in session.turns:
            number += 1
            marker = f"P3-CAPTURE-A{number:02d}"
            message = f"{text}\n{MARKER_LINE} {marker}"
            result = gateway.exec(["node", "-e", ACP_DRIVER, session.key, message, "180000"], timeout_s=200,
                                  environment=QUIET_ENV)
            answer = last_json(result.output) or {}
            if result.exit_code != 0 or answer.get("stopReason") != "end_turn":
                raise CaptureFailed(f"the writer's ACP bridge did not finish turn {marker} on {session.key} "
                                    f"(exit {result.exit_code}): {_tail(result.output)}")
            say("capture", f"{session.key}: ACP turn {marker} -> stopReason {answer['stopReason']}")
            records.append({"sessionKey": session.key, "marker": marker, "protocolVersion": answer.get("protocolVersion"),
                            "stopReason": answer["stopReason"], "updates": answer.get("updates")})
            turns.append(Turn(session.key, marker, message, f"{marker} acknowledged."))
    return records, turns


def cron_sessions(state: Path, records: list[dict]) -> None:
    """Each cron record gets the session keys (and ids) its run created, from the writer's session stores."""
    stores = {}
    for path in sorted(state.glob("agents/*/sessions/sessions.json")):
        try:
            stores.update(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError):
            continue
    for record in records:
        record["sessions"] = {key: (entry or {}).get("sessionId") for key, entry in sorted(stores.items())
                              if record["id"] in key and isinstance(entry, dict)}
        if record.get("run") and not record["sessions"]:
            raise CaptureFailed(f"cron job {record['name']!r} ran, but no session store holds a session of it "
                                f"({record['id']})")


def _summary(entry: Any) -> Any:
    """A cron run history entry as the manifest keeps it: its scalar fields (status, error, summary, sessionKey…)."""
    if not isinstance(entry, dict):
        return entry
    return {k: (v[:300] if isinstance(v, str) else v) for k, v in entry.items() if isinstance(v, (str, int, float, bool))}


def _shown(argv: list[str]) -> list[str]:
    """A command as the manifest keeps it: a channel token is kept (fake by rule), a long script summarised."""
    return [f"<script: {len(arg)} chars>" if len(arg) > 300 else arg for arg in argv]


def _tail(text: str, limit: int = 240) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-limit:]
