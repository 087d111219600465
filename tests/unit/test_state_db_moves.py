"""The shared state database's tables a migration moves elsewhere by design (proof/fates.py STATE_DB_MOVES): found at
their destination by count, named in the fate; a move whose destination holds fewer rows is still a loss."""

from path3_sandbox.proof import fates

DB = "state/openclaw.sqlite"
ORIGINAL = {
    "cron_jobs": {"columns": ["job_id", "schedule_kind"], "rows": ["j1", "j2"]},
    "cron_run_logs": {"columns": ["job_id", "ts", "summary"], "rows": ["l1", "l2"]},
    "installed_plugin_index": {"columns": ["index_key", "plugins_json"], "rows": ["i1"]},
    "task_runs": {"columns": ["task_id"], "rows": ["t1", "t2"]},
}
# what 2026.9.5's doctor --fix left for the captured users-6.5 state: run logs imported into task_runs, the plugin
# index copied into config_machine_state, cron_jobs rebuilt as JSON (and heartbeat jobs added)
AFTER_9_5 = {
    "cron_jobs": {"columns": ["job_id", "job_json", "state_json"], "rows": [f"c{i}" for i in range(14)]},
    "task_runs": {"columns": ["task_id"], "rows": ["t1", "t2", "t3", "t4"]},
    "config_machine_state": {"columns": ["state_key", "value_json"], "rows": ["m1", "m2", "m3"]},
}


def content(before, after):
    return fates.StateDbContent({DB: {"tables": before}}, {DB: {"tables": after}})


def test_tables_moved_by_the_migration_are_kept_and_named():
    state = content(ORIGINAL, AFTER_9_5)
    assert state.rows_kept() == []
    moved = state.moved()
    assert [note.split(" (")[0] for note in moved] == ["table cron_run_logs", "table installed_plugin_index", "table cron_jobs"]
    assert "moved to task_runs (4 rows there; by count: each run log becomes a cron task_runs row" in moved[0]
    assert "moved to config_machine_state (3 rows there" in moved[1]


def test_a_move_with_too_few_rows_at_the_destination_is_a_loss():
    short = {**AFTER_9_5, "config_machine_state": {"columns": ["state_key", "value_json"], "rows": []}}
    state = content(ORIGINAL, short)
    assert state.rows_kept() == ["table installed_plugin_index (1 rows) is gone"]
    assert all("installed_plugin_index" not in note for note in state.moved())


def test_a_table_left_in_its_shape_is_compared_row_by_row_not_by_move():
    same = {**AFTER_9_5, "cron_jobs": {"columns": ["job_id", "schedule_kind"], "rows": ["j1"]}}
    state = content(ORIGINAL, same)
    assert "table cron_jobs: 1 of 2 rows gone or changed" in state.rows_kept()
    assert all("cron_jobs" not in note.split(" (")[0] for note in state.moved())


def test_an_untouched_run_log_table_is_not_a_move():
    kept = {k: v for k, v in ORIGINAL.items() if k != "installed_plugin_index"}
    state = content(ORIGINAL, {**kept, "config_machine_state": AFTER_9_5["config_machine_state"]})
    assert state.rows_kept() == [] and [n.split(" (")[0] for n in state.moved()] == ["table installed_plugin_index"]
    assert content(ORIGINAL, ORIGINAL).moved() == []


def test_a_retired_cache_is_named_not_lost_but_other_retired_tables_still_count():
    before = {**ORIGINAL, "agent_model_catalogs": {"columns": ["agent_id", "catalog_json"], "rows": ["c1"]},
              "media_blobs": {"columns": ["id", "blob"], "rows": ["b1"]}}
    state = content(before, AFTER_9_5)
    assert state.rows_kept() == ["table media_blobs (1 rows) is gone"]
    assert any(note.startswith("table agent_model_catalogs (1 rows) retired: a provider model catalog cache")
               for note in state.moved())
