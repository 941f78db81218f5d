"""The domain model: each validation rule names the field and the rule."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from allocator.batch import place_batch
from allocator.io import InputError, parse_document
from allocator.model import Plan, Snapshot, Urgency
from tests.builders import carer, package, provider, snapshot_data, snapshot_travel, visit


def problems_of(data: dict[str, Any]) -> list[str]:
    """Every problem message for an invalid snapshot, as 'path: message' strings."""
    with pytest.raises(InputError) as caught:
        parse_document(Snapshot, data, "test.json")
    return [str(p) for p in caught.value.problems]


def test_a_valid_tiny_snapshot_loads() -> None:
    """A snapshot with one carer and one referral validates and lists its points."""
    snap = parse_document(
        Snapshot,
        snapshot_data(carers=[carer("c1", at_km=0)], referrals=[package("r1", at_km=5)]),
        "test.json",
    )
    assert len(snap.points()) == 2
    assert snap.referrals[0].urgency is Urgency.ROUTINE


def test_window_end_before_start_is_named() -> None:
    """A visit whose latest start is before its earliest start is rejected with its path."""
    data = snapshot_data(referrals=[package("r1", 1, [visit(earliest=600, latest=540)])])
    (problem,) = problems_of(data)
    assert problem.startswith("referrals[0] (r1).visits[0] (v1)")
    assert "time window ends before it starts" in problem


def test_non_positive_duration_is_rejected() -> None:
    """A zero-minute visit is rejected on duration_min."""
    data = snapshot_data(referrals=[package("r1", 1, [visit(duration=0)])])
    (problem,) = problems_of(data)
    assert problem.startswith("referrals[0] (r1).visits[0] (v1).duration_min")
    assert "greater than 0" in problem


def test_more_than_two_carers_is_rejected() -> None:
    """A visit needing three carers is rejected on carers_required."""
    data = snapshot_data(referrals=[package("r1", 1, [visit(carers_required=3)])])
    (problem,) = problems_of(data)
    assert "visits[0] (v1).carers_required" in problem
    assert "less than or equal to 2" in problem


def test_coordinates_outside_great_britain_are_rejected_with_a_swap_hint() -> None:
    """[lat, lon] given the wrong way round is caught and the hint says so."""
    data = snapshot_data(referrals=[package("r1", 1)])
    data["referrals"][0]["location"] = [56.0, -5.4]
    (problem,) = problems_of(data)
    assert problem.startswith("referrals[0] (r1).location")
    assert "inside Great Britain" in problem
    assert "coordinates are [lon, lat]" in problem


def test_duplicate_ids_are_rejected() -> None:
    """Two carers with one id, and a package id reused by a referral, are both reported."""
    data = snapshot_data(
        carers=[carer("c1"), carer("c1")],
        packages=[package("p1", 1, provider_id="prov-a")],
        referrals=[package("p1", 2)],
    )
    problems = problems_of(data)
    assert "carers: duplicate id 'c1'" in problems
    assert "packages/referrals: duplicate package id 'p1'" in problems


def test_unknown_skill_is_rejected() -> None:
    """A visit requiring a skill not declared in the snapshot names the skill."""
    data = snapshot_data(referrals=[package("r1", 1, [visit(required_skills=["peg_feeding"])])])
    (problem,) = problems_of(data)
    assert problem.startswith("referrals[0].visits[0].required_skills")
    assert "unknown skill 'peg_feeding'" in problem


def test_unknown_field_is_rejected() -> None:
    """A misspelt key is an error rather than silently ignored."""
    data = snapshot_data(referrals=[package("r1", 1)])
    data["referrals"][0]["urgancy"] = "urgent"
    (problem,) = problems_of(data)
    assert problem.startswith("referrals[0] (r1).urgancy")
    assert "not a known field" in problem


def test_assignment_to_another_providers_carer_is_rejected() -> None:
    """A placed package's run may only use its own provider's carers."""
    data = snapshot_data(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("c1", "prov-b")],
        packages=[
            package(
                "p1",
                1,
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": ["c1"], "start_min": 540}
                ],
            )
        ],
    )
    (problem,) = problems_of(data)
    assert "packages[0].assignments[0].carer_ids" in problem
    assert "works for 'prov-b'" in problem


def test_double_handed_assignment_needs_two_different_carers() -> None:
    """The same carer twice on a double-up is rejected."""
    data = snapshot_data(
        carers=[carer("c1")],
        packages=[
            package(
                "p1",
                1,
                [visit(carers_required=2)],
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": ["c1", "c1"], "start_min": 540}
                ],
            )
        ],
    )
    (problem,) = problems_of(data)
    assert "two different carers" in problem


def test_overlapping_shifts_are_rejected() -> None:
    """Two shifts on one day may not overlap."""
    data = snapshot_data(carers=[carer("c1")])
    data["carers"][0]["shifts"] = [
        {"day": "mon", "start_min": 420, "end_min": 720},
        {"day": "mon", "start_min": 700, "end_min": 900},
    ]
    (problem,) = problems_of(data)
    assert problem.startswith("carers[0] (c1).shifts")
    assert "overlap on mon" in problem


def test_weekly_hours_above_policy_is_a_warning_not_an_error() -> None:
    """Exactly 28 carer hours carries no notice; 28.25 validates but carries the policy notice."""
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    morning = visit("am", 480, 540, 60, week, carers_required=2)  # 14 h
    evening = visit("pm", 1080, 1140, 60, week, carers_required=2)  # 14 h
    snap = parse_document(
        Snapshot, snapshot_data(referrals=[package("r1", 1, [morning, evening])]), "t.json"
    )
    assert snap.referrals[0].weekly_hours == 28.0
    assert snap.notices() == []
    extra = visit("extra", 720, 760, 15, ("mon",))  # 0.25 h
    snap = parse_document(
        Snapshot, snapshot_data(referrals=[package("r1", 1, [morning, evening, extra])]), "t.json"
    )
    (notice,) = snap.notices()
    assert notice.code == "weekly_hours_above_policy"
    assert notice.package_id == "r1"
    assert "28.2 carer hours" in notice.message


def test_plan_lists_each_package_once() -> None:
    """A package both placed and unplaced in one plan is rejected."""
    data = {
        "snapshot_name": "tiny",
        "created_at": "2026-11-24T07:00:00Z",
        "solver": {"name": "t"},
        "placements": [{"package_id": "r1", "provider_id": "prov-a"}],
        "unplaced": [
            {"package_id": "r1", "reason_code": "no_capacity", "reason": "x", "weekly_hours": 1}
        ],
    }
    with pytest.raises(InputError) as caught:
        parse_document(Plan, copy.deepcopy(data), "plan.json")
    assert "package 'r1' appears more than once" in str(caught.value)


def test_a_waiting_since_without_a_time_zone_is_read_as_utc_and_can_be_placed() -> None:
    """Case-management exports often drop the zone; the wait is then measured, not a crash."""
    referral = package("r1", at_km=5)
    referral["waiting_since"] = "2026-11-20T09:00:00"
    snap = parse_document(
        Snapshot, snapshot_data(carers=[carer("c1", at_km=0)], referrals=[referral]), "test.json"
    )
    assert snap.referrals[0].waiting_since == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    plan = place_batch(snap, snapshot_travel(snap), time_limit_s=2)
    assert [p.package_id for p in plan.placements] == ["r1"]
