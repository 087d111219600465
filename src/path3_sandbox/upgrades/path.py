"""`path3-sandbox path`: several releases in turn on ONE state volume, one oracle over everything any hop wrote.

    path3-sandbox path 2026.7.35 2026.9.6 2026.7.35                 write, upgrade, try to go back
    path3-sandbox path 2026.7.35 2026.9.6 @move-state-db-aside 2026.7.35 2026.9.6    … then go back anyway
    path3-sandbox path … --dry-run                                    print the numbered plan only

A hop is a release (an npm version) or a user action (`@name`: actions.py). A release's role follows from the
contract table and from what ran before it on the volume:
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
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import docker

from ..state.config import CONFIG_NAME
from ..containers.gateway import Gateway
from ..containers.resources import RunResources
from ..containers.rpc import GatewayRpc
from ..containers.volumes import VolumeFile, get_tar, put_files
from ..proof.contracts import CONTRACT_TABLE, OUT_OF_SCOPE, REFUSE_THEN_DOCTOR, classify_start
from ..errors import CaptureFailed, RpcError, UsageError
from ..report.evidence import GATEWAY, HARNESS, Assertion, Evidence
from ..build.images import GatewayImage
from ..probes import files as files_probe
from ..probes import sqlite as sqlite_probe
from ..progress import say
from ..scenario.provider import ScriptedProvider
from ..proof.session import StateSession, never, refused, start_as_a_user
from . import era_files
from .actions import ACTIONS, in_sessions_folder
from .capture import MARKER_LINE, Recipe, agents_config, drive_recipe, message_text, operation, send_turn, writer_config

WRITER, IMPORTER, DOWNGRADE, ACTION = "writer", "importer", "downgrade", "action"
BOTH_ERAS = "agent:main:main"
STOP_TIMEOUT_S = 30
SQLITE_FILE_RE = re.compile(r"\.sqlite(-wal|-shm|-journal)?$")


@dataclass(frozen=True)
class Hop:
    number: int
    spec: str  # as given: "2026.7.35" or "@move-state-db-aside"
    role: str
    contract: str | None = None  # an importer's
    does: str = ""
    on_migrated: bool = False  # an importer on a state a SQLite release already claimed

    @property
    def label(self) -> str:
        return f"hop-{self.number}-{self.spec.lstrip('@')}"

    def to_json(self) -> dict:
        return {"hop": self.number, "spec": self.spec, "role": self.role, "contract": self.contract, "does": self.does,
                "on_migrated": self.on_migrated}


def plan(specs: list[str]) -> list[Hop]:
    """The numbered plan, from the specs alone (no Docker): bad input is an error before anything runs."""
    if len(specs) < 2:
        raise UsageError("a path needs at least two hops", hint="e.g. path3-sandbox path 2026.7.35 2026.9.6")
    hops: list[Hop] = []
    claimed = False  # has a SQLite release claimed the state database?
    last_writer = 0
    for number, spec in enumerate(specs, start=1):
        if spec.startswith("@"):
            action = ACTIONS.get(spec[1:])
            if action is None:
                raise UsageError(f"hop {number}: unknown action {spec}",
                                 hint="actions: " + ", ".join(f"@{a}" for a in ACTIONS))
            if action.needs_claim and not claimed:
                what = "no state database to move aside yet" if action.unclaims else "no migrated state to act on yet"
                raise UsageError(f"hop {number}: {spec} before any SQLite release: there is {what}",
                                 hint=f"put it after a SQLite release, e.g. 2026.7.35 2026.9.6 {spec} 2026.9.6")
            claimed = claimed and not action.unclaims
            hops.append(Hop(number, spec, ACTION, does=action.does.format(writer=last_writer, first=specs[0])))
            continue
        rule = next((r for r in CONTRACT_TABLE if r.covers(spec)), None)
        if rule is None:
            raise UsageError(f"hop {number}: openclaw {spec} is not in the release table",
                             hint="a path takes exact versions the table knows (src/path3_sandbox/contracts.py)")
        if rule.contract == OUT_OF_SCOPE:
            raise UsageError(f"hop {number}: openclaw {spec} is out of scope: {rule.why}",
                             hint="pick 2026.7.2-beta.4 or a later release")
        if rule.contract is None and not claimed:
            last_writer = number
            hops.append(Hop(number, spec, WRITER, does="start on the state as it is, take two turns"))
        elif rule.contract is None:
            hops.append(Hop(number, spec, DOWNGRADE, does="start on a state a SQLite release claimed: must refuse "
                                                          "and write nothing"))
        else:
            how = ("first start imports" if rule.contract != REFUSE_THEN_DOCTOR
                   else "first start refuses, doctor --fix, start")
            if claimed:  # a migrated state: legacy files an action put there are this start's to import or refuse
                how = "starts on the migrated state (a refusal naming doctor --fix: doctor --fix, start)"
            hops.append(Hop(number, spec, IMPORTER, rule.contract, does=f"{how}; take two turns", on_migrated=claimed))
            claimed = True
    if hops[0].role != WRITER:
        raise UsageError(f"hop 1 ({hops[0].spec}) must be a file-backed release that writes the legacy state",
                         hint="start the path with a writer such as 2026.7.35")
    return hops


def plan_text(hops: list[Hop]) -> str:
    return "\n".join(f"  {h.number}. {h.spec:<24} {h.role:<9} {h.contract or '':<18} {h.does}" for h in hops)


@dataclass(frozen=True)
class Written:
    """A turn some hop wrote: what must stay reachable."""

    hop: int
    key: str
    marker: str
    sent: str
    reply: str
    hidden: str = ""  # why its own writer's chat.history no longer showed it (a recipe's compact or reset)

    def to_json(self) -> dict:
        return {"hop": self.hop, "key": self.key, "marker": self.marker, "sent": self.sent, "reply": self.reply,
                "hidden": self.hidden}


@dataclass
class PathRun:
    images: dict[str, GatewayImage]
    hops: list[Hop]
    resources: RunResources
    provider: ScriptedProvider
    evidence: Evidence
    network: str = "hermetic"
    recipe: Recipe | None = None  # every writer hop drives it too
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    volume: str = ""
    written: list[Written] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    last_import: int = 0  # the last importer hop that came up
    backups: dict[int, bytes] = field(default_factory=dict)  # writer hop -> a tar of agents/*/sessions/ it left

    @property
    def helper_image(self) -> str:
        """The image one-off helpers (file probes, copies) run from: any of the path's will do."""
        return next(iter(self.images.values())).tag

    def helper(self, hop: Hop) -> Gateway:
        """A Gateway object never started: its run_oneoff runs commands on the path's volume."""
        return Gateway(self.resources, self.helper_image, self.volume, self.token,
                       name=f"path3-{self.resources.run_id}-hop{hop.number}")

    def last_backup(self, hop: Hop) -> tuple[int, bytes]:
        source = max(n for n in self.backups if n < hop.number)
        return source, self.backups[source]

    def run(self) -> None:
        self.volume = self.resources.volume("state-path")
        for hop in self.hops:
            started, failed_before = time.monotonic(), self.evidence.failed_count
            say("path", f"hop {hop.number}/{len(self.hops)}: {hop.spec} ({hop.role}) {hop.does}")
            row = {**hop.to_json(), "starts": [], "reachable": None}
            try:
                if hop.role == ACTION:
                    ACTIONS[hop.spec[1:]].run(self, hop, row)
                elif hop.role == DOWNGRADE:
                    self._downgrade(hop, row)
                else:
                    self._release(hop, row)
            except Exception as error:  # recorded, and the path stops: later hops would prove nothing
                # Once the Gateway came up, a turn it did not complete or an RPC it refused is about the Gateway.
                blame = GATEWAY if row.get("up") and isinstance(error, (CaptureFailed, RpcError)) else HARNESS
                self.evidence.check(hop.label, Assertion(f"hop {hop.number} ran", False, "no error",
                                                         f"{type(error).__name__}: {error}"[:600], blame=blame))
                row["stop_path"] = True
            failed = self.evidence.failed_count - failed_before
            row.update(seconds=round(time.monotonic() - started, 1), failed=failed)
            self.rows.append(row)
            say("path", f"hop {hop.number}: {'FAILED' if failed else 'ok'} in {row['seconds']:.1f}s")
            if failed and row.get("stop_path"):
                break

    # -- one hop ------------------------------------------------------------------------------------------------
    def _gateway(self, hop: Hop, spec: str | None = None, volume: str | None = None, name: str | None = None) -> Gateway:
        """The Gateway of `spec` (default: the hop's release) on `volume` (default: the path's), its config written."""
        spec, volume = spec or hop.spec, volume or self.volume
        session = StateSession(self.resources, self.images[spec].tag, network=self.network, provider=self.provider,
                               token=self.token)
        layers = [writer_config] if hop.role in (WRITER, DOWNGRADE, ACTION) else []  # the file-backed releases' dialect
        config = session.config(*layers, lambda config: agents_config(config, self.recipe))
        put_files(self.resources, session.image, volume,
                  [VolumeFile(CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode(), time.time(), 0o600)])
        return session.gateway(volume, name or f"path3-{self.resources.run_id}-hop{hop.number}")

    def _release(self, hop: Hop, row: dict) -> None:
        gateway = self._gateway(hop)
        before = files_probe.snapshot(gateway.run_oneoff)
        try:
            # The user's way on from a refusal: its contract's, or on a migrated state the one the refusal names.
            doctor_after_refusal = hop.role == IMPORTER and (hop.contract == REFUSE_THEN_DOCTOR or hop.on_migrated)

            def keep_doctor(doctor) -> None:
                (self._dir(hop) / "doctor-fix.log").write_text(doctor.output)
                self.evidence.check(hop.label, Assertion("doctor --fix succeeded", doctor.exit_code == 0, 0,
                                                         doctor.exit_code, f"{hop.label}/doctor-fix.log"))

            starts = start_as_a_user(gateway, doctor_when=refused if doctor_after_refusal else never,
                                     on_doctor=keep_doctor).kinds
            row["starts"] = [s.to_json() for s in starts]
            up = starts[-1].came_up
            self.evidence.check(hop.label, Assertion(f"openclaw {hop.spec} came up ({hop.role})", up,
                                                     "imported or ready", [s.kind for s in starts],
                                                     starts[-1].message or ""))
            if not up:
                row["stop_path"] = True
                return
            row["up"] = True
            if hop.role == IMPORTER:
                self.last_import = hop.number
            with gateway.rpc() as rpc:
                self._turns(rpc, hop, hop.spec, (BOTH_ERAS, f"agent:main:hop-{hop.number}"))
                if hop.role == WRITER and self.recipe is not None:
                    row["operations"] = self._recipe(rpc, hop)
                row["reachable"] = self._reachable(hop, gateway, rpc)
        finally:
            self._keep_logs(hop, gateway)
            gateway.stop(timeout_s=STOP_TIMEOUT_S)
            self._era_files(hop, gateway, before, row)
        if hop.role == WRITER and any(h.spec == "@restore-sessions-backup" for h in self.hops[hop.number:]):
            self.backups[hop.number] = get_tar(self.resources, self.helper_image, self.volume, in_sessions_folder)

    def _turns(self, rpc: GatewayRpc, hop: Hop, spec: str, keys: tuple[str, ...], who: str = "", text: str = "") -> None:
        """One turn on each key, its marker numbered within the hop: what every later hop must still reach."""
        for key in keys:
            marker = f"P3-PATH-H{hop.number}T{1 + sum(w.hop == hop.number for w in self.written)}"
            message = f"{text or f'hop {hop.number}: {who}openclaw {spec} writes to {key}'}\n{MARKER_LINE} {marker}"
            self.written.append(Written(hop.number, key, marker, message, send_turn(rpc, key, marker, message)))

    def _recipe(self, rpc: GatewayRpc, hop: Hop) -> list[dict]:
        """The recipe's turns and operations on this writer; then its own chat.history says which turns a compact or
        reset hid: those need only stay on the volume, every other turn must stay reachable like the rest."""
        operations: list[dict] = []
        first = len(self.written)
        drive_recipe(self.recipe, lambda key, text: self._turns(rpc, hop, hop.spec, (key,), text=text),
                     lambda method, params: operations.append(operation(rpc, hop.spec, method, params, "path")))
        shown: dict[str, str] = {}
        for index in range(first, len(self.written)):
            item = self.written[index]
            if item.key not in shown:
                messages = (rpc.call("chat.history", {"sessionKey": item.key, "limit": 1000}) or {}).get("messages", [])
                shown[item.key] = "\n".join(message_text(m) for m in messages)
            if item.marker not in shown[item.key]:
                self.written[index] = replace(item, hidden=f"not in chat.history of {item.key} on its own writer "
                                                           f"(openclaw {hop.spec}) after the recipe's compact/reset")
        return operations

    def write_elsewhere(self, hop: Hop, spec: str, volume: str, keys: tuple[str, ...], row: dict) -> None:
        """Another machine: `spec`'s Gateway on its own volume takes a turn on each key (an action's writer)."""
        gateway = self._gateway(hop, spec, volume, name=f"path3-{self.resources.run_id}-hop{hop.number}-other")
        try:
            start = classify_start(gateway.start(), gateway.logs())
            row["starts"] = [start.to_json()]
            if not start.came_up:
                raise CaptureFailed(f"the other machine's openclaw {spec} did not come up: {start.kind} "
                                    f"({start.message or 'no message'})")
            row["up"] = True
            with gateway.rpc() as rpc:
                self._turns(rpc, hop, spec, keys, who="another machine's ")
        finally:
            self._keep_logs(hop, gateway)
            gateway.stop(timeout_s=STOP_TIMEOUT_S)

    def _era_files(self, hop: Hop, gateway: Gateway, before: files_probe.FilesSnapshot, row: dict) -> None:
        """Record what this hop did with the legacy files and the databases (era_files)."""
        try:
            after = files_probe.snapshot(gateway.run_oneoff)
        except Exception as error:  # a record, not a check: a failed probe is noted, the hop's verdict stands
            row["files"] = f"not recorded: {type(error).__name__}: {error}"[:300]
            return
        self._record_era_files(hop, era_files.compare(before, after), row)

    def _record_era_files(self, hop: Hop, moves: era_files.EraFiles, row: dict) -> None:
        row["files"] = moves.line()
        (self._dir(hop) / "era-files.json").write_text(json.dumps(moves.to_json(), indent=2) + "\n")

    def _reachable(self, hop: Hop, gateway: Gateway, rpc: GatewayRpc) -> str:
        """Every message any hop wrote must be reachable through this release: in chat.history of its key, its key
        in sessions.list, and (SQLite releases) in that session's transcript rows. A file-backed release cannot read
        what an importer moved into SQLite: there, the messages written since the last import must be reachable and
        every earlier one must still be on the volume (SQLite rows or archived transcripts). Returns "n/N"."""
        # 2026.7.35 takes `archived` as a boolean only; the SQLite releases also take "all"
        params = {"archived": "all", "limit": 1000} if hop.role == IMPORTER else {"limit": 1000}
        listed = {s.get("key") for s in (rpc.call("sessions.list", params) or {}).get("sessions", [])}
        snapshot = sqlite_probe.snapshot(gateway.exec)
        required = [w for w in self.written if not w.hidden and (hop.role == IMPORTER or w.hop > self.last_import)]
        lost: list[str] = []
        histories: dict[str, list[tuple[str, str]]] = {}
        for item in required:
            if item.key not in histories:
                messages = (rpc.call("chat.history", {"sessionKey": item.key, "limit": 1000}) or {}).get("messages", [])
                histories[item.key] = [(m.get("role"), message_text(m)) for m in messages if isinstance(m, dict)]
            history = histories[item.key]
            where = []
            if item.key not in listed:
                where.append("sessions.list")
            if not any(role == "user" and item.marker in text for role, text in history):
                where.append("chat.history (sent)")
            if not any(role == "assistant" and item.marker in text for role, text in history):
                where.append("chat.history (reply)")
            if hop.role == IMPORTER:
                found = snapshot.session(item.key)
                events = snapshot.events_of(found[1]["sessionId"]) if found else ()
                if sum(item.marker in (e.raw or "") for e in events) < 2:
                    where.append("its session's SQLite transcript rows")
            if where:
                lost.append(f"{item.marker} (written by hop {item.hop} on {item.key}): not in {', '.join(where)}; "
                            + _rows_elsewhere(snapshot, item.marker))
        (self._dir(hop) / "written.json").write_text(json.dumps([w.to_json() for w in self.written], indent=2,
                                                                ensure_ascii=False))
        self.evidence.check(hop.label, Assertion(
            f"after hop {hop.number}, every message {'any hop' if hop.role == IMPORTER else 'written since the last import'}"
            f" wrote is reachable through openclaw {hop.spec}", not lost, [], lost[:20],
            f"{len(required) - len(lost)}/{len(required)} reachable"))
        earlier = [w for w in self.written if w not in required]
        if earlier:
            texts = "\n".join(files_probe.read_texts(gateway.exec, r"\.jsonl").values())
            rows = "\n".join(e.raw or "" for db in snapshot.agents.values() for events in db.events.values() for e in events)
            gone = [w.marker for w in earlier if w.marker not in texts and w.marker not in rows]
            self.evidence.check(hop.label, Assertion(
                "every message written before the last import (a file-backed release cannot read SQLite) or hidden by "
                "its own writer's compact/reset is still on the volume", not gone, [], gone, f"{len(earlier) - len(gone)}/{len(earlier)} in SQLite rows or "
                                                   "transcript files"))
        return f"{len(required) - len(lost)}/{len(required)}"

    def _downgrade(self, hop: Hop, row: dict) -> None:
        gateway = self._gateway(hop)
        try:
            before = files_probe.snapshot(gateway.run_oneoff)
            databases = sorted(p for p in before.files if p.endswith(".sqlite"))
            rows_before = sqlite_probe.digests(gateway.run_oneoff, *databases)
            start = classify_start(gateway.start(), gateway.logs())
            row["starts"] = [start.to_json()]
            after = files_probe.snapshot(gateway.run_oneoff)
            created = sorted(p for p in after.files if p.endswith(".sqlite") and p not in before.files)
            rows_after = sqlite_probe.digests(gateway.run_oneoff, *databases)
        finally:
            self._keep_logs(hop, gateway)
            gateway.stop(timeout_s=STOP_TIMEOUT_S)
        # Files by their bytes; SQLite databases by their rows (opening one checkpoints its WAL: new bytes, same
        # content); the Gateway's own file log may grow by the refusal's lines.
        changed = sorted(path for path in set(before.files) | set(after.files)
                         if path != CONFIG_NAME and not SQLITE_FILE_RE.search(path) and not path.startswith("logs/")
                         and getattr(before.files.get(path), "sha256", None) != getattr(after.files.get(path), "sha256", None))
        changed += [f"{db} (rows)" for db in databases if rows_before.get(db) != rows_after.get(db)]
        changed += [f"{db} (created)" for db in created]
        logs = sorted(p for p in set(after.files) if p.startswith("logs/") and
                      getattr(before.files.get(p), "sha256", None) != after.files[p].sha256)
        row["log_files_written"] = logs
        self._record_era_files(hop, era_files.compare(before, after), row)
        names_schema = bool(re.search(r"newer schema version", gateway.logs()))
        if names_schema and start.exit_code:  # classify_start knows refusals that name doctor --fix; this one names the schema
            row["starts"] = [{**start.to_json(), "kind": "refused (newer schema)"}]
        self.evidence.check(hop.label, Assertion(
            f"openclaw {hop.spec} refuses the state a SQLite release claimed, naming the newer schema",
            start.exit_code not in (None, 0) and names_schema, "a non-zero exit naming the newer schema",
            {"kind": start.kind, "exit_code": start.exit_code, "message": start.message}))
        self.evidence.check(hop.label, Assertion(f"openclaw {hop.spec}'s refusal wrote nothing", not changed, [],
                                                 changed[:20], f"{len(before.files)} files compared by sha256, "
                                                 f"{len(databases)} SQLite databases by rows; its own log written: "
                                                 f"{', '.join(logs) or 'none'}"))

    def _dir(self, hop: Hop) -> Path:
        folder = self.evidence.root / hop.label
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _keep_logs(self, hop: Hop, gateway: Gateway) -> None:
        try:
            (self._dir(hop) / "gateway-stdout.log").write_text(gateway.logs())
            (self._dir(hop) / "commands.json").write_text(json.dumps(gateway.commands, indent=2))
        except Exception as error:  # the container may never have been created
            self.evidence.event(hop.label, "logs-unavailable", error=str(error))


def _rows_elsewhere(snapshot: sqlite_probe.SqliteSnapshot, marker: str) -> str:
    """Where else SQLite holds a marker: an unreachable row is a different finding from no row at all."""
    holders = sorted({f"{db.agent}:{sid}" for db in snapshot.agents.values() for sid, events in db.events.items()
                      if any(marker in (e.raw or "") for e in events)})
    return f"rows kept under session(s) {', '.join(holders)} (unreachable)" if holders else "no SQLite row holds it"


def _files_line(row: dict) -> str:
    if row["role"] == ACTION:
        put = row.get("restored", row.get("copied"))
        if put is None:
            return row.get("output") or "-"
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
               keep: bool = False, network: str = "hermetic", recipe: Recipe | None = None) -> dict[str, Any]:
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
            run = PathRun(images, hops, resources, provider, evidence, network=network, recipe=recipe)
            run.run()
    finally:
        provider.stop()
        evidence.close()
    seconds = time.monotonic() - started
    result = path_json(run, seconds, run_id)
    (root / "path.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (root / "summary.md").write_text(summary_markdown(run, seconds, run_id), encoding="utf-8")
    sweep(root)
    return result
