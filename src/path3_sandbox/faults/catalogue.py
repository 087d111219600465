"""The fault catalogue: one small object per fault (fault.py's Fault), what it injects and which outcomes it allows:
the seed mutations and the injections (case.py runs them), FAULTS, and the selection a run takes.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import PurePosixPath
from typing import Callable

from ..containers.volumes import VolumeFile
from ..errors import HarnessFailure, UsageError
from .fault import Fault, InjectedCase
from .judge import COMPLETED, REFUSED
from ..state.layout import AGENT_DB_GLOB, is_legacy_path

SAFE = (COMPLETED, REFUSED)  # a bad input may be imported around or refused, as long as nothing is lost


# -- seed mutations ----------------------------------------------------------------------------------------------
def _transcripts(files: list[VolumeFile]) -> list[VolumeFile]:
    return [f for f in files if is_legacy_path(f.path) and f.path.startswith("agents/")
            and f.path.endswith(".jsonl") and not f.path.endswith(".trajectory.jsonl")]


def _largest_transcript(files: list[VolumeFile]) -> VolumeFile:
    candidates = _transcripts(files)
    if not candidates:
        raise UsageError("the fixture has no transcript to break", hint="pick a fixture with sessions, e.g. minimal")
    return max(candidates, key=lambda f: (f.data.count(b"\n"), f.path))


def _replace(files: list[VolumeFile], old: VolumeFile, new: VolumeFile | None) -> list[VolumeFile]:
    return [new if f is old else f for f in files if not (f is old and new is None)]


def truncate_last_line(files: list[VolumeFile]) -> list[VolumeFile]:
    """The last line of the largest transcript cut in half, no newline: a write interrupted mid-line."""
    target = _largest_transcript(files)
    body = target.data.rstrip(b"\n")
    cut = body.rfind(b"\n") + 1
    last = body[cut:]
    return _replace(files, target, VolumeFile(target.path, body[:cut] + last[: len(last) // 2], target.mtime, target.mode))


def invalid_utf8_line(files: list[VolumeFile]) -> list[VolumeFile]:
    target = _largest_transcript(files)
    lines = target.data.split(b"\n")
    bad = b'{"type":"message","id":"p3-bad-utf8","message":{"role":"user","content":"caf\xe9 \xff\xfe"}}'
    lines.insert(min(2, len(lines) - 1), bad)
    return _replace(files, target, VolumeFile(target.path, b"\n".join(lines), target.mtime, target.mode))


def big_event(files: list[VolumeFile]) -> list[VolumeFile]:
    """One message event over 1 MiB appended to the largest transcript, its parent the last event's id."""
    target = _largest_transcript(files)
    last = json.loads(target.data.rstrip(b"\n").split(b"\n")[-1])
    event = {"type": "message", "id": "p3-big-event", "parentId": last.get("id"), "timestamp": last.get("timestamp"),
             "message": {"role": "user", "content": "P3-BIG " + "lorem ipsum dolor sit amet " * 45_000}}
    data = target.data.rstrip(b"\n") + b"\n" + json.dumps(event).encode() + b"\n"
    return _replace(files, target, VolumeFile(target.path, data, target.mtime, target.mode))


BIG_TRANSCRIPT_BYTES = 50 << 20


def big_transcript(files: list[VolumeFile]) -> list[VolumeFile]:
    """The largest transcript grown past 50 MiB: its conversation continued with ~2 KiB user and assistant turns,
    each event's parent the one before (a long-lived main session)."""
    target = _largest_transcript(files)
    body = target.data.rstrip(b"\n")
    last = json.loads(body.split(b"\n")[-1])
    parent, stamp, chunks, size, n = last.get("id"), last.get("timestamp"), [body], len(body), 0
    filler = "the quick brown fox jumps over the lazy dog " * 46
    while size < BIG_TRANSCRIPT_BYTES:
        n += 1
        role = "user" if n % 2 else "assistant"
        text = f"P3-LONG {n} {filler}"
        content = text if role == "user" else [{"type": "text", "text": text}]
        event = {"type": "message", "id": f"p3-long-{n:06d}", "parentId": parent, "timestamp": stamp,
                 "message": {"role": role, "content": content}}
        line = json.dumps(event).encode()
        chunks.append(line)
        size += len(line) + 1
        parent = event["id"]
    data = b"\n".join(chunks) + b"\n"
    return _replace(files, target, VolumeFile(target.path, data, target.mtime, target.mode))


def _stores(files: list[VolumeFile]) -> list[VolumeFile]:
    return [f for f in files if PurePosixPath(f.path).name == "sessions.json" and f.path.startswith("agents/")]


def _each_store(change: Callable[[bytes], bytes]) -> Callable[[list[VolumeFile]], list[VolumeFile]]:
    def mutate(files: list[VolumeFile]) -> list[VolumeFile]:
        stores = _stores(files)
        if not stores:
            raise UsageError("the fixture has no agents/<id>/sessions/sessions.json to break", hint="pick another fixture")
        store = stores[0]
        return _replace(files, store, VolumeFile(store.path, change(store.data), store.mtime, store.mode))
    return mutate


def _json5(data: bytes) -> bytes:
    store = json.loads(data)
    body = json.dumps(store, indent=2, ensure_ascii=False)
    return ("// sessions, edited by hand\n" + body[:-1].rstrip() + ",\n}\n").replace('"\n  }', '",\n  }').encode()


def unreadable_transcript(files: list[VolumeFile]) -> list[VolumeFile]:
    target = _largest_transcript(files)
    return _replace(files, target, VolumeFile(target.path, target.data, target.mtime, 0o000))


def half_written_manifest(files: list[VolumeFile]) -> list[VolumeFile]:
    stamp = max(f.mtime for f in files)
    text = '{"version":1,"runId":"p3-crashed-run","status":"running","startedAt":' + str(int(stamp * 1000)) + ',"agents":['
    return files + [VolumeFile("session-sqlite-migration-runs/p3-crashed-run.json", text.encode(), stamp, 0o644)]


# -- injections (faults/case.py runs them) --------------------------------------------------------------------------
def _kill_at_point(case: "InjectedCase") -> dict:
    from .kill import kill_at_point

    from .kill import IMPORT_PATHS

    return kill_at_point(case.gateway("killed"), case.point, case.fault.points or IMPORT_PATHS).to_json()


def _kill_doctor_at_point(case: "InjectedCase") -> dict:
    from .kill import IMPORT_PATHS, kill_doctor_at_point

    record = kill_doctor_at_point(case.gateway("doctor-killed"), case.point, case.fault.points or IMPORT_PATHS)
    case.keep_text("doctor-killed.log", record.doctor_output)
    return record.to_json()


def _kill_after(seconds: float) -> Callable[["InjectedCase"], dict]:
    def inject(case: "InjectedCase") -> dict:
        from .kill import kill_after

        return kill_after(case.gateway("killed"), seconds).to_json()
    return inject


def _disk_full(case: "InjectedCase") -> dict:
    return case.run_out_of_disk()


def _read_only(case: "InjectedCase") -> dict:
    return case.start_once(case.gateway("read-only", volume_mode="ro"), "state volume mounted read-only")


def _unreadable_then_fixed(case: "InjectedCase") -> dict:
    record = case.start_once(case.gateway("unreadable"), "one transcript mode 000")
    record["fix"] = case.shell("find . -perm 000 -type f -exec chmod 644 {} + -print", "chmod 644 the unreadable file")
    return record


def _other_owner(case: "InjectedCase") -> dict:
    record = {"chown": case.shell("chown -R 2000:2000 . && echo chowned", "the state dir owned by uid 2000", root=True)}
    record.update(case.start_once(case.gateway("other-owner"), "the state dir owned by another uid"))
    record["fix"] = case.shell("chown -R 1000:1000 . && echo restored", "chown the state back to the Gateway's uid",
                               root=True)
    return record


def _symlinked_transcript(case: "InjectedCase") -> dict:
    record = {"link": case.shell('f=$(ls -S agents/*/sessions/*.jsonl | grep -v trajectory | head -1); '
                                 'mv "$f" "$f.real" && ln -s "$(basename "$f").real" "$f" && ls -l "$f"',
                                 "the largest transcript replaced by a symlink to it")}
    return record


# Rebuilds each agent database as a crash right after the import's commit leaves it: the database file a fresh,
# empty WAL-mode database of the same page size, every page of the imported content a committed frame in its -wal
# (SQLite's own backup API writes them, through a connection that never checkpoints), and a -shm from a process that
# died (the script SIGKILLs itself with the database open). SQLite replays such a WAL on the next open; a Gateway
# that reads, copies or checks the database file alone sees an empty database.
HOT_WAL = r"""
const fs = require('fs'), {DatabaseSync, backup} = require('node:sqlite');
(async () => {
  const holders = [];  // open until the SIGKILL: each keeps its database's WAL from being checkpointed
  for (const db of process.argv.slice(1)) {
    const full = db + '.path3-full', mode = fs.statSync(db).mode & 0o777;
    const live = new DatabaseSync(db, {readOnly: true});
    const pageSize = live.prepare('pragma page_size').get().page_size;
    await backup(live, full);
    live.close();
    for (const f of [db, db + '-wal', db + '-shm']) fs.rmSync(f, {force: true});
    const holder = new DatabaseSync(db);
    holder.exec(`pragma page_size=${pageSize}; pragma journal_mode=wal; pragma wal_autocheckpoint=0;`);
    holder.prepare('select count(*) from sqlite_master').get();  // opens the WAL: the backup's close then cannot
                                                                // checkpoint it (another connection has it open)
    const source = new DatabaseSync(full, {readOnly: true});
    const pages = await backup(source, db, {rate: 1 << 30});
    source.close();
    for (const f of [full, full + '-wal', full + '-shm']) fs.rmSync(f, {force: true});
    fs.chmodSync(db, mode);
    holders.push(holder);
    console.log('P3-HOT-WAL ' + JSON.stringify({db, pages, page_size: pageSize, db_bytes: fs.statSync(db).size,
                                                  wal_bytes: fs.statSync(db + '-wal').size}));
  }
  process.kill(process.pid, 'SIGKILL');  // the holders die open: no checkpoint, the -shm left behind
})().catch(error => { console.log('P3-HOT-WAL-ERROR ' + error.message); process.exit(3); });
"""


def _stale_wal(case: "InjectedCase") -> dict:
    """A crash's leftovers beside each agent database: after a completed import and a clean stop, the database is
    rebuilt as a crash just after the import's commit leaves it (HOT_WAL: the file empty, every row in a committed,
    never-checkpointed -wal, a dead process's -shm); then a start. Every row must still be there and none doubled.
    Not hit when the state has no agent database or a WAL ended up no larger than its database file."""
    gateway, starts = case.import_cleanly()
    gateway.stop()
    # 137: the script's own SIGKILL, the one way it ends as planned
    built = case.shell(f'set -- {AGENT_DB_GLOB}; [ -e "$1" ] || {{ echo "no agent database"; exit 0; }}; '
                       f'node -e {shlex.quote(HOT_WAL)} "$@"; [ $? -eq 137 ]',
                       "each agent database rebuilt as a crash after the import's commit leaves it", tail=20_000)
    errors = re.findall(r"P3-HOT-WAL-ERROR (.*)", built["output"])
    if errors:
        raise HarnessFailure(f"building the crash's -wal failed: {errors[0]}")
    dbs = [json.loads(line) for line in re.findall(r"P3-HOT-WAL (\{.*\})", built["output"])]
    case.keep_migrated_files()
    hit = bool(dbs) and all(db["wal_bytes"] > db["db_bytes"] for db in dbs)
    return {"hit": hit, "databases": dbs, "built": built, "import": starts}


def _corrupt_page(case: "InjectedCase") -> dict:
    """A completed import, a clean stop, then one page in the middle of each agent database overwritten with 0xFF
    bytes (what a torn write or a bad sector leaves): the Gateway must notice and say which file and what to do."""
    gateway, starts = case.import_cleanly()
    gateway.stop()
    record = {"import": starts, "corrupt": case.shell(
        f'for db in {AGENT_DB_GLOB}; do ps=$(od -An -tu1 -j16 -N2 "$db" | awk \'{{p=$1*256+$2; print (p==1?65536:p)}}\'); '
        'pages=$(( $(stat -c%s "$db") / ps )); page=$(( pages / 2 )); '
        'head -c "$ps" /dev/zero | tr "\\000" "\\377" | dd of="$db" bs="$ps" seek="$page" conv=notrunc 2>/dev/null; '
        'echo "$db: page $((page + 1)) of $pages ($ps bytes) overwritten; wal: $(stat -c%s "$db-wal" 2>/dev/null || echo none)"; '
        'done', "one page of each agent database overwritten")}
    case.keep_migrated_files()
    return record


CLOCK_AHEAD_DAYS = 365
FAKETIME_LIB = "/usr/local/lib/libfaketime.so.1"  # in the Gateway image (docker/gateway/Dockerfile)


def clock_ahead_env(days: int = CLOCK_AHEAD_DAYS) -> dict[str, str]:
    """The clock of every process of a container `days` ahead: libfaketime moves what the C library reports, so
    Node's Date and SQLite's own 'now' agree, as on a host whose clock jumped. Timers keep the real monotonic clock."""
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": f"+{days}d", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def _clock_jump(case: "InjectedCase") -> dict:
    """The import under a clock a year ahead, then every later start under the real clock (the clock set back)."""
    gateway, starts = case.import_cleanly("clock-ahead", env=clock_ahead_env())
    seen = gateway.exec(["node", "-e", "const {DatabaseSync} = require('node:sqlite'); console.log(new Date()"
                         ".toISOString(), new DatabaseSync(':memory:').prepare(\"select datetime('now') t\").get().t)"]
                        ).output.strip()
    gateway.stop()
    return {"clock_ahead_days": CLOCK_AHEAD_DAYS, "gateway_clock_then": seen, "import": starts}


def _two_at_once(case: "InjectedCase") -> dict:
    return case.race_two_gateways()


def _third_boot(case: "InjectedCase") -> dict:
    return case.boot_twice()


FAULTS: tuple[Fault, ...] = (
    Fault("kill-mid-import", "kill", "SIGKILL at the Nth observed import point (a manifest written, a file moved into "
          "the import archive, the agent DB or its WAL written), then a normal start", (COMPLETED,),
          inject=_kill_at_point, sweep=True),
    Fault("kill-at-manifest", "kill", "SIGKILL when the migration-run manifest is first written, then a normal start",
          (COMPLETED,), inject=_kill_at_point, points=r"^session-sqlite-migration-runs/"),
    Fault("kill-at-archive-move", "kill", "SIGKILL when the first legacy file appears in the import archive (rows "
          "committed, files moving), then a normal start", (COMPLETED,), inject=_kill_at_point,
          points=r"session-sqlite-import-archive/"),
    Fault("kill-at-agent-wal", "kill", "SIGKILL when the agent database's WAL is first written, then a normal start",
          (COMPLETED,), inject=_kill_at_point, points=r"^agents/[^/]+/agent/openclaw-agent\.sqlite-wal$"),
    Fault("kill-mid-doctor", "kill", "SIGKILL of `openclaw doctor --fix` at the Nth observed import point, then a "
          "start (and doctor --fix again when it refuses)", (COMPLETED,), inject=_kill_doctor_at_point, sweep=True),
    Fault("kill-after-10s", "kill", "SIGKILL 10 s after the start, then a normal start", (COMPLETED,),
          inject=_kill_after(10)),
    Fault("kill-after-20s", "kill", "SIGKILL 20 s after the start, then a normal start", (COMPLETED,),
          inject=_kill_after(20)),
    Fault("disk-full", "disk", "the state volume a size-capped tmpfs, filled so the import runs out part-way; then "
          "the filler removed and a normal start", (COMPLETED,), inject=_disk_full, disk=True),
    Fault("read-only-state", "permissions", "the state volume mounted read-only for the first start; then rw",
          (COMPLETED,), inject=_read_only),
    Fault("unreadable-transcript", "permissions", "the largest transcript mode 000 for the first start; then chmod "
          "644 and a normal start", (COMPLETED,), mutate=unreadable_transcript, inject=_unreadable_then_fixed),
    Fault("state-owned-by-another-uid", "permissions", "the state dir chowned to uid 2000 for the first start; then "
          "chowned back", (COMPLETED,), inject=_other_owner),
    Fault("truncated-last-line", "bad input", "the last line of the largest transcript cut in half, no newline",
          SAFE, mutate=truncate_last_line, changes_inputs=True),
    Fault("invalid-utf8-line", "bad input", "a line of invalid UTF-8 in the largest transcript", SAFE,
          mutate=invalid_utf8_line, changes_inputs=True),
    Fault("invalid-json-store", "bad input", "sessions.json cut in half (invalid JSON)", SAFE,
          mutate=_each_store(lambda d: d[: len(d) // 2]), changes_inputs=True),
    Fault("json5-store", "bad input", "sessions.json written as JSON5 (a comment, trailing commas)", SAFE,
          mutate=_each_store(_json5), changes_inputs=True),
    Fault("empty-store", "bad input", "sessions.json empty (0 bytes)", SAFE, mutate=_each_store(lambda d: b""),
          changes_inputs=True),
    Fault("symlinked-transcript", "bad input", "the largest transcript a symlink to its bytes beside it", SAFE,
          inject=_symlinked_transcript),
    Fault("event-over-1mib", "bad input", "one 1.2 MiB message event appended to the largest transcript", SAFE,
          mutate=big_event, changes_inputs=True),
    Fault("transcript-50mib", "bad input", "the largest transcript grown past 50 MiB (~25,000 turns of ~2 KiB)",
          SAFE, mutate=big_transcript, changes_inputs=True),
    Fault("stale-wal-shm", "leftovers", "after a completed import and a clean stop, each agent database rebuilt as a "
          "crash just after the import's commit leaves it: the file empty, every row in a committed -wal, a dead "
          "process's -shm; then a start", SAFE,
          inject=_stale_wal),
    Fault("corrupted-db-page", "leftovers", "after a completed import and a clean stop, one page in the middle of "
          "the agent database overwritten with 0xFF; then a start", SAFE, inject=_corrupt_page),
    Fault("half-written-manifest", "leftovers", "a migration-run manifest cut off mid-JSON, as a crash leaves it",
          SAFE, mutate=half_written_manifest),
    Fault("two-gateways-at-once", "concurrency", "two Gateways started on one state volume at the same moment",
          (COMPLETED,), inject=_two_at_once),
    Fault("third-boot", "concurrency", "two clean boots after the import, then a third: no re-import",
          (COMPLETED,), inject=_third_boot, expect_start="ready-without-import"),
    Fault("clock-jump", "concurrency", f"the import under a clock {CLOCK_AHEAD_DAYS} days ahead (libfaketime: Node's "
          "and SQLite's), then a start under the real clock: no re-import", (COMPLETED,),
          inject=_clock_jump, expect_start="ready-without-import"),
)

BY_NAME = {fault.name: fault for fault in FAULTS}
DEFAULT_FIXTURES = ("real-7.35", "minimal")  # a state a real release wrote, when the checkout has one


def default_fixture() -> str:
    from ..state.fixtures import default_fixture_dirs

    names = {path.name for path in default_fixture_dirs()}
    return next((name for name in DEFAULT_FIXTURES if name in names), "minimal")
MAKE_TEST = ("kill-at-archive-move", "disk-full", "truncated-last-line")


def select(names: list[str] | None) -> list[Fault]:
    if not names:
        return list(FAULTS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise UsageError(f"unknown fault(s): {', '.join(unknown)}", hint="faults: " + ", ".join(BY_NAME))
    return [BY_NAME[n] for n in dict.fromkeys(names)]
