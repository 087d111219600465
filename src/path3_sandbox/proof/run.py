"""`path3-sandbox prove`: one target, one or more fixtures, one run id, one verdict.

    .artifacts/path3-upgrade/<run-id>/
        summary.json  summary.md      the run: target, contract, per-fixture verdicts, first failure
        <fixture>/                    that fixture's evidence (see evidence.py)
"""

from __future__ import annotations

import io
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker

from .contracts import ContractChoice
from ..errors import exit_for
from ..state.fixtures import Fixture
from ..build.images import GatewayImage
from ..report import redaction
from ..containers.network import HERMETIC
from ..state.seeding import offline_line
from ..progress import say
from .proof import FixtureProof, FixtureVerdict
from ..scenario.provider import ScriptedProvider
from ..containers.resources import RunResources
from ..report.junit import write_junit


def bridge_gateway_address(client: docker.DockerClient) -> str:
    """The host's address on Docker's default bridge: reachable from containers, not from elsewhere."""
    for config in client.networks.get("bridge").attrs.get("IPAM", {}).get("Config") or []:
        if config.get("Gateway"):
            return config["Gateway"]
    return "172.17.0.1"


@dataclass(frozen=True)
class RunResult:
    run_id: str
    root: Path
    verdicts: tuple[FixtureVerdict, ...]

    @property
    def passed(self) -> bool:
        return bool(self.verdicts) and all(v.passed for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return exit_for(self.passed, findings=not self.verdicts or any(v.findings for v in self.verdicts))


def default_jobs(fixtures: int) -> int:
    """Fixtures proved at once: one per core (measured on 2 cores: two fixtures side by side took 78 % of the time
    of one after the other, docs/speed.md: a Gateway leaves a core idle while it waits on its disk, its model
    provider and us) and one per 2 GiB of available memory (a Gateway is about 1.3 GB), never more than the
    fixtures, at least one."""
    import os

    import psutil

    by_cores = max(1, os.cpu_count() or 1)
    by_memory = max(1, int(psutil.virtual_memory().available // (2 << 30)))
    return max(1, min(fixtures, by_cores, by_memory))


def prove(client: docker.DockerClient, image: GatewayImage, fixtures: list[Fixture], contract: ContractChoice,
          *, run_id: str, root: Path, keep: bool, argv: list[str], scenario: bool = True,
          keep_artifacts: bool = False, steps: list | None = None, network: str = HERMETIC,
          jobs: int | None = None, doctor_first: bool = False, every_fixture: bool = False) -> RunResult:
    """Each fixture on its own volume, Gateway, network and scripted provider; `jobs` of them at once (default:
    default_jobs). Verdicts are reported in the fixtures' order whatever order they finish in."""
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    jobs = max(1, min(jobs or default_jobs(len(fixtures)), len(fixtures) or 1))
    say("prove", f"run {run_id}: openclaw {image.target.version} ({image.tag}), contract {contract.contract} "
                 f"({contract.source}), {len(fixtures)} fixture(s), {jobs} at a time; evidence in {root}")
    provider_host = bridge_gateway_address(client) if scenario else None

    def prove_one(index: int, fixture: Fixture, resources: RunResources) -> FixtureVerdict:
        say("prove", f"[{index}/{len(fixtures)}] fixture {fixture.name}: {fixture.catches}")
        # A provider per fixture: its recorded requests and held turns belong to that fixture's scenario alone.
        provider = ScriptedProvider(host=provider_host, keep_bodies=keep_artifacts).start() if scenario else None
        try:
            verdict = FixtureProof(image, fixture, contract, resources, root / fixture.name, provider=provider,
                                   keep_artifacts=keep_artifacts, steps=steps, network=network,
                                   doctor_first=doctor_first,
                                   per_run_on=None if every_fixture else fixtures[0].name).run()
        finally:
            if provider:
                provider.stop()
        say("prove", f"[{index}/{len(fixtures)}] {fixture.name}: {'PASS' if verdict.passed else 'FAIL'} in "
                     f"{verdict.seconds:.1f}s ({_phases(verdict)}; the Gateway's / ours: {_split(verdict)})")
        if not verdict.passed:
            say("prove", f"  first failure: {verdict.first_failure}\n  evidence: {verdict.evidence}")
        return verdict

    with RunResources(client, run_id, keep=keep) as resources:
        if jobs == 1:
            verdicts = [prove_one(i, f, resources) for i, f in enumerate(fixtures, start=1)]
        else:
            pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="path3-fixture")
            try:
                futures = [pool.submit(prove_one, i, f, resources) for i, f in enumerate(fixtures, start=1)]
                verdicts = [future.result() for future in futures]
            except BaseException:
                # Interrupted: queued fixtures never start; running ones fail fast once their containers go.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
    result = RunResult(run_id, root, tuple(verdicts))
    write_summary(result, image, contract, argv, time.monotonic() - started, jobs=jobs)
    redacted = redaction.sweep(root)  # the one redaction pass: every evidence file, before anyone shares it
    if redacted:
        say("prove", f"redacted {len(redacted)} secret(s) in the evidence (harness tokens, the state's own secrets)")
    print(("PASS" if result.passed else "FAIL") + f": {sum(v.passed for v in verdicts)}/{len(verdicts)} fixtures; "
          f"summary: {root / 'summary.md'}", file=sys.stdout)
    return result


def _phases(verdict: FixtureVerdict) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in verdict.phases.items())


def _split(verdict: FixtureVerdict) -> str:
    """"61s / 30s (49 %)": the Gateway's own seconds (starts, openclaw commands, RPC answers, its recovery), then ours."""
    split = verdict.gateway_time
    if not split or split.get("overhead") is None:
        return "-"
    return f"{split['gateway_seconds']:.0f}s / {split['harness_seconds']:.0f}s ({split['overhead'] * 100:.0f} %)"


def write_summary(result: RunResult, image: GatewayImage, contract: ContractChoice, argv: list[str], seconds: float,
                  *, jobs: int = 1) -> None:
    first = next((v for v in result.verdicts if not v.passed), None)
    summary = {
        "run_id": result.run_id, "verdict": "pass" if result.passed else "fail", "arguments": argv,
        "target": image.target.to_json(), "gateway_version": image.target.version, "image": image.to_json(),
        "contract": {"expected": contract.to_json(), "observed": {v.fixture: v.observed_contract for v in result.verdicts}},
        "first_failure": {"fixture": first.fixture, "assertion": first.first_failure, "evidence": str(first.evidence)} if first else None,
        # What the Gateway did wrong (findings) is kept apart from what the harness could not do.
        "gateway_findings": [{"fixture": v.fixture, **f} for v in result.verdicts for f in v.findings],
        "harness_failures": [{"fixture": v.fixture, **f} for v in result.verdicts for f in v.harness_failures],
        "fixtures": [v.to_json() for v in result.verdicts], "seconds": round(seconds, 1), "jobs": jobs,
        "network": network_line(result),
        "artifacts": {"summary_md": "summary.md", "junit": "junit.xml"},
    }
    (result.root / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    (result.root / "summary.md").write_text(summary_markdown(result, image, contract, seconds))
    write_junit(result.root / "junit.xml", result.verdicts, target=f"openclaw {image.target.version}")


def network_line(result: RunResult) -> str:
    records = [v.network or {} for v in result.verdicts]
    if any(r.get("mode") == "open" for r in records):
        return "**open** (`--network open`): the Gateway could reach whatever this machine reaches; nothing was recorded"
    names = sorted({name for r in records for name in r.get("names_looked_up", [])})
    return ("hermetic: an internal network whose only door is a witness (DNS, the Gateway's ports, the scripted "
            "provider); the Gateway looked up " + (", ".join(f"`{n}`" for n in names[:12]) if names else "no name")
            + " (every lookup: `<fixture>/network.json`)")


def summary_markdown(result: RunResult, image: GatewayImage, contract: ContractChoice, seconds: float) -> str:
    """The report a reviewer reads first: verdict, target, contract, per-fixture and per-step rows.
    Counts, ids and hashes only: no message content."""
    passed = sum(v.passed for v in result.verdicts)
    first = next((v for v in result.verdicts if not v.passed), None)
    lines = [
        f"# {'✅ PASS' if result.passed else '❌ FAIL'}: openclaw {image.target.version}, {passed}/{len(result.verdicts)} fixtures",
        "",
        f"- **target**: openclaw {image.target.version} ({image.target.kind} `{image.target.spec}`), image `{image.tag}`",
        f"- **contract expected**: `{contract.contract}` ({contract.source})",
        f"- **run**: `{result.run_id}`, {seconds:.0f}s; evidence per fixture in `<fixture>/`, JUnit in `junit.xml`",
        f"- **network**: {network_line(result)}",
        f"- {offline_line(v.evidence for v in result.verdicts)}",
        "",
    ]
    if first:
        lines += [f"**First failure** in `{first.fixture}`: {first.first_failure}", ""]
    lines += failures_markdown(result.verdicts)
    lines += ["| fixture | verdict | first start observed | sessions | events | time | the Gateway's / ours (overhead) |",
              "|---|---|---|---|---|---|---|"]
    for v in result.verdicts:
        lines.append(f"| [{v.fixture}]({v.fixture}/events.jsonl) | {'pass' if v.passed else '**FAIL**'} | "
                     f"`{v.observed_contract}` | {v.counts.get('session_nodes', '-')} | "
                     f"{v.counts.get('transcript_events', '-')} | {v.seconds:.0f}s | {_split(v)} |")
    for v in result.verdicts:
        lines += verdict_markdown(v)
    return "\n".join(lines) + "\n"


def failures_markdown(verdicts: tuple[FixtureVerdict, ...], *, folders: bool = True) -> list[str]:
    """Gateway findings apart from harness failures, each with its evidence line (also used by live mode)."""
    lines: list[str] = []
    for title, blame, why in (("Gateway findings", "findings", "what the Gateway lost, left or refused against its contract"),
                              ("Harness failures", "harness_failures", "checks the test bed could not make: not a verdict on the Gateway")):
        rows = [(v.fixture, f) for v in verdicts for f in getattr(v, blame)]
        if rows:
            lines += [f"## {title} ({len(rows)})", "", f"_{why}_", "", "| fixture | failure | evidence |", "|---|---|---|"]
            lines += [f"| {fixture} | {f['message'][:300].replace('|', '/')} | [`{_in(fixture, folders)}{f['evidence']}`]"
                      f"({_in(fixture, folders)}{f['evidence'].split(':')[0]}) |" for fixture, f in rows[:40]]
            lines.append("")
    return lines


def _in(fixture: str, folders: bool) -> str:
    return f"{fixture}/" if folders else ""


def verdict_markdown(v: FixtureVerdict, *, folders: bool = True, files: tuple[str, ...] | None = None) -> list[str]:
    """One verdict's phases and steps as a table, with its evidence files (also used by live mode, whose evidence
    is not in a per-fixture folder: folders=False)."""
    where = _in(v.fixture, folders)
    lines = ["", f"## {v.fixture}: {'pass' if v.passed else 'FAIL'}", "",
             "| phase / step | outcome | assertions passed / failed / skipped | counts before → after (nodes, windows, events) | time |",
             "|---|---|---|---|---|"]
    steps = {f"step-{i}-{s.get('step')}": s for i, s in enumerate((v.scenario or {}).get("steps", []), start=1)}
    for phase in v.phase_results:
        outcome = "FAIL" if phase["failed"] else ("skipped" if phase["skipped"] and not phase["passed"] else "ok")
        step = steps.get(phase["phase"], {})
        counts = ""
        if step.get("counts_before"):
            b, a = step["counts_before"], step["counts_after"]
            counts = " → ".join(f"{c['session_nodes']}, {c['session_windows']}, {c['transcript_events']}" for c in (b, a))
        took = step.get("seconds", v.phases.get(phase["phase"]))
        lines.append(f"| {phase['phase']} | {outcome} | {phase['passed']} / {phase['failed']} / {phase['skipped']} | "
                     f"{counts} | {f'{took:.1f}s' if took is not None else ''} |")
        if phase["failed"]:
            lines.append(f"| ↳ | {phase['first_failure']} | | | |")
    if v.scenario and v.scenario.get("rpc"):
        rpc = v.scenario["rpc"]
        lines += ["", f"RPC: protocol {rpc.get('protocol')}, {rpc.get('calls')} calls, median round trip "
                      f"{rpc.get('median_round_trip_s')}s."]
    lines += ["", "Evidence: " + ", ".join(f"[{name}]({where}{name})" for name in files or EVIDENCE_FILES
                                          if (v.evidence / name).exists())]
    return lines


EVIDENCE_FILES = ("events.jsonl", "sqlite-before.json", "sqlite-after.json", "legacy-files.json", "gateway-log-scan.json",
                  "handles.json", "commands.json", "scenario.json", "provider-requests.json", "gateway-stdout.log",
                  "doctor-fix.log", "doctor-session-sqlite-inspect.json", "doctor-session-sqlite-validate.json")


BUNDLE_EXCLUDED = ("state/openclaw.json",)  # the user's config may hold secrets the harness merged around


def write_bug_report(result: RunResult, manifest: Path, bundle: Path) -> Path:
    """summary.md first, then everything a maintainer needs to read the failure, as one .tar.gz."""
    import tarfile

    left_out: list[str] = []

    def add(path: Path, arcname: str) -> None:  # every member through the redactor, whatever swept the files before
        arcname = redaction.scrub_name(arcname)
        data, findings = redaction.scrub_bytes(path.read_bytes(), arcname)
        if data is None:
            left_out.extend(f"{arcname}: {f.kind.removeprefix('removed: ')}" for f in findings)
            return
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = len(data), int(path.stat().st_mtime), 0o644
        archive.addfile(info, io.BytesIO(data))

    with tarfile.open(bundle, "w:gz") as archive:
        for name in ("summary.md", "summary.json", "junit.xml"):
            if (result.root / name).exists():
                add(result.root / name, f"bug-report/{name}")
        add(manifest, "bug-report/fixture.json")
        for verdict in result.verdicts:
            for path in sorted(verdict.evidence.rglob("*")):
                relative = path.relative_to(verdict.evidence).as_posix()
                if path.is_file() and not path.is_symlink() and relative not in BUNDLE_EXCLUDED:
                    add(path, f"bug-report/evidence/{relative}")
        if left_out:
            note = ("left out: the redactor could not make these safe to share\n" + "\n".join(left_out) + "\n").encode()
            info = tarfile.TarInfo("bug-report/left-out.txt")
            info.size, info.mtime, info.mode = len(note), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(note))
    return bundle
