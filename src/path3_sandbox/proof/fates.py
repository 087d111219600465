"""Every seeded file has a declared fate, and the state after the upgrade must show it.

One rule per kind of file, first match wins; a file no rule covers fails as an unaccounted legacy file
(the harness does not know what the Gateway should do with it: that is said, never skipped).

    store        sessions.json: archived (its bytes, or a rewritten copy in its own agent's import archive, whose
                 entries the oracle checks)
    bytes-kept   transcripts, trajectory sidecars, checkpoints, .reset/.deleted copies, nested files: the
                 original bytes still exist in the state dir (moved into the import archive, or left in place)
    in-sqlite    identity/device.json: imported into the state DB's device_identities as the same identity
                 (deviceId, public key, creation time), the file removed
    migrated     state/openclaw.sqlite (with its -wal): its bytes and its WAL's untouched, or every row it held is
                 still there, read through SQLite (a table the migration reshaped is compared over the columns it
                 had; bookkeeping tables excepted), or a backup with exactly the original's content exists
    wal-index    a -shm file: SQLite's shared-memory index, rewritten by any reader; not data
    config       openclaw.json: the harness merged its keys; the Gateway may rewrite it (doctor keeps .bak files)
    other-state  areas outside the session store (credentials, workspace, agent config, …): recorded, not judged
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable

from ..state.config import CONFIG_NAME
from ..report.evidence import HARNESS, Assertion
from ..state.inventory import Inventory, LegacyFile, agent_of
from ..state.layout import IMPORT_ARCHIVE_DIR, is_session_area_path
from ..probes.files import FilesSnapshot
from ..probes.sqlite import SqliteSnapshot
from ..state.layout import STATE_DB



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
OTHER_STATE_AREAS = ("credentials", "workspace", "workspace-attestations", "plugin-skills", "cron", "devices", "logs", "canvas", "media", "memory", "extensions",
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
    FateRule("shared state database", "migrated", lambda p: p == STATE_DB,
             "migrated in place: every row it held (its WAL's committed rows included) is still there"),
    FateRule("state database WAL", "other-state", _name(r"^openclaw\.sqlite-wal$"),
             "its committed rows are part of the database (checked there); the file itself is folded in"),
    FateRule("WAL index", "wal-index", _name(r"\.sqlite-shm$"), "SQLite's shared-memory index: any reader rewrites it"),
    FateRule("config", "config", lambda p: p == CONFIG_NAME,
             "the harness merged its keys (seed.json lists them); doctor --fix may rewrite it, keeping .bak copies"),
    FateRule("config copy", "other-state", _name(r"^openclaw\.json\..+"),
             "config copies the writer or the user kept (.bak, .last-good)"),
    FateRule("agent config", "other-state", lambda p: p.startswith("agents/") and not is_session_area_path(p),
             "per-agent config and auth (agents/<id>/agent/…): outside the session store"),
    FateRule("other state area", "other-state",
             lambda p: PurePosixPath(p).parts[0] in OTHER_STATE_AREAS or p in OTHER_STATE_AREAS
             or PurePosixPath(p).parts[0].startswith("workspace-"),  # per-agent workspaces: workspace-<agent>
             "outside the session store: the import has no business there; recorded, not judged"),
    FateRule("identity material", "other-state", lambda p: p.startswith("identity/"), "device keys beside device.json"),
)


def rule_for(path: str) -> FateRule | None:
    return next((rule for rule in FATE_RULES if rule.matches(path)), None)


VOLATILE_FATES = ("wal-index",)  # files whose bytes change when anyone reads the state: never judged by bytes


def is_volatile(path: str) -> bool:
    rule = rule_for(path)
    return bool(rule and rule.fate in VOLATILE_FATES)


# Shared state DB tables whose rows the Gateway rewrites by design on every start or migration.
STATE_DB_BOOKKEEPING: dict[str, str] = {
    "schema_meta": "the migration records the new schema version there",
    "config_health_entries": "the config health check refreshes its entry on every start",
    "gateway_boot_lifecycle": "every start records its boot",
}


# Shared state DB tables a migration moves elsewhere by design (OpenClaw's state database migrations, read in the
# 2026.9.5 package's dist/openclaw-state-db-*.mjs; checked on the captured users-6.5 state, whose 6.5 rows were all
# found at their destination after 9.5's doctor --fix): table -> (destination, how). The shapes differ, so a moved
# table is judged by count: kept when the destination holds at least as many rows as the table had. The fate says so.
STATE_DB_MOVES: dict[str, tuple[str, str]] = {
    "cron_run_logs": ("task_runs", "each run log becomes a cron task_runs row (cron-runlog-import:<job>:<ts>:<n>), "
                                   "unless the writer had mirrored it there already"),
    "installed_plugin_index": ("config_machine_state", "copied into its plugins.installedIndex row"),
    "cron_jobs": ("cron_jobs", "rebuilt as a JSON-canonical table (job_json, state_json)"),
}


# Caches a release drops by design: OpenClaw's src/state/openclaw-state-db-table-retirements.ts retires them as dead
# tables (RETIRED_DEAD_STATE_TABLES_V10, 2026.9.5). Only the regenerable caches of that list: its other tables
# (command_log_entries, media_blobs, …) stay judged as data. Named in the fate when they held rows.
STATE_DB_RETIRED_CACHES: dict[str, str] = {
    "agent_model_catalogs": "a provider model catalog cache (2026.7.35 writes one)",
    "model_capability_cache": "a model capability cache",
}


def original_columns(before: dict | None) -> dict[str, list[str]]:
    tables = ((before or {}).get(STATE_DB) or {}).get("tables") or {}
    return {table: was["columns"] for table, was in tables.items() if was.get("rows")}


@dataclass(frozen=True)
class StateDbContent:
    """The shared state database's rows before the first start, and of every database after it."""

    before: dict  # digests() of the seeded state/openclaw.sqlite
    after: dict  # digests() of the live database and of backup candidates

    def rows_kept(self) -> list[str]:
        """What of the original is missing from the live database: rows of same-shaped tables, row counts of
        tables the migration reshaped, whole tables (less the tables moved() accounts for)."""
        original = (self.before.get(STATE_DB) or {}).get("tables")
        live = (self.after.get(STATE_DB) or {}).get("tables")
        if original is None or live is None:
            return [f"cannot read it: before {self.before}, after {str(self.after)[:200]}"]
        missing = []
        moved = set(self._moved(original, live))
        for table, was in original.items():
            now = live.get(table)
            if not was["rows"] or table in STATE_DB_BOOKKEEPING or table in moved:
                continue
            if now is None and table in STATE_DB_RETIRED_CACHES:
                continue  # moved() names it
            if now is None:
                missing.append(f"table {table} ({len(was['rows'])} rows) is gone")
            elif now["columns"] == was["columns"]:
                lost = len(set(was["rows"]) - set(now["rows"]))
                if lost:
                    missing.append(f"table {table}: {lost} of {len(was['rows'])} rows gone or changed")
            elif (now.get("projected") or {}).get("columns") == was["columns"]:
                lost = len(set(was["rows"]) - set(now["projected"]["rows"]))
                if lost:
                    missing.append(f"table {table} (reshaped): {lost} of {len(was['rows'])} rows gone or changed "
                                   f"in the columns it had")
            else:
                gone = sorted(set(was["columns"]) - set(now["columns"]))
                missing.append(f"table {table} (reshaped): cannot compare its {len(was['rows'])} rows by content"
                               + (f", columns {gone} are gone" if gone else ", read without the original's columns"))
        return missing

    def moved(self) -> list[str]:
        """The original's tables a known migration moved (STATE_DB_MOVES), each with where and how many rows."""
        original = (self.before.get(STATE_DB) or {}).get("tables") or {}
        live = (self.after.get(STATE_DB) or {}).get("tables") or {}
        retired = [f"table {table} ({len(was['rows'])} rows) retired: {STATE_DB_RETIRED_CACHES[table]}, dropped as a dead "
                   "table by design" for table, was in original.items()
                   if was.get("rows") and table in STATE_DB_RETIRED_CACHES and table not in live]
        return [*self._moved(original, live).values(), *retired]

    @staticmethod
    def _moved(original: dict, live: dict) -> dict[str, str]:
        found = {}
        for table, (destination, how) in STATE_DB_MOVES.items():
            was, now, there = original.get(table), live.get(table), live.get(destination)
            if not was or not was["rows"] or there is None or (now is not None and now["columns"] == was["columns"]):
                continue  # absent, empty, nowhere to look, or not reshaped (compared row by row as usual)
            if len(there["rows"]) >= len(was["rows"]):
                found[table] = (f"table {table} ({len(was['rows'])} rows) moved to {destination} "
                                f"({len(there['rows'])} rows there; by count: {how})")
        return found

    def columns(self) -> dict[str, list[str]]:
        """The original's columns per table: what a reshaped table's rows are read over (digests' `project`)."""
        return original_columns(self.before)

    def backups(self) -> list[str]:
        """Backups whose content equals the original's."""
        original = (self.before.get(STATE_DB) or {}).get("tables")
        return [p for p, d in self.after.items() if p != STATE_DB and d.get("tables") == original]


def store_archives(store: str, after: FilesSnapshot) -> list[str]:
    """The archived copies a store may have become: legacy-store.sessions.json.imported-* in its own agent's import
    archive (another agent's archive holds another store). The retired top-level store has no agent of its own: the
    Gateway merges it into an agent's store, so any agent's archive may hold it."""
    agent = agent_of(store)

    def own(path: str) -> bool:
        parts = PurePosixPath(path).parts
        return (len(parts) == 4 and parts[0] == "agents" and parts[2] == IMPORT_ARCHIVE_DIR and agent in (None, parts[1])
                and parts[3].startswith("legacy-store.sessions.json.imported-"))
    return sorted(p for p in after.files if own(p))


def identity_kept(legacy: dict | None, rows: list | str | None) -> tuple[str, bool]:
    """Whether device_identities holds the legacy device.json's identity: same deviceId, public key, creation time
    (a freshly generated identity is another device: the Gateway's pairings with the old one are lost)."""
    if not legacy:
        return "legacy device.json unreadable: its identity cannot be compared", False
    if not isinstance(rows, list):
        return f"device_identities not read ({rows})", False
    want = (legacy.get("deviceId"), legacy.get("publicKeyPem"), legacy.get("createdAtMs"))
    found = [r for r in rows if isinstance(r, dict)
             and (r.get("device_id"), r.get("public_key_pem"), r.get("created_at_ms")) == want]
    if found:
        return f"imported into device_identities as {found[0].get('identity_key')} (same deviceId, key, creation)", True
    ids = [str(r.get("device_id"))[:12] for r in rows if isinstance(r, dict)]
    return (f"not in device_identities: deviceId {str(want[0])[:12]}… is no row's (rows: {ids or 'none'})"), False


def judge(item: LegacyFile, after: FilesSnapshot, sqlite: SqliteSnapshot,
          state_db: StateDbContent | None = None, inventory: Inventory | None = None) -> tuple[str, bool, list[str]]:
    """(observed fate, whether it is the declared one, where the bytes are now)."""
    rule = rule_for(item.path)
    places = after.by_hash().get(item.sha256, [])
    if rule is None:
        return "unaccounted", False, places
    if rule.fate == "store":
        if places:
            return "preserved", True, places
        rewritten = store_archives(item.path, after)
        return ("transformed", True, rewritten) if rewritten else ("consumed: no archived copy in its agent's "
                                                                   "import archive", False, [])
    if rule.fate == "bytes-kept":
        return ("preserved" if places else "lost"), bool(places), places
    if rule.fate == "in-sqlite":
        fate, kept = identity_kept(inventory.device_identity if inventory else None,
                                   sqlite.global_rows("device_identities"))
        return fate + ("" if item.path not in after.files else ", file still there"), kept, places
    if rule.fate == "migrated":
        # Untouched only when the WAL beside it is too: committed rows may live in the WAL alone.
        sidecars = [f for f in (inventory.files if inventory else ()) if f.path == item.path + "-wal"]
        if item.path in places and all(f.path in after.by_hash().get(f.sha256, []) for f in sidecars):
            return "untouched", True, places
        if state_db is None:
            return "migrated, content not read", False, places
        missing, moved = state_db.rows_kept(), state_db.moved()
        backups = state_db.backups()
        fate = "migrated, every row kept" if not missing else "migrated, rows changed: " + "; ".join(missing[:5])
        fate += f" ({'; '.join(moved)})" if moved else ""
        # Nothing is lost while either the live database or a backup with the original's content holds every row.
        return fate + (f", backup with the same content: {backups[0]}" if backups else ", no backup with the same content"), \
            not missing or bool(backups), places or backups
    if rule.fate == "wal-index":
        return "rewritten by readers (not data)", True, places
    if rule.fate == "config":
        return ("present" if item.path in after.files else "removed"), item.path in after.files, places
    return ("preserved" if places else "changed or removed (recorded, not judged)"), True, places


def files_accounted(inventory: Inventory, after: FilesSnapshot, sqlite: SqliteSnapshot,
                    state_db: StateDbContent | None = None) -> tuple[list[Assertion], list[dict]]:
    """One assertion per seeded file: its observed fate is the one its rule declares. Returns the fates too."""
    results, fates = [], []
    for item in inventory.files:
        rule = rule_for(item.path)
        fate, ok, places = judge(item, after, sqlite, state_db, inventory)
        fates.append({**item.to_json(), "rule": rule.name if rule else None, "declared": rule.fate if rule else None,
                      "fate": fate, "now_at": places})
        if rule is None:
            results.append(Assertion(f"unaccounted legacy file {item.path}", False, "a fate rule for it", "no rule",
                                     "the harness does not know what the Gateway should do with this file: add a rule "
                                     "to FATE_RULES in src/path3_sandbox/fates.py", blame=HARNESS))
        elif rule.fate not in ("other-state",) + VOLATILE_FATES:
            results.append(Assertion(f"{rule.name} {item.path}: {rule.fate}", ok, rule.why, fate if not places else
                                     {"fate": fate, "now_at": places[:3]}))
    return results, fates


def state_db_candidates(after: FilesSnapshot) -> list[str]:
    """The live shared state database and every file beside it that may be a copy of it (backups)."""
    return [STATE_DB] + sorted(
        p for p in after.files if p.startswith(STATE_DB) and p != STATE_DB
        and not p.endswith(("-wal", "-shm", "-journal")))


def left_in_place(path: str, after: FilesSnapshot) -> bool:
    """A live legacy-shaped file the Gateway leaves by design: the trajectory pointer of a transcript copy
    (.jsonl.reset.* / .jsonl.deleted.*) that itself stays in place, not being a .jsonl name."""
    name = PurePosixPath(path).name
    if not name.endswith(".trajectory-path.json"):
        return False
    stem, folder = name.removesuffix(".trajectory-path.json"), str(PurePosixPath(path).parent)
    return any(str(PurePosixPath(p).parent) == folder and re.match(re.escape(stem) + r"\.jsonl\.(reset|deleted)\.",
                                                                   PurePosixPath(p).name) for p in after.files)


def no_live_legacy(after: FilesSnapshot, pending_agents: set[str] = frozenset()) -> Assertion:
    """No legacy file stays live, but those the Gateway keeps pending for a plugin the fixture leaves uninstalled
    (its run manifest's plugin_migration_source_retained for that agent; plugins_pending_check holds the plugins)."""
    live = [f.path for f in after.legacy_shaped() if not left_in_place(f.path, after)]
    kept = [p for p in live if any(p.startswith(f"agents/{agent}/sessions/") for agent in pending_agents)]
    left = [p for p in live if p not in kept]
    return Assertion("no live legacy files left outside the import archive", not left, [], left,
                     "a reset/deleted transcript copy and its trajectory pointer stay in place by design"
                     + (f"; kept pending for uninstalled plugins (agents {', '.join(sorted(pending_agents))}): "
                        f"{len(kept)} file(s)" if kept else ""))
