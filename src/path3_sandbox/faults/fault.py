"""What a fault is (catalogue.py holds them all): Fault, and InjectedCase, what its injection may use of its case.

A fault acts at one or more of three moments of its case (faults/case.py), each optional:
    mutate(files)   before seeding: the state's files as they will land on the volume (bad inputs, leftovers)
    inject(case)    instead of a plain first start: starts that are killed, run out of disk, see a read-only or
                    unreadable state, race a second Gateway; it then undoes the condition as a user would (frees the
                    space, restores the mode) so the recovery start that follows can finish the job
    expect_start    what the recovery start must report (e.g. a third boot must not import again)
`changes_inputs`: the fault changes the legacy content itself (a truncated line, an event added), so the control
case's imports are no baseline for it; its events are judged from their own content only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from ..containers.volumes import VolumeFile

if TYPE_CHECKING:
    from ..containers.gateway import Gateway


@dataclass(frozen=True)
class Fault:
    name: str
    group: str
    injection: str
    allowed: tuple[str, ...]
    mutate: Callable[[list[VolumeFile]], list[VolumeFile]] | None = None
    inject: Callable[["InjectedCase"], dict] | None = None
    expect_start: str | None = None  # the recovery start's kind, when the fault fixes it
    changes_inputs: bool = False
    sweep: bool = False  # kill at the 1st, 2nd, … observed point until the import finishes untouched
    points: str | None = None  # a kill fault's observed points (a regex over state paths); None: every import point
    disk: bool = False  # the state volume is a size-capped tmpfs
    skipped: str | None = None  # why this fault cannot run here: recorded as skipped, never as passed


class InjectedCase(Protocol):
    """What an injection uses of its case: case.py's Case, typed by its shape so that the catalogue's injections need
    not import case.py (which runs them)."""

    fault: Fault
    point: int

    def gateway(self, role: str, *, volume_mode: str = "rw", env: dict[str, str] | None = None) -> Gateway: ...
    def shell(self, script: str, why: str, *, root: bool = False, tail: int = 500) -> dict: ...
    def start_once(self, gateway: Gateway, condition: str) -> dict: ...
    def import_cleanly(self, role: str = "import", **gateway_options) -> tuple[Gateway, list[dict]]: ...
    def keep_migrated_files(self) -> None: ...
    def keep_text(self, name: str, text: str) -> None: ...
    def run_out_of_disk(self) -> dict: ...
    def race_two_gateways(self) -> dict: ...
    def boot_twice(self) -> dict: ...
