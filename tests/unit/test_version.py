"""build/version.py: one reading of a release number for the target, the contracts, compat and capture recipes."""

from __future__ import annotations

import pytest

from path3_sandbox.build.target import Target
from path3_sandbox.build.version import Version, is_prerelease, is_version
from path3_sandbox.errors import UsageError
from path3_sandbox.proof.contracts import contract_for
from path3_sandbox.upgrades import compat
from path3_sandbox.upgrades.recipe import parse_recipe


@pytest.mark.parametrize("text, pre", [("2026.9.6", False), ("2026.7.2-beta.7", True), ("2026.3.23-1", True),
                                       ("2026.9.6-0.pr123", True)])
def test_every_command_reads_a_version_and_its_pre_release_the_same_way(text, pre):
    assert is_version(text) and is_prerelease(text) is pre
    assert Target.parse(text).version == text  # the target takes it as an exact version, not a dist-tag
    assert compat.is_prerelease(text) is pre  # compat's range filter: the same function
    recipe = {"writer": text, "sessions": [{"key": "agent:main:main", "turns": ["hello"]}]}
    assert parse_recipe(recipe, source="recipe.json").writer == text  # a capture recipe's writer


@pytest.mark.parametrize("text", ["latest", "2026.9", "2026.9.6.1", "v2026.9.6", "2026.9.6-", "2026.9.6-a..b", ""])
def test_what_is_not_a_version_is_none_and_of_says_how_to_write_one(text):
    assert Version.parse(text) is None and not is_prerelease(text)
    with pytest.raises(UsageError, match="cannot read the release number"):
        Version.of(text)


def test_order_is_semver_precedence():
    ordered = ["2026.7.2-1", "2026.7.2-beta.2", "2026.7.2-beta.10", "2026.7.2-rc.1", "2026.7.2", "2026.7.10", "2026.8.1"]
    assert sorted(reversed(ordered), key=lambda v: Version.of(v).key) == ordered


def test_a_pre_release_nobody_measured_needs_a_contract_whatever_its_spelling():
    for unmeasured in ("2026.3.23-1", "2026.9.6-0.pr123", "2026.7.2-beta.5.1"):
        with pytest.raises(UsageError):
            contract_for(unmeasured)
    assert contract_for("2026.9.6").contract == "startup-import"
