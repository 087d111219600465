from path3_sandbox.probes.logs import scan


def test_error_and_sqlite_lines_are_caught_and_named():
    result = scan({"stdout": "ok\n[x] ERROR boom\nSQLITE_BUSY: database is locked\nno such column: event_zstd\n"})
    assert [(m.line_number, m.pattern) for m in result.matches] == [
        (2, "error-level"), (3, "sqlite-error-code"), (4, "missing-column")]
    assert len(result.unallowed) == 3 and result.lines_scanned == 4


def test_json_log_levels_are_caught():
    line = '{"0":"boom","_meta":{"logLevelName":"ERROR"}}'
    assert scan({"file": line}).matches[0].pattern == "error-level"


def test_an_allowlisted_line_is_recorded_but_not_counted():
    result = scan({"stdout": "[x] ERROR known benign thing\n"}, ("known benign",))
    assert result.matches[0].allowed_by == "known benign" and result.unallowed == []


def test_a_cursor_skips_lines_already_scanned():
    result = scan({"stdout": "ERROR old\nERROR new\n"}, start_lines={"stdout": 1})
    assert [m.line for m in result.matches] == ["ERROR new"]


def test_ordinary_lines_mentioning_errors_in_lowercase_do_not_match():
    assert scan({"stdout": "[gateway] retrying after a transient error count=0\n"}).matches == ()


def test_a_recovery_summary_with_zero_failures_is_not_a_failure_but_one_failure_is():
    ok = "[main-session-restart-recovery] main-session restart recovery startup complete: started=1 settled=0 failed=0 skipped=0"
    bad = ok.replace("failed=0", "failed=1")
    assert scan({"stdout": ok}).matches == ()
    assert scan({"stdout": bad}).matches[0].pattern == "restart-recovery-failure"
