from path3_sandbox.build.images import ensure_gateway_image
from path3_sandbox.containers.resources import RunResources, new_run_id
from path3_sandbox.build.smoke import smoke
from path3_sandbox.build.target import DEFAULT_SPEC


def run_in_image(docker_client, image: str, argv: list[str]) -> str:
    """One command in a throwaway container of `image` (testcontainers, no network), its output."""
    with RunResources(docker_client, new_run_id()) as resources:
        helper = resources.container(f"path3-{resources.run_id}-check", "oneoff", image, argv)
        try:
            container = helper.start().get_wrapped_container()
            assert container.wait(timeout=120)["StatusCode"] == 0
            return container.logs().decode()
        finally:
            helper.stop()


def test_the_default_target_image_reports_the_target_version(docker_client, default_image):
    output = run_in_image(docker_client, default_image.tag, ["openclaw", "--version"])
    assert DEFAULT_SPEC in output
    assert default_image.target.version == DEFAULT_SPEC


def test_the_image_runs_as_node_with_an_init_as_pid_1_and_no_build_ca(docker_client, default_image):
    script = "id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /build 2>&1; echo state=$OPENCLAW_STATE_DIR"
    output = run_in_image(docker_client, default_image.tag, ["sh", "-c", script])
    uid, pid1, build_dir, state = output.strip().splitlines()
    assert uid == "1000"
    assert pid1.startswith("/usr/bin/tini")
    assert "No such file" in build_dir, "the build stage's CA bundle and target must not reach the final image"
    assert state == "state=/home/node/.openclaw"


def test_a_present_image_is_reused_without_building(docker_client, default_image, artifacts):
    again = ensure_gateway_image(docker_client, default_image.target, log_dir=artifacts / "images")
    assert (again.tag, again.image_id, again.built) == (default_image.tag, default_image.image_id, False)


def test_the_gateway_becomes_ready_on_an_empty_state_and_leaves_nothing_behind(docker_client, default_image, artifacts):
    run_id = new_run_id()
    with RunResources(docker_client, run_id) as resources:
        result = smoke(default_image, resources, artifacts / "smoke")
        created = list(resources.containers) + list(resources.volumes)
    assert result.start.outcome == "ready"
    assert result.start.readyz["body"]["ready"] is True
    assert result.start.healthz["body"] == {"ok": True, "status": "live"}
    assert result.cli_version == DEFAULT_SPEC
    assert created, "the run must have created a container and a volume"
    leftovers = docker_client.containers.list(all=True, filters={"label": f"path3-sandbox.run-id={run_id}"})
    volumes = docker_client.volumes.list(filters={"label": f"path3-sandbox.run-id={run_id}"})
    assert leftovers == [] and volumes == []


def test_a_version_npm_does_not_have_is_an_input_error_naming_the_registry_answer(docker_client, artifacts):
    import pytest

    from path3_sandbox.errors import EXIT_USAGE, TargetError
    from path3_sandbox.build.target import Target

    with pytest.raises(TargetError, match=r"npm has no openclaw@1999\.1\.1: .* answered 404") as raised:
        ensure_gateway_image(docker_client, Target.parse("1999.1.1"), log_dir=artifacts / "images")
    assert raised.value.exit_code == EXIT_USAGE
