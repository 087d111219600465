"""Every seeded file has a declared fate, and the state after the upgrade must show it.

One rule per kind of file, first match wins; a file no rule covers fails as an unaccounted legacy file
(the harness does not know what the Gateway should do with it: that is said, never skipped).

    store        sessions.json: archived (its bytes, or a rewritten copy whose entries the oracle checks)
    bytes-kept   transcripts, trajectory sidecars, checkpoints, .reset/.deleted copies, nested files: the
                 original bytes still exist in the state dir (moved into the import archive, or left in place)
    in-sqlite    identity/device.json: imported into the state DB's device_identities, the file removed
    migrated     state/openclaw.sqlite: migrated in place, a byte-identical backup kept
    config       openclaw.json: the harness merged its keys; the Gateway may rewrite it (doctor keeps .bak files)
    other-state  areas outside the session store (credentials, workspace, agent config, …): recorded, not judged
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable

from .config import CONFIG_NAME
from .evidence import Assertion
from .inventory import Inventory, LegacyFile, is_session_area_path
from .probes.files import FilesSnapshot
from .probes.sqlite import SqliteSnapshot

HARNESS = "harness"


@dataclass(frozen=True)
class FateRule:
    name: str
    fate: str
    matches: Callable[[str], bool]
    why: str


def _name(pattern: str) -> Callable[[str], bool]:
    regex = re.compile(pattern)
    return lambda path: bool(regex.search(PurePosixPath(path).name))


# Areas of ~/.openclaw that hold no session data; the import has no business there, so they are recorded only.
OTHER_STATE_AREAS = ("credentials", "workspace", "cron", "devices", "logs", "canvas", "media", "memory", "extensions",
                     "skills", "plugins", "browser", "delivery-queue", "subagents", "sandboxes", "hooks", "completions",
                     "telegram", "tasks", "flows", "exec-approvals.json", "update-check.json", ".env")

FATE_RULES: tuple[FateRule, ...] = (
    FateRule("session store", "store", lambda p: is_session_area_path(p) and PurePosixPath(p).name == "sessions.json",
             "archived as legacy-store.sessions.json.imported-<ms>, byte-identical or rewritten first (sessionFile "
             "dropped); its entries are checked field by field"),
    FateRule("trajectory sidecar", "bytes-kept", lambda p: is_session_area_path(p) and _name(r"\.trajectory(-path)?\.jsonl?$")(p),
             "moved with its transcript (kind trajectory), not imported"),
    FateRule("compaction checkpoint", "bytes-kept", lambda p: is_session_area_path(p) and _name(r"\.checkpoint\..*\.jsonl$")(p),
             "archived as archive-tier.<name>.imported-<ms> (kind unreferenced-jsonl), not imported"),
    FateRule("reset or deleted transcript copy", "bytes-kept",
             lambda p: is_session_area_path(p) and _name(r"\.jsonl\.(reset|deleted)\.")(p),
             "not a .jsonl name: neither imported nor archived, left in place"),
    FateRule("transcript", "bytes-kept", lambda p: is_session_area_path(p) and p.endswith(".jsonl"),
             "imported, then moved byte-identical into the import archive"),
    FateRule("other file in a session folder", "bytes-kept", is_session_area_path,
             "the importer reads .json/.jsonl only: anything else stays where it was"),
    FateRule("device identity", "in-sqlite", lambda p: p == "identity/device.json",
             "doctor/startup imports it into the state DB's device_identities and deletes the file"),
    FateRule("shared state database", "migrated", lambda p: p == "state/openclaw.sqlite",
             "migrated in place; a byte-identical backup (*.bak) is kept"),
    FateRule("state database sidecar", "other-state", _name(r"^openclaw\.sqlite-(wal|shm)$"),
             "a WAL left by the writer is folded into the database when it is opened"),
    FateRule("config", "config", lambda p: p == CONFIG_NAME,
             "the harness merged its keys (seed.json lists them); doctor --fix may rewrite it, keeping .bak copies"),
    FateRule("config backup", "other-state", _name(r"^openclaw\.json\.bak"), "the user's own config backups"),
    FateRule("agent config", "other-state", lambda p: p.startswith("agents/") and not is_session_area_path(p),
             "per-agent config and auth (agents/<id>/agent/…): outside the session store"),
    FateRule("other state area", "other-state",
             lambda p: PurePosixPath(p).parts[0] in OTHER_STATE_AREAS or p in OTHER_STATE_AREAS,
             "outside the session store: the import has no business there; recorded, not judged"),
    FateRule("identity material", "other-state", lambda p: p.startswith("identity/"), "device keys beside device.json"),
)


def rule_for(path: str) -> FateRule | None:
    return next((rule for rule in FATE_RULES if rule.matches(path)), None)


def judge(item: LegacyFile, after: FilesSnapshot, sqlite: SqliteSnapshot) -> tuple[str, bool, list[str]]:
    """(observed fate, whether it is the declared one, where the bytes are now)."""
    rule = rule_for(item.path)
    places = after.by_hash().get(item.sha256, [])
    if rule is None:
        return "unaccounted", False, places
    if rule.fate == "store":
        if places:
            return "preserved", True, places
        rewritten = [p for p in after.files if "legacy-store.sessions.json" in p]
        return ("transformed", True, rewritten) if rewritten else ("consumed", False, [])
    if rule.fate == "bytes-kept":
        return ("preserved" if places else "lost"), bool(places), places
    if rule.fate == "in-sqlite":
        rows = sqlite.global_rows("device_identities")
        imported = isinstance(rows, list) and len(rows) > 0
        gone = item.path not in after.files
        fate = "imported into device_identities" if imported else "not in device_identities"
        return fate + ("" if gone else ", file still there"), imported, places
    if rule.fate == "migrated":
        backups = [p for p in places if p != item.path]
        if item.path in places and not backups:
            return "untouched", True, places
        return ("migrated, backup kept" if backups else "migrated, no byte-identical backup"), bool(backups), places
    if rule.fate == "config":
        return ("present" if item.path in after.files else "removed"), item.path in after.files, places
    return ("preserved" if places else "changed or removed (recorded, not judged)"), True, places


def files_accounted(inventory: Inventory, after: FilesSnapshot, sqlite: SqliteSnapshot) -> tuple[list[Assertion], list[dict]]:
    """One assertion per seeded file: its observed fate is the one its rule declares. Returns the fates too."""
    results, fates = [], []
    for item in inventory.files:
        rule = rule_for(item.path)
        fate, ok, places = judge(item, after, sqlite)
        fates.append({**item.to_json(), "rule": rule.name if rule else None, "declared": rule.fate if rule else None,
                      "fate": fate, "now_at": places})
        if rule is None:
            results.append(Assertion(f"unaccounted legacy file {item.path}", False, "a fate rule for it", "no rule",
                                     "the harness does not know what the Gateway should do with this file: add a rule "
                                     "to FATE_RULES in src/path3_sandbox/fates.py", blame=HARNESS))
        elif rule.fate != "other-state":
            results.append(Assertion(f"{rule.name} {item.path}: {rule.fate}", ok, rule.why, fate if not places else
                                     {"fate": fate, "now_at": places[:3]}))
    return results, fates
