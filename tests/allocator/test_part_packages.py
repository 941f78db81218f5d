"""Part packages: a referral starts with the calls a provider can fit; the rest wait.

The tiny world (tests/builders.py, one minute's drive per km): Ann works mornings only
(Monday and Tuesday 08:00-12:00) at km 0. The waiting client at km 1 needs a morning call
(09:00-09:30 start, 30 min) and a lunch call (12:30, 30 min) on both days; nobody works at
lunchtime, so the lunch calls can never fit and the whole package cannot be placed. Every
result is checked by the independent evaluator.
"""

from __future__ import annotations

from typing import Any

import pytest

from allocator.evaluate import evaluate
from allocator.model import PartPackage, Plan, Snapshot, WaitingCalls, split_package
from allocator.part_packages import PartPackageSettings, rest_id, start_part_packages
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from tests.builders import carer, make_snapshot, package, snapshot_travel, visit

DAYS = ("mon", "tue")


def _world(accepts: bool = True, lunch_minutes: int = 30) -> Snapshot:
    return make_snapshot(
        carers=[carer("ann", at_km=0, start_min=480, end_min=720, days=DAYS)],
        referrals=[
            package(
                "new",
                1,
                [
                    visit("morning", earliest=540, latest=570, duration=30, days=DAYS),
                    visit("lunch", earliest=750, latest=750, duration=lunch_minutes, days=DAYS),
                ],
                accepts_part_package=accepts,
            )
        ],
    )


_QUICK: dict[str, Any] = {"time_limit_s": 5, "solution_limit": 100}


def test_the_calls_that_fit_start_and_the_others_wait_as_a_new_referral() -> None:
    snapshot = _world()
    travel = snapshot_travel(snapshot)
    plan = reoptimise(snapshot, travel, ReoptimiseOptions(**_QUICK))

    assert plan.part_packages == [
        PartPackage(
            package_id="new",
            rest_id="new.rest",
            waiting_calls=[WaitingCalls(visit_id="lunch", days=["mon", "tue"])],
        )
    ]
    started = plan.placement("new")
    assert started is not None and started.provider_id == "prov-a"
    assert sorted((a.visit_id, a.day, tuple(a.carer_ids)) for a in started.assignments) == [
        ("morning", "mon", ("ann",)),
        ("morning", "tue", ("ann",)),
    ]
    [rest] = plan.unplaced
    assert rest.package_id == "new.rest" and rest.weekly_hours == 1.0
    assert "Part package" in rest.reason and "lunch on mon" in rest.reason
    assert "1 waiting referral started as part packages" in plan.solver.status
    assert plan.changes is not None and plan.changes.newly_placed_package_ids == ["new"]
    assert plan.changes.waiting_hours_newly_placed_per_week == 1.0  # the morning calls
    result = evaluate(snapshot, plan, travel)
    assert result.is_feasible, result.summary()
    # The hours still waiting are the lunch calls only.
    assert result.kpis.hours_waiting_per_week == 1.0


def test_a_referral_whose_client_has_not_agreed_waits_whole() -> None:
    snapshot = _world(accepts=False)
    plan = reoptimise(snapshot, snapshot_travel(snapshot), ReoptimiseOptions(**_QUICK))
    assert plan.part_packages == []
    assert [u.package_id for u in plan.unplaced] == ["new"]


def test_part_packages_can_be_turned_off() -> None:
    snapshot = _world()
    options = ReoptimiseOptions(**_QUICK, start_part_packages=False)
    plan = reoptimise(snapshot, snapshot_travel(snapshot), options)
    assert plan.part_packages == [] and [u.package_id for u in plan.unplaced] == ["new"]


def test_a_part_too_small_to_be_worth_starting_is_not_started() -> None:
    """With a 90-minute lunch call only a quarter of the hours fit: below the half needed."""
    snapshot = _world(lunch_minutes=90)
    travel = snapshot_travel(snapshot)
    found = start_part_packages(snapshot, travel, ["new"])
    assert found.parts == [] and found.placements == {}
    lower = start_part_packages(snapshot, travel, ["new"], PartPackageSettings(min_share=0.2))
    assert [p.package_id for p in lower.parts] == ["new"]


def test_the_evaluator_finds_a_placement_of_a_call_the_part_package_says_waits() -> None:
    snapshot = _world()
    travel = snapshot_travel(snapshot)
    plan = reoptimise(snapshot, travel, ReoptimiseOptions(**_QUICK))
    # Claim only Monday's lunch waits: Tuesday's lunch is then part of the placement, which
    # has no carer for it.
    wrong = plan.part_packages[0].model_copy(
        update={"waiting_calls": [WaitingCalls(visit_id="lunch", days=["mon"])]}
    )
    result = evaluate(snapshot, plan.model_copy(update={"part_packages": [wrong]}), travel)
    assert "incomplete_package" in {v.rule for v in result.violations}


def test_the_evaluator_refuses_a_part_package_for_a_client_who_has_not_agreed() -> None:
    agreed = _world()
    travel = snapshot_travel(agreed)
    plan = reoptimise(agreed, travel, ReoptimiseOptions(**_QUICK))
    result = evaluate(_world(accepts=False), plan, travel)
    assert any(
        v.rule == "part_package" and "accepts_part_package" in v.message for v in result.violations
    )


@pytest.mark.parametrize(
    ("calls", "message"),
    [
        ([WaitingCalls(visit_id="tea", days=["mon"])], "no visit 'tea'"),
        ([WaitingCalls(visit_id="lunch", days=["wed"])], "visit lunch is not on wed"),
        (
            [
                WaitingCalls(visit_id="lunch", days=["mon", "tue"]),
                WaitingCalls(visit_id="morning", days=["mon", "tue"]),
            ],
            "nothing starts",
        ),
    ],
)
def test_a_split_that_does_not_fit_the_referral_is_refused(
    calls: list[WaitingCalls], message: str
) -> None:
    referral = _world().referrals[0]
    part = PartPackage(package_id="new", rest_id="new.rest", waiting_calls=calls)
    with pytest.raises(ValueError, match=message):
        split_package(referral, part)


def test_the_rest_keeps_the_referrals_place_in_the_queue() -> None:
    referral = _world().referrals[0]
    part = PartPackage(
        package_id="new",
        rest_id="new.rest",
        waiting_calls=[WaitingCalls(visit_id="lunch", days=["tue"])],
    )
    started, rest = split_package(referral, part)
    assert [(v.id, v.days) for v in started.visits] == [
        ("morning", ["mon", "tue"]),
        ("lunch", ["mon"]),
    ]
    assert [(v.id, v.days) for v in rest.visits] == [("lunch", ["tue"])]
    assert rest.waiting_since == referral.waiting_since
    assert rest.client_ref == referral.client_ref and rest.id == "new.rest"


def test_rest_ids_count_on_and_avoid_ids_in_use() -> None:
    assert rest_id("R1", set()) == "R1.rest"
    assert rest_id("R1.rest", set()) == "R1.rest2"
    assert rest_id("R1.rest2", {"R1.rest3"}) == "R1.rest4"


def test_a_plan_with_part_packages_round_trips_as_json() -> None:
    snapshot = _world()
    plan = reoptimise(snapshot, snapshot_travel(snapshot), ReoptimiseOptions(**_QUICK))
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again.part_packages == plan.part_packages
