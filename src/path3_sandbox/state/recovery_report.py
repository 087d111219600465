"""A recovery report (the markdown `openclaw doctor --session-sqlite recover --github-issue` writes and users paste
into issues) read back, and the legacy state it implies.

    parse_report(text)    -> RecoveryReport: version, run, reason, restore status and, per target (agent), its store
                             and SQLite paths, planned/completed move counts, "Validation before archive", the issue
                             count and the issue lines (code, redacted session key, message); a line the format does
                             not have is kept in `unparsed`, never dropped. Not a report at all: ReportError (exit 2).
    skeleton(report)      -> (files, manifest, cannot_infer): a minimal legacy state dir (relpath -> bytes), what was
                             inferred and from which line (manifest["inferred"]), and what the report does not say.
    describe(...)         the same, as the lines `repro --from-report` prints.
    read_report(path)     the file's text, or ReportError (missing, a folder, too big, not UTF-8).

The format, as OpenClaw renders it (src/commands/doctor-session-sqlite-failure.ts, renderFailureMarkdown):
"# Session SQLite Migration Failure", "- Run/Generated/OpenClaw version/Reason/Restore status/Recovery command: …",
"## Targets", then per target "### <agentId>" and "- Store/SQLite/Planned moves/Completed moves/Validation before
archive/Issues: …", and at most 10 issue lines "  - [code] <sessionKey>: message" (keys redacted). The issue body
starts with "OpenClaw doctor generated this sanitized report …". Every inference here is conservative and named;
the SQLite databases are never fabricated (their schema is the Gateway's own): the skeleton is the legacy state
before the import, and the release under test builds its own databases from it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import ReportError
from .config import CONFIG_NAME

TITLE = "# Session SQLite Migration Failure"
PREAMBLE = "OpenClaw doctor generated this sanitized report"
HEADER_KEYS = {"Run": "run", "Generated": "generated", "OpenClaw version": "version", "Reason": "reason",
               "Restore status": "restore_status", "Recovery command": "recovery_command"}
TARGET_KEYS = {"Store": "store", "SQLite": "sqlite", "Planned moves": "planned_moves",
               "Completed moves": "completed_moves", "Validation before archive": "validation", "Issues": "issue_count"}
COUNTS = ("planned_moves", "completed_moves", "issue_count")
MAX_REPORT_BYTES = 1024**2
LISTED_ISSUES_AT_MOST = 10  # renderFailureMarkdown lists target.issues.slice(0, 10)
VERSION_RE = re.compile(r"\d{4}\.\d{1,2}\.\d{1,3}(?:-[0-9A-Za-z.]+)?")
FIELD_RE = re.compile(r"^- ([A-Za-z][A-Za-z ]*?): ?(.*)$")
ISSUE_RE = re.compile(r"^\s+- \[([A-Za-z0-9_.:-]+)\] (.*)$")
KEY_RE = re.compile(r"^(\[redacted-session-key(?::[0-9a-f]+)?\]): ")
STORE_RE = re.compile(r"^(?P<root>.*?)/agents/(?P<agent>[^/]+)/sessions/sessions\.json$")
PLUGINS_RE = re.compile(r"pending for plugin\(s\): (?P<ids>[A-Za-z0-9@/_., -]+?)\.(?: |$)")  # ids end at ". "
PLUGIN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ACTIVE_JSONL_RE = re.compile(r"transcript file: (?P<path>\S+?\.jsonl)(?=[.\s]|$)")
SAFE_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Issue:
    code: str
    session_key: str | None  # as posted: doctor redacts it to "[redacted-session-key:<8 hex>]"
    message: str


@dataclass(frozen=True)
class Target:
    agent: str
    store: str | None = None
    sqlite: str | None = None
    planned_moves: int | None = None
    completed_moves: int | None = None
    validation: str | None = None  # not_run | passed | failed
    issue_count: int | None = None
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class RecoveryReport:
    version: str | None
    run: str | None = None
    generated: str | None = None
    reason: str | None = None
    restore_status: str | None = None
    recovery_command: str | None = None
    targets: tuple[Target, ...] = ()
    unparsed: tuple[str, ...] = field(default=())  # "line N: text", every line the format does not have


def read_report(path: Path) -> str:
    """The report's text: a UTF-8 file of at most MAX_REPORT_BYTES (an issue body is at most 65,536 characters)."""
    hint = "pass the .md file holding the report (the issue body, or doctor's session-sqlite-….failure.md)"
    if not path.is_file():
        raise ReportError(f"{path} {'is not a file' if path.exists() else 'does not exist'}", hint=hint)
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise ReportError(f"{path} is larger than {MAX_REPORT_BYTES // 1024} KiB: not a recovery report", hint=hint)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReportError(f"{path} is not UTF-8 text (byte {error.start}): not a recovery report", hint=hint) from None


def parse_report(text: str, *, source: str = "the report") -> RecoveryReport:
    header: dict[str, str | None] = {}
    targets: list[dict] = []
    unparsed: list[str] = []
    in_targets = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("```") or (stripped.startswith("<!--") and stripped.endswith("-->")):
            continue
        if stripped.startswith(PREAMBLE) or stripped == TITLE:
            continue
        if stripped == "## Targets":
            in_targets = True
            continue
        if in_targets and line.startswith("### "):
            targets.append({"agent": line[4:].strip(), "issues": []})
            continue
        if targets and (issue := ISSUE_RE.match(line)):
            code, rest = issue.groups()
            key = KEY_RE.match(rest)
            targets[-1]["issues"].append(Issue(code, key.group(1) if key else None, rest[key.end():] if key else rest))
            continue
        pair = FIELD_RE.match(line)
        keys = TARGET_KEYS if targets else HEADER_KEYS
        if pair and pair.group(1) in keys and (value := _value(keys[pair.group(1)], pair.group(2))) is not None:
            (targets[-1] if targets else header)[keys[pair.group(1)]] = value
            continue
        unparsed.append(f"line {number}: {stripped[:200]}")
    if not header.get("version") and not targets:
        raise ReportError(
            f"{source} is not an OpenClaw session SQLite recovery report: no '- OpenClaw version: …' line and no "
            "'## Targets' section with '### <agent>' targets",
            hint="pass the markdown `openclaw doctor --session-sqlite recover --github-issue` writes (the body of a "
                 "'Session SQLite migration recovery report (session-sqlite-…)' issue), or repro a state: "
                 "`path3-sandbox repro STATE`")
    return RecoveryReport(targets=tuple(Target(**{**t, "issues": tuple(t["issues"])}) for t in targets),
                          unparsed=tuple(unparsed), **{"version": None, **header})


def _value(name: str, text: str) -> str | int | None:
    """A field's value as the format writes it; None when it is not of that form (the line then counts as unparsed)."""
    text = text.strip()
    if name in COUNTS:
        return int(text) if text.isdigit() else None
    if name == "version":  # "2026.9.5", or "2026.9.5 (ec9c1a1)" as `openclaw --version` prints it
        found = VERSION_RE.match(text)
        return found.group(0) if found else None
    if name == "recovery_command":
        return text.strip("`")
    return text or None


def skeleton(report: RecoveryReport) -> tuple[dict[str, bytes], dict, list[str]]:
    files: dict[str, bytes] = {}
    inferred: list[str] = []
    cannot: list[str] = []
    plugins: dict[str, str] = {}  # plugin id -> the agent whose issue named it
    agents: dict[str, dict] = {}
    roots: set[str] = set()
    if report.unparsed:
        cannot.append(f"{len(report.unparsed)} line(s) the recovery report format does not have were not read "
                      f"(first: {report.unparsed[0]})")
    for target in report.targets:
        folder = _agent_folder(target, cannot)
        if folder is None:
            continue
        if target.store and (store := STORE_RE.match(target.store.replace("\\", "/"))):
            roots.add(store.group("root"))
        sessions_dir = f"agents/{folder}/sessions"
        entry = agents.setdefault(folder, {"report_agent": target.agent, "store": f"{sessions_dir}/sessions.json",
                                           "sqlite": target.sqlite, "validation": target.validation,
                                           "planned_moves": target.planned_moves,
                                           "completed_moves": target.completed_moves,
                                           "issue_count": target.issue_count,
                                           "issue_codes": [i.code for i in target.issues], "sessions": {}})
        for issue in target.issues:
            _infer_from_issue(report, target, folder, issue, entry["sessions"], plugins, files, inferred, cannot)
        if not entry["sessions"]:
            key, sid = f"agent:{folder}:main", _session_id(report, folder, "main")
            entry["sessions"][key] = {"sessionId": sid, "synthetic": True}
            files[f"{sessions_dir}/{sid}.jsonl"] = _transcript(sid, report.generated)
            inferred.append(f"{folder}: one synthetic session {key} ({sid}.jsonl: a v3 header and one placeholder "
                            "user message), since the report names no session of this store")
        store_json = {key: {"sessionId": s["sessionId"], "sessionFile": f"{s['sessionId']}.jsonl"}
                      for key, s in entry["sessions"].items()}
        files[entry["store"]] = (json.dumps(store_json, indent=2) + "\n").encode()
        inferred.append(f"{folder}: legacy store {entry['store']} (from '- Store: {target.store}') holding "
                        f"{len(store_json)} session(s)")
        _what_the_target_does_not_say(target, folder, cannot)
    if plugins:
        config = {"plugins": {"entries": {pid: {"enabled": True} for pid in sorted(plugins)}}}
        files[CONFIG_NAME] = (json.dumps(config, indent=2) + "\n").encode()
        inferred.append(f"{CONFIG_NAME}: plugins.entries.<id>.enabled = true for {', '.join(sorted(plugins))} "
                        "(named by plugin_migration_source_retained: their session migration inputs were pending)")
        cannot.append("the plugins' own settings (plugins.entries.<id>.config) and whether they were installed: not "
                      "in the report; the skeleton only enables them by id, so the release under test finds them "
                      "configured and, unless it bundles them, not installed")
        cannot.append("the Gateway's record of pending plugin migrations (kept in state/openclaw.sqlite): not "
                      "fabricated; the release under test decides afresh which sessions wait for a plugin")
    if report.targets:
        cannot.append(f"the rest of {CONFIG_NAME} (models, channels, agents, session settings): not in the report")
    if not report.version:
        cannot.append("the OpenClaw release: the report names none; give --openclaw")
    manifest = {"report": {"run": report.run, "version": report.version, "generated": report.generated,
                           "reason": report.reason, "restore_status": report.restore_status},
                "state_dir_as_written": sorted(roots)[0] if len(roots) == 1 else sorted(roots),
                "agents": agents, "plugins": sorted(plugins), "inferred": inferred,
                "unparsed": list(report.unparsed)}
    if report.restore_status not in (None, "noop", "not_attempted"):
        cannot.append(f"restore status {report.restore_status}: which files doctor restored is not named")
    return files, manifest, cannot


def report_state(path: Path) -> tuple[RecoveryReport, dict[str, bytes], dict, list[str]]:
    """The report at `path` read, parsed and turned into the state it implies: (report, files, manifest, what it
    cannot infer). A report that implies no agent is a ReportError (exit 2) before anything is written."""
    report = parse_report(read_report(path), source=str(path))
    files, manifest, cannot = skeleton(report)
    if not manifest["agents"]:
        raise ReportError(f"{path} names no target agent a state can be built for",
                          hint="the report needs a '## Targets' section with '### <agent>' and '- Store: …' lines")
    return report, files, manifest, cannot


def _agent_folder(target: Target, cannot: list[str]) -> str | None:
    """The agent's folder: the one its store path names (the Gateway's normalised id), else the heading's id."""
    store = STORE_RE.match((target.store or "").replace("\\", "/"))
    folder = store.group("agent") if store else target.agent
    if not SAFE_SEGMENT_RE.match(folder) or folder in (".", ".."):
        cannot.append(f"target {target.agent!r}: {folder!r} is not a folder name the skeleton can use; agent left out")
        return None
    if not store:
        cannot.append(f"{folder}: its store {target.store!r} is not <state>/agents/<id>/sessions/sessions.json (a "
                      "custom session.store?): the skeleton puts it in the default place, the config is not inferred")
    return folder


def _infer_from_issue(report, target, folder, issue, sessions, plugins, files, inferred, cannot) -> None:
    sessions_dir = f"agents/{folder}/sessions"
    if issue.code == "plugin_migration_source_retained":
        found = PLUGINS_RE.search(issue.message)
        ids = [p.strip() for p in found.group("ids").split(",")] if found else []
        good = [p for p in ids if PLUGIN_ID_RE.match(p)]
        for pid in good:
            plugins.setdefault(pid, folder)
        if not good:
            cannot.append(f"{folder}: [plugin_migration_source_retained] names no plugin id the skeleton can read "
                          f"({issue.message[:120]!r}); no plugin configured from it")
        return
    if issue.code == "active_sqlite_transcript_jsonl":
        found = ACTIVE_JSONL_RE.search(issue.message)
        path = PurePosixPath(found.group("path").replace("\\", "/")) if found else None
        stem = path.name[:-len(".jsonl")] if path else ""
        if not path or path.parent.parts[-3:] != ("agents", folder, "sessions") or not SAFE_SEGMENT_RE.match(stem):
            cannot.append(f"{folder}: [active_sqlite_transcript_jsonl] names no transcript in this agent's sessions "
                          f"folder ({issue.message[:120]!r})")
            return
        redacted = re.sub(r"[^0-9a-f]", "", (issue.session_key or "").rpartition(":")[2]) or stem[:8]
        key = f"agent:{folder}:redacted-{redacted}"
        sessions[key] = {"sessionId": stem, "synthetic": True, "from_issue": issue.code}
        files[f"{sessions_dir}/{path.name}"] = _transcript(stem, report.generated)
        inferred.append(f"{folder}: active transcript {sessions_dir}/{path.name} (named by active_sqlite_transcript_jsonl) "
                        f"and its store entry {key} (the real key is redacted in the report)")
        cannot.append(f"{folder}/{path.name}: its content (a v3 header and one placeholder user message stand in) and "
                      "the SQLite rows the report says the session already had")
        return
    cannot.append(f"{folder}: [{issue.code}] has no rule that maps it to files ({issue.message[:120]!r})")


def _what_the_target_does_not_say(target: Target, folder: str, cannot: list[str]) -> None:
    if target.issue_count is not None and target.issue_count > len(target.issues):
        cut = len(target.issues) < min(target.issue_count, LISTED_ISSUES_AT_MOST)
        cannot.append(f"{folder}: the report counts {target.issue_count} issue(s) and lists {len(target.issues)} "
                      f"(doctor lists at most {LISTED_ISSUES_AT_MOST}{'; this copy is cut short' if cut else ''}): "
                      "the other issues' codes and files are unknown")
    if target.planned_moves or target.completed_moves:
        cannot.append(f"{folder}: {target.planned_moves or 0} planned / {target.completed_moves or 0} completed "
                      "move(s) are counted, not named: which legacy files were already in the import archive is not "
                      "reproduced")
    if target.validation == "failed":
        cannot.append(f"{folder}: validation before archive failed; why is not in the report")
    sqlite_rows = target.validation == "passed" or any(i.code == "active_sqlite_transcript_jsonl" for i in target.issues)
    cannot.append(f"{folder}: the agent database {target.sqlite or '(not named)'} "
                  + ("held the imported sessions (validation passed or an active JSONL beside SQLite rows)"
                     if sqlite_rows else "may or may not have existed (the report does not say)")
                  + ": not fabricated (its schema is the Gateway's own); the release under test builds it from the "
                    "legacy files, and how many sessions the store really held is not in the report")


def _session_id(report: RecoveryReport, folder: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"path3-sandbox:{report.run}:{folder}:{name}"))


def _transcript(session_id: str, generated: str | None) -> bytes:
    when = generated if generated and re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$", generated) else "2026-09-01T00:00:00.000Z"
    header = {"type": "session", "version": 3, "id": session_id, "timestamp": when, "cwd": "/home/node"}
    message = {"type": "message", "id": session_id.replace("-", "")[:8], "parentId": None, "timestamp": when,
               "message": {"role": "user", "content": [{"type": "text", "text": "placeholder: path3-sandbox repro "
                                                                                "--from-report (the report holds no "
                                                                                "message text)"}]}}
    return (json.dumps(header) + "\n" + json.dumps(message) + "\n").encode()


def describe(report: RecoveryReport, manifest: dict, cannot_infer: list[str]) -> str:
    agents = ", ".join(manifest["agents"]) or "none"
    lines = [f"recovery report {report.run or '(no run id)'}: OpenClaw {report.version or '(version not given)'}, "
             f"{len(report.targets)} target(s): {agents}",
             "inferred:", *(f"  - {line}" for line in manifest["inferred"]),
             "could not infer:", *(f"  - {line}" for line in cannot_infer or ["(nothing)"])]
    return "\n".join(lines)
