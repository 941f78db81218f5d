"""Results files are written all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.tables import write_csv


def test_csv_rows_are_written_with_the_first_rows_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_csv(path, [{"policy": "status_quo", "placed": 3}, {"policy": "nightly", "placed": 5}])
    assert path.read_text(encoding="utf-8").splitlines() == [
        "policy,placed",
        "status_quo,3",
        "nightly,5",
    ]


def test_a_csv_that_fails_part_way_leaves_the_previous_results(tmp_path: Path) -> None:
    """A row that does not fit the header stops the write; the file is as it was, never half
    written."""
    path = tmp_path / "r.csv"
    write_csv(path, [{"policy": "status_quo", "placed": 3}])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="fields not in fieldnames"):
        write_csv(path, [{"policy": "nightly", "placed": 5}, {"policy": "x", "moved": 1}])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]
