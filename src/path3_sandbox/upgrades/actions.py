"""The user actions a path can take between releases (`@name` hops): what users do to their state by hand.

    @move-state-db-aside                 rename state/openclaw.sqlite (and -wal/-shm) aside, as a user does to run an
                                         old release again on a migrated state (the old one refuses a newer schema)
    @restore-sessions-backup             copy agents/*/sessions/ as the last writer hop left them (the backup a user
                                         took before upgrading) back over the state, file by file
    @restore-transcripts-backup          copy only the JSONL transcripts of that backup back (not sessions.json): the
                                         state users report with active_sqlite_transcript_jsonl, SQLite-backed
                                         sessions whose legacy transcripts are live again beside the import
    @copy-sessions-from-another-machine  a second machine (its own volume) runs the path's first release, takes
                                         turns on agent:main:main and agent:main:other-machine; its
                                         agents/main/sessions/ folder is then copied over this state's, file by file
    @doctor-fix                          `openclaw doctor --fix --non-interactive` of the last release hop's release,
                                         its Gateway stopped (from its image; after an in-place install, from a
                                         commit of its container)
    @doctor-recover                      `openclaw doctor --session-sqlite recover --session-sqlite-all-agents` of the
                                         last release hop's release (a SQLite one), its Gateway stopped
    @update-repair                       `openclaw update repair --yes --json` of the last release hop's release, as
                                         root (HOME=/root, as the update ran), its Gateway stopped: 9.5's repair
                                         reconciles abandoned update runs only when a healthy Gateway of the installed
                                         build answers; otherwise it runs the post-core maintenance
                                         (updateFinalizeCommand), which says "Stop the Gateway service … before
                                         retrying": the stopped Gateway is its case

Each action is a small object: its words for the plan, whether it needs a state a SQLite release claimed, whether
the state is unclaimed after it, whether it is a recovery (the path goes on to it after a release that did not come
up), and `run(path_run, hop, row)`. The path records every file an action touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from ..containers.gateway import DOCTOR_TIMEOUT_S  # one budget for every doctor run
from ..containers.volumes import get_tar, put_tar, tar_digests
from ..errors import CaptureFailed
from ..report.evidence import GATEWAY, HARNESS, Assertion
from ..probes import files as files_probe
from ..state.layout import in_sessions_folder
from . import era_files

if TYPE_CHECKING:
    from ..containers.gateway import Gateway
    from ..containers.resources import RunResources
    from ..report.evidence import Evidence
    from .hop import Hop

OTHER_MACHINE_KEYS = ("agent:main:main", "agent:main:other-machine")


class PathRunView(Protocol):
    """What an action uses of the path's run: runner.PathRun, which runs the actions, typed here by its shape so
    that this module need not import the runner."""

    hops: list[Hop]
    resources: RunResources
    evidence: Evidence
    volume: str
    last_release: tuple[Hop, Gateway] | None  # the last release hop that ran, and its (stopped) Gateway

    @property
    def helper_image(self) -> str: ...

    def helper(self, hop: Hop) -> Gateway: ...

    def last_backup(self, hop: Hop) -> tuple[int, bytes]: ...

    def write_elsewhere(self, hop: Hop, spec: str, volume: str, keys: tuple[str, ...], row: dict) -> None: ...

    def folder(self, hop: Hop) -> Path: ...


@dataclass(frozen=True)
class Action:
    name: str
    does: str
    needs_claim: bool  # meaningful only on a state a SQLite release claimed
    unclaims: bool  # the state database is gone afterwards: the next file-backed release writes again
    run: Callable[["PathRunView", "Hop", dict], None]
    needs_release: str = ""  # "any": a release hop must have run before; "sqlite": the last one a SQLite release
    recovers: bool = False  # a user's way on from a release that did not come up: the path goes on to it


def move_state_db_aside(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    suffix = f".aside-hop{hop.number}"
    script = (f'cd "$OPENCLAW_STATE_DIR/state" && for f in openclaw.sqlite openclaw.sqlite-wal openclaw.sqlite-shm; '
              f'do if [ -e "$f" ]; then mv "$f" "$f{suffix}" && echo "moved $f"; fi; done')
    result = path_run.helper(hop).run_oneoff(["sh", "-c", script], timeout_s=60)
    row["output"] = result.output.strip()
    moved = [line.removeprefix("moved ") for line in result.output.splitlines() if line.startswith("moved ")]
    path_run.evidence.check(hop.label, Assertion(f"{hop.spec}: the state database was moved aside",
                                                 result.exit_code == 0 and "openclaw.sqlite" in moved, "openclaw.sqlite",
                                                 moved, result.output[-300:], blame=HARNESS))


def restore_sessions_backup(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    source, backup = path_run.last_backup(hop)
    row["restored_from_hop"] = source
    row["restored"] = _put_over_state(path_run, hop, row, backup,
                                      f"{hop.spec}: agents/*/sessions/ as hop {source} left them is back")


def restore_transcripts_backup(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    source, backup = path_run.last_backup(hop)
    row["restored_from_hop"] = source
    row["restored"] = _put_over_state(path_run, hop, row, _only(backup, lambda name: name.endswith(".jsonl")),
                                      f"{hop.spec}: the JSONL transcripts hop {source} left are back")


def _only(data: bytes, keep: Callable[[str], bool]) -> bytes:
    """The tar `data` with only its folders and the regular files `keep` accepts."""
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive, tarfile.open(fileobj=out, mode="w") as kept:
        for member in archive.getmembers():
            if member.isdir() or (member.isfile() and keep(member.name)):
                kept.addfile(member, archive.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def copy_sessions_from_another_machine(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    spec = path_run.hops[0].spec
    other = path_run.resources.volume(f"state-other-machine-hop{hop.number}")
    path_run.write_elsewhere(hop, spec, other, OTHER_MACHINE_KEYS, row)
    folder = get_tar(path_run.resources, path_run.helper_image, other, lambda p: in_sessions_folder(p, "main"))
    row["other_machine"] = {"release": spec, "volume": other}
    row["copied"] = _put_over_state(path_run, hop, row, folder,
                                    f"{hop.spec}: the other machine's agents/main/sessions/ is on this state")


DOCTOR_FIX = ["openclaw", "doctor", "--fix", "--non-interactive"]
DOCTOR_RECOVER = ["openclaw", "doctor", "--session-sqlite", "recover", "--session-sqlite-all-agents"]
UPDATE_REPAIR = ["openclaw", "update", "repair", "--yes", "--json"]


def doctor_fix(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    _doctor(path_run, hop, row, DOCTOR_FIX, "doctor-fix.log")


def doctor_recover(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    _doctor(path_run, hop, row, DOCTOR_RECOVER, "doctor-recover.log")


def update_repair(path_run: "PathRunView", hop: "Hop", row: dict) -> None:
    _doctor(path_run, hop, row, UPDATE_REPAIR, "update-repair.log", user="root", environment={"HOME": "/root"})
    from .npm_install import last_json

    result = last_json((path_run.folder(hop) / "update-repair.log").read_text())
    (path_run.folder(hop) / "update-repair.json").write_text(json.dumps(result, indent=2) + "\n")
    row["repair"] = {k: (result or {}).get(k) for k in ("status", "mode", "reason", "message")}


def _doctor(path_run: "PathRunView", hop: "Hop", row: dict, argv: list[str], log: str, user: str | None = None,
            environment: dict[str, str] | None = None) -> None:
    """The last release's doctor in a one-off on the volume (its Gateway stopped), what it did to the files recorded;
    a non-zero exit fails the hop (OpenClaw's doctor: blame the Gateway's side)."""
    if path_run.last_release is None:
        raise CaptureFailed(f"{hop.spec}: no release hop ran before it, so there is no doctor to run")
    release_hop, gateway = path_run.last_release
    if release_hop.installs and not gateway.oneoff_image:  # the installed release lives in its container only
        gateway.commit(f"hop{release_hop.number}")
    before = files_probe.snapshot(gateway.run_oneoff)
    result = gateway.run_oneoff(argv, timeout_s=DOCTOR_TIMEOUT_S, user=user, environment=environment)
    (path_run.folder(hop) / log).write_text(result.output)  # kept first: the probe after it may fail
    row.update(release=release_hop.release, argv=" ".join(argv), exit_code=result.exit_code,
               seconds=round(result.seconds, 1), output=" | ".join(result.output.strip().splitlines()[-2:])[:300])
    try:  # a command run as root may leave folders the probe (the Gateway's user) cannot read: a record, not a crash
        after = files_probe.snapshot(gateway.run_oneoff)
    except Exception as error:
        row["files"] = f"not recorded: {type(error).__name__}: {error}"[:300]
    else:
        moves = era_files.compare(before, after)
        (path_run.folder(hop) / "era-files.json").write_text(json.dumps(moves.to_json(), indent=2) + "\n")
        row["files"] = moves.line()
    path_run.evidence.check(hop.label, Assertion(f"{hop.spec}: openclaw {release_hop.release} `{' '.join(argv[1:])}` "
                                                 "exited 0", result.exit_code == 0, 0, result.exit_code,
                                                 f"{hop.label}/{log}", blame=GATEWAY))


def _put_over_state(path_run: "PathRunView", hop: "Hop", row: dict, data: bytes, claim: str) -> list[str]:
    """Copy a tar's files over the path's state, file by file, as a user's `cp -a` would; record which ones replaced
    a file there; check each landed with the bytes put (the harness's own step: blame harness). Returns the files."""
    wanted = tar_digests(data)
    helper = path_run.helper(hop)
    before = files_probe.snapshot(helper.run_oneoff)
    put_tar(path_run.resources, path_run.helper_image, path_run.volume, data)
    row["replaced"] = [p for p in wanted if p in before.files]
    after = files_probe.snapshot(helper.run_oneoff)
    wrong = sorted(p for p, digest in wanted.items() if getattr(after.files.get(p), "sha256", None) != digest)
    path_run.evidence.check(hop.label, Assertion(claim, bool(wanted) and not wrong, f"{len(wanted)} files as put",
                                                 wrong or list(wanted), f"{len(wanted) - len(wrong)}/{len(wanted)} "
                                                 "files on the volume with the bytes put", blame=HARNESS))
    return list(wanted)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("move-state-db-aside", "rename state/openclaw.sqlite (and its -wal/-shm) aside, as a user does to run an "
                                  "old release again on a migrated state", needs_claim=True, unclaims=True,
           run=move_state_db_aside),
    Action("restore-sessions-backup", "copy agents/*/sessions/ as hop {writer} left them back over the state (a "
                                      "backup taken before upgrading)", needs_claim=True, unclaims=False,
           run=restore_sessions_backup),
    Action("restore-transcripts-backup", "copy the JSONL transcripts of agents/*/sessions/ as hop {writer} left "
                                         "them back over the state (not sessions.json)", needs_claim=True,
           unclaims=False, run=restore_transcripts_backup),
    Action("copy-sessions-from-another-machine", "another machine running {first} takes turns on "
                                                 + " and ".join(OTHER_MACHINE_KEYS) + "; its agents/main/sessions/ is "
                                                 "copied over this state's", needs_claim=False, unclaims=False,
           run=copy_sessions_from_another_machine),
    Action("doctor-fix", "`openclaw doctor --fix --non-interactive` of hop {release}'s release, its Gateway stopped",
           needs_claim=False, unclaims=False, run=doctor_fix, needs_release="any",
           recovers=True),
    Action("doctor-recover", "`openclaw doctor --session-sqlite recover --session-sqlite-all-agents` of hop {release}'s "
                             "release, its Gateway stopped", needs_claim=True, unclaims=False, run=doctor_recover,
           needs_release="sqlite", recovers=True),
    Action("update-repair", "`openclaw update repair --yes --json` of hop {release}'s release as root, its Gateway "
                            "stopped", needs_claim=False, unclaims=False, run=update_repair, needs_release="any",
           recovers=True),
)}
