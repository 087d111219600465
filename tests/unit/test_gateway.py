from path3_sandbox.containers.gateway import parse_version


def test_version_is_read_from_the_cli_banner():
    assert parse_version("OpenClaw 2026.9.6 (eb377ac)\n") == "2026.9.6"
    assert parse_version("OpenClaw 2026.7.2-beta.7 (abc)") == "2026.7.2-beta.7"
