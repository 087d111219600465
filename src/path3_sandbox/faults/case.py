"""One fault case: a fresh volume seeded from the fixture, the fault injected, a recovery start, the oracle.

    seed (the fault's mutation applied) -> inject (or a plain first start) -> recover -> judge -> row

Recovery is what a user does next: start the Gateway again; when a start refuses naming `doctor --fix`, run
`openclaw doctor --fix` and start again. The judge (judge.py) reads the final state: SQLite and every file, the
Gateway running when it came up, one-off containers when it did not.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..state.config import STATE_DIR
from ..containers.gateway import Gateway
from ..containers.resources import RunResources
from ..proof.contracts import ContractChoice, StartKind, classify_start
from ..errors import GatewayStuck, HarnessFailure
from ..report.evidence import GATEWAY, HARNESS, Assertion, Evidence
from ..state.fixtures import Fixture
from ..build.images import GatewayImage
from ..state.inventory import build_inventory
from ..probes import files as files_probe
from ..probes.files import FilesSnapshot
from ..probes import sqlite as sqlite_probe
from ..progress import say
from ..containers.network import OPEN
from ..containers.volumes import put_files
from ..proof.session import StateSession, start_as_a_user
from .fault import Fault
from .judge import OUTCOME_WORDS, REFUSED, Tally, kept_every_file, outcome, tally, unreached_lines
from .result import CaseResult

DISK_SIZE = "48m"
FILLER = ".path3-disk-filler"
# A refusal or error names the file (a path) and the fix (a command or what to change).
NAMES_A_FILE_RE = re.compile(r"(/[\w.@-]+)+|\b[\w.-]+\.(json|jsonl|sqlite)\b")
NAMES_A_FIX_RE = re.compile(r"doctor --fix|\brun\b|chmod|chown|free (some )?(disk )?space|permission|remove|restore|"
                            r"delete|move", re.I)


@dataclass
class Case:
    fault: Fault
    image: GatewayImage
    fixture: Fixture
    contract: ContractChoice
    resources: RunResources
    root: Path  # the faults run's folder; this case's evidence is root/<name>/
    point: int = 1
    control: Case | None = None  # the control case, run before: its counts and sizes are this case's baseline
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    volume: str = ""
    inventory: object = None
    gateways: int = 0
    counts: Tally | None = None  # what the judge counted on the final state
    grown: int | None = None  # bytes this case's state grew by (the control's sizes the disk-full fault)
    migrated: FilesSnapshot | None = None  # a fault on a migrated state: the files as the fault left them, which a
                                           # refusal must keep (the seeded legacy files are archived by then)
    after_files: FilesSnapshot | None = None
    _starts_at: int = 0  # where the Gateway's last start begins in its container's log
    import_bytes: int | None = None  # of which the agent databases (what the import itself writes)

    @property
    def name(self) -> str:
        return f"{self.fault.name}@{self.point}" if self.fault.sweep else self.fault.name

    # -- pieces the catalogue's injections use ------------------------------------------------------------------
    @property
    def session(self) -> StateSession:
        """The case's Gateways share its token and volume. On Docker's default bridge, deliberately: a case makes up
        to five Gateways on one volume (some only run one-offs, two at once for one fault), none takes a turn, and
        the state goes offline whatever the network (seeding: channels off, providers unreachable)."""
        return StateSession(self.resources, self.image.tag, network=OPEN, token=self.token)

    def gateway(self, role: str, *, volume_mode: str = "rw", env: dict[str, str] | None = None) -> Gateway:
        self.gateways += 1
        slug = re.sub(r"[^a-z0-9-]", "-", self.name.lower())
        return self.session.gateway(self.volume, f"path3-{self.resources.run_id}-{slug}-{self.gateways}-{role}",
                                    volume_mode=volume_mode, env=env or {})

    def start_as_a_user(self, gateway: Gateway, log: str) -> list[StartKind]:
        """A start; after a refusal naming doctor --fix: doctor --fix (its output kept as `log`) and one more start."""
        starts = start_as_a_user(gateway, on_doctor=lambda doctor: self.keep_text(log, doctor.output))
        self._starts_at = starts.log_offsets[-1]
        return starts.kinds

    def _last_start_output(self, gateway: Gateway) -> str:
        """What the Gateway has printed since its last start (a restarted container's log holds every start)."""
        return gateway.logs()[self._starts_at:]

    def import_cleanly(self, role: str = "import", **gateway_options) -> tuple[Gateway, list[dict]]:
        """The import done as a user does it, untouched, the Gateway left running: the migrated state a leftover
        fault acts on."""
        gateway = self.gateway(role, **gateway_options)
        kinds = self.start_as_a_user(gateway, f"{role}-doctor-fix.log")
        self._keep(gateway)
        if not kinds[-1].came_up:
            raise GatewayStuck(f"the import before the fault did not come up: {[k.kind for k in kinds]}: "
                               f"{kinds[-1].message}")
        return gateway, [k.to_json() for k in kinds]

    def keep_migrated_files(self) -> None:
        """The migrated state as the fault left it: what a refusal must leave as it is."""
        self.migrated = files_probe.snapshot(self.gateway("probe").run_oneoff)

    def shell(self, script: str, why: str, *, root: bool = False, tail: int = 500) -> dict:
        """A shell command in the state directory, in a one-off container on the volume (the user's own hands)."""
        self.gateways += 1
        helper = self.resources.container(f"path3-{self.resources.run_id}-{self.gateways}-shell", "oneoff",
                                          self.image.tag, ["sh", "-c", f'cd "{STATE_DIR}" && {script}'],
                                          state_volume=self.volume, user="root" if root else "node")
        try:
            container = helper.start().get_wrapped_container()
            code = int(container.wait(timeout=120)["StatusCode"])
            output = container.logs().decode(errors="replace")
        finally:
            helper.stop()
        if code != 0:
            # what it said first: the script itself can be long, and evidence keeps the message's head
            raise HarnessFailure(f"{why}: exited {code}: {output.strip()[-600:]} (script: {script[:160]}…)")
        return {"why": why, "output": output.strip()[-tail:]}

    def start_once(self, gateway: Gateway, condition: str) -> dict:
        """One start under the fault's condition, observed and stopped; what it did and said."""
        kind = classify_start(gateway.start(), gateway.logs())
        self._keep(gateway)
        gateway.stop()
        advice = _advice(kind, gateway.logs())  # a new Gateway: its output is this start's alone
        named = None if kind.exit_code is None else advice is not None
        return {"condition": condition, "start": kind.to_json(), "names_file_and_fix": named, "advice": advice}

    def run_out_of_disk(self) -> dict:
        """Fill the capped volume so that what the control's start wrote before its import fits, and half of what
        its import wrote (the agent databases) does not; start; then free the space (remove the filler)."""
        grown = (self.control.grown if self.control else None) or (2 << 20)
        agent_dbs = (self.control.import_bytes if self.control else None) or (512 << 10)
        room = max(grown - agent_dbs // 2, 64 << 10)
        fill = self.shell(f'avail=$(df -B1 --output=avail . | tail -1); n=$((avail - {room})); '
                          f'if [ $n -gt 0 ]; then head -c $n /dev/zero > {FILLER}; fi; df -B1 --output=avail . | tail -1',
                          f"fill the volume, leaving {room} bytes")
        record = self.start_once(self.gateway("disk-full"), f"{fill['output']} bytes free ({DISK_SIZE} tmpfs)")
        record["fill"] = fill
        record["import_files_when_it_stopped"] = self.shell(
            "ls -l session-sqlite-migration-runs agents/*/agent agents/*/session-sqlite-import-archive 2>&1 || true",
            "what the import had written when the disk was full")["output"]
        record["free"] = self.shell(f"rm -f {FILLER}; df -B1 --output=avail . | tail -1", "remove the filler")
        return record

    def race_two_gateways(self) -> dict:
        first, second = self.gateway("first"), self.gateway("second")
        first.launch()
        second.launch()
        kinds = [classify_start(g.observe_start(), g.logs()) for g in (first, second)]
        for g in (first, second):
            self._keep(g)
            g.stop()
        return {"starts": [k.to_json() for k in kinds]}

    def boot_twice(self) -> dict:
        starts = []
        for n in (1, 2):
            gateway = self.gateway(f"boot-{n}")
            starts.append(classify_start(gateway.start(), gateway.logs()).to_json())
            self._keep(gateway)
            gateway.stop()
        return {"starts": starts}

    # -- the case -----------------------------------------------------------------------------------------------
    def run(self) -> CaseResult:
        started = time.monotonic()
        folder = self.root / self.name
        evidence = Evidence(folder, self.name)
        if self.fault.skipped:
            evidence.close()
            return CaseResult(self.name, self.fault, "skipped", True, None, [], {}, [], 0.0, 0.0,
                              str(folder.relative_to(self.root)), skipped=self.fault.skipped)
        injection, starts, counts, unreached, recover_seconds, result = {}, [], None, [], 0.0, "lost"
        hit = True
        try:
            self._seed(evidence)
            say("faults", f"{self.name}: {self.fault.injection}")
            injection = self.fault.inject(self) if self.fault.inject else {"how": "the seeded state, a plain start"}
            hit = injection.get("hit", True)
            evidence.event("inject", "injection", **{k: v for k, v in injection.items() if k != "points_seen"})
            recovered = time.monotonic()
            kinds, gateway = self._recover(evidence)
            recover_seconds = time.monotonic() - recovered  # the starts (and doctor) a user waits for, not the judge
            came_up = kinds[-1].came_up
            counts = self.counts = self._judge(evidence, gateway if came_up else None)
            followed = time.monotonic()
            if came_up and self._follow_logged_advice(evidence, gateway, kinds, counts):
                recover_seconds += time.monotonic() - followed
                came_up = kinds[-1].came_up
                counts = self.counts = self._judge(evidence, gateway if came_up else None)
            starts = [k.to_json() for k in kinds]
            unreached = unreached_lines(counts, self.control.counts if self.control else None, came_up=came_up,
                                        judged_alone=self.fault.changes_inputs or self.control is None)
            kept_migrated = kept_every_file(self.migrated, self.after_files) if self.migrated is not None else None
            result = outcome(came_up, counts, unreached, kept_migrated=kept_migrated)
            self._checks(evidence, kinds, counts, unreached, result, injection)
            with contextlib.suppress(Exception):
                gateway.stop()
        except GatewayStuck as error:
            evidence.check("internal", Assertion(f"the Gateway came up where {self.name} needs it to", False,
                                                 "imported or ready", str(error)[:800], blame=GATEWAY))
        except Exception as error:  # a case that could not run is a harness failure, kept with its cause
            evidence.check("internal", Assertion(f"fault case {self.name} ran", False, "no error",
                                                 f"{type(error).__name__}: {error}"[:800], blame=HARNESS))
        evidence.write_json("case.json", {"injection": injection, "starts": starts,
                                          "tally": counts.to_json() if counts else None, "unreached": unreached})
        evidence.close()
        first = evidence.first_failure
        return CaseResult(self.name, self.fault, result, evidence.passed, counts, unreached, injection, starts,
                          recover_seconds, time.monotonic() - started, str(folder.relative_to(self.root)),
                          f"[{first.blame}] {first.message()}" if first else None, hit=hit, point=self.point,
                          findings=evidence.findings)

    def _seed(self, evidence: Evidence) -> None:
        seed = self.session.seed(self.fixture)  # the state's secrets redacted from this case's evidence
        files = list(seed.files)
        if self.fault.mutate:
            files = self.fault.mutate(files)
        self.inventory = build_inventory({f.path: (f.data, f.mtime) for f in files})
        evidence.write_json("inventory.json", self.inventory.to_json())
        slug = re.sub(r"[^a-z0-9-]", "-", self.name.lower())
        if self.fault.disk:
            self.volume = self.resources.volume(f"fault-{slug}", driver_opts={"type": "tmpfs", "device": "tmpfs",
                                                                            "o": f"size={DISK_SIZE},uid=1000,gid=1000"})
            # A tmpfs volume lives while a container mounts it: this one holds it for the whole case.
            self.resources.container(f"path3-{self.resources.run_id}-{slug}-holder", "holder", self.image.tag,
                                     ["sleep", "86400"], state_volume=self.volume).start()
        else:
            self.volume = self.resources.volume(f"fault-{slug}")
        put_files(self.resources, self.image.tag, self.volume, files)

    def _recover(self, evidence: Evidence) -> tuple[list[StartKind], Gateway]:
        """Start as a user would; a refusal naming doctor --fix gets doctor --fix and one more start."""
        gateway = self.gateway("recover")
        kinds = self.start_as_a_user(gateway, "doctor-fix.log")
        evidence.write_text("recover-stdout.log", gateway.logs())
        for kind in kinds:
            evidence.event("recover", "observation", **kind.to_json())
        return kinds, gateway

    def _follow_logged_advice(self, evidence: Evidence, gateway: Gateway, kinds: list[StartKind],
                              counts: Tally) -> bool:
        """A ready Gateway that logs "stop, run doctor --fix": a user does it (stop, doctor --fix, start; the new
        start appended to `kinds`) and the judge reads the state after. False when the Gateway logged no such advice."""
        advice = _logged_advice(self._last_start_output(gateway))
        if not advice:
            return False
        evidence.event("recover", "observation", kind="advice-while-ready", advice=advice,
                       before={"imported": counts.imported, "events": counts.events, "lost": len(counts.lost)})
        evidence.write_json("sqlite-before-advice.json",
                            json.loads((self.root / self.name / "sqlite-after.json").read_text()))
        gateway.stop()
        self.keep_text("advice-doctor-fix.log", gateway.doctor_fix().output)
        self._starts_at = len(gateway.logs())
        kinds.append(classify_start(gateway.start(), gateway.logs()))
        evidence.write_text("recover-stdout.log", gateway.logs())
        evidence.event("recover", "observation", **kinds[-1].to_json())
        return True

    def _judge(self, evidence: Evidence, running: Gateway | None) -> Tally:
        probe = self.gateway("probe")
        runner = running.exec if running else probe.run_oneoff
        after_files = self.after_files = files_probe.snapshot(runner)
        after = sqlite_probe.snapshot(runner)
        evidence.write_json("sqlite-after.json", after.to_json())
        evidence.write_json("files-after.json", after_files.to_json())
        self.grown = sum(f.size for f in after_files.files.values()) - sum(f.size for f in self.inventory.files)
        self.import_bytes = sum(f.size for p, f in after_files.files.items()
                                if re.match(r"agents/[^/]+/agent/openclaw-agent\.sqlite", p))
        return tally(self.inventory, after_files, after)

    def _checks(self, evidence: Evidence, kinds: list[StartKind], counts: Tally, unreached: list[str], result: str,
                injection: dict) -> None:
        evidence.check("judge", Assertion(f"outcome is one the fault allows ({', '.join(OUTCOME_WORDS[a] for a in self.fault.allowed)})",
                                          result in self.fault.allowed, list(self.fault.allowed), result,
                                          f"starts after the fault: {[k.kind for k in kinds]}", blame=GATEWAY))
        evidence.check("judge", Assertion("no legacy event lost", not counts.lost and not unreached, [],
                                          (counts.lost + [f"{u} (kept as bytes only, not imported: not reachable)" for u in unreached])[:20],
                                          f"{counts.imported}/{counts.events} imported, {counts.bytes_only} kept only "
                                          "as bytes", blame=GATEWAY))
        evidence.check("judge", Assertion("every seeded legacy file's bytes kept (in place or archived)",
                                          not counts.legacy_not_kept, [], counts.legacy_not_kept[:20],
                                          f"{counts.legacy_kept}/{counts.legacy_files}", blame=GATEWAY))
        evidence.check("judge", Assertion("no event imported twice", not counts.duplicates, [], counts.duplicates[:20],
                                          blame=GATEWAY))
        if injection.get("names_file_and_fix") is False:  # the start under the fault exited: its words count too
            evidence.check("judge", Assertion("the error of the start under the fault names the file and the fix",
                                              False, "a path and a fix in one error and the lines after it",
                                              injection["start"].get("message"), blame=GATEWAY))
        if result == REFUSED:
            evidence.check("judge", Assertion("the refusal names the file and the fix", _names_file_and_fix(kinds[-1]),
                                              "a path and a fix", kinds[-1].message, blame=GATEWAY))
        if self.fault.expect_start:
            evidence.check("judge", Assertion(f"the start after the fault reports {self.fault.expect_start}",
                                              kinds[-1].kind == self.fault.expect_start, self.fault.expect_start,
                                              kinds[-1].kind, blame=GATEWAY))
        seeded = {f.path for f in self.inventory.files}
        late = [p for p in injection.get("preexisting") or [] if p not in seeded]
        if late:  # import files already there when the watcher began: its points would start mid-way
            evidence.check("judge", Assertion("the watcher watched before the import began", False, [], late,
                                              blame=HARNESS))

    def keep_text(self, name: str, text: str) -> None:
        folder = self.root / self.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)

    def _keep(self, gateway: Gateway) -> None:
        with contextlib.suppress(Exception):
            folder = self.root / self.name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{gateway.name.rsplit('-', 2)[-2]}-{gateway.name.rsplit('-', 1)[-1]}-stdout.log").write_text(
                gateway.logs())


def _names_file_and_fix(kind: StartKind) -> bool | None:
    """For a start that exited: does its message name a file and a fix? None when it did not exit."""
    if kind.exit_code is None:
        return None
    message = kind.message or ""
    return bool(NAMES_A_FILE_RE.search(message) and NAMES_A_FIX_RE.search(message))


# An error line: words of failure, or an errno code (EACCES, ENOSPC: upper case, as Node prints them).
ERROR_LINE_RE = re.compile(r"(?i:\berror\b|\bfailed\b|denied|refus|blocked|cannot|not readable)|\bE[A-Z]{3,}\b")
# A fix in the lines after an error: a command or an action on a named thing, not any word like "moved".
ADVICE_FIX_RE = re.compile(r"doctor --fix|\bchown\b|\bchmod\b|fix ownership|free (some )?(disk )?space|"
                           r"\b(remove|delete|restore)\b[^\n]*(/|\.json|\.sqlite)", re.I)
ADVICE_LINES = 5  # an error line and the lines after it: where a CLI prints "fix it with: chown …"


# A ready Gateway's own advice to run doctor --fix (9.5, on an agent database that fails integrity_check, logs
# "Sessions remain unavailable. Stop the Gateway, run "openclaw doctor --fix" to inspect and repair …" after ready).
LOGGED_ADVICE_RE = re.compile(r"^.*doctor --fix.*$", re.M)


def _logged_advice(output: str) -> str | None:
    """The lines of a ready start that tell the user to run doctor --fix; None when it says nothing of the kind.
    Read after the judge's probes, so what the Gateway logs in the seconds after ready is there too."""
    lines = LOGGED_ADVICE_RE.findall(output)
    return "\n".join(dict.fromkeys(line.strip() for line in lines))[:800] or None


def _advice(kind: StartKind, output: str) -> str | None:
    """For a start that exited: its final message, or one error line with the lines after it, that names a file and
    a fix (the Gateway may say the right thing before its last line); None when none does."""
    if kind.exit_code is None:
        return None
    if _names_file_and_fix(kind):
        return kind.message
    lines = output.splitlines()
    for at, line in enumerate(lines):
        if ERROR_LINE_RE.search(line):
            block = "\n".join(lines[at:at + ADVICE_LINES])
            if NAMES_A_FILE_RE.search(block) and ADVICE_FIX_RE.search(block):
                return block
    return None
