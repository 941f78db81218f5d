"""`carealloc reoptimise` as the nightly batch job runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.io import read_plan
from api.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[2] / "docs" / "examples" / "snapshot.json")


def test_reoptimise_writes_a_checked_plan_with_its_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worked example: runs already tight, the Lochgilphead discharge placed overnight."""
    out = tmp_path / "plan.json"
    args = ["reoptimise", EXAMPLE, "--out", str(out), "--time-limit", "3", "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    plan = read_plan(out)
    assert plan.changes is not None
    assert plan.changes.travel_min_per_week_after <= plan.changes.travel_min_per_week_before
    assert plan.changes.newly_placed_package_ids == ["R-001"]
    assert [u.package_id for u in plan.unplaced] == ["R-002"]
    printed = capsys.readouterr()
    assert "Newly placed from the waiting list: 1 packages" in printed.out
    assert printed.err == ""  # --quiet: no progress bar
    assert main(["evaluate", EXAMPLE, str(out)]) == 0


def test_keep_waiting_only_replans_runs(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    args = ["reoptimise", EXAMPLE, "--out", str(out), "--time-limit", "2", "--workers", "1"]
    assert main([*args, "--keep-waiting", "--quiet"]) == 0
    plan = read_plan(out)
    assert plan.changes is not None and plan.changes.newly_placed_package_ids == []
    assert {u.package_id for u in plan.unplaced} == {"R-001", "R-002"}


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [
        ("--time-limit", "0", "must be more than 0 seconds"),
        ("--max-moves", "-1", "is not a whole number of 0 or more"),
        ("--workers", "0", "must be at least 1"),
    ],
)
def test_bad_options_exit_2_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, rule: str
) -> None:
    out = tmp_path / "plan.json"
    with pytest.raises(SystemExit) as stopped:
        main(["reoptimise", EXAMPLE, "--out", str(out), option, value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert option in err and rule in err
    assert not out.exists()


def test_a_missing_snapshot_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    assert main(["reoptimise", str(tmp_path / "nope.json"), "--out", str(out)]) == 2
    assert "nope.json" in capsys.readouterr().err
    assert not out.exists()
