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
from api.reoptimise import ReoptimisationParams
from tests.builders import carer, make_snapshot, package, visit

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
    assert main([*args, "--no-part-packages", "--quiet"]) == 0
    assert [(o.fit_waiting_in_runs, o.hand_over_visits) for o in seen] == [
        (True, True),
        (False, False),
        (True, True),
        (True, True),
    ]
    assert [o.handover_max_travel_per_care_hour for o in seen] == [None, None, 45, None]
    assert [o.start_part_packages for o in seen] == [True, True, True, False]
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


def test_a_part_package_is_started_written_and_checks_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ann works mornings only; the client needs a morning and a lunch call and agreed to
    start with what fits."""
    days = ("mon",)
    snapshot = make_snapshot(
        carers=[carer("ann", at_km=0, start_min=480, end_min=720, days=days)],
        referrals=[
            package(
                "new",
                1,
                [
                    visit("morning", earliest=540, latest=570, days=days),
                    visit("lunch", earliest=750, latest=750, days=days),
                ],
                accepts_part_package=True,
            )
        ],
    )
    source = tmp_path / "snapshot.json"
    source.write_text(snapshot.model_dump_json())
    out = tmp_path / "plan.json"
    args = ["reoptimise", str(source), "--out", str(out), "--time-limit", "2", "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Started as part packages: 1 referrals (new); their other calls wait as new " in printed
    assert "(new.rest)" in printed
    assert [p.rest_id for p in read_plan(out).part_packages] == ["new.rest"]
    assert main(["evaluate", str(source), str(out)]) == 0


def test_the_command_and_the_api_mean_the_same_by_their_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly batch job and a job started through the API, each left at its defaults,
    ask the core for the same re-optimisation."""
    seen: list[ReoptimiseOptions] = []

    def spy(*args: Any, **kwargs: Any) -> Plan:
        seen.append(args[2])
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "reoptimise", spy)
    assert main(["reoptimise", EXAMPLE, "--out", str(tmp_path / "p.json"), "--quiet"]) == 130
    assert seen == [ReoptimisationParams().options(workers=2)]
    assert not (tmp_path / "p.json").exists()
