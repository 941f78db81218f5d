"""`carealloc reoptimise` as the nightly batch job runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import api.commands.reoptimise as command
from allocator.io import read_plan
from allocator.model import Plan
from allocator.reoptimise import ReoptimiseOptions, reoptimise
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


def test_no_make_room_places_waiting_only_into_free_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flag reaches the core (whose tests show what making room does)."""
    seen: list[ReoptimiseOptions] = []

    def spy(*args: Any, **kwargs: Any) -> Plan:
        seen.append(args[2])
        return reoptimise(*args, **kwargs)

    monkeypatch.setattr(command, "reoptimise", spy)
    out = tmp_path / "plan.json"
    args = ["reoptimise", EXAMPLE, "--out", str(out), "--time-limit", "2", "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    assert main([*args, "--no-make-room", "--quiet"]) == 0
    assert main([*args, "--handover-travel-cap", "45", "--quiet"]) == 0
    assert [(o.fit_waiting_in_runs, o.hand_over_visits) for o in seen] == [
        (True, True),
        (False, False),
        (True, True),
    ]
    assert [o.handover_max_travel_per_care_hour for o in seen] == [None, None, 45]
    assert read_plan(out).changes is not None


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [
        ("--time-limit", "0", "must be more than 0 seconds"),
        ("--max-moves", "-1", "is not a whole number of 0 or more"),
        ("--workers", "0", "must be at least 1"),
        ("--handover-travel-cap", "-5", "must be between 0 and 600 minutes"),
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
