import os
import subprocess
import sys

import pytest

from path3_sandbox.errors import BaseImageUnavailable
from path3_sandbox.build.images import DEFAULT_BASE, base_plan, cache_key, gateway_tag
from path3_sandbox.build.target import Target


def test_cache_key_is_the_same_in_every_process_for_the_same_inputs():
    """Pinned: images built by an earlier run (or CI's cache) are found again only if the key is this function of
    its inputs and nothing else (no hash seed, no time); changing the recipe means bumping CACHE_KEY_VERSION."""
    pinned = "72022d80f74650b56eab6aeb6e260d145444597dce68e39e5239c66995ce97a7"
    assert cache_key(b"FROM x", "sha256:base", "npm:openclaw@2026.9.6") == pinned
    other_process = subprocess.run(
        [sys.executable, "-c", "from path3_sandbox.build.images import cache_key; "
                               "print(cache_key(b'FROM x', 'sha256:base', 'npm:openclaw@2026.9.6'))"],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other_process.stdout.strip() == pinned


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
