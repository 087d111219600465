"""Turn a fixture's state tree into the files a fresh volume receives.

Four transformations, all recorded: absolute paths written for the fixture author's home are
rewritten to the container's state directory; timestamps are shifted so the newest is an hour old
(sessions older than 30 days are auto-archived on first write); the harness config is deep-merged into
the fixture's own openclaw.json; and the state is kept offline whatever the network (config.offline_overlay):
every channel it configures is disabled and every model provider it defines or names (config, an agent's
models.json, auth profiles, its sessions' model overrides) points where nothing answers, so a user's Telegram or
Discord bot never starts and their API keys are never spent. sessions.json itself, data under test, is never edited.
The Gateway's scratch folders at the state root (layout.SCRATCH_DIRS: cache/, tmp/) are left out, and counted: the
file probe skips them there, as the Gateway writes them while it runs; the same names deeper down are seeded.
What the Gateway first sees is exactly these bytes, and the inventory and hashes are taken from them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import CONFIG_NAME, STATE_DIR, UNREACHABLE_BASE_URL, Offline, Override, deep_merge, offline_overlay
from ..errors import FixtureError
from .fixtures import Fixture
from ..containers.volumes import VolumeFile
from ..scenario.provider import PROVIDER_ID
from .inventory import refuse_unparseable
from .layout import is_legacy_store_path, is_scratch_path
from .tree import read_bytes

TEXT_SUFFIXES = (".json", ".jsonl")
ISO_RE = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)"')
# Epoch milliseconds between 2001 and 2286: 13 digits, not part of a longer number.
EPOCH_MS_RE = re.compile(rb"(?<![\d.])(1\d{12})(?![\d.])")
TARGET_NEWEST_AGE_MS = 3_600_000
# A user's state keeps its own timestamps; instead of rewriting them, old sessions are kept from being
# auto-archived on their first write by raising the prune horizon.
KEEP_OLD_SESSIONS_CONFIG = {"session": {"maintenance": {"pruneAfter": "36500d"}}}


@dataclass(frozen=True)
class Seed:
    files: tuple[VolumeFile, ...]
    config_overrides: tuple[Override, ...]
    shift_ms: int  # added to every timestamp (0 when not retimed)
    rewritten_paths: int  # files in which the author's state dir was replaced
    offline: Offline = field(default_factory=Offline)  # channels disabled, providers made unreachable
    scratch_left_out: int = 0  # files under the state root's cache/ and tmp/, not seeded

    def to_json(self) -> dict:
        return {"files": len(self.files), "config_overrides": [o.to_json() for o in self.config_overrides],
                "timestamp_shift_ms": self.shift_ms, "files_with_rewritten_paths": self.rewritten_paths,
                "user_state_offline": self.offline.to_json(), "scratch_files_left_out": self.scratch_left_out}

    def as_inventory_input(self) -> dict[str, tuple[bytes, float]]:
        return {f.path: (f.data, f.mtime) for f in self.files}


def read_state(fixture: Fixture) -> dict[str, bytes]:
    if not fixture.state.is_dir():
        raise FixtureError(f"fixture {fixture.name} has no state/ folder at {fixture.state}",
                           hint="a fixture's state/ is laid out like ~/.openclaw")
    return read_bytes(fixture.state, links="follow")


def newest_timestamp_ms(files: dict[str, bytes]) -> int | None:
    newest = None
    for path, data in files.items():
        if not path.endswith(TEXT_SUFFIXES) or path == CONFIG_NAME:
            continue
        for match in ISO_RE.finditer(data):
            newest = max(newest or 0, _iso_to_ms(match.group(1)))
        for match in EPOCH_MS_RE.finditer(data):
            newest = max(newest or 0, int(match.group(1)))
    return newest


def shift_timestamps(data: bytes, shift_ms: int) -> bytes:
    """Every ISO-8601 UTC timestamp string and epoch-ms number moved by `shift_ms`; all else byte-identical."""
    data = ISO_RE.sub(lambda m: b'"' + _ms_to_iso(_iso_to_ms(m.group(1)) + shift_ms, m.group(1)) + b'"', data)
    return EPOCH_MS_RE.sub(lambda m: str(int(m.group(1)) + shift_ms).encode(), data)


def build_seed(fixture: Fixture, harness: dict, *, now: float | None = None,
               files: dict[str, bytes] | None = None) -> Seed:
    """`files`: the fixture's state as read_state read it, when the caller has it already (never changed here)."""
    now = time.time() if now is None else now
    given = read_state(fixture) if files is None else files
    files = {p: d for p, d in given.items() if not is_scratch_path(p)}
    scratch = len(given) - len(files)
    rewritten = 0
    if fixture.state_dir_as_written and fixture.state_dir_as_written != STATE_DIR:
        old, new = fixture.state_dir_as_written.rstrip("/").encode(), STATE_DIR.encode()
        for path, data in files.items():
            if path.endswith(TEXT_SUFFIXES) and old in data:
                files[path] = data.replace(old, new)
                rewritten += 1
    shift = 0
    if fixture.retime and (newest := newest_timestamp_ms(files)):
        shift = int(now * 1000) - TARGET_NEWEST_AGE_MS - newest
        files = {p: shift_timestamps(d, shift) if p.endswith(TEXT_SUFFIXES) and p != CONFIG_NAME else d
                 for p, d in files.items()}
    user_config: dict = {}
    if CONFIG_NAME in files:
        try:
            user_config = _json(CONFIG_NAME, files[CONFIG_NAME], strict=True)
        except ValueError as error:
            raise FixtureError(f"{fixture.state / CONFIG_NAME} is not plain JSON ({error})",
                               hint="path3-sandbox merges its harness keys into JSON configs only; convert JSON5 to JSON") from None
    if not fixture.retime:
        harness, _ = deep_merge(harness, KEEP_OLD_SESSIONS_CONFIG)
    merged, overrides = deep_merge(user_config, harness)
    keep = {PROVIDER_ID, *(((harness.get("models") or {}).get("providers")) or {})}
    overlay, offline = offline_overlay(user_config if isinstance(user_config, dict) else {},
                                       named_providers=named_providers(files), keep=keep)
    models_json, unreachable, agent_providers = _models_json_offline(files, keep)
    files.update(models_json)
    merged, offline_overrides = deep_merge(merged, overlay)
    overrides += offline_overrides + unreachable
    offline = Offline(offline.channels, tuple(sorted({*offline.providers, *agent_providers})))
    files[CONFIG_NAME] = (json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode()
    # Recent mtimes in the files' order: the importer takes mtimes as times.
    count = len(files)
    volume_files = tuple(
        VolumeFile(path, data, now - TARGET_NEWEST_AGE_MS / 1000 - (count - index), 0o600 if path == CONFIG_NAME else 0o644)
        for index, (path, data) in enumerate(sorted(files.items()))
    )
    return Seed(volume_files, tuple(overrides), shift, rewritten, offline, scratch)


AUTH_PROFILES_RE = re.compile(r"^agents/[^/]+/agent/auth-profiles\.json$")
MODELS_JSON_RE = re.compile(r"^agents/[^/]+/agent/models\.json$")


def named_providers(files: dict[str, bytes]) -> set[str]:
    """Providers a state names outside its config: its sessions' model overrides (providerOverride, a
    `provider/model` modelOverride) and its auth profiles (credentials it holds). Unreadable files name none."""
    found: set[str] = set()
    for path, data in files.items():
        if is_legacy_store_path(path):
            store = _json(path, data)
            for entry in (store.values() if isinstance(store, dict) else ()):
                if not isinstance(entry, dict):
                    continue
                if isinstance(entry.get("providerOverride"), str):
                    found.add(entry["providerOverride"])
                if isinstance(entry.get("modelOverride"), str) and "/" in entry["modelOverride"]:
                    found.add(entry["modelOverride"].split("/", 1)[0])
        elif AUTH_PROFILES_RE.match(path):
            document = _json(path, data)
            profiles = document.get("profiles") if isinstance(document, dict) else None
            for profile in (profiles.values() if isinstance(profiles, dict) else ()):
                if isinstance(profile, dict) and isinstance(profile.get("provider"), str):
                    found.add(profile["provider"])
    return found


def _models_json_offline(files: dict[str, bytes], keep: set[str]) -> tuple[dict[str, bytes], list[Override], set[str]]:
    """An agent's models.json (the providers OpenClaw generated from config, whose non-empty baseUrl wins over the
    config's on a merge): every provider's baseUrl pointed where nothing answers too, recorded as overrides
    (`<file>:providers.<id>.baseUrl`). Returns the rewritten files, the overrides and the providers."""
    changed: dict[str, bytes] = {}
    overrides: list[Override] = []
    providers_seen: set[str] = set()
    for path, data in sorted(files.items()):
        if not MODELS_JSON_RE.match(path):
            continue
        document = _json(path, data)
        providers = document.get("providers") if isinstance(document, dict) else None
        if not isinstance(providers, dict):
            continue
        touched = False
        for provider, value in sorted(providers.items()):
            if provider in keep or not isinstance(value, dict):
                continue
            overrides.append(Override(f"{path}:providers.{provider}.baseUrl", value.get("baseUrl"),
                                      UNREACHABLE_BASE_URL))
            value["baseUrl"] = UNREACHABLE_BASE_URL
            providers_seen.add(provider)
            touched = True
        if touched:
            changed[path] = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    return changed, overrides, providers_seen


def offline_line(evidence_dirs) -> str:
    """summary.md's line: what every proved state had turned off (from each fixture's seed.json)."""
    records = []
    for folder in evidence_dirs:
        try:
            record = json.loads((Path(folder) / "seed.json").read_text(encoding="utf-8"))["user_state_offline"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(record, dict):
            records.append(record)
    if not records:
        return "user state kept offline: not recorded (no state was seeded)"
    accounts = sum(int(r.get("channel_accounts_disabled") or 0) for r in records)
    providers = sorted({str(p) for r in records for p in r.get("providers_unreachable") or ()})
    return (f"user state kept offline: {accounts} channel account(s) disabled, {len(providers)} provider(s) made "
            "unreachable" + (f" ({', '.join(f'`{p}`' for p in providers[:12])}{', …' if len(providers) > 12 else ''})"
                             if providers else "")
            + ", whatever the network (every key set: `<fixture>/seed.json`)")


def _json(path: str, data: bytes, *, strict: bool = False):
    """A JSON file of the state, parsed (None when it does not parse, or ValueError with `strict`); one too deep or
    too big for the parser is a FixtureError (inventory.refuse_unparseable), never a RecursionError."""
    refuse_unparseable(path, data)
    try:
        return json.loads(data)
    except RecursionError:
        raise FixtureError(f"{path} nests JSON too deep for this harness to parse",
                           hint="remove that file from the state, then attach it again") from None
    except ValueError:
        if strict:
            raise
        return None


def _iso_to_ms(text: bytes) -> int:
    value = dt.datetime.fromisoformat(text.decode().replace("Z", "+00:00"))
    return int(value.timestamp() * 1000)


def _ms_to_iso(ms: int, like: bytes) -> bytes:
    value = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    fraction = len(like.split(b".")[1]) - 1 if b"." in like else 0  # keep the original precision
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{value.microsecond:06d}"[:fraction]
    return (text + "Z").encode()
