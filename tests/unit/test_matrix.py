"""The release matrix: sources are committed captures by their writer; bad releases before any build; one table."""

import pytest

from path3_sandbox.errors import UsageError
from path3_sandbox.upgrades.matrix import Cell, captured_fixtures, matrix_markdown, split


def test_a_source_release_means_the_fixtures_it_captured():
    assert [f.name for f in captured_fixtures(["2026.7.35", "2026.7.1"])] == ["real-7.35", "real-7.1"]


def test_a_source_with_no_capture_is_bad_input_naming_the_way_to_capture_one():
    with pytest.raises(UsageError, match="no committed fixture was captured from openclaw 2026.6.11") as raised:
        captured_fixtures(["2026.6.11"])
    assert "fixtures capture --recipe" in raised.value.hint


def test_an_empty_release_list_is_refused():
    with pytest.raises(UsageError):
        split(" , ")


def test_the_table_has_a_row_per_source_and_a_cell_per_target_with_its_evidence():
    fixtures = captured_fixtures(["2026.7.35", "2026.7.1"])
    cells = [Cell("real-7.35", "2026.9.6", True, "startup-import", None, "2026.9.6/summary.md"),
             Cell("real-7.1", "2026.9.6", False, "refused", "first start …", "2026.9.6/summary.md")]
    text = matrix_markdown(fixtures, ["2026.9.5", "2026.9.6"], cells, 12.0)
    assert "| `real-7.35` (2026.7.35) | not run | ✅ pass `startup-import` [evidence](2026.9.6/summary.md) |" in text
    assert "| `real-7.1` (2026.7.1) | not run | ❌ **fail** `refused`" in text
    assert "1/2 cells pass" in text and "- `real-7.1` → 2026.9.6: first start …" in text
