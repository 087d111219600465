"""What the Gateway itself reports about its import, held against what the oracle counted.

    the import report   the "Session SQLite" box a startup import (9.6) or `doctor --fix` (8.1-9.5) prints:
                        Legacy entries / SQLite entries / Transcript events imported / archived artifacts / issues
    the run manifest    session-sqlite-migration-runs/session-sqlite-<ms>-<hex>.json: per agent, the planned and
                        completed moves (source, archive, source sha256), the validation before archiving, issues
    doctor validate     `openclaw doctor --session-sqlite validate --json`: its exit code and its issue count

The Gateway's numbers must agree with ours; a report the Gateway did not print is a check that cannot be made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..state.config import STATE_DIR
from ..report.evidence import GATEWAY, HARNESS, Assertion
from ..state.fixtures import Fixture
from ..state.inventory import Inventory
from .oracle import legacy_event_count
from ..probes.files import FilesSnapshot


_FIELDS = {
    "legacy_entries": re.compile(r"Legacy entries: (\d+); SQLite entries: \d+"),
    "sqlite_entries": re.compile(r"Legacy entries: \d+; SQLite entries: (\d+)"),
    "imported_events": re.compile(r"Transcript events: imported=(\d+)"),
    "archived_transcripts": re.compile(r"Archived (\d+) legacy transcript artifact"),
    "archived_unreferenced": re.compile(r"Archived (\d+) unreferenced JSONL artifact"),
    "issues": re.compile(r"Found (\d+) session SQLite issue"),
}
# 2026.7.2-beta prints one line instead of the box.
_BETA_RE = re.compile(r"imported legacy session metadata/transcripts into SQLite[\s\S]{0,400}?importedEntries=(\d+)"
                      r"[\s\S]{0,200}?importedTranscriptEvents=(\d+)")


@dataclass(frozen=True)
class ImportReport:
    legacy_entries: int | None
    sqlite_entries: int | None
    imported_events: int | None
    archived_transcripts: int
    archived_unreferenced: int
    issues: int

    def to_json(self) -> dict:
        return self.__dict__.copy()


def reports_an_import(output: str) -> bool:
    """The output holds an import report, complete or not (the box, or the one-line beta report)."""
    text = output.replace("│", " ")
    return "Legacy entries:" in text or "imported legacy session" in text


def parse_import_report(output: str) -> ImportReport | None:
    """The last import report in `output` (the box is drawn with │ borders; they are ignored), or None."""
    text = output.replace("│", " ")
    if "Legacy entries:" not in text:
        if beta := _BETA_RE.search(text):
            return ImportReport(None, int(beta.group(1)), int(beta.group(2)), 0, 0, 0)
        return None
    text = text[text.rindex("Legacy entries:"):]
    values = {name: int(m.group(1)) if (m := pattern.search(text)) else None for name, pattern in _FIELDS.items()}
    return ImportReport(values["legacy_entries"], values["sqlite_entries"], values["imported_events"],
                        values["archived_transcripts"] or 0, values["archived_unreferenced"] or 0, values["issues"] or 0)


def imports_again(output: str) -> bool:
    """Whether a later start's output reports an import: one that imported events, or one that cannot be read. A
    report of nothing imported (imported=0, validated=N: inputs kept pending for a plugin, which 2026.9.6 checks again
    at every start) is not a re-import."""
    if not reports_an_import(output):
        return False
    report = parse_import_report(output)
    return report is None or report.imported_events != 0


def import_report_agrees(report: ImportReport | None, inventory: Inventory, fixture: Fixture) -> list[Assertion]:
    if report is None:
        return [Assertion("cannot check: the Gateway's import report", False, "a Session SQLite report", None,
                          "neither the first start nor doctor --fix printed one", blame=HARNESS)]
    # The Gateway counts the entries it can import (one without a sessionId is skipped: entry_invalid) plus
    # the transcripts it recovers without an entry (orphans and strays, imported as archived sessions).
    valid = [e for e in inventory.entries if e.session_id]
    recovered = [s for s in fixture.sessions if s.archived]
    want = {"legacy_entries": len(valid) + len(recovered) if report.legacy_entries is not None else None,
            "sqlite_entries": len(fixture.sessions),
            "imported_events": legacy_event_count(fixture, inventory)}
    got = {"legacy_entries": report.legacy_entries, "sqlite_entries": report.sqlite_entries,
           "imported_events": report.imported_events}
    issues = report.issues
    return [
        Assertion("the Gateway's import report agrees with the legacy state (entries, sessions, events)", got == want,
                  want, got, "entries: those with a sessionId plus recovered transcripts; events: every distinct legacy line"),
        Assertion("the Gateway's import report finds issues exactly when the manifest expects warnings",
                  (issues > 0) == bool(fixture.expected_warnings),
                  f"issues > 0 ({list(fixture.expected_warnings)})" if fixture.expected_warnings else 0, issues),
    ]


def read_manifests(texts: dict[str, str]) -> list[dict]:
    manifests = []
    for path, text in sorted(texts.items()):
        try:
            manifests.append({"path": path, **json.loads(text)})
        except ValueError:
            manifests.append({"path": path, "unreadable": True})
    return manifests


def _relative(path: str) -> str:
    return str(PurePosixPath(path).relative_to(STATE_DIR)) if path.startswith(STATE_DIR + "/") else path


def manifest_agrees(manifests: list[dict], inventory: Inventory, after: FilesSnapshot) -> list[Assertion]:
    """Every migration run completed what it planned, validated before archiving, and every move it
    records left the source's bytes at the archive path (the source hash the Gateway recorded is ours)."""
    if not manifests:
        return [Assertion("cannot check: the Gateway's migration-run manifest", False, "a manifest", None,
                          "no session-sqlite-migration-runs/*.json was written", blame=HARNESS)]
    ours = {f.path: f.sha256 for f in inventory.files}
    results = []
    for manifest in manifests:
        name = manifest["path"]
        if manifest.get("unreadable"):
            results.append(Assertion(f"{name} is JSON", False, "JSON", "unreadable"))
            continue
        results.append(Assertion(f"{name}: the run completed", bool(manifest.get("completedAt")) and not manifest.get("failedAt"),
                                 "completedAt, no failedAt", {k: manifest.get(k) for k in ("completedAt", "failedAt")}))
        for target in manifest.get("targets") or []:
            agent = target.get("agentId")
            planned = [(m.get("sourcePath"), m.get("archivePath")) for m in target.get("plannedMoves") or []]
            done = [(m.get("sourcePath"), m.get("archivePath")) for m in target.get("completedMoves") or []]
            results.append(Assertion(f"{name} agent {agent}: completed moves = planned moves", planned == done,
                                     len(planned), len(done), "" if planned == done else
                                     f"not completed: {sorted(set(planned) - set(done))[:5]}"))
            results.append(Assertion(f"{name} agent {agent}: validated before archiving",
                                     target.get("validationBeforeArchive") == "passed", "passed",
                                     target.get("validationBeforeArchive")))
            wrong = []
            for move in target.get("completedMoves") or []:
                source, archive = _relative(move.get("sourcePath", "")), _relative(move.get("archivePath", ""))
                recorded = ((move.get("artifact") or {}).get("identity") or {}).get("sha256")
                kept = after.files.get(archive)
                if kept is None:
                    wrong.append(f"{archive}: not in the state dir")
                elif recorded and kept.sha256 != recorded:
                    wrong.append(f"{archive}: bytes differ from the source hash the Gateway recorded")
                elif recorded and source in ours and ours[source] != recorded and move.get("kind") != "legacy-store":
                    wrong.append(f"{source}: the Gateway recorded a hash that is not the seeded file's")
            results.append(Assertion(f"{name} agent {agent}: every completed move left the source's bytes at its archive path",
                                     not wrong, "archive present, same sha256", wrong or "all present"))
    return results


def validate_issues(output: str) -> int | None:
    """The issue count `doctor --session-sqlite validate --json` reports (totals.issues), or None without one."""
    document = last_json(output)
    return document.get("totals", {}).get("issues") if isinstance(document, dict) else None


def doctor_validate_checks(exit_code: int, output: str, fixture: Fixture | None = None) -> list[Assertion]:
    """`doctor --session-sqlite validate --json` after the import: exit 0 and no issue; where the fixture leaves
    plugins uninstalled (plugins_pending), no issue but the one saying their inputs are pending."""
    issues = validate_issues(output)
    checks = [Assertion("doctor --session-sqlite validate exits 0 after the import", exit_code == 0, 0, exit_code,
                        "output in doctor-session-sqlite-validate.json")]
    document = last_json(output)
    listed = [issue for target in (document or {}).get("targets") or [] if isinstance(target, dict)
              for issue in target.get("issues") or [] if isinstance(issue, dict)]
    codes = [str(issue.get("code")) for issue in listed]
    # each issue as the Gateway words it: the code, and the file or session its message names
    said = "; ".join(f"[{issue.get('code')}] {str(issue.get('message', ''))[:220]}" for issue in listed[:5])
    if fixture is None or not fixture.plugins_pending:
        return checks + [Assertion("doctor --session-sqlite validate reports no issue", issues == 0, 0,
                                   issues if issues is not None else "no totals.issues in its JSON", said,
                                   blame=GATEWAY if issues is not None else HARNESS)]
    other = [code for code in codes if code != PLUGIN_RETAINED]
    return checks + [Assertion(f"doctor --session-sqlite validate reports no issue but {PLUGIN_RETAINED} "
                               f"(plugins pending: {', '.join(fixture.plugins_pending)})",
                               issues is not None and not other and issues == len(codes), [PLUGIN_RETAINED],
                               codes if issues is not None else "no totals.issues in its JSON", said,
                               blame=GATEWAY if issues is not None else HARNESS)]


PLUGIN_RETAINED = "plugin_migration_source_retained"


def retained_for_plugins(manifests: list[dict]) -> dict[str, set[str]]:
    """Agent -> the plugins its migration inputs are kept pending for, as the Gateway's run manifests say
    (plugin_migration_source_retained: "… remain pending for plugin(s): codex, brave. Install …")."""
    from ..state.recovery_report import PLUGINS_RE

    kept: dict[str, set[str]] = {}
    for manifest in manifests:
        for target in manifest.get("targets") or []:
            for issue in target.get("issues") or []:
                if issue.get("code") == PLUGIN_RETAINED and (found := PLUGINS_RE.search(issue.get("message", ""))):
                    kept.setdefault(str(target.get("agentId")), set()).update(
                        p.strip() for p in found.group("ids").split(","))
    return kept


def plugins_pending_check(fixture: Fixture, retained: dict[str, set[str]]) -> list[Assertion]:
    """The plugins the Gateway keeps inputs pending for are exactly those the fixture leaves uninstalled."""
    named = sorted(set().union(*retained.values())) if retained else []
    if not fixture.plugins_pending and not named:
        return []
    return [Assertion("the Gateway keeps session migration inputs pending for exactly the plugins the state enables "
                      "and does not install", named == sorted(fixture.plugins_pending), sorted(fixture.plugins_pending),
                      named, "; ".join(f"agent {a}: {', '.join(sorted(p))}" for a, p in sorted(retained.items())))]


def last_json(output: str):
    """The last JSON document a command printed after its other output, or None."""
    start = output.find("{")
    while start != -1:
        try:
            return json.loads(output[start:])
        except ValueError:
            start = output.find("{", start + 1)
    return None


# The Gateway's restart recovery reports itself (9.5, 9.6): which orphaned sessions it marked before ready, then,
# when it re-ran any, each one's end. Those lines are the events the step waits on.
RECOVERY_MARKED = re.compile(r"marked (\d+) startup-orphaned main session\(s\) for restart recovery")
RECOVERY_STARTED = re.compile(r"restart recovery startup complete: started=(\d+) settled=(\d+) failed=(\d+) skipped=(\d+)")
NOT_MARKED = "not marked for recovery"


def recovery_outcome(output: str, session_key: str) -> str | None:
    """What the restart recovery did for the killed turn's session, from the Gateway's own lines since the
    restart; None while it has not said yet. A Gateway that marked nothing says so before ready."""
    marked = RECOVERY_MARKED.search(output)
    if not marked or marked[1] == "0":
        return NOT_MARKED
    terminal = re.search(r"restart recovery terminal: session=" + re.escape(session_key) +
                         r" run=\S+ status=(\S+) reason=(\S+)", output)
    if terminal:
        return f"recovered: {terminal[1]} ({terminal[2]})"
    started = RECOVERY_STARTED.search(output)
    if started and started[1] == "0":  # marked, then settled, failed or skipped without a re-run
        return f"not re-run (settled={started[2]} failed={started[3]} skipped={started[4]})"
    return None
