"""One proof run: seed a fixture, start the target's Gateway on it, follow its contract, check that
nothing was lost, collect the evidence, give the verdict.

Phases, each logged to events.jsonl and as a progress line:
    seed -> probe-before -> first-start -> [doctor -> start] -> probe-after -> oracle -> diagnostics -> collect
"""

from __future__ import annotations

import secrets
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import docker

from . import oracle
from .config import STATE_DIR, deep_merge, harness_config
from .contracts import REFUSAL_LOG_ALLOWLIST, REFUSE_THEN_DOCTOR, STARTUP_IMPORT, ContractChoice, StartKind, classify_start, warning_codes
from .evidence import Assertion, Evidence
from .fixtures import Fixture
from .gateway import Gateway
from .images import GatewayImage
from .inventory import build_inventory
from .probes import files as files_probe
from .probes import handles as handles_probe
from .probes import logs as logs_probe
from .probes import sqlite as sqlite_probe
from .probes._node import ProbeFailed
from .progress import say
from .provider import ScriptedProvider, provider_config
from .resources import RunResources
from .rpc import GatewayRpc
from .scenario import STEPS, Context, Step, run_scenario
from .seeding import build_seed
from .volumes import put_files

SESSION_TABLES = ("session_nodes", "session_windows", "transcript_events")


@dataclass(frozen=True)
class FixtureVerdict:
    fixture: str
    passed: bool
    first_failure: str | None
    observed_contract: str | None
    seconds: float
    phases: dict[str, float]
    evidence: Path
    counts: dict
    scenario: dict | None = None
    phase_results: tuple[dict, ...] = ()

    def to_json(self) -> dict:
        return {"fixture": self.fixture, "verdict": "pass" if self.passed else "fail", "first_failure": self.first_failure,
                "observed_contract": self.observed_contract, "seconds": round(self.seconds, 1),
                "phases": {k: round(v, 1) for k, v in self.phases.items()}, "evidence": str(self.evidence),
                "counts": self.counts, "scenario": self.scenario, "phases_checked": list(self.phase_results)}


class FixtureProof:
    def __init__(self, client: docker.DockerClient, image: GatewayImage, fixture: Fixture, contract: ContractChoice,
                 resources: RunResources, evidence_dir: Path, *, provider: ScriptedProvider | None = None,
                 keep_artifacts: bool = False, steps: list[Step] | None = None) -> None:
        self.client, self.image, self.fixture, self.contract = client, image, fixture, contract
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

    # -- helpers --------------------------------------------------------------------------------
    def _phase(self, name: str, started: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - started

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

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> FixtureVerdict:
        started = time.monotonic()
        try:
            self._run()
        except ProbeFailed as error:
            self._check("probe", Assertion("probes ran", False, "probe output", str(error)[:800]))
        except Exception as error:  # a broken run is a failed proof with its traceback kept, never a silent pass
            self.evidence.write_text("traceback.txt", traceback.format_exc())
            self._check("internal", Assertion("the proof ran to completion", False, "no error",
                                              f"{type(error).__name__}: {error}"[:800], "see traceback.txt"))
        finally:
            self._collect()
            self.evidence.close()
        first = self.evidence.first_failure
        return FixtureVerdict(self.fixture.name, self.evidence.passed, first.message() if first else None,
                              self.observed_contract, time.monotonic() - started, self.phases, self.evidence.root,
                              self.counts, self.scenario, tuple(self.evidence.phase_results()))

    def _run(self) -> None:
        ev = self.evidence
        # seed
        t = time.monotonic()
        token = secrets.token_hex(16)
        harness = harness_config(token)
        if self.provider:
            harness, _ = deep_merge(harness, provider_config(self.provider.base_url_for_containers))
        seed = build_seed(self.fixture, harness)
        inventory = build_inventory(seed.as_inventory_input())
        ev.write_json("seed.json", seed.to_json())
        ev.write_json("inventory.json", inventory.to_json())
        volume = self.resources.volume(f"state-{_slug(self.fixture.name)}")
        put_files(self.client, self.resources, self.image.tag, volume, list(seed.files))
        self.gateway = Gateway(self.client, self.resources, self.image.tag, volume, token,
                               name=f"path3-{self.resources.run_id}-{_slug(self.fixture.name)}",
                               extra_hosts={"host.docker.internal": "host-gateway"} if self.provider else {})
        self._say("seed", f"{len(seed.files)} files, {len(inventory.entries)} legacy entries, "
                          f"{sum(len(t.events) for t in inventory.transcripts)} transcript lines; "
                          f"{len(seed.config_overrides)} config keys set by the harness")
        self._phase("seed", t)

        # probe-before: the bytes landed, and there is no SQLite session state yet
        t = time.monotonic()
        before_files = files_probe.snapshot(self._stopped_runner)
        before_sqlite = sqlite_probe.snapshot(self._stopped_runner, full=False)
        ev.write_json("sqlite-before.json", before_sqlite.to_json())
        landed = [f.path for f in inventory.files if before_files.files.get(f.path, None) is None
                  or before_files.files[f.path].sha256 != f.sha256]
        self._check("probe-before", Assertion("seeded legacy files landed byte-identical in the volume", not landed,
                                              [], landed))
        self._phase("probe-before", t)

        # first start
        t = time.monotonic()
        self._say("first-start", f"starting {self.image.tag} on the legacy state (contract: {self.contract.contract})")
        self.gateway.start()
        first = classify_start(self.gateway.wait_ready(), self.gateway.logs())
        self.observed_contract = {"imported": STARTUP_IMPORT, "refused": REFUSE_THEN_DOCTOR}.get(first.kind, first.kind)
        ev.event("first-start", "observation", **first.to_json())
        self._say("first-start", f"{first.kind} after {first.seconds:.1f}s"
                  + (f" (exit {first.exit_code}: {first.message})" if first.exit_code is not None else ""))
        self._phase("first-start", t)

        expected_outcome = self.fixture.outcome_for(self.contract.contract)
        if expected_outcome == "import":
            ready = self._startup_import(first)
            import_output = self.gateway.logs()
        else:
            ready, import_output = self._refuse_then_doctor(first, inventory)
        if not ready:
            return
        self._after(inventory, import_output)
        if self.provider:
            self._scenario(inventory)

    def _scenario(self, inventory) -> None:
        t = time.monotonic()
        allowlist = self.fixture.log_allowlist + (REFUSAL_LOG_ALLOWLIST if self.contract.contract == REFUSE_THEN_DOCTOR else ())
        ctx = Context(self.gateway, self._rpc(), self.provider, self.evidence, self.fixture, inventory,
                      self.resources.run_id, allowlist, keep_artifacts=self.keep_artifacts,
                      proof_key=f"agent:main:path3-e2e:{self.resources.run_id}")
        first_request = len(self.provider.requests)
        try:
            report = run_scenario(ctx, self.steps)
        finally:
            self.rpc = ctx.rpc  # the restart step replaces the socket
            self.evidence.write_json("provider-requests.json", {
                "requests": [r.to_json(with_body=self.keep_artifacts) for r in self.provider.requests[first_request:]]})
        report["rpc"]["protocol"] = ctx.rpc.protocol
        self.evidence.write_json("scenario.json", report)
        self.scenario = report
        self._phase("scenario", t)

    def _startup_import(self, first: StartKind) -> bool:
        commands_before_ready = [c["argv"] for c in self.gateway.commands]
        doctor_first = [c for c in commands_before_ready if "doctor" in c]
        return self._check(
            "first-start",
            Assertion("first start imported the legacy store and became ready", first.kind == "imported",
                      "imported", first.kind, first.message or ""),
            Assertion("doctor --fix was never run before the first start", not doctor_first, [], doctor_first),
        ) and first.kind == "imported"

    def _refuse_then_doctor(self, first: StartKind, inventory) -> tuple[bool, str]:
        ev = self.evidence
        refused = self._check("first-start", Assertion(
            "first start refused the legacy store with a non-zero exit", first.kind == "refused" and bool(first.exit_code),
            {"kind": "refused", "exit_code": "non-zero"}, {"kind": first.kind, "exit_code": first.exit_code},
            first.message or ""))
        if not refused:
            return False, ""
        t = time.monotonic()
        after_refusal = files_probe.snapshot(self._stopped_runner)
        changed = [f.path for f in inventory.files
                   if f.path not in after_refusal.files or after_refusal.files[f.path].sha256 != f.sha256]
        sqlite_after_refusal = sqlite_probe.snapshot(self._stopped_runner, full=False)
        rows = {t_: sqlite_after_refusal.count(t_) for t_ in SESSION_TABLES}
        self._check("refusal", Assertion("the refusal left every legacy byte untouched", not changed, [], changed),
                    Assertion("the refusal wrote no SQLite session rows", not any(rows.values()),
                              {t_: 0 for t_ in SESSION_TABLES}, rows))
        config_before = files_probe.read_texts(self._stopped_runner, r"^openclaw\.json$")
        self._phase("refusal-probes", t)

        t = time.monotonic()
        self._say("doctor", "running openclaw doctor --fix --non-interactive")
        doctor = self.gateway.run_oneoff(["openclaw", "doctor", "--fix", "--non-interactive"], timeout_s=300)
        ev.write_text("doctor-fix.log", doctor.output)
        ev.event("doctor", "command", **doctor.to_json())
        config_after = files_probe.read_texts(self._stopped_runner, r"^openclaw\.json(\.bak(\.\d+)?)?$")
        ev.write_json("doctor-fix-config.json", {"before": config_before, "after": config_after})
        ok = self._check("doctor", Assertion("openclaw doctor --fix --non-interactive succeeded", doctor.exit_code == 0,
                                             0, doctor.exit_code, f"{doctor.seconds:.1f}s; output in doctor-fix.log"))
        self._phase("doctor", t)
        if not ok:
            return False, doctor.output
        t = time.monotonic()
        self.gateway.start()
        second = classify_start(self.gateway.wait_ready(), self.gateway.logs())
        ev.event("second-start", "observation", **second.to_json())
        self._say("second-start", f"{second.kind} after {second.seconds:.1f}s")
        self._phase("second-start", t)
        ready = second.kind in ("ready-without-import", "imported")
        self._check("second-start", Assertion("the Gateway started after doctor --fix", ready, "ready", second.kind,
                                              second.message or ""))
        return ready, doctor.output + "\n" + self.gateway.logs()

    def _after(self, inventory, import_output: str) -> None:
        ev = self.evidence
        t = time.monotonic()
        after = sqlite_probe.snapshot(self._running_runner)
        after_files = files_probe.snapshot(self._running_runner)
        ev.write_json("sqlite-after.json", after.to_json())
        self.counts = {t_: after.count(t_) for t_ in SESSION_TABLES}
        self._phase("probe-after", t)

        t = time.monotonic()
        self._check("oracle", *oracle.sessions_present(self.fixture, after))
        self._check("oracle", *oracle.legacy_entries_covered(inventory, after, self.fixture))
        self._check("oracle", *oracle.events_present(self.fixture, inventory, after))
        bytes_kept, fates = oracle.legacy_bytes_kept(inventory, after_files)
        ev.write_json("legacy-files.json", {"legacy_files": fates, "state_after": after_files.to_json()["files"]})
        self._check("oracle", *bytes_kept)
        self._check("oracle", *oracle.integrity_ok(after), oracle.no_legacy_left(after_files))
        self._check("oracle", oracle.warnings_as_expected(self.fixture, warning_codes(import_output)))
        listed = self._sessions_list()
        missing = sorted({s.stored_key for s in self.fixture.sessions} - listed) if listed is not None else None
        self._check("oracle", Assertion("sessions.list over the Gateway returns every imported key", missing == [],
                                        [], missing if missing is not None else "sessions.list failed"))
        self._phase("oracle", t)

        t = time.monotonic()
        handles = handles_probe.snapshot(self._host_pid(), self._running_runner, STATE_DIR)
        ev.write_json("handles.json", handles.to_json())
        db_handles = handles.matching(".sqlite", ".sqlite-wal", ".sqlite-shm")
        hot = handles.legacy(STATE_DIR)
        self._check("health",
                    Assertion("the Gateway holds SQLite DB/WAL/SHM handles", bool(db_handles), "db, -wal, -shm",
                              db_handles, handles.method),
                    Assertion("the Gateway holds no legacy .jsonl or sessions.json handle", not hot, [], hot, handles.method))
        file_log = files_probe.read_texts(self._running_runner, r"^logs/.*\.jsonl$")
        allowlist = self.fixture.log_allowlist
        if self.contract.contract == REFUSE_THEN_DOCTOR:
            allowlist += REFUSAL_LOG_ALLOWLIST
        scan = logs_probe.scan({"stdout": self.gateway.logs(), **file_log}, allowlist)
        ev.write_json("gateway-log-scan.json", scan.to_json())
        self._check("health", Assertion("no unallowed error lines in the Gateway output and file log", not scan.unallowed,
                                        0, [f"{m.source}:{m.line_number} [{m.pattern}] {m.line[:200]}" for m in scan.unallowed[:10]]))
        self._phase("health", t)

        t = time.monotonic()
        for mode in ("inspect", "validate"):
            result = self.gateway.exec(["openclaw", "doctor", "--session-sqlite", mode, "--session-sqlite-all-agents", "--json"],
                                       timeout_s=180)
            ev.write_text(f"doctor-session-sqlite-{mode}.json", result.output)
            ev.event("diagnostics", "doctor", mode=mode, exit_code=result.exit_code, seconds=round(result.seconds, 2))
        self._phase("diagnostics", t)

    def _sessions_list(self) -> set[str] | None:
        """Keys sessions.list returns over the Gateway's public RPC, archived ones included."""
        try:
            rpc = self._rpc()
            payload = rpc.call("sessions.list", {"archived": "all", "limit": 1000})
            self.evidence.event("oracle", "rpc", method="sessions.list", protocol=rpc.protocol,
                                server_version=rpc.server_version, seconds=round(rpc.calls[-1].seconds, 4),
                                count=len(payload.get("sessions", [])))
            return {s["key"] for s in payload.get("sessions", [])}
        except Exception as error:  # recorded; the assertion that follows fails on None
            self.evidence.event("oracle", "rpc-error", method="sessions.list", message=f"{type(error).__name__}: {error}")
            return None

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
        """Evidence that must exist whatever happened: stdout, file log, migration manifests, commands."""
        ev, gateway = self.evidence, self.gateway
        if self.rpc is not None:
            self.rpc.close()
        if gateway is None:
            return
        t = time.monotonic()
        try:
            ev.write_text("gateway-stdout.log", gateway.logs())
            if gateway.status() == "running":
                started = time.monotonic()
                gateway.stop()
                ev.event("collect", "stop", seconds=round(time.monotonic() - started, 2), exit_code=gateway.exit_code())
            kept = files_probe.read_texts(self._stopped_runner, r"^logs/", r"^session-sqlite-migration-runs/",
                                          r"^openclaw\.json$", r"\.failure\.(md|json)$")
            for rel, text in kept.items():
                target = ev.root / "state" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        except Exception as error:  # evidence collection must never hide the verdict
            ev.event("collect", "error", message=f"{type(error).__name__}: {error}")
        ev.write_json("commands.json", gateway.commands)
        self._phase("collect", t)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())[:40]
