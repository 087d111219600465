"""`path3-sandbox prove`: one target, one or more fixtures, one run id, one verdict.

    .artifacts/path3-upgrade/<run-id>/
        summary.json  summary.md      the run: target, contract, per-fixture verdicts, first failure
        <fixture>/                    that fixture's evidence (see evidence.py)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from .contracts import ContractChoice
from .errors import EXIT_PROOF_FAILED, EXIT_PROOF_PASSED
from .fixtures import Fixture
from .images import GatewayImage
from .progress import say
from .proof import FixtureProof, FixtureVerdict
from .provider import ScriptedProvider
from .resources import RunResources


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
        return EXIT_PROOF_PASSED if self.passed else EXIT_PROOF_FAILED


def prove(client: docker.DockerClient, image: GatewayImage, fixtures: list[Fixture], contract: ContractChoice,
          *, run_id: str, root: Path, keep: bool, argv: list[str], scenario: bool = True,
          keep_artifacts: bool = False, steps: list | None = None) -> RunResult:
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    verdicts: list[FixtureVerdict] = []
    say("prove", f"run {run_id}: openclaw {image.target.version} ({image.tag}), contract {contract.contract} "
                 f"({contract.source}), {len(fixtures)} fixture(s); evidence in {root}")
    provider = ScriptedProvider(host=bridge_gateway_address(client), keep_bodies=keep_artifacts).start() if scenario else None
    if provider:
        say("prove", f"scripted model provider on {provider.host}:{provider.port} (containers: {provider.base_url_for_containers})")
    with RunResources(client, run_id, keep=keep) as resources:
        for index, fixture in enumerate(fixtures, start=1):
            say("prove", f"[{index}/{len(fixtures)}] fixture {fixture.name}: {fixture.catches}")
            try:
                verdict = FixtureProof(client, image, fixture, contract, resources, root / fixture.name,
                                       provider=provider, keep_artifacts=keep_artifacts, steps=steps).run()
            except BaseException:
                if provider:
                    provider.stop()
                raise
            verdicts.append(verdict)
            say("prove", f"[{index}/{len(fixtures)}] {fixture.name}: {'PASS' if verdict.passed else 'FAIL'} in "
                         f"{verdict.seconds:.1f}s ({_phases(verdict)})")
            if not verdict.passed:
                say("prove", f"  first failure: {verdict.first_failure}\n  evidence: {verdict.evidence}")
    if provider:
        provider.stop()
    result = RunResult(run_id, root, tuple(verdicts))
    write_summary(result, image, contract, argv, time.monotonic() - started)
    print(("PASS" if result.passed else "FAIL") + f": {sum(v.passed for v in verdicts)}/{len(verdicts)} fixtures; "
          f"summary: {root / 'summary.md'}", file=sys.stdout)
    return result


def _phases(verdict: FixtureVerdict) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in verdict.phases.items())


def write_summary(result: RunResult, image: GatewayImage, contract: ContractChoice, argv: list[str], seconds: float) -> None:
    first = next((v for v in result.verdicts if not v.passed), None)
    summary = {
        "run_id": result.run_id, "verdict": "pass" if result.passed else "fail", "arguments": argv,
        "target": image.target.to_json(), "gateway_version": image.target.version, "image": image.to_json(),
        "contract": {"expected": contract.to_json(), "observed": {v.fixture: v.observed_contract for v in result.verdicts}},
        "first_failure": {"fixture": first.fixture, "assertion": first.first_failure, "evidence": str(first.evidence)} if first else None,
        "fixtures": [v.to_json() for v in result.verdicts], "seconds": round(seconds, 1),
    }
    (result.root / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    lines = [
        f"# path3-sandbox: {'PASS' if result.passed else 'FAIL'}",
        "",
        f"- target: openclaw {image.target.version} ({image.target.kind}: `{image.target.spec}`), image `{image.tag}`",
        f"- contract expected: **{contract.contract}** ({contract.source})",
        f"- run `{result.run_id}`, {len(result.verdicts)} fixture(s), {seconds:.0f}s",
        "",
    ]
    if first:
        lines += [f"**First failure** ({first.fixture}): {first.first_failure}", f"Evidence: `{first.evidence}`", ""]
    lines += ["| fixture | verdict | observed first start | sessions | events | time | evidence |",
              "|---|---|---|---|---|---|---|"]
    for v in result.verdicts:
        lines.append(f"| {v.fixture} | {'pass' if v.passed else '**FAIL**'} | {v.observed_contract} | "
                     f"{v.counts.get('session_nodes', '-')} | {v.counts.get('transcript_events', '-')} | "
                     f"{v.seconds:.0f}s | [{v.fixture}/]({v.fixture}/events.jsonl) |")
    (result.root / "summary.md").write_text("\n".join(lines) + "\n")
