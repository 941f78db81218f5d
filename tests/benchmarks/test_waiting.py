"""Why referrals wait, on a world whose answer is obvious: one carer working mornings only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allocator.model import Snapshot
from api.cli import main
from benchmarks.waiting import capacity_by_hour, summary_lines, why_waiting
from tests.builders import carer, make_snapshot, package, snapshot_travel, visit


def _world() -> Snapshot:
    """Ann works 07:00-14:00; one referral wants a morning call, the other a bed call too."""
    return make_snapshot(
        carers=[carer("ann", at_km=0, start_min=420, end_min=840)],
        referrals=[
            package("morning", 2, [visit("am", earliest=480, latest=570)]),
            package(
                "bedtime",
                3,
                [
                    visit("am", earliest=480, latest=570),
                    visit("pm", earliest=1200, latest=1260),
                ],
            ),
        ],
    )


def test_the_call_outside_every_shift_is_named_with_its_reason() -> None:
    snapshot = _world()
    rows = {r.referral_id: r for r in why_waiting(snapshot, snapshot_travel(snapshot))}
    assert rows["morning"].occurrences_not_fitted == 0
    bed = rows["bedtime"]
    assert (bed.occurrences, bed.occurrences_not_fitted) == (2, 1)
    assert bed.not_fitted_calls == "bed x1"
    assert bed.reasons == "no_shift x1"
    assert bed.closest_provider == "prov-a" and bed.providers_asked == 1
    assert not bed.placed_by_handovers  # nobody works at bedtime: no handover helps
    lines = summary_lines(list(rows.values()))
    assert "1 could be placed as the runs stand" in lines[0]
    assert "bed 100%" in lines[2]
    assert "places 0 of the 1" in lines[4]
    # Its morning call could start as a part package (half its hours), leaving bed waiting.
    assert bed.hours_started_as_part_package == 0.5
    assert "1 of the 1 could start tonight as the runs stand, with 0.5 of their 1.0" in lines[5]


def test_a_referral_that_a_handover_would_place_is_flagged() -> None:
    """Ann sees her usual client at 09:00; Bob could too. The waiting client needs Ann's
    hoist skill at 09:00-09:10 for an hour."""
    monday: dict[str, Any] = {"start_min": 480, "end_min": 720, "days": ("mon",)}
    snapshot = make_snapshot(
        carers=[carer("ann", skills=["hoist"], **monday), carer("bob", **monday)],
        packages=[
            package(
                "usual",
                1,
                [visit(earliest=540, latest=570)],
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": ["ann"], "start_min": 540}
                ],
            )
        ],
        referrals=[
            package(
                "new", 1, [visit(earliest=540, latest=550, duration=60, required_skills=["hoist"])]
            )
        ],
    )
    [row] = why_waiting(snapshot, snapshot_travel(snapshot))
    assert row.occurrences_not_fitted == 1 and row.placed_by_handovers
    assert "places 1 of the 1 (1 carer hours a week)" in summary_lines([row])[4]


def test_capacity_by_hour_counts_carers_on_shift_and_in_homes() -> None:
    header, rows = capacity_by_hour(_world())
    assert header[1] == "carers on shift"
    assert [r[0] for r in rows] == [f"{h:02d}:00" for h in range(7, 14)]
    assert all(r[1] == "1" and r[2] == "0" for r in rows)


def test_waiting_command_writes_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "waiting", "--clients", "40", "--out", str(tmp_path)]) == 0
    assert "referrals waiting" in capsys.readouterr().out
    text = (tmp_path / "waiting_argyll.md").read_text(encoding="utf-8")
    assert "## Capacity by hour, Monday" in text
    assert (tmp_path / "waiting_argyll.csv").read_text(encoding="utf-8").startswith("referral_id")


def test_a_rota_scenario_is_written_beside_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "waiting", "--clients", "40", "--rota", "late-finish", "--out", str(tmp_path)]
    assert main(args) == 0
    capsys.readouterr()
    text = (tmp_path / "waiting_argyll_late-finish.md").read_text(encoding="utf-8")
    assert "--rota late-finish" in text
    assert not (tmp_path / "waiting_argyll.md").exists()


def test_a_bad_option_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "waiting", "--clients", "none"])
    assert exited.value.code == 2
    assert "--clients" in capsys.readouterr().err
