"""The mutation suites' one harness: a fixture imported once by the real Gateway, and a tampered copy of it read back.

`import_fixture` seeds a fixture on a volume, reads the seeded shared state DB's rows (when it has one), starts the
real Gateway (its first-start import), keeps what the judges that read the Gateway need (`chat.history` of
agent:main:main while it runs), and stops it. `read_copy` copies the imported state inside a one-off container,
applies one tamper to the copy (the volume itself is never changed), and reads it back with the proof's own probes:
SQLite, files, and the shared state DB's rows. `nothing_lost_failures` runs the proof's nothing-lost checks on it.
Used by test_mutations.py (minimal), test_mutations_metadata.py and test_mutations_fates.py (real-7.35,
stray-orphan); conftest.py's `imports` imports each fixture once per test session.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from path3_sandbox.containers.gateway import Gateway
from path3_sandbox.containers.resources import RunResources, new_run_id
from path3_sandbox.containers.volumes import VolumeFile, put_files
from path3_sandbox.probes import files as files_probe
from path3_sandbox.probes import sqlite as sqlite_probe
from path3_sandbox.proof import fates, oracle
from path3_sandbox.proof.reachable import HISTORY_LIMIT
from path3_sandbox.state.config import STATE_DIR, harness_config
from path3_sandbox.state.fixtures import Fixture, resolve_fixture
from path3_sandbox.state.inventory import Inventory, build_inventory
from path3_sandbox.state.layout import STATE_DB
from path3_sandbox.state.seeding import build_seed

KEY = "agent:main:main"
AGENT_DB = "agents/main/agent/openclaw-agent.sqlite"
SEEDED_DB = "path3-mutation/openclaw.sqlite"  # the seeded state DB's bytes, beside the imported state, for a tamper

TAMPER_SCRIPT = r"""
const {DatabaseSync} = require('node:sqlite'); const fs = require('fs'), path = require('path');
const R = process.argv[1]; const db = new DatabaseSync(path.join(R, process.argv[2]));
db.exec('PRAGMA foreign_keys=OFF');  // a tamper goes around the schema's own guards, as a buggy importer might
eval(process.env.TAMPER); db.close();
"""

# The state DB's backup candidates in the copy, as fates.state_db_candidates lists them.
CANDIDATES = r"""
const fs = require('fs'), R = process.argv[1], DB = 'state/openclaw.sqlite';
console.log(JSON.stringify([DB, ...(fs.existsSync(R + '/state') ? fs.readdirSync(R + '/state') : []).map(n => 'state/' + n)
  .filter(p => p.startsWith(DB) && p !== DB && !/-(wal|shm|journal)$/.test(p))]));
"""


@dataclass(frozen=True)
class Imported:
    fixture: Fixture
    inventory: Inventory
    image: str
    volume: str
    resources: RunResources
    before: list | None  # the seeded shared state DB's rows (digests), None without one
    seeded: files_probe.FilesSnapshot  # the seeded files, as the file probe would have read them
    history: Any  # chat.history of agent:main:main as the real Gateway answered it after the import


def import_fixture(docker_client, image: str, name: str) -> Imported:
    """`name` imported by the real Gateway at first start, stopped cleanly; the caller closes `resources`."""
    fixture = resolve_fixture(name)
    token = secrets.token_hex(16)
    seed = build_seed(fixture, harness_config(token))
    resources = RunResources(docker_client, new_run_id())
    volume = resources.volume(f"state-mutants-{name.replace('.', '-')}")
    put_files(resources, image, volume, list(seed.files))
    seeded_db = next((f for f in seed.files if f.path == STATE_DB), None)
    imported = Imported(fixture, build_inventory(seed.as_inventory_input()), image, volume, resources, None,
                        files_probe.FilesSnapshot({f.path: files_probe.StateFile(
                            f.path, len(f.data), f.mtime, hashlib.sha256(f.data).hexdigest()) for f in seed.files}), None)
    before = json.loads(run_helper(imported, [f'node -e "$DIGEST" "$STATE" \'["{STATE_DB}"]\''],
                                   DIGEST=sqlite_probe.DIGEST_SCRIPT).splitlines()[-1])["databases"] if seeded_db else None
    gateway = Gateway(resources, image, volume, token, name=f"path3-{resources.run_id}-mutants")
    assert gateway.start().outcome == "ready", gateway.logs()[-2000:]
    with gateway.rpc() as rpc:
        history = rpc.call("chat.history", {"sessionKey": KEY, "limit": HISTORY_LIMIT})
    gateway.stop()
    if seeded_db:  # outside the state the probes read: read_copy removes it after the tamper
        put_files(resources, image, volume, [VolumeFile(SEEDED_DB, seeded_db.data, seeded_db.mtime)])
    return dataclasses.replace(imported, before=before, history=history)


def run_helper(imported: Imported, steps: list[str], **env) -> str:
    """`steps` in a one-off container on the imported volume (the state at $STATE); its stdout."""
    resources = imported.resources
    helper = resources.container(f"path3-{resources.run_id}-mutant-{len(resources.containers)}", "oneoff", imported.image,
                                 ["sh", "-ec", " && ".join(steps)], state_volume=imported.volume)
    helper.with_envs(STATE=STATE_DIR, **env)
    try:
        container = helper.start().get_wrapped_container()
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode(errors="replace")[-2000:]
        return container.logs(stdout=True, stderr=False).decode()
    finally:
        helper.stop()


def read_copy(imported: Imported, tamper: str | None):
    """The probes' view of a tampered copy of the imported state: SQLite, files, and the shared state DB's content
    (None for a state without one)."""
    steps = ['cp -a "$STATE" /tmp/m']
    if tamper:
        steps.append(f'node -e "$TAMPER_SCRIPT" /tmp/m {AGENT_DB}')
    steps += ['rm -rf /tmp/m/path3-mutation', 'node -e "$SQLITE" /tmp/m full', 'node -e "$FILES" /tmp/m',
              'node -e "$DIGEST" /tmp/m "$(node -e "$CANDIDATES" /tmp/m)" "$PROJECT"']
    output = run_helper(imported, steps, TAMPER=tamper or "", TAMPER_SCRIPT=TAMPER_SCRIPT, SQLITE=sqlite_probe.SCRIPT,
                        FILES=files_probe.SCRIPT, DIGEST=sqlite_probe.DIGEST_SCRIPT, CANDIDATES=CANDIDATES,
                        PROJECT=json.dumps(fates.original_columns(imported.before)))
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    state_db = fates.StateDbContent(imported.before, documents[2]["databases"]) if imported.before else None
    return sqlite_probe.parse_snapshot(documents[0]), files_probe.parse_snapshot(documents[1]), state_db


def nothing_lost_failures(imported: Imported, tamper: str | None, forget: str | None = None) -> list:
    """The proof's nothing-lost checks on a tampered copy; `forget`: judged against a manifest that does not list
    the session with this id (as one that forgot a transcript on disk)."""
    fixture, inventory = imported.fixture, imported.inventory
    if forget:
        fixture = dataclasses.replace(fixture, sessions=tuple(s for s in fixture.sessions if s.session_id != forget))
    after, after_files, state_db = read_copy(imported, tamper)
    checks = (oracle.sessions_present(fixture, after) + oracle.legacy_entries_covered(inventory, after, fixture)
              + oracle.metadata_kept(inventory, after, fixture)[0] + oracle.events_kept(fixture, inventory, after)[0]
              + fates.files_accounted(inventory, after_files, after, state_db)[0] + oracle.integrity_ok(after))
    return [a for a in checks if a.outcome == "failed"]


def assert_red(case: str, failures: list, names: str) -> None:
    """A tamper's verdict: red, its first failure the Gateway's and naming what the tamper hit."""
    assert failures, f"{case}: no check failed"
    assert names in failures[0].message(), f"{case}: first failure {failures[0].message()!r} does not name {names!r}"
    assert failures[0].blame == "gateway"
    print(f"\nMUTATION | {case} | {failures[0].detail[:300] or failures[0].message()[:300]}")
