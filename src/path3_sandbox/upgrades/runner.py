"""Running an upgrade path (path.py) on one state volume: PathRun takes the planned hops in turn. A release hop starts
its Gateway as its role says (proof/session.py: a refusal followed by `doctor --fix` where the contract or the
migrated state names it), takes two turns, drives a writer's recipe, checks reachability (reachability.py) and
records what it did with the other era's files (era_files.py); a downgrade must refuse and write nothing, checked byte
for byte; an action (actions.py) is run on the path's volume. A release installed in place (`@npm-install=<release>`,
`@openclaw-update=<release>`: npm_install.py) runs in the previous release hop's container, which that hop leaves
running for it; with `,old-gateway-turn` that old Gateway takes a turn after the install, before the restart. A hop
that fails to run stops the path."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..state.config import CONFIG_NAME
from ..containers.gateway import Gateway
from ..containers.resources import RunResources
from ..containers.rpc import GatewayRpc
from ..containers.volumes import VolumeFile, get_tar, put_files
from ..proof.contracts import REFUSE_THEN_DOCTOR, classify_start
from ..errors import CaptureFailed, RpcError
from ..report.evidence import GATEWAY, HARNESS, Assertion, Evidence
from ..build.images import GatewayImage
from ..probes import files as files_probe
from ..probes import sqlite as sqlite_probe
from ..plan import FAILED, PASSED, Plan
from ..progress import say
from ..scenario.provider import ScriptedProvider
from ..proof.session import StateSession, never, refused, start_as_a_user
from . import era_files
from .actions import ACTIONS
from ..state.layout import in_sessions_folder
from .recipe import MARKER_LINE, Recipe, agents_config, writer_config
from .npm_install import install_in_place
from .turns import carries_marker, drive_recipe, message_text, operation, send_turn
from .hop import ACTION, DOWNGRADE, IMPORTER, OLD_GATEWAY_TURN, WRITER, Hop
from .reachability import Written, reachable

BOTH_ERAS = "agent:main:main"
BACKUP_ACTIONS = ("@restore-sessions-backup", "@restore-transcripts-backup")  # a writer hop keeps a backup for them
STOP_TIMEOUT_S = 30
SQLITE_FILE_RE = re.compile(r"\.sqlite(-wal|-shm|-journal)?$")


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
    registry_image: str = ""  # the seeded npm registry's image tag, when a hop installs in place
    live: Gateway | None = None  # a release hop's Gateway left running for the in-place install after it
    last_release: tuple[Hop, Gateway] | None = None  # the last release hop that ran: a doctor action runs its doctor

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
        """The hops in turn, each marked in the numbered plan (printed before by `path`, marked here after)."""
        self.volume = self.resources.volume("state-path")
        plan = Plan.of(f"upgrade path {' → '.join(h.spec for h in self.hops)}",
                       [(hop.spec, f"{hop.role}: {hop.does}") for hop in self.hops])
        for planned, hop in zip(plan.steps, self.hops):
            started, failed_before = time.monotonic(), self.evidence.failed_count
            say("path", f"hop {plan.label(planned)} ({hop.role}) {hop.does}")
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
            plan.mark(planned, FAILED if failed else PASSED, seconds=row["seconds"],
                      why="the path stops here" if failed and row.get("stop_path") and not self._recovery_next(hop)
                      else "")
            say("path", f"hop {hop.number}: {'FAILED' if failed else 'ok'} in {row['seconds']:.1f}s")
            if failed and row.get("stop_path") and not self._recovery_next(hop):
                break
        self.evidence.write_json("steps-plan.json", {"title": plan.title, "steps": plan.to_json()})
        say("path", plan.text())

    def _recovery_next(self, hop: Hop) -> bool:
        """A release that did not come up is followed by a user's recovery action (@doctor-fix, @update-repair, …): the
        path goes on to it, as a user does, instead of stopping."""
        after = self.hops[hop.number] if hop.number < len(self.hops) else None
        return hop.role != ACTION and after is not None and after.role == ACTION and ACTIONS[after.spec[1:]].recovers

    # -- one hop ------------------------------------------------------------------------------------------------
    def _gateway(self, hop: Hop, spec: str | None = None, volume: str | None = None, name: str | None = None) -> Gateway:
        """The Gateway of `spec` (default: the hop's release) on `volume` (default: the path's), its config written."""
        spec, volume = spec or hop.spec, volume or self.volume
        session = StateSession(self.resources, self.images[spec].tag, network=self.network, provider=self.provider,
                               token=self.token)
        self._write_config(hop, session, volume)
        return session.gateway(volume, name or f"path3-{self.resources.run_id}-hop{hop.number}")

    def _write_config(self, hop: Hop, session: StateSession, volume: str, *, writer_dialect: bool | None = None,
                      plugins: bool | None = None) -> None:
        """The harness config in the hop's release's dialect (and the recipe's agents) on `volume`; the recipe's
        plugins on every hop but a writer's own start (recipe.py: the file-backed releases install configured
        external plugins at startup and refuse to start when they cannot)."""
        if writer_dialect is None:
            writer_dialect = hop.role in (WRITER, DOWNGRADE, ACTION)
        layers = [writer_config] if writer_dialect else []  # the file-backed releases' dialect
        plugins = hop.role != WRITER if plugins is None else plugins
        config = session.config(*layers, lambda config: agents_config(config, self.recipe, plugins=plugins))
        put_files(self.resources, session.image, volume,
                  [VolumeFile(CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode(), time.time(), 0o600)])

    def _installs_next(self, hop: Hop) -> bool:
        return hop.number < len(self.hops) and self.hops[hop.number].installs is not None

    def _in_place(self, hop: Hop, gateway: Gateway, row: dict) -> None:
        """npm install in the running container of the hop before (npm_install.py), then the hop's config written
        while it is stopped, as for every release hop: its start is the service manager's restart."""
        previous = self.hops[hop.number - 2]
        if self.recipe is not None and self.recipe.plugins:  # the user's config enables them when the updater runs
            self._write_config(previous, StateSession(self.resources, self.helper_image, network=self.network,
                                                      provider=self.provider, token=self.token), self.volume,
                               writer_dialect=previous.role == WRITER, plugins=True)
            row["plugins_enabled_before_install"] = list(self.recipe.plugins)
        old_turn = (lambda: self._old_gateway_turn(hop, previous, gateway, row)) if OLD_GATEWAY_TURN in hop.options else None
        install_in_place(self.resources, self.registry_image, gateway, hop, row, self.evidence, self._dir(hop),
                         STOP_TIMEOUT_S, before_restart=old_turn)
        self._write_config(hop, StateSession(self.resources, self.helper_image, network=self.network,
                                             provider=self.provider, token=self.token), self.volume)

    def _old_gateway_turn(self, hop: Hop, previous: Hop, gateway: Gateway, row: dict) -> None:
        """The previous release's Gateway, still running after the install (its package replaced under it), takes a
        turn on the both-eras session: the message must stay reachable for the installed release like any other."""
        started = time.monotonic()
        try:
            with gateway.rpc() as rpc:
                self._turns(rpc, hop, previous.release, (BOTH_ERAS,), who="the old Gateway, after the install: ")
            row["old_gateway_turn"] = {"key": BOTH_ERAS, "ok": True, "seconds": round(time.monotonic() - started, 1)}
        except Exception as error:  # an observation (e.g. old code lazy-loading a replaced dist): recorded, checked
            row["old_gateway_turn"] = {"key": BOTH_ERAS, "ok": False, "error": f"{type(error).__name__}: {error}"[:400]}
        self.evidence.check(hop.label, Assertion(f"openclaw {previous.release}'s Gateway takes a turn after the install "
                                                 "(before the restart)", row["old_gateway_turn"]["ok"], "a turn",
                                                 row["old_gateway_turn"]))

    def _release(self, hop: Hop, row: dict) -> None:
        if hop.installs:
            gateway, self.live = self.live, None
            if gateway is None:
                raise CaptureFailed(f"no running Gateway of hop {hop.number - 1} to install openclaw@{hop.release} in")
        else:
            gateway = self._gateway(hop)
        before = files_probe.snapshot(gateway.run_oneoff)
        keep_running = False
        try:
            if hop.installs:
                self._in_place(hop, gateway, row)
            # The user's way on from a refusal: its contract's, or on a migrated state the one the refusal names.
            doctor_after_refusal = hop.role == IMPORTER and (hop.contract == REFUSE_THEN_DOCTOR or hop.on_migrated)
            doctor_when = refused if doctor_after_refusal else never
            if hop.installs and doctor_after_refusal:  # doctor is the installed release's: its container's filesystem
                doctor_when = lambda kind: refused(kind) and bool(gateway.commit(f"hop{hop.number}"))  # noqa: E731

            def keep_doctor(doctor) -> None:
                (self._dir(hop) / "doctor-fix.log").write_text(doctor.output)
                self.evidence.check(hop.label, Assertion("doctor --fix succeeded", doctor.exit_code == 0, 0,
                                                         doctor.exit_code, f"{hop.label}/doctor-fix.log"))

            starts = start_as_a_user(gateway, doctor_when=doctor_when, on_doctor=keep_doctor)
            row["starts"] = starts.to_json()
            up = starts.came_up
            self.evidence.check(hop.label, Assertion(f"openclaw {hop.release} came up ({hop.role})", up,
                                                     "imported or ready", [s.kind for s in starts.kinds],
                                                     starts.last.message or ""))
            if not up:
                row["stop_path"] = True
                return
            row["up"] = True
            if hop.role == IMPORTER:
                self.last_import = hop.number
            with gateway.rpc() as rpc:
                self._turns(rpc, hop, hop.release, (BOTH_ERAS, f"agent:main:hop-{hop.number}"))
                if hop.role == WRITER and self.recipe is not None:
                    row["operations"] = self._recipe(rpc, hop)
                row["reachable"] = reachable(hop, gateway, rpc, written=self.written, last_import=self.last_import,
                                             evidence=self.evidence, folder=self._dir(hop))
            keep_running = self._installs_next(hop)
        finally:
            self._keep_logs(hop, gateway)
            if keep_running:  # the next hop installs in place while this Gateway runs, as a user does
                self.live = gateway
                row["left_running"] = f"for hop {hop.number + 1}'s in-place install"
            else:
                gateway.stop(timeout_s=STOP_TIMEOUT_S)
            self.last_release = (hop, gateway)
            self._era_files(hop, gateway, before, row)
        if hop.role == WRITER and any(h.spec in BACKUP_ACTIONS for h in self.hops[hop.number:]):
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
        drive_recipe(self.recipe, lambda key, text: self._turns(rpc, hop, hop.release, (key,), text=text),
                     lambda method, params: operations.append(operation(rpc, hop.release, method, params, "path")))
        shown: dict[str, str] = {}
        for index in range(first, len(self.written)):
            item = self.written[index]
            if item.key not in shown:
                messages = (rpc.call("chat.history", {"sessionKey": item.key, "limit": 1000}) or {}).get("messages", [])
                shown[item.key] = "\n".join(message_text(m) for m in messages)
            if not carries_marker(shown[item.key], item.marker):
                self.written[index] = replace(item, hidden=f"not in chat.history of {item.key} on its own writer "
                                                           f"(openclaw {hop.release}) after the recipe's compact/reset")
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
        self.evidence.check(hop.label, era_files.gone_check(hop.spec, moves))  # recorded only, a loss passed unseen

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

    def folder(self, hop: Hop) -> Path:
        return self._dir(hop)

    def _dir(self, hop: Hop) -> Path:
        folder = self.evidence.root / hop.label
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _keep_logs(self, hop: Hop, gateway: Gateway) -> None:
        try:
            gateway.keep_output(self._dir(hop))
        except Exception as error:  # the container may never have been created
            self.evidence.event(hop.label, "logs-unavailable", error=str(error))

