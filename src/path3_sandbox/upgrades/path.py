"""`path3-sandbox path`: several releases in turn on ONE state volume, one oracle over everything any hop wrote.

    path3-sandbox path 2026.7.35 2026.9.6 2026.7.35                 write, upgrade, try to go back
    path3-sandbox path 2026.7.35 2026.9.6 @move-state-db-aside 2026.7.35 2026.9.6    … then go back anyway
    path3-sandbox path 2026.7.35 @npm-install=2026.9.6                write, then upgrade in place with npm
    path3-sandbox path 2026.6.5 @openclaw-update=2026.9.5,old-gateway-turn @update-repair   … with `openclaw update`
    path3-sandbox path … --dry-run                                    print the numbered plan only

A hop is a release (an npm version), a release installed in place (`@npm-install=<version>` or
`@openclaw-update=<version>`, the previous release's own updater: npm_install.py) or a user action (`@name`: actions.py). `@npm-install=<version>` follows a release hop: while that hop's Gateway still
runs, `npm install -g openclaw@<version>` runs as root in its container (same filesystem, same volume) from a
Verdaccio registry the run controls (seeded at image build time, offline at run time, on the Gateway's network; its
request log is the hop's evidence), then the container is restarted as a service manager restarts it, and the
installed release plays its role like any release. A release's role follows from the contract table and from what
ran before it on the volume:
    writer     a file-backed release on a state no SQLite release has claimed: starts, takes turns
    importer   a SQLite release: starts as its contract says (startup-import; refuse-then-doctor: the refusal, then
               `doctor --fix`, then a start), then takes turns
    downgrade  a file-backed release on a state a SQLite release has claimed: measured contract (openclaw.md §11):
               it exits non-zero naming the newer schema and writes nothing, checked byte for byte
Every release hop that comes up takes two turns: one on `agent:main:main` (a session with turns in every era) and one
on a session of its own. After it, every message any hop wrote must still be reachable through the Gateway: in
`chat.history` of its session and that session in `sessions.list`; on a SQLite release, also in the session's
transcript rows. A message that is not is a finding naming the message, the hop and the key.
After every hop the path records what it did with the other era's files (era_files.py: legacy files kept, rewritten,
moved, gone or created; databases created or removed), and for an action, every file it put.

The path in modules: hop.py (a hop and its role), plan.py (the numbered plan, before Docker), runner.py (PathRun: the
hops in turn), reachability.py (every message any hop wrote, after each release hop), actions.py (the `@name` hops),
npm_install.py (`@npm-install=<version>`: the in-place install and its registry);
this module: `prove_path`, and the evidence it writes (plan.json, path.json, summary.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import docker

from ..containers.resources import RunResources
from ..report.evidence import Evidence
from ..build.images import GatewayImage
from ..build.registry_image import RegistryImage
from ..scenario.provider import ScriptedProvider
from . import era_files
from .recipe import Recipe
from .hop import ACTION, Hop
from .runner import PathRun


def _files_line(row: dict) -> str:
    if row["role"] == ACTION:
        put = row.get("restored", row.get("copied"))
        if put is None:
            return row.get("files") or row.get("output") or "-"
        replaced = row.get("replaced") or []
        return f"put {len(put)} file(s) ({era_files.names(put)}); replaced {len(replaced)}" + (
            f" ({era_files.names(replaced)})" if replaced else "")
    return row.get("files") or "not recorded"


def summary_markdown(run: PathRun, seconds: float, run_id: str) -> str:
    passed = run.evidence.passed
    first = run.evidence.first_failure
    lines = [f"# {'✅ PASS' if passed else '❌ FAIL'}: upgrade path {' → '.join(h.spec for h in run.hops)}", "",
             f"- **run**: `{run_id}`, {seconds:.0f}s, one state volume, network {run.network}",
             f"- **messages written**: {len(run.written)}, each checked after every later release hop"
             + (f" ({hidden} hidden by their own writer's compact/reset: those are checked on the volume)"
                if (hidden := sum(bool(w.hidden) for w in run.written)) else ""), ""]
    if first:
        lines += [f"**First failure** ({first.blame}): {first.message()}", ""]
    lines += ["| hop | release / action | role | contract | starts observed | reachable | verdict | time |",
              "|---|---|---|---|---|---|---|---|"]
    for row in run.rows:
        starts = " → doctor --fix → ".join(f"{s['kind']}" + (f" (exit {s['exit_code']})" if s.get("exit_code") else "")
                                           for s in row["starts"]) or "-"
        lines.append(f"| {row['hop']} | `{row['spec']}` | {row['role']} | {row['contract'] or '-'} | {starts} | "
                     f"{row['reachable'] or '-'} | {'**FAIL**' if row['failed'] else 'ok'} | {row['seconds']:.0f}s |")
    for hop in run.hops[len(run.rows):]:
        lines.append(f"| {hop.number} | `{hop.spec}` | {hop.role} | {hop.contract or '-'} | not run | - | - | - |")
    lines += ["", "## What each hop did with the other era's files", ""]
    lines += [f"- hop {row['hop']} `{row['spec']}`: {_files_line(row)}" for row in run.rows]
    installs = [row for row in run.rows if row.get("in_place")]
    if installs:
        lines += ["", "## Releases installed in place", ""]
        for row in installs:
            done = row["in_place"]
            lines.append(f"- hop {row['hop']}: `{done['argv']}` as {done.get('user', 'root')} in hop {row['hop'] - 1}'s container: "
                         f"{done['from']} → {done['installed']}, exit {done['npm_exit_code']} in "
                         f"{done['npm_seconds']:.0f}s; the registry served {done['urls']} URLs "
                         f"({done['packuments']} packuments, {done['tarballs']} tarballs, {done['failed_requests']} "
                         f"refused{': ' + ', '.join(done['refused'][:6]) if done.get('refused') else ''}); the old "
                         f"Gateway during the install: {done['old_gateway_after_install']} "
                         f"(`hop-{row['hop']}-…/registry-requests.jsonl`, `npm-fetched.json`, "
                         + ("`npm-install.log`)" if done.get("installer") == "npm" else "`update.json`, `update.log`)"))
            if done.get("installer") == "update":
                lines.append(f"  - update: {done.get('update_verdict')}; steps "
                             + ", ".join(f"{s['name']} ({s['exitCode']})" for s in done.get("update_steps") or [])
                             + f"; dry run: {done.get('fix')} (`update-dry-run.json`)")
            if done.get("ownership"):
                lines.append(f"  - ownership under the state dir after the install: {done['ownership']} "
                             "(`state-ownership.json`)")
            if row.get("old_gateway_turn"):
                lines.append(f"  - the old Gateway's turn before the restart: {row['old_gateway_turn']}")
            if row.get("interrupted"):
                lines.append(f"  - the updater interrupted: {row['interrupted']}")
    lines += ["", "Evidence: `plan.json`, `path.json`, `events.jsonl`, and per hop `hop-N-…/` (gateway-stdout.log, "
                  "commands.json, written.json, era-files.json, doctor-fix.log)."]
    return "\n".join(lines) + "\n"


def path_json(run: PathRun, seconds: float, run_id: str) -> dict[str, Any]:
    first = run.evidence.first_failure
    return {"run_id": run_id, "verdict": "pass" if run.evidence.passed else "fail", "seconds": round(seconds, 1),
            "hops": run.rows, "plan": [h.to_json() for h in run.hops], "written": [w.to_json() for w in run.written],
            "first_failure": first.message() if first else None, "failures": run.evidence.failures(),
            "images": {spec: image.tag for spec, image in run.images.items()}}


def prove_path(client: docker.DockerClient, hops: list[Hop], images: dict[str, GatewayImage], *, run_id: str, root: Path,
               keep: bool = False, network: str = "hermetic", recipe: Recipe | None = None,
               registry: RegistryImage | None = None) -> dict[str, Any]:
    """Run the path on one volume; write plan.json, path.json, summary.md and events.jsonl into `root`."""
    from ..report.redaction import sweep
    from ..proof.run import bridge_gateway_address

    root.mkdir(parents=True, exist_ok=True)
    (root / "plan.json").write_text(json.dumps([h.to_json() for h in hops], indent=2) + "\n")
    started = time.monotonic()
    evidence = Evidence(root, "path")
    provider = ScriptedProvider(host=bridge_gateway_address(client)).start()
    try:
        with RunResources(client, run_id, keep=keep) as resources:
            run = PathRun(images, hops, resources, provider, evidence, network=network, recipe=recipe,
                          registry_image=registry.tag if registry else "")
            run.run()
    finally:
        provider.stop()
        evidence.close()
    seconds = time.monotonic() - started
    result = path_json(run, seconds, run_id)
    if registry is not None:
        result["npm_registry"] = registry.to_json()
    (root / "path.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (root / "summary.md").write_text(summary_markdown(run, seconds, run_id), encoding="utf-8")
    sweep(root)
    return result
