"""Offers for one package on tiny instances whose right answer is obvious.

Places lie on a line, 1 drive-minute per km (tests/builders.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from allocator.evaluate import evaluate
from allocator.model import Assignment, Offer, Placement, Plan, ReasonCode, Snapshot
from allocator.offers import make_offers
from allocator.runs import RunsView
from allocator.travel import TravelError
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


def offers_for(snap: Snapshot, package_id: str = "r1") -> list[Offer]:
    """Ranked offers for one referral with line travel."""
    view = RunsView(snap, snapshot_travel(snap))
    return make_offers(view, snap.package(package_id))


def by_provider(offers: list[Offer]) -> dict[str, Offer]:
    """Offers keyed by provider id."""
    return {o.provider_id: o for o in offers}


def assert_offer_is_feasible_plan(snap: Snapshot, offer: Offer, package_id: str = "r1") -> None:
    """Placing the offer as it stands breaks no hard rule (the evaluator's verdict)."""
    placements = [
        Placement(package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments)
        for p in snap.packages
    ]
    placements.append(
        Placement(
            package_id=package_id, provider_id=offer.provider_id, assignments=offer.assignments
        )
    )
    others = [
        {"package_id": r.id, "reason_code": "no_capacity", "reason": "-", "weekly_hours": 1}
        for r in snap.referrals
        if r.id != package_id
    ]
    plan = Plan.model_validate(plan_data([p.model_dump() for p in placements], others))
    result = evaluate(snap, plan, snapshot_travel(snap))
    assert result.is_feasible, result.violations


def assign(visit_id: str, day: str, carers: list[str], start: int) -> dict[str, Any]:
    """One assignment as JSON."""
    return {"visit_id": visit_id, "day": day, "carer_ids": carers, "start_min": start}


def test_provider_whose_carer_passes_the_door_wins() -> None:
    """A's carer drives from km 0 to a 10:00 visit at km 20, past the client at km 10: no added
    travel. B's idle carer at km 40 would add 60 minutes."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a", 0, start_min=480, end_min=960), carer("b1", "prov-b", 40)],
        packages=[
            package(
                "p1",
                20,
                [visit(earliest=600, latest=600)],
                provider_id="prov-a",
                assignments=[assign("v1", "mon", ["a1"], 600)],
            )
        ],
        referrals=[package("r1", 10, [visit(earliest=540, latest=570)])],
    )
    offers = offers_for(snap)
    assert [o.provider_id for o in offers] == ["prov-a", "prov-b"]
    best = offers[0]
    assert best.feasible and best.rank == 1
    assert best.added_travel_min_per_week == 0.0
    assert by_provider(offers)["prov-b"].added_travel_min_per_week == 60.0
    assert best.assignments[0].carer_ids == ["a1"]
    assert "adding 0 minutes of travel" in best.explanation
    assert_offer_is_feasible_plan(snap, best)


def test_double_up_only_the_provider_with_two_carers_can_staff() -> None:
    """A has two carers, B one: only A can send two carers together."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a", 0), carer("a2", "prov-a", 20), carer("b1", "prov-b", 10)],
        referrals=[package("r1", 10, [visit(carers_required=2)])],
    )
    offers = by_provider(offers_for(snap))
    assert offers["prov-a"].feasible
    assert sorted(offers["prov-a"].assignments[0].carer_ids) == ["a1", "a2"]
    assert offers["prov-b"].reason_code is ReasonCode.NO_DOUBLE_UP
    assert_offer_is_feasible_plan(snap, offers["prov-a"])


def test_double_up_needs_a_common_start() -> None:
    """Two carers free at different times (09:00 and 09:40) cannot start together."""
    snap = make_snapshot(
        carers=[
            carer("a1", at_km=10, start_min=540, end_min=580),
            carer("a2", at_km=10, start_min=580, end_min=700),
        ],
        referrals=[package("r1", 10, [visit(earliest=540, latest=600, carers_required=2)])],
    )
    (offer,) = offers_for(snap)
    assert not offer.feasible
    assert offer.reason_code is ReasonCode.NO_DOUBLE_UP


def test_skill_only_one_carer_has() -> None:
    """The hoist visit goes to the one carer with the hoist skill, even though farther away."""
    snap = make_snapshot(
        carers=[carer("near", at_km=10), carer("hoist", at_km=30, skills=["hoist"])],
        referrals=[package("r1", 10, [visit(required_skills=["hoist"])])],
    )
    (offer,) = offers_for(snap)
    assert offer.assignments[0].carer_ids == ["hoist"]
    assert_offer_is_feasible_plan(snap, offer)


def test_no_carer_with_the_skill() -> None:
    """Without any hoist-trained carer the offer says so."""
    snap = make_snapshot(
        carers=[carer("c1")], referrals=[package("r1", 10, [visit(required_skills=["hoist"])])]
    )
    (offer,) = offers_for(snap)
    assert offer.reason_code is ReasonCode.NO_SKILL
    assert "hoist skill" in offer.explanation


def test_declined_carer_is_never_sent() -> None:
    """The client declined the nearest carer; the other one goes."""
    snap = make_snapshot(
        carers=[carer("declined", at_km=10), carer("other", at_km=25)],
        referrals=[package("r1", 10, preferences={"declined_carer_ids": ["declined"]})],
    )
    (offer,) = offers_for(snap)
    assert offer.assignments[0].carer_ids == ["other"]
    only = make_snapshot(
        carers=[carer("declined", at_km=10)],
        referrals=[package("r1", 10, preferences={"declined_carer_ids": ["declined"]})],
    )
    assert offers_for(only)[0].reason_code is ReasonCode.DECLINED_CARERS


def test_gender_preference_is_honoured() -> None:
    """A client asking for female carers gets the female carer; with none, the reason says so."""
    snap = make_snapshot(
        carers=[carer("m", at_km=10, gender="male"), carer("f", at_km=30, gender="female")],
        referrals=[package("r1", 10, preferences={"carer_gender": "female"})],
    )
    assert offers_for(snap)[0].assignments[0].carer_ids == ["f"]
    only_male = make_snapshot(
        carers=[carer("m", at_km=10, gender="male")],
        referrals=[package("r1", 10, preferences={"carer_gender": "female"})],
    )
    assert offers_for(only_male)[0].reason_code is ReasonCode.GENDER_PREFERENCE


def test_window_when_nobody_works() -> None:
    """A 06:00 visit when every shift starts at 07:00: no shift, with the day and time."""
    snap = make_snapshot(
        carers=[carer("c1")], referrals=[package("r1", 10, [visit(earliest=360, latest=380)])]
    )
    (offer,) = offers_for(snap)
    assert offer.reason_code is ReasonCode.NO_SHIFT
    assert "Monday 06:00-06:50" in offer.explanation


def test_window_no_run_can_reach_in_time() -> None:
    """Shift from 07:00 at km 0; a 07:00-07:10 visit 60 km away cannot be reached in time."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0, start_min=420)],
        referrals=[package("r1", 60, [visit(earliest=420, latest=430)])],
    )
    (offer,) = offers_for(snap)
    assert offer.reason_code is ReasonCode.NO_CAPACITY
    assert "cannot get to the client" in offer.explanation


def test_busy_carer_has_no_capacity() -> None:
    """The only carer is at another client 09:00-10:00; a 09:00-09:30 start cannot fit."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=10)],
        packages=[
            package(
                "p1",
                10,
                [visit(duration=60, earliest=540, latest=540)],
                provider_id="prov-a",
                assignments=[assign("v1", "mon", ["c1"], 540)],
            )
        ],
        referrals=[package("r1", 10, [visit(earliest=540, latest=570)])],
    )
    (offer,) = offers_for(snap)
    assert offer.reason_code is ReasonCode.NO_CAPACITY


def test_partly_absorbable_package_is_not_a_feasible_offer() -> None:
    """Monday fits, Tuesday has no shift: infeasible, and the failing visit is named."""
    snap = make_snapshot(
        carers=[carer("c1", days=("mon",))],
        referrals=[package("r1", 10, [visit(days=("mon", "tue"))])],
    )
    (offer,) = offers_for(snap)
    assert not offer.feasible
    assert [(f.visit_id, f.day, f.reason_code) for f in offer.failing_visits] == [
        ("v1", "tue", ReasonCode.NO_SHIFT)
    ]
    assert "1 of 2 visits" in offer.explanation


def test_outside_lot_and_adjacent_lot_willingness() -> None:
    """A lot-2 referral: a lot-1 provider is outside its lot unless it works adjacent lots."""
    lots = [
        {"id": "lot-1", "name": "One", "adjacent_lot_ids": ["lot-2"]},
        {"id": "lot-2", "name": "Two", "adjacent_lot_ids": ["lot-1"]},
    ]
    referral = package("r1", 10, lot_id="lot-2")
    strict = make_snapshot(lots=lots, carers=[carer("c1")], referrals=[referral])
    (offer,) = offers_for(strict)
    assert offer.reason_code is ReasonCode.OUTSIDE_LOT
    assert "does not hold the Two lot" in offer.explanation
    willing = make_snapshot(
        lots=lots,
        providers=[provider("prov-a", works_adjacent_lots=True)],
        carers=[carer("c1")],
        referrals=[referral],
    )
    (offer,) = offers_for(willing)
    assert offer.feasible and not offer.in_own_lot


def test_visits_of_one_package_on_one_day_see_each_other() -> None:
    """Four calls a day by one carer: each fits after the previous, no overlaps."""
    calls = [
        visit("am", 480, 540, 30),
        visit("lunch", 720, 760, 30),
        visit("tea", 1020, 1060, 30),
        visit("bed", 1200, 1230, 30),
    ]
    snap = make_snapshot(carers=[carer("c1", at_km=5)], referrals=[package("r1", 10, calls)])
    (offer,) = offers_for(snap)
    assert offer.feasible and offer.distinct_carers == 1
    # One shift all day: out to the client once (5 km) and home once (5 km); no travel between
    # calls at the same house.
    assert offer.added_travel_min_per_week == 10.0
    assert [a.start_min for a in offer.assignments] == [480, 720, 1020, 1200]
    assert_offer_is_feasible_plan(snap, offer)


def test_continuity_keeps_one_carer_across_the_week() -> None:
    """Two equally placed carers: the client sees one of them all week, not a mix."""
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    snap = make_snapshot(
        carers=[carer("c1", at_km=10), carer("c2", at_km=10)],
        referrals=[package("r1", 10, [visit(days=week)])],
    )
    (offer,) = offers_for(snap)
    assert offer.distinct_carers == 1


def test_preferred_provider_ranks_first_among_feasible() -> None:
    """The client's preferred provider comes first even when it adds more travel."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a", 10), carer("b1", "prov-b", 30)],
        referrals=[package("r1", 10, preferences={"preferred_provider_id": "prov-b"})],
    )
    assert [o.provider_id for o in offers_for(snap)] == ["prov-b", "prov-a"]


def test_added_cost_counts_care_travel_time_and_mileage() -> None:
    """30 minutes at £25/h, 40 minutes' travel at £13.45/h and 40 km at 28p: £31.47."""
    snap = make_snapshot(carers=[carer("c1", at_km=30)], referrals=[package("r1", 10)])
    (offer,) = offers_for(snap)
    assert offer.added_travel_min_per_week == 40.0
    assert offer.added_travel_km_per_week == 40.0
    assert offer.added_cost_gbp_per_week == round(0.5 * 25 + 40 / 60 * 13.45 + 40 * 0.28, 2)


def test_offers_leave_the_view_unchanged() -> None:
    """Asking twice gives the same answer: an offer commits nothing."""
    snap = make_snapshot(carers=[carer("c1", at_km=10)], referrals=[package("r1", 10)])
    view = RunsView(snap, snapshot_travel(snap))
    first = make_offers(view, snap.package("r1"))
    second = make_offers(view, snap.package("r1"))
    assert first == second


def test_a_stop_taken_out_of_a_run_frees_its_time_on_a_copy_only() -> None:
    """The busy carer (09:00-09:30 at km 5, base at km 0) has no room for a 09:00 call;
    taking the visit out of a copy of the runs makes room there and restores the day's
    working minutes, while the view it was copied from keeps the visit."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0)],
        packages=[
            package("p1", 5, provider_id="prov-a", assignments=[assign("v1", "mon", ["c1"], 540)])
        ],
        referrals=[package("r1", 5, [visit(earliest=540, latest=545)])],
    )
    view = RunsView(snap, snapshot_travel(snap))
    [stop] = view.day(0, "mon").runs[0]
    assert view.day(0, "mon").work_min == 40  # 5 min there, 30 on the visit, 5 back
    free = view.copy()
    free.remove(0, "mon", stop)
    assert free.day(0, "mon").runs[0] == [] and free.day(0, "mon").work_min == 0
    assert not make_offers(view, snap.package("r1"))[0].feasible
    assert make_offers(free, snap.package("r1"))[0].feasible
    assert view.day(0, "mon").runs[0] == [stop]
    with pytest.raises(KeyError, match="no stop"):
        free.remove(0, "mon", stop)


def _runs(view: RunsView) -> dict[tuple[int, str], Any]:
    return {
        (c, d): ([list(r) for r in view.day(c, d).runs], view.day(c, d).orphans,
                 view.day(c, d).work_min)
        for c in range(len(view.carers))
        for d in ("mon", "tue")
    }  # fmt: skip


def test_a_view_brought_up_to_date_by_the_packages_that_changed_is_a_fresh_view() -> None:
    """p1 (c1, Monday 09:00 at km 5) ends and p2 (c1, Monday 09:00 at km 2) is placed: the
    view derived from the old one by those two packages has the runs, working minutes and
    offers of a view built afresh, and the old view still has p1."""
    before = make_snapshot(
        carers=[carer("c1", at_km=0), carer("c2", at_km=8)],
        packages=[
            package("p1", 5, provider_id="prov-a", assignments=[assign("v1", "mon", ["c1"], 540)]),
            package(
                "p3",
                8,
                [visit(days=("tue",))],
                provider_id="prov-a",
                assignments=[assign("v1", "tue", ["c2"], 540)],
            ),
        ],
        referrals=[
            package("r1", 5, [visit(earliest=540, latest=545)]),
            package("p2", 2, [visit(earliest=540, latest=560)]),
        ],
    )
    travel = snapshot_travel(before)
    old = RunsView(before, travel)
    placed = before.package("p2").model_copy(
        update={
            "provider_id": "prov-a",
            "assignments": [Assignment.model_validate(assign("v1", "mon", ["c1"], 545))],
        }
    )
    after = before.model_copy(
        update={
            "packages": [before.package("p3"), placed],
            "referrals": [before.package("r1")],
        }
    )
    updated = old.with_packages_changed(after, [before.package("p1")], [placed])
    fresh = RunsView(after, travel)
    assert _runs(updated) == _runs(fresh)
    assert make_offers(updated, after.package("r1")) == make_offers(fresh, after.package("r1"))
    assert [s.package_id for s in old.day(0, "mon").runs[0]] == ["p1"]
    assert [s.package_id for s in updated.day(0, "mon").runs[0]] == ["p2"]


def test_a_view_is_not_brought_up_to_date_over_a_place_its_travel_lacks() -> None:
    snap = make_snapshot(carers=[carer("c1", at_km=0)], referrals=[package("r1", 5)])
    view = RunsView(snap, snapshot_travel(snap))
    elsewhere = snap.model_copy(update={"referrals": [package_at(snap.package("r1"), 40)]})
    with pytest.raises(TravelError, match="no travel times"):
        view.with_packages_changed(elsewhere, [], [])


def package_at(referral: Any, km: float) -> Any:
    """``referral`` moved to ``km`` along the line."""
    return referral.model_copy(update={"location": place(km)})
