"""Sequential and joint placement on tiny instances; every plan checked by the evaluator."""

from __future__ import annotations

import datetime as dt

from allocator.batch import BatchSettings, place_batch
from allocator.evaluate import evaluate
from allocator.greedy import SequentialPolicy, place_sequentially
from allocator.model import Plan, ReasonCode, Snapshot
from tests.builders import carer, make_snapshot, package, provider, snapshot_travel, visit

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


def checked(snap: Snapshot, plan: Plan) -> Plan:
    """The plan, after the evaluator has confirmed it breaks no hard rule."""
    result = evaluate(snap, plan, snapshot_travel(snap))
    assert result.is_feasible, result.violations
    return plan


def placed(plan: Plan) -> dict[str, str]:
    """New referral -> provider (placed packages from the snapshot excluded)."""
    return {p.package_id: p.provider_id for p in plan.placements if p.package_id.startswith("r")}


def carers_of(plan: Plan, package_id: str) -> set[str]:
    """Every carer the plan gives a package."""
    placement = plan.placement(package_id)
    assert placement is not None
    return {c for a in placement.assignments for c in a.carer_ids}


def competing() -> Snapshot:
    """Two referrals, one gap.

    Carers c1 (km 0, hoist) and c2 (km 5) work 09:00-10:00 on Monday. R1, a hospital discharge
    at km 0, is cheapest with c1 (no travel) but c2 can do it too. R2 at km 1 needs the hoist,
    which only c1 has, and c1 cannot do both between 09:00 and 09:30. Placing R1 first on its
    best offer strands R2; choosing jointly places both.
    """
    monday = ("mon",)
    return make_snapshot(
        carers=[
            carer("c1", at_km=0, start_min=540, end_min=600, days=monday, skills=["hoist"]),
            carer("c2", at_km=5, start_min=540, end_min=600, days=monday),
        ],
        referrals=[
            package("r1", 0, [visit(earliest=540, latest=570)], urgency="discharge_pathway_1"),
            package("r2", 1, [visit(earliest=540, latest=570, required_skills=["hoist"])]),
        ],
    )


def test_sequential_best_offer_strands_the_second_referral() -> None:
    """The discharge takes c1; the hoist referral then has no place."""
    snap = competing()
    plan = checked(snap, place_sequentially(snap, snapshot_travel(snap)))
    assert placed(plan) == {"r1": "prov-a"}
    assert carers_of(plan, "r1") == {"c1"}
    (waiting,) = plan.unplaced
    assert waiting.package_id == "r2"
    assert waiting.reason_code is ReasonCode.NO_CAPACITY
    assert "Next step" in waiting.reason


def test_joint_placement_beats_sequential_on_a_contested_gap() -> None:
    """Jointly, R1 goes to c2 and R2 to c1: both placed."""
    snap = competing()
    plan = checked(snap, place_batch(snap, snapshot_travel(snap), time_limit_s=5, seed=1, now=NOW))
    assert placed(plan) == {"r1": "prov-a", "r2": "prov-a"}
    assert carers_of(plan, "r1") == {"c2"}
    assert carers_of(plan, "r2") == {"c1"}
    assert plan.unplaced == []
    assert plan.solver.name == "joint-cpsat"


def test_joint_placement_is_deterministic_for_a_seed() -> None:
    """The same seed and input give the same placements."""
    snap = competing()
    travel = snapshot_travel(snap)
    first = place_batch(snap, travel, time_limit_s=5, seed=7, now=NOW)
    second = place_batch(snap, travel, time_limit_s=5, seed=7, now=NOW)
    assert first.placements == second.placements
    assert first.unplaced == second.unplaced


def test_urgent_referral_wins_when_only_one_can_be_placed() -> None:
    """One 30-minute slot and two referrals: the hospital discharge gets it, the routine one
    waits with the lower-priority reason."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=0, start_min=540, end_min=600, days=("mon",))],
        referrals=[
            package("r1", 0, [visit(earliest=540, latest=560)]),
            package("r2", 0, [visit(earliest=540, latest=560)], urgency="discharge_pathway_1"),
        ],
    )
    plan = checked(snap, place_batch(snap, snapshot_travel(snap), time_limit_s=5, now=NOW))
    assert placed(plan) == {"r2": "prov-a"}
    (waiting,) = plan.unplaced
    assert waiting.package_id == "r1"
    assert waiting.reason_code is ReasonCode.LOWER_PRIORITY
    assert "r2" in waiting.reason


def test_joint_keeps_each_locality_with_few_providers() -> None:
    """Two providers equally placed for a glen that A already serves: the newcomer goes to A."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a", 10), carer("b1", "prov-b", 10)],
        packages=[
            package(
                "p1",
                10,
                [visit(days=("tue",))],
                provider_id="prov-a",
                locality="Glen",
                assignments=[
                    {"visit_id": "v1", "day": "tue", "carer_ids": ["a1"], "start_min": 540}
                ],
            )
        ],
        referrals=[package("r1", 10, locality="Glen")],
    )
    settings = BatchSettings(locality_penalty_gbp=40.0)
    plan = checked(
        snap, place_batch(snap, snapshot_travel(snap), time_limit_s=5, now=NOW, settings=settings)
    )
    assert placed(plan) == {"r1": "prov-a"}


def test_existing_visits_keep_their_carers_and_times() -> None:
    """Placing a referral next to a placed client never moves that client's visit, even when
    moving it would make room."""
    snap = make_snapshot(
        carers=[carer("c1", at_km=10, start_min=540, end_min=615, days=("mon",))],
        packages=[
            package(
                "p1",
                10,
                [visit(earliest=540, latest=580)],
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": ["c1"], "start_min": 560}
                ],
            )
        ],
        referrals=[package("r1", 10, [visit(earliest=540, latest=590)])],
    )
    plan = checked(snap, place_batch(snap, snapshot_travel(snap), time_limit_s=2, now=NOW))
    existing = plan.placement("p1")
    assert existing is not None
    assert existing.assignments == snap.package("p1").assignments
    # p1 is fixed at 09:20-09:50 in a 09:00-10:15 shift: r1 (30 minutes) fits neither before
    # it (would end 09:30) nor after it (would end 10:20). Moving p1 to 09:00 would make room;
    # batch placement must not do that, so r1 waits.
    assert [u.package_id for u in plan.unplaced] == ["r1"]


def test_status_quo_takes_the_first_provider_that_can_fit() -> None:
    """Status quo asks providers in framework order: A (far but able) takes it although B's
    carer is next door; best offer would choose B."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("a1", "prov-a", 40), carer("b1", "prov-b", 10)],
        referrals=[package("r1", 10)],
    )
    travel = snapshot_travel(snap)
    status_quo = checked(snap, place_sequentially(snap, travel, policy=SequentialPolicy.STATUS_QUO))
    assert placed(status_quo) == {"r1": "prov-a"}
    best = checked(snap, place_sequentially(snap, travel))
    assert placed(best) == {"r1": "prov-b"}


def test_nearest_provider_takes_the_closest_base_that_can_fit() -> None:
    """Nearest provider: B's carer lives 1 km from the client but works only afternoons, so
    the referral goes to C (base 8 km away), not A (30 km), which the status quo asks first."""
    snap = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b"), provider("prov-c")],
        carers=[
            carer("a1", "prov-a", 40),
            carer("b1", "prov-b", 11, start_min=780, end_min=1080),
            carer("c1", "prov-c", 18),
        ],
        referrals=[package("r1", 10)],
    )
    travel = snapshot_travel(snap)
    nearest = place_sequentially(snap, travel, policy=SequentialPolicy.NEAREST_PROVIDER)
    assert placed(checked(snap, nearest)) == {"r1": "prov-c"}
    status_quo = place_sequentially(snap, travel, policy=SequentialPolicy.STATUS_QUO)
    assert placed(checked(snap, status_quo)) == {"r1": "prov-a"}


def test_nearest_provider_asks_only_providers_the_framework_allows() -> None:
    """A provider of another lot is not asked however near its carer is; one that works
    adjacent lots is, when the lots are adjacent."""
    lots = [
        {"id": "lot-1", "name": "Lot One", "adjacent_lot_ids": ["lot-2"]},
        {"id": "lot-2", "name": "Lot Two", "adjacent_lot_ids": ["lot-1"]},
    ]
    people = [carer("a1", "prov-a", 40), carer("b1", "prov-b", 10)]
    referral = [package("r1", 10)]
    outside = make_snapshot(
        lots=lots,
        providers=[provider("prov-a"), provider("prov-b", ("lot-2",))],
        carers=people,
        referrals=referral,
    )
    plan = place_sequentially(
        outside, snapshot_travel(outside), policy=SequentialPolicy.NEAREST_PROVIDER
    )
    assert placed(checked(outside, plan)) == {"r1": "prov-a"}
    adjacent = make_snapshot(
        lots=lots,
        providers=[provider("prov-a"), provider("prov-b", ("lot-2",), works_adjacent_lots=True)],
        carers=people,
        referrals=referral,
    )
    plan = place_sequentially(
        adjacent, snapshot_travel(adjacent), policy=SequentialPolicy.NEAREST_PROVIDER
    )
    assert placed(checked(adjacent, plan)) == {"r1": "prov-b"}


def test_unplaceable_referral_reason_when_no_provider_holds_the_lot() -> None:
    """A referral in a lot nobody holds waits with the outside-lot reason."""
    snap = make_snapshot(carers=[carer("c1")], referrals=[package("r1", 10, lot_id="lot-2")])
    plan = checked(snap, place_batch(snap, snapshot_travel(snap), time_limit_s=2, now=NOW))
    (waiting,) = plan.unplaced
    assert waiting.reason_code is ReasonCode.OUTSIDE_LOT
