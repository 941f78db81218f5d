"""The independent evaluator: each hard rule on a tiny instance whose answer is obvious.

Places lie on a line, driving 1 minute per km (see tests/builders.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from allocator.evaluate import Evaluation, evaluate
from allocator.model import Plan, Snapshot
from tests.builders import (
    carer,
    make_snapshot,
    package,
    place,
    plan_data,
    provider,
    snapshot_travel,
    visit,
)


def assign(visit_id: str, day: str, carers: list[str], start: int) -> dict[str, Any]:
    """One assignment as JSON."""
    return {"visit_id": visit_id, "day": day, "carer_ids": carers, "start_min": start}


def placement(
    package_id: str, *assignments: dict[str, Any], provider_id: str = "prov-a"
) -> dict[str, Any]:
    """One placement as JSON."""
    return {"package_id": package_id, "provider_id": provider_id, "assignments": list(assignments)}


def run(
    snap: Snapshot, *placements: dict[str, Any], unplaced: list[dict[str, Any]] | None = None
) -> Evaluation:
    """Evaluate the given placements on ``snap`` with line travel."""
    plan = Plan.model_validate(plan_data(list(placements), unplaced))
    return evaluate(snap, plan, snapshot_travel(snap))


def rules(result: Evaluation) -> list[str]:
    """The broken rules, in order."""
    return [v.rule for v in result.violations]


def one_visit_snapshot(**carer_extra: Any) -> Snapshot:
    """Carer c1 based at km 0; referral r1 at km 10 needing 30 minutes on Monday 09:00-10:00."""
    return make_snapshot(
        carers=[carer("c1", at_km=0, **carer_extra)], referrals=[package("r1", 10)]
    )


def test_a_feasible_single_visit_has_exact_travel_and_kpis() -> None:
    """Base -> 10 km -> base is 20 minutes of travel for 30 minutes of care."""
    result = run(one_visit_snapshot(), placement("r1", assign("v1", "mon", ["c1"], 540)))
    assert result.is_feasible, result.violations
    k = result.kpis
    assert k.travel_min_per_week == 20.0
    assert k.travel_km_per_week == 20.0
    assert k.contact_hours_per_week == 0.5
    assert k.travel_min_per_contact_hour == 40.0
    assert (k.packages_placed, k.packages_unplaced, k.hours_waiting_per_week) == (1, 0, 0.0)
    assert k.distinct_carers_per_client_max == 1
    # One 15-hour shift a day for 7 days; 50 busy minutes.
    assert k.carer_utilisation == round(50 / (15 * 60 * 7), 4)


def test_not_enough_travel_time_between_visits() -> None:
    """r2 is 10 km beyond r1, so after r1 ends at 09:30 r2 cannot start before 09:40."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0)],
        referrals=[package("r1", 10), package("r2", 20, [visit(earliest=540, latest=660)])],
    )
    late_enough = run(
        snap,
        placement("r1", assign("v1", "mon", ["c1"], 540)),
        placement("r2", assign("v1", "mon", ["c1"], 580)),
    )
    assert late_enough.is_feasible
    assert late_enough.kpis.travel_min_per_week == 40.0
    too_soon = run(
        snap,
        placement("r1", assign("v1", "mon", ["c1"], 540)),
        placement("r2", assign("v1", "mon", ["c1"], 575)),
    )
    assert rules(too_soon) == ["travel_time"]
    assert "earliest 09:40" in too_soon.violations[0].message


def test_first_visit_must_be_reachable_from_base_after_the_shift_starts() -> None:
    """A shift starting 08:55 cannot reach a visit 10 minutes away by 09:00."""
    result = run(
        one_visit_snapshot(start_min=535), placement("r1", assign("v1", "mon", ["c1"], 540))
    )
    assert rules(result) == ["travel_time"]
    assert "from base" in result.violations[0].message


def test_carer_must_be_back_at_base_by_shift_end() -> None:
    """Visit 09:00-09:30 ten minutes from base; a shift ending 09:35 is too short."""
    result = run(one_visit_snapshot(end_min=575), placement("r1", assign("v1", "mon", ["c1"], 540)))
    assert rules(result) == ["shift_end"]


def test_visit_outside_every_shift() -> None:
    """A carer whose shift ends at 09:00 cannot do a 09:00 visit."""
    result = run(one_visit_snapshot(end_min=540), placement("r1", assign("v1", "mon", ["c1"], 540)))
    assert rules(result) == ["outside_shift"]


def test_split_shifts_are_separate_runs_from_base() -> None:
    """Morning and evening shifts each start and end at base: 2 x 20 minutes of travel."""
    snap = make_snapshot(
        carers=[
            {
                "id": "c1",
                "provider_id": "prov-a",
                "base": list(place(0)),
                "shifts": [
                    {"day": "mon", "start_min": 420, "end_min": 720},
                    {"day": "mon", "start_min": 1020, "end_min": 1260},
                ],
            }
        ],
        referrals=[
            package("r1", 10, [visit("am", 540, 600), visit("pm", 1080, 1140)]),
        ],
    )
    result = run(
        snap,
        placement("r1", assign("am", "mon", ["c1"], 540), assign("pm", "mon", ["c1"], 1080)),
    )
    assert result.is_feasible, result.violations
    assert result.kpis.travel_min_per_week == 40.0


def test_max_working_minutes_count_visits_and_travel() -> None:
    """30 minutes of care plus 20 of travel breaks a 45-minute day but fits a 50-minute one."""
    over = run(
        one_visit_snapshot(max_working_min_per_day=45),
        placement("r1", assign("v1", "mon", ["c1"], 540)),
    )
    assert rules(over) == ["max_working_time"]
    exact = run(
        one_visit_snapshot(max_working_min_per_day=50),
        placement("r1", assign("v1", "mon", ["c1"], 540)),
    )
    assert exact.is_feasible


def test_start_outside_time_window() -> None:
    """A start at 10:05 misses a 09:00-10:00 window."""
    result = run(one_visit_snapshot(), placement("r1", assign("v1", "mon", ["c1"], 605)))
    assert rules(result) == ["time_window"]


def test_missing_skill_gender_and_declined_carer() -> None:
    """One carer breaking three client rules gives three named violations."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0, gender="male")],
        referrals=[
            package(
                "r1",
                10,
                [visit(required_skills=["hoist"])],
                preferences={"carer_gender": "female", "declined_carer_ids": ["c1"]},
            )
        ],
    )
    result = run(snap, placement("r1", assign("v1", "mon", ["c1"], 540)))
    assert sorted(rules(result)) == ["declined_carer", "gender_preference", "skill"]


def test_walking_carer_uses_walking_times() -> None:
    """2 km is 2 minutes' drive but 24 minutes' walk: a walker starting 08:40 is late."""
    snap = make_snapshot(
        carers=[
            carer("driver", at_km=0, start_min=520),
            carer("walker", at_km=0, start_min=520, travel_mode="walk"),
        ],
        referrals=[package("r1", 2, [visit(days=("mon", "tue"))])],
    )
    result = run(
        snap,
        placement("r1", assign("v1", "mon", ["driver"], 540), assign("v1", "tue", ["walker"], 540)),
    )
    assert rules(result) == ["travel_time"]
    assert result.violations[0].carer_id == "walker"


def test_double_handed_visit_counts_both_carers() -> None:
    """Two carers from km 0 and km 20 meet at km 10: 40 minutes of travel, 1 carer hour."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0), carer("c2", at_km=20)],
        referrals=[package("r1", 10, [visit(carers_required=2)])],
    )
    result = run(snap, placement("r1", assign("v1", "mon", ["c1", "c2"], 540)))
    assert result.is_feasible
    assert result.kpis.travel_min_per_week == 40.0
    assert result.kpis.contact_hours_per_week == 1.0
    assert result.kpis.distinct_carers_per_client_max == 2


def test_partly_covered_package_is_incomplete() -> None:
    """A Monday-and-Tuesday visit with only Monday assigned is not placed."""
    snap = make_snapshot(
        carers=[carer("c1")], referrals=[package("r1", 10, [visit(days=("mon", "tue"))])]
    )
    result = run(snap, placement("r1", assign("v1", "mon", ["c1"], 540)))
    assert rules(result) == ["incomplete_package"]
    assert "v1 on tue" in result.violations[0].message


def test_every_package_must_be_accounted_for() -> None:
    """Dropping a placed client, or forgetting a referral, are violations."""
    snap = make_snapshot(
        carers=[carer("c1")],
        packages=[
            package("p1", 10, provider_id="prov-a", assignments=[assign("v1", "mon", ["c1"], 540)])
        ],
        referrals=[package("r1", 5, [visit(earliest=700, latest=760)])],
    )
    result = run(snap)
    assert sorted(rules(result)) == ["placed_package_dropped", "referral_missing"]
    fine = run(
        snap,
        placement("p1", assign("v1", "mon", ["c1"], 540)),
        unplaced=[
            {"package_id": "r1", "reason_code": "no_capacity", "reason": "x", "weekly_hours": 0.5}
        ],
    )
    assert fine.is_feasible
    assert fine.kpis.hours_waiting_per_week == 0.5
    assert fine.kpis.hours_waiting_by_lot == {"lot-1": 0.5}


def test_provider_outside_its_lot() -> None:
    """A referral in lot-2 cannot go to a lot-1 provider unless it works adjacent lots."""
    lots = [
        {"id": "lot-1", "name": "One", "adjacent_lot_ids": ["lot-2"]},
        {"id": "lot-2", "name": "Two", "adjacent_lot_ids": ["lot-1"]},
    ]
    for willing, expected in ((False, ["outside_lot"]), (True, [])):
        snap = make_snapshot(
            lots=lots,
            providers=[provider("prov-a", works_adjacent_lots=willing)],
            carers=[carer("c1")],
            referrals=[package("r1", 10, lot_id="lot-2")],
        )
        assert rules(run(snap, placement("r1", assign("v1", "mon", ["c1"], 540)))) == expected


def test_locked_package_and_locked_visit_must_not_move() -> None:
    """Moving a locked package's visit, or a locked visit, is a violation."""
    assignment = assign("v1", "mon", ["c1"], 540)
    locked_visit = {**assignment, "locked": True}
    moved = assign("v1", "mon", ["c1"], 560)
    for locked, assignments, rule in (
        (True, [assignment], "locked_package_changed"),
        (False, [locked_visit], "locked_visit_changed"),
    ):
        snap = make_snapshot(
            carers=[carer("c1")],
            packages=[
                package("p1", 10, provider_id="prov-a", assignments=assignments, locked=locked)
            ],
        )
        assert run(snap, placement("p1", assignment)).is_feasible
        assert rules(run(snap, placement("p1", moved))) == [rule]


def test_unreachable_place() -> None:
    """A client on an island with no route cannot be visited."""
    snap = one_visit_snapshot()
    plan = Plan.model_validate(plan_data([placement("r1", assign("v1", "mon", ["c1"], 540))]))
    result = evaluate(snap, plan, snapshot_travel(snap, unreachable={place(10)}))
    assert rules(result) == ["unreachable"]


def test_providers_per_locality() -> None:
    """Two providers serving Glen and one serving Port give mean 1.5 and max 2."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a"), carer("b1", "prov-b")],
        referrals=[
            package("r1", 10, locality="Glen"),
            package("r2", 10, locality="Glen"),
            package("r3", 30, [visit(days=("tue",))], locality="Port"),
        ],
    )
    result = run(
        snap,
        placement("r1", assign("v1", "mon", ["a1"], 540)),
        placement("r2", assign("v1", "mon", ["b1"], 540), provider_id="prov-b"),
        placement("r3", assign("v1", "tue", ["a1"], 540)),
    )
    assert result.is_feasible, result.violations
    assert result.kpis.distinct_providers_per_locality_mean == 1.5
    assert result.kpis.distinct_providers_per_locality_max == 2


@pytest.mark.parametrize("bad_point", [place(99)])
def test_travel_matrix_missing_a_point_is_an_input_error(bad_point: tuple[float, float]) -> None:
    """Evaluating with travel that lacks a snapshot point fails loudly, not silently."""
    from allocator.travel import TravelError
    from tests.builders import line_travel

    snap = one_visit_snapshot()
    plan = Plan.model_validate(plan_data([]))
    with pytest.raises(TravelError, match="have no travel times"):
        evaluate(snap, plan, line_travel([bad_point]))
