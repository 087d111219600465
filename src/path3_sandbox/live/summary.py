"""What a live run leaves: its verdict (LiveResult), summary.json, summary.md and junit.xml, and what of the
operator's Gateway goes into the evidence, redacted (its config, its log lines)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import exit_for
from ..progress import say
from ..proof.proof import FixtureVerdict
from ..proof.run import failures_markdown, verdict_markdown
from ..report import redaction
from ..report.junit import write_junit
from .inputs import Destination, LiveOptions
from .steps import LiveContext

EVIDENCE_FILES = ("events.jsonl", "scenario.json", "provider-requests.json", "live-preflight.json", "gateway-config.json",
                  "doctor-session-sqlite-validate.json",
                  "sessions-before.json", "sessions-after.json")


@dataclass
class LiveResult:
    verdict: FixtureVerdict
    summary: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return exit_for(self.verdict.passed, findings=bool(self.verdict.findings))


def redacted_config(config: Any) -> Any:
    """The config as evidence: every value under a key that names a secret replaced by its tag, then the redactor's
    text pass (shapes, remembered values) over the JSON, kept only if it still parses."""
    def walk(value: Any, secret: bool) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, secret or bool(redaction.SECRET_KEY_RE.search(str(k)))) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, secret) for v in value]
        if secret and isinstance(value, str) and value:
            return redaction.tag(value)
        return value

    walked = walk(config, False)
    text, _ = redaction.scrub_text(json.dumps(walked, ensure_ascii=False))
    try:
        return json.loads(text)
    except ValueError:
        return walked


def log_line(line: str, limit: int = 200) -> str:
    """A Gateway log line as evidence: redacted whole, then cut (a cut first could split a secret past recognition)."""
    return redaction.scrub_text(line)[0][:limit]


def _doctor_line(record: dict | None) -> str:
    if not record:
        return "not reached"
    if not record["ran"]:
        return "skipped: " + record["why"]
    return f"exit {record['exit_code']}, issues {record['issues']} ([output](doctor-session-sqlite-validate.json))"


def _finish(ctx: LiveContext, options: LiveOptions, report: dict, phases: dict, seconds: float, argv: list[str],
            destination: Destination) -> LiveResult:
    ev = ctx.evidence
    first = ev.first_failure
    verdict = FixtureVerdict("live", ev.passed, f"[{first.blame}] {first.message()}" if first else None, None, seconds,
                             phases, ev.root, report.get("counts", {}), report, tuple(ev.phase_results()),
                             tuple(ev.failures()))
    ev.write_json("scenario.json", report)
    summary = {
        "run_id": ctx.run_id, "mode": "live", "verdict": "pass" if verdict.passed else "fail", "arguments": argv,
        "gateway": {"url": options.url, "version": ctx.rpc.server_version, "protocol": ctx.rpc.protocol},
        "token_sent_to": destination.to_json(),
        "agent": options.agent, "state_dir": str(ctx.state_dir), "proof_session": ctx.proof_key,
        "first_failure": verdict.first_failure, "gateway_findings": verdict.findings,
        "harness_failures": verdict.harness_failures, "steps": report["steps"], "rpc": report["rpc"],
        "doctor_validate": report.get("doctor_validate"), "phases_checked": list(verdict.phase_results), "seconds": round(seconds, 1), "evidence": str(ev.root),
        "artifacts": {"summary_md": "summary.md", "junit": "junit.xml", "events": "events.jsonl"},
    }
    ev.write_json("summary.json", summary)
    lines = [f"# {'✅ PASS' if verdict.passed else '❌ FAIL'}: live scenario on openclaw {ctx.rpc.server_version}", "",
             f"- **gateway**: `{options.url}` (protocol {ctx.rpc.protocol}), agent `{options.agent}`, "
             f"state dir `{ctx.state_dir}` (read-only)",
             f"- **token**: {destination.line()}",
             f"- **proof session**: `{ctx.proof_key}`"
             + (" (kept: --keep-artifacts)" if options.keep_artifacts else " (deleted at the end)"),
             f"- **run**: `{ctx.run_id}`, {seconds:.0f}s; restart {'allowed' if options.allow_restart else 'not asked'}",
             f"- **doctor --session-sqlite validate** (informational): {_doctor_line(report.get('doctor_validate'))}",
             ""]
    if first:
        lines += [f"**First failure**: {verdict.first_failure}", ""]
    lines += failures_markdown((verdict,), folders=False) + verdict_markdown(verdict, folders=False, files=EVIDENCE_FILES)
    (ev.root / "summary.md").write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n", encoding="utf-8")
    write_junit(ev.root / "junit.xml", (verdict,), target=f"openclaw {ctx.rpc.server_version} (live)")
    redaction.sweep(ev.root)
    if verdict.passed:
        say("live", f"PASS in {seconds:.1f}s")
    else:
        say("live", f"FAIL: {verdict.first_failure}\n  evidence: {ev.root}")
    return LiveResult(verdict, summary)
