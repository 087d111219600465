"""The Path 3 scenario: after the upgrade, drive real agent turns through the Gateway's public RPC and
check, before and after every step, that it serves from SQLite and keeps every imported row.

    runner.py   probes around every step, the invariants, the Context steps use
    turns.py    what a turn may write, accounted by content
    steps.py    the steps, in order (STEPS)
    side_by_side.py  a Gateway turn and the CLI's embedded turn on one session (issue 24 §5)
"""

from .runner import Context, Probe, Step, StepOutcome, run_scenario
from .steps import STEPS, step_chat_turn

__all__ = ["STEPS", "Context", "Probe", "Step", "StepOutcome", "run_scenario", "step_chat_turn"]
