"""What a target promises on its first start over a legacy store, and what it actually did.

The promise (the contract) is data keyed by release (openclaw.md §1), overridable per run; what
happened (the observation) is classified from the start's outcome and output, and always recorded.

    startup-import       the Gateway imports at startup and becomes ready; doctor --fix is never run first
    refuse-then-doctor   the Gateway refuses (exit != 0, legacy store untouched); `openclaw doctor --fix`
                         imports; then the Gateway starts
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..build.version import Version, is_prerelease
from ..errors import UsageError
from ..containers.waits import StartObservation
from .reports import parse_import_report

STARTUP_IMPORT = "startup-import"
REFUSE_THEN_DOCTOR = "refuse-then-doctor"
CONTRACTS = (STARTUP_IMPORT, REFUSE_THEN_DOCTOR)
OUT_OF_SCOPE = "out-of-scope"  # a table row, never a contract: releases the test bed does not prove, and why

# Releases are matched exactly: a stable release inside a measured range, or a pre-release of the measured form
# (`beta.7`) inside a range of pre-releases. Anything else (2026.9.6-1, 2026.9.6-0.pr123, 2026.9.6.1) is a build
# nobody measured: it needs --contract. The grammar and the order are build/version.py's, as for every command.
MEASURED_PRERELEASE_RE = re.compile(r"^[A-Za-z]+\.\d+$")


def version_key(version: str) -> tuple:
    """Sortable key: 2026.7.2-beta.7 < 2026.7.2 < 2026.8.1."""
    return Version.of(version).key


@dataclass(frozen=True)
class ContractRule:
    first: str
    last: str
    contract: str | None  # None: these releases write legacy stores themselves; OUT_OF_SCOPE: not proved (why says)
    why: str

    def covers(self, version: str) -> bool:
        parsed = Version.parse(version)
        if parsed is None or (parsed.is_prerelease and not MEASURED_PRERELEASE_RE.match(parsed.pre)):
            return False
        # A range covers stable releases; a pre-release only when the rule's own bounds are pre-releases.
        if parsed.is_prerelease and not (is_prerelease(self.first) and is_prerelease(self.last)):
            return False
        return version_key(self.first) <= parsed.key <= version_key(self.last)


# openclaw.md §1, measured on published releases. Unlisted releases need --contract.
CONTRACT_TABLE: tuple[ContractRule, ...] = (
    ContractRule("2026.7.2-beta.1", "2026.7.2-beta.3", OUT_OF_SCOPE,
                 "2026.7.2-beta.1 to beta.3 keep sessions in other tables (sessions, session_entries, session_routes: "
                 "their packages create session_entries, not session_nodes); the SQLite probe and oracle read the "
                 "session_nodes schema only, and no user runs these betas any more"),
    ContractRule("2026.7.2-beta.4", "2026.7.2-beta.7", STARTUP_IMPORT,
                 "Path 3 betas import at startup (beta.7 measured; beta.4-6 ship the same session_nodes schema)"),
    ContractRule("2026.8.1", "2026.9.5", REFUSE_THEN_DOCTOR, "8.1-9.5 refuse a legacy store; doctor --fix imports"),
    ContractRule("2026.9.6", "2026.9.6", STARTUP_IMPORT, "9.6 imports at startup when the migration checkpoint is stale"),
    ContractRule("0.0.0", "2026.7.1", None, "releases up to 2026.7.1 write legacy stores natively"),
    ContractRule("2026.7.33", "2026.7.35", None, "extended-stable 7.33-7.35 write legacy stores natively"),
)


@dataclass(frozen=True)
class RefusalReason:
    """Why a release refused to start: every reason names `openclaw doctor --fix` as the way on."""

    name: str
    pattern: re.Pattern[str]
    log_allowlist: tuple[str, ...]  # the lines this refusal prints: allowed in the refusal phase only


REFUSAL_REASONS: tuple[RefusalReason, ...] = (
    RefusalReason("legacy-session-store", re.compile(r"Legacy session store requires migration: (\S+)"),
                  (r"requires session store migration", r"Legacy session store requires migration")),
    # 9.5 on a state a 7.35 Gateway wrote refuses on the shared state database first (exit 78).
    RefusalReason("state-database-schema", re.compile(r"state database schema migration required(?: \(([^)]+)\))?", re.I),
                  (r"state database schema migration required",)),
)
# A refusal whose reason is not in the table above, but which names the fix: still a refusal, reason recorded.
NAMES_DOCTOR_FIX_RE = re.compile(r"openclaw doctor --fix|doctor --fix")
OTHER_REFUSAL = RefusalReason("other (names doctor --fix)", NAMES_DOCTOR_FIX_RE, (r"doctor --fix",))


def refusal_reason(output: str) -> RefusalReason | None:
    """The reason a start that exited names, or None when the output never names `doctor --fix`."""
    if not NAMES_DOCTOR_FIX_RE.search(output):
        return None
    return next((reason for reason in REFUSAL_REASONS if reason.pattern.search(output)), OTHER_REFUSAL)


def refusal_allowlist(output: str) -> tuple[str, ...]:
    reason = refusal_reason(output)
    return reason.log_allowlist + (r"Gateway failed to start", r"doctor --fix") if reason else ()


@dataclass(frozen=True)
class ContractChoice:
    contract: str
    source: str  # "release table: …" or "--contract"

    def to_json(self) -> dict:
        return {"contract": self.contract, "source": self.source}


def contract_for(version: str, override: str | None = None) -> ContractChoice:
    if override:
        if override not in CONTRACTS:
            raise UsageError(f"unknown contract {override!r}", hint=f"use one of {', '.join(CONTRACTS)}")
        return ContractChoice(override, "--contract")
    for rule in CONTRACT_TABLE:
        if rule.covers(version):
            if rule.contract is None:
                raise UsageError(f"openclaw {version} has no upgrade to prove: {rule.why}",
                                 hint="pick a SQLite release (2026.7.2-beta.4 or later beta, 2026.8.1 or later)")
            if rule.contract == OUT_OF_SCOPE:
                raise UsageError(f"openclaw {version} is out of scope: {rule.why}",
                                 hint="pick 2026.7.2-beta.4 or a later release")
            return ContractChoice(rule.contract, f"release table: {rule.why}")
    raise UsageError(f"no contract is known for openclaw {version}",
                     hint=f"pass --contract {STARTUP_IMPORT} or --contract {REFUSE_THEN_DOCTOR}")


FAILED_RE = re.compile(r"Gateway failed to start: (.*)")


@dataclass(frozen=True)
class StartKind:
    """What one start did, read from its outcome and its stdout."""

    kind: str  # "imported" | "ready-without-import" | "refused" | "crashed" | "hung"
    exit_code: int | None
    seconds: float
    imported_entries: int | None = None
    imported_events: int | None = None
    message: str | None = None
    refusal_reason: str | None = None  # a REFUSAL_REASONS name when kind == "refused"

    @property
    def came_up(self) -> bool:
        """The Gateway reported ready, with or without an import."""
        return self.kind in ("imported", "ready-without-import")

    def to_json(self) -> dict:
        return {"kind": self.kind, "exit_code": self.exit_code, "seconds": round(self.seconds, 2),
                "imported_entries": self.imported_entries, "imported_events": self.imported_events,
                "message": self.message, "refusal_reason": self.refusal_reason}


def classify_start(start: StartObservation, output: str) -> StartKind:
    if start.outcome == "ready":
        report = parse_import_report(output)
        if report is None or report.imported_events is None:
            return StartKind("ready-without-import", None, start.seconds)
        return StartKind("imported", None, start.seconds, report.sqlite_entries, report.imported_events)
    if start.outcome == "timeout":
        return StartKind("hung", None, start.seconds, message="neither ready nor exited before the deadline")
    failed = FAILED_RE.search(output)
    message = failed.group(1).strip() if failed else _last_line(output)
    # An exit that names `doctor --fix` is a refusal, whatever store it is about; any other exit is a crash.
    reason = refusal_reason(output) if start.exit_code else None
    return StartKind("refused" if reason else "crashed", start.exit_code, start.seconds, message=message,
                     refusal_reason=reason.name if reason else None)


def _last_line(output: str) -> str | None:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


WARNING_CODE_RE = re.compile(r"\[([a-z]+(?:_[a-z]+)+)\]")


def warning_codes(output: str) -> set[str]:
    """Issue codes the import report printed, e.g. [entry_invalid], [transcript_missing]."""
    return set(WARNING_CODE_RE.findall(output))
