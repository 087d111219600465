from path3_sandbox.containers.gateway import parse_version


def test_version_is_read_from_the_cli_banner():
    assert parse_version("OpenClaw 2026.9.6 (eb377ac)\n") == "2026.9.6"
    assert parse_version("OpenClaw 2026.7.2-beta.7 (abc)") == "2026.7.2-beta.7"


def test_commands_run_side_by_side_count_their_wall_time_once():
    from path3_sandbox.containers.gateway import covered_seconds

    assert covered_seconds([(0.0, 6.0), (0.5, 6.5)]) == 6.5  # the two diagnostics at once
    assert covered_seconds([(0.0, 2.0), (10.0, 13.0)]) == 5.0  # one after the other: their sum
    assert covered_seconds([(0.0, 10.0), (2.0, 3.0)]) == 10.0  # one inside the other
    assert covered_seconds([]) == 0.0


def test_the_wait_for_the_gateways_own_recovery_counts_as_its_time():
    from path3_sandbox.containers.gateway import Gateway

    gateway = Gateway.__new__(Gateway)  # no container: only the bookkeeping
    gateway.commands, gateway.token = [], "t"
    gateway.awaited("restart recovery", 7.5)
    gateway._record("exec", ["openclaw", "doctor"], seconds=6.0)
    assert gateway.busy_seconds() == {"starts": 0.0, "cli": 6.0, "awaited": 7.5}
