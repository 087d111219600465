"""One proof run: seed a fixture, start the target's Gateway on it, follow its contract, check that
nothing was lost, collect the evidence, give the verdict.

Phases, each timed, logged to events.jsonl and shown as a progress line:
    seed -> probe-before -> [doctor (--doctor-first)] -> first-start -> [refusal -> doctor -> second-start]
         -> nothing-lost -> health -> diagnostics -> [scenario] -> collect

The verdict it gives, and the split of its time between the Gateway and us, are verdict.py's.
"""

from __future__ import annotations

import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path


from . import fates, oracle, reports
from ..report import redaction
from ..state.config import STATE_DIR
from .contracts import REFUSE_THEN_DOCTOR, STARTUP_IMPORT, ContractChoice, StartKind, refusal_allowlist, warning_codes
from ..report.evidence import GATEWAY, HARNESS, Assertion, Evidence
from ..state.fixtures import Fixture
from ..containers.gateway import Gateway
from ..build.images import GatewayImage
from ..state.inventory import Inventory, build_inventory
from ..probes import files as files_probe
from ..probes import handles as handles_probe
from ..probes import logs as logs_probe
from ..probes import sqlite as sqlite_probe
from ..errors import ProbeFailed, RpcError
from ..progress import say
from ..containers.network import HERMETIC, HermeticNetwork
from ..scenario.provider import ScriptedProvider
from ..containers.resources import RunResources
from ..containers.rpc import GatewayRpc
from ..scenario import STEPS, Context, Step, run_scenario
from .collect import collect_evidence
from .reachable import imported_sessions_reachable
from .session import Starts, StateSession
from .verdict import FixtureVerdict, time_split
from ..state import layout

# The tables whose rows the summary counts (an identity row per event: counting them says nothing more).
SESSION_TABLES = tuple(t for t in layout.SESSION_TABLES if t != "transcript_event_identities")
FILE_LOGS = r"^logs/.*\.jsonl$"


class FixtureProof:
    def __init__(self, image: GatewayImage, fixture: Fixture, contract: ContractChoice,
                 resources: RunResources, evidence_dir: Path, *, provider: ScriptedProvider | None = None,
                 keep_artifacts: bool = False, steps: list[Step] | None = None, network: str = HERMETIC,
                 doctor_first: bool = False, per_run_on: str | None = None) -> None:
        self.image, self.fixture, self.contract = image, fixture, contract
        self.doctor_first = doctor_first  # the user runs doctor --fix before the first start (openclaw update does)
        self.per_run_on = per_run_on  # the fixture of the run that takes the scenario's per-run steps
        self.network_mode = network
        self.network: HermeticNetwork | None = None
        self.network_record: dict = {"mode": network}
        self.provider = provider  # with a provider, the scenario runs after the first-start proof
        self.keep_artifacts = keep_artifacts
        self.steps = STEPS if steps is None else steps
        self.resources = resources
        self.evidence = Evidence(evidence_dir, fixture.name)
        self.phases: dict[str, float] = {}
        self.gateway: Gateway | None = None
        self.observed_contract: str | None = None
        self.counts: dict = {}
        self.scenario: dict | None = None
        self.rpc: GatewayRpc | None = None
        self.log_cursor: dict[str, int] = {}  # log lines that belong to the refusal, scanned with its allowlist only
        self.imported: dict = {}  # oracle.imported_rows right after the import
        self.state_db_before: dict | None = None  # digests of the seeded state/openclaw.sqlite

    # -- helpers --------------------------------------------------------------------------------
    @contextmanager
    def timed(self, phase: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[phase] = self.phases.get(phase, 0.0) + time.monotonic() - started

    def _say(self, phase: str, message: str) -> None:
        say(f"{self.fixture.name}/{phase}", message)
        self.evidence.event(phase, "progress", message=message)

    def _check(self, phase: str, *assertions: Assertion) -> bool:
        for assertion in assertions:
            self.evidence.check(phase, assertion)
        return all(a.outcome != "failed" for a in assertions)

    def _stopped_runner(self, argv: list[str]):
        return self.gateway.run_oneoff(argv, timeout_s=120)

    def _running_runner(self, argv: list[str]):
        return self.gateway.exec(argv, timeout_s=120)

    def _logs(self, runner) -> dict[str, str]:
        return {"stdout": self.gateway.logs(), **files_probe.read_texts(runner, FILE_LOGS)}

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> FixtureVerdict:
        started = time.monotonic()
        try:
            self._run()
        except ProbeFailed as error:
            self._check("probe", Assertion("probes ran", False, "probe output", str(error)[:800], blame=HARNESS))
        except Exception as error:  # a broken run is a failed proof with its traceback kept, never a silent pass
            self.evidence.write_text("traceback.txt", traceback.format_exc())
            self._check("internal", Assertion("the proof ran to completion", False, "no error",
                                              f"{type(error).__name__}: {error}"[:800], "see traceback.txt", blame=HARNESS))
        finally:
            self._collect()
            self.evidence.close()
        first = self.evidence.first_failure
        seconds = time.monotonic() - started
        return FixtureVerdict(self.fixture.name, self.evidence.passed,
                              f"[{first.blame}] {first.message()}" if first else None,
                              self.observed_contract, seconds, self.phases, self.evidence.root,
                              self.counts, self.scenario, tuple(self.evidence.phase_results()),
                              tuple(self.evidence.failures()), self.network_record,
                              time_split(self.gateway, self.rpc, seconds))

    def _run(self) -> None:
        with self.timed("seed"):
            inventory = self._seed()
        with self.timed("probe-before"):
            before_files = files_probe.snapshot(self._stopped_runner)
            before_sqlite = sqlite_probe.snapshot(self._stopped_runner, full=False)
            self.evidence.write_json("sqlite-before.json", before_sqlite.to_json())
            landed = [f.path for f in inventory.files if getattr(before_files.files.get(f.path), "sha256", None) != f.sha256]
            self._check("probe-before",
                        Assertion("seeded files landed byte-identical in the volume", not landed, [], landed),
                        oracle.no_session_state_before(before_sqlite, self.fixture))
            # The shared state DB's rows, read through SQLite (its WAL included), after the bytes were checked.
            if any(f.path == layout.STATE_DB for f in inventory.files):
                self.state_db_before = sqlite_probe.digests(self._stopped_runner, layout.STATE_DB)
        self.starts = Starts(self.gateway)  # the user's moves, made one at a time with checks between them
        if self.doctor_first:
            doctored, doctor_output = self._doctor(files_probe.read_texts(self._stopped_runner, r"^openclaw\.json$"))
            if not doctored:
                return
        with self.timed("first-start"):
            self._say("first-start", f"starting {self.image.tag} on the legacy state (contract: {self.contract.contract}"
                                     + (", after the user's doctor --fix)" if self.doctor_first else ")"))
            first = self.starts.start()
            self.observed_contract = {"imported": STARTUP_IMPORT, "refused": REFUSE_THEN_DOCTOR}.get(first.kind, first.kind)
            self.evidence.event("first-start", "observation", **first.to_json())
            self._say("first-start", f"{first.kind} after {first.seconds:.1f}s" + (
                f" (exit {first.exit_code}, {first.refusal_reason or 'no refusal'}: {first.message})"
                if first.exit_code is not None else ""))
        if self.doctor_first:
            ready, import_output = self._came_up_after_doctor("first-start", first), doctor_output + "\n" + self.gateway.logs()
        elif self.fixture.outcome_for(self.contract.contract) == "import":
            ready, import_output = self._startup_import(first), self.gateway.logs()
        else:
            ready, import_output = self._refuse_then_doctor(first, inventory)
        if not ready:
            return
        with self.timed("nothing-lost"):
            self._nothing_lost(inventory, import_output)
        with self.timed("health"):
            self._health()
        with self.timed("diagnostics"):
            self._diagnostics()
        if self.provider:
            with self.timed("scenario"):
                self._scenario(inventory)

    def _seed(self) -> Inventory:
        session = StateSession(self.resources, self.image.tag, network=self.network_mode, provider=self.provider)
        seed = session.seed(self.fixture)  # its secrets, as the user had them and as seeded: redacted from now on
        inventory = build_inventory(seed.as_inventory_input())
        self.evidence.write_json("seed.json", seed.to_json())
        self.evidence.write_json("inventory.json", inventory.to_json())
        volume = session.volume(f"state-{_slug(self.fixture.name)}", seed.files)
        self.gateway = session.gateway(volume, f"path3-{self.resources.run_id}-{_slug(self.fixture.name)}")
        self.network = session.networks[-1] if session.networks else None
        self._say("seed", f"{len(seed.files)} files, {len(inventory.entries)} legacy entries, "
                          f"{sum(len(t.events) for t in inventory.transcripts)} transcript lines; "
                          f"{len(seed.config_overrides)} config keys set by the harness")
        return inventory

    def _startup_import(self, first: StartKind) -> bool:
        # No check on our own command list (it could not fail): that nothing imported before this start is the
        # probe-before phase's check of the volume (oracle.no_session_state_before).
        return self._check(
            "first-start",
            Assertion("first start imported the legacy store and became ready", first.kind == "imported",
                      "imported", first.kind, first.message or ""),
        ) and first.kind == "imported"

    def _refuse_then_doctor(self, first: StartKind, inventory: Inventory) -> tuple[bool, str]:
        ev = self.evidence
        refused = self._check("first-start", Assertion(
            "first start refused the legacy store with a non-zero exit, naming doctor --fix",
            first.kind == "refused" and bool(first.exit_code),
            {"kind": "refused", "exit_code": "non-zero"}, {"kind": first.kind, "exit_code": first.exit_code,
                                                           "reason": first.refusal_reason}, first.message or ""))
        if not refused:
            return False, ""
        with self.timed("refusal"):
            logs = self._logs(self._stopped_runner)
            self.log_cursor = {source: len(text.splitlines()) for source, text in logs.items()}
            scan = logs_probe.scan(logs, self.fixture.log_allowlist + refusal_allowlist(logs["stdout"]))
            after_refusal = files_probe.snapshot(self._stopped_runner)
            changed = [f.path for f in inventory.files if not fates.is_volatile(f.path)
                       and getattr(after_refusal.files.get(f.path), "sha256", None) != f.sha256]
            rows = {t: sqlite_probe.snapshot(self._stopped_runner, full=False).count(t) for t in SESSION_TABLES}
            self._check("refusal", Assertion("the refusal left every seeded byte untouched", not changed, [], changed),
                        Assertion("the refusal wrote no SQLite session rows", not any(rows.values()),
                                  {t: 0 for t in SESSION_TABLES}, rows),
                        _no_unallowed("the refusal printed nothing but its reason", scan))
            config_before = files_probe.read_texts(self._stopped_runner, r"^openclaw\.json$")
        ok, doctor_output = self._doctor(config_before)
        if not ok:
            return False, doctor_output
        with self.timed("second-start"):
            second = self.starts.start()
            ev.event("second-start", "observation", **second.to_json())
            self._say("second-start", f"{second.kind} after {second.seconds:.1f}s")
        return self._came_up_after_doctor("second-start", second), doctor_output + "\n" + self.gateway.logs()

    def _doctor(self, config_before: dict[str, str]) -> tuple[bool, str]:
        """The user's `openclaw doctor --fix --non-interactive` on the stopped state: its output and what it changed in
        the config kept; it must succeed and print no unallowed error line."""
        ev = self.evidence
        with self.timed("doctor"):
            self._say("doctor", "running openclaw doctor --fix --non-interactive")
            doctor = self.starts.doctor_fix()
            ev.write_text("doctor-fix.log", doctor.output)
            ev.event("doctor", "command", **doctor.to_json())
            config_after = files_probe.read_texts(self._stopped_runner, r"^openclaw\.json(\.bak(\.\d+)?)?$")
            # what doctor changed, key by key and redacted; never the user's config itself (it goes in bundles)
            ev.write_json("doctor-fix-config.json", redaction.config_changes(config_before, config_after))
            ok = self._check("doctor",
                             Assertion("openclaw doctor --fix --non-interactive succeeded", doctor.exit_code == 0, 0,
                                       doctor.exit_code, f"{doctor.seconds:.1f}s; output in doctor-fix.log"),
                             _no_unallowed("doctor --fix printed no unallowed error line",
                                           logs_probe.scan({"doctor-fix.log": doctor.output}, self.fixture.log_allowlist)))
        return ok, doctor.output

    def _came_up_after_doctor(self, phase: str, start: StartKind) -> bool:
        ready = start.kind in ("ready-without-import", "imported")
        self._check(phase, Assertion("the Gateway started after doctor --fix", ready, "ready", start.kind,
                                     start.message or ""))
        return ready

    def _nothing_lost(self, inventory: Inventory, import_output: str) -> None:
        ev, fixture = self.evidence, self.fixture
        after = sqlite_probe.snapshot(self._running_runner)
        after_files = files_probe.snapshot(self._running_runner)
        ev.write_json("sqlite-after.json", after.to_json())
        self.counts = {t: after.count(t) for t in SESSION_TABLES}
        self.imported = oracle.imported_rows(after, fixture)
        self._check("nothing-lost", *oracle.sessions_present(fixture, after),
                    *oracle.legacy_entries_covered(inventory, after, fixture))
        metadata, field_fates = oracle.metadata_kept(inventory, after, fixture)
        ev.write_json("metadata-fates.json", {"fates": field_fates, "table": {k: v.__dict__ for k, v in oracle.FIELD_FATES.items()}})
        events, normalised = oracle.events_kept(fixture, inventory, after)
        ev.write_json("events-compared.json", {"normalisations": oracle.NORMALISATIONS, "not_byte_identical": normalised})
        state_db = fates.StateDbContent(self.state_db_before, sqlite_probe.digests(
            self._running_runner, *fates.state_db_candidates(after_files),
            project=fates.original_columns(self.state_db_before))) if self.state_db_before else None
        files, file_fates = fates.files_accounted(inventory, after_files, after, state_db)
        ev.write_json("legacy-files.json", {"legacy_files": file_fates, "state_after": after_files.to_json()["files"]})
        report = reports.parse_import_report(import_output)
        manifests = reports.read_manifests(files_probe.read_texts(self._running_runner, r"^session-sqlite-migration-runs/.*\.json$"))
        ev.write_json("gateway-reports.json", {"import_report": report.to_json() if report else None, "manifests": manifests})
        retained = reports.retained_for_plugins(manifests)
        pending = {agent for agent, plugins in retained.items() if plugins <= set(fixture.plugins_pending)}
        listed, blame = self._sessions_list()
        reachable = (imported_sessions_reachable(self._rpc(), fixture, after) if listed is not None
                     else oracle.cannot_check("every imported session is reachable", "sessions.list failed"))
        missing = sorted({s.stored_key for s in fixture.sessions} - listed) if listed is not None else None
        self._check("nothing-lost", *metadata, *events, *files, *oracle.integrity_ok(after),
                    fates.no_live_legacy(after_files, pending),
                    *reports.plugins_pending_check(fixture, retained),
                    oracle.warnings_as_expected(fixture, warning_codes(import_output)),
                    *reports.import_report_agrees(report, inventory, fixture),
                    *reports.manifest_agrees(manifests, inventory, after_files),
                    Assertion("sessions.list over the Gateway returns every imported key", missing == [], [],
                              missing if missing is not None else "sessions.list failed",
                              blame=blame), reachable)

    def _health(self) -> None:
        handles = handles_probe.snapshot(self._host_pid(), self._running_runner, STATE_DIR)
        self.evidence.write_json("handles.json", handles.to_json())
        db_handles = handles.matching(".sqlite", ".sqlite-wal", ".sqlite-shm")
        hot = handles.legacy(STATE_DIR)
        scan = logs_probe.scan(self._logs(self._running_runner), self.fixture.log_allowlist, start_lines=self.log_cursor)
        self.evidence.write_json("gateway-log-scan.json", scan.to_json())
        self._check("health",
                    Assertion("the Gateway holds SQLite DB/WAL/SHM handles", bool(db_handles), "db, -wal, -shm",
                              db_handles, handles.method),
                    Assertion("the Gateway holds no legacy .jsonl or sessions.json handle", not hot, [], hot, handles.method),
                    _no_unallowed("no unallowed error lines in the Gateway output and file log", scan))

    def _diagnostics(self) -> None:
        # Both at once: each is mostly a node CLI booting (~6 s) while the Gateway idles, and both only read.
        modes = ("inspect", "validate")

        def diagnose(mode: str):
            argv = ["openclaw", "doctor", "--session-sqlite", mode, "--session-sqlite-all-agents", "--json"]
            result = self.gateway.exec(argv, timeout_s=180)
            if reports.last_json(result.output) is None:  # the engine can cut an exec's output (probes/_node.py):
                self._say("diagnostics", f"{mode}: no JSON document in {len(result.output)} chars; it only reads, "
                                         "so it runs again")
                result = self.gateway.exec(argv, timeout_s=180)
            return result

        with ThreadPoolExecutor(max_workers=len(modes), thread_name_prefix="path3-diagnostics") as pool:
            results = list(pool.map(diagnose, modes))
        for mode, result in zip(modes, results):
            self.evidence.write_text(f"doctor-session-sqlite-{mode}.json", result.output)
            self.evidence.event("diagnostics", "doctor", mode=mode, exit_code=result.exit_code, seconds=round(result.seconds, 2))
            if mode == "validate":
                self._check("diagnostics", *reports.doctor_validate_checks(result.exit_code, result.output, self.fixture))

    def _scenario(self, inventory: Inventory) -> None:
        ctx = Context(self.gateway, self._rpc(), self.provider, self.evidence, self.fixture, inventory,
                      self.resources.run_id, self.fixture.log_allowlist, self.imported, keep_artifacts=self.keep_artifacts,
                      proof_key=f"agent:main:path3-e2e:{self.resources.run_id}")
        first_request = len(self.provider.requests)
        try:
            report = run_scenario(ctx, self.steps, per_run_on=self.per_run_on)
        finally:
            self.rpc = ctx.rpc  # the restart step replaces the socket
            self.evidence.write_json("provider-requests.json", {
                "requests": [r.to_json(with_body=self.keep_artifacts) for r in self.provider.requests[first_request:]]})
        report["rpc"]["protocol"] = ctx.rpc.protocol
        self.evidence.write_json("scenario.json", report)
        self.scenario = report

    def _sessions_list(self) -> tuple[set[str] | None, str]:
        """Keys sessions.list returns over the Gateway's public RPC, archived ones included; on failure None and whose
        failure it is (the Gateway's own error answer or a malformed list: its finding; anything else: ours)."""
        try:
            rpc = self._rpc()
            rows = rpc.list_sessions({"archived": "all", "limit": 1000})
            self.evidence.event("nothing-lost", "rpc", method="sessions.list", protocol=rpc.protocol,
                                server_version=rpc.server_version, seconds=round(rpc.calls[-1].seconds, 4),
                                count=len(rows))
            return {s["key"] for s in rows}, GATEWAY
        except Exception as error:  # recorded; the assertion that follows fails on None
            self.evidence.event("nothing-lost", "rpc-error", method="sessions.list", message=f"{type(error).__name__}: {error}")
            return None, GATEWAY if isinstance(error, RpcError) and error.answered else HARNESS

    def _rpc(self) -> GatewayRpc:
        """One RPC socket for the oracle and the scenario (re-opened only when the Gateway restarts)."""
        if self.rpc is None:
            self.rpc = self.gateway.rpc()
        return self.rpc

    def _host_pid(self) -> int | None:
        try:
            return int(self.gateway.container.attrs["State"]["Pid"]) or None
        except (KeyError, TypeError, ValueError):
            return None

    def _collect(self) -> None:
        collect_evidence(self)


def _no_unallowed(name: str, scan: logs_probe.LogScan) -> Assertion:
    return Assertion(name, not scan.unallowed, 0,
                     [f"{m.source}:{m.line_number} [{m.pattern}] {m.line[:200]}" for m in scan.unallowed[:10]])


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())[:40]
