"""The restart step waits on the Gateway's own restart-recovery report (2026.9.6's lines), not a fixed time."""

from path3_sandbox.proof.reports import NOT_MARKED, recovery_outcome

KEY = "agent:main:path3-e2e:20261130-210011-07b73f"
MARKED = ("2026-11-30T21:06:15.903+00:00 [main-session-restart-recovery] marked 1 startup-orphaned main session(s) "
          "for restart recovery\n2026-11-30T21:06:17.286+00:00 [gateway] ready\n")
STARTED = (f"2026-11-30T21:06:23.668+00:00 [main-session-restart-recovery] started interrupted main session: {KEY}\n"
           "2026-11-30T21:06:23.670+00:00 [main-session-restart-recovery] main-session restart recovery startup complete: "
           "started=1 settled=0 failed=0 skipped=0\n")
TERMINAL = (f"2026-11-30T21:06:27.183+00:00 [main-session-restart-recovery] main-session restart recovery terminal: "
            f"session={KEY} run=0e1627d1-ad15-4fa8-bf33-cf3942062555 status=ok reason=completed\n")


def test_a_re_run_is_waited_for_until_the_gateway_reports_its_end():
    assert recovery_outcome(MARKED, KEY) is None  # marked, not started yet: keep waiting
    assert recovery_outcome(MARKED + STARTED, KEY) is None  # re-running: its reply is not stored yet
    assert recovery_outcome(MARKED + STARTED + TERMINAL, KEY) == "recovered: ok (completed)"


def test_another_sessions_end_is_not_the_proof_sessions():
    other = TERMINAL.replace(KEY, "agent:main:main")
    assert recovery_outcome(MARKED + STARTED + other, KEY) is None


def test_a_gateway_that_marked_nothing_says_so_at_once():
    assert recovery_outcome("2026-11-30T21:06:17.286+00:00 [gateway] ready\n", KEY) == NOT_MARKED == "not marked for recovery"
    assert recovery_outcome(MARKED.replace("marked 1", "marked 0"), KEY) == NOT_MARKED


def test_a_marked_session_settled_without_a_re_run_is_reported_as_such():
    settled = STARTED.replace("started=1 settled=0", "started=0 settled=1")
    assert recovery_outcome(MARKED + settled, KEY) == "not re-run (settled=1 failed=0 skipped=0)"
