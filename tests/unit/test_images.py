import pytest

from path3_sandbox.errors import BaseImageUnavailable
from path3_sandbox.build.images import DEFAULT_BASE, base_plan, cache_key, gateway_tag
from path3_sandbox.build.target import Target


def test_cache_key_is_stable_for_the_same_inputs():
    assert cache_key(b"FROM x", "sha256:base", "npm:openclaw@2026.9.6") == cache_key(
        b"FROM x", "sha256:base", "npm:openclaw@2026.9.6"
    )


@pytest.mark.parametrize(
    "changed",
    [
        (b"FROM y", "sha256:base", "npm:openclaw@2026.9.6"),
        (b"FROM x", "sha256:other", "npm:openclaw@2026.9.6"),
        (b"FROM x", "sha256:base", "npm:openclaw@2026.9.5"),
        (b"FROM x", "sha256:base", "tarball:sha256:abc"),
    ],
)
def test_cache_key_changes_when_any_input_changes(changed):
    assert cache_key(*changed) != cache_key(b"FROM x", "sha256:base", "npm:openclaw@2026.9.6")


def test_cache_key_does_not_confuse_inputs_that_concatenate_alike():
    assert cache_key(b"ab", "c", "d") != cache_key(b"a", "bc", "d")


def test_gateway_tag_names_the_version_and_the_key():
    assert gateway_tag(Target.parse("2026.9.6"), "f" * 64) == "path3-sandbox/gateway:2026.9.6-ffffffffffff"


def test_a_present_base_is_used_without_pulling():
    assert base_plan(DEFAULT_BASE, present=True, pull_error=None) == "present"


def test_a_pullable_base_is_pulled():
    assert base_plan(DEFAULT_BASE, present=False, pull_error=None) == "pulled"


def test_the_default_base_falls_back_to_a_local_build_when_it_cannot_be_pulled():
    assert base_plan(DEFAULT_BASE, present=False, pull_error="no such host") == "local"


def test_a_base_the_user_named_is_never_silently_replaced():
    with pytest.raises(BaseImageUnavailable, match="my/base:1 is not present and cannot be pulled: denied"):
        base_plan("my/base:1", present=False, pull_error="denied")
