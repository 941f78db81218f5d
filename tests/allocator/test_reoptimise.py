"""The nightly re-optimisation on tiny instances whose right answer is obvious.

Line world (tests/builders.py): driving is 1 minute per km. Every plan is checked by the
independent evaluator.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from allocator.evaluate import evaluate
from allocator.model import Plan, PlanChanges, Snapshot
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from tests.builders import carer, make_snapshot, package, provider, snapshot_travel, visit

ROOT = Path(__file__).resolve().parents[2]
QUICK = ReoptimiseOptions(time_limit_s=5, solution_limit=200, place_waiting=False)


def _assign(carers: list[str], start: int = 540, day: str = "mon", **extra: Any) -> dict[str, Any]:
    return {"visit_id": "v1", "day": day, "carer_ids": carers, "start_min": start, **extra}


def _seen(
    package_id: str,
    at_km: float,
    carer_id: str,
    start: int,
    window: tuple[int, int],
    *,
    provider_id: str = "prov-a",
    duration: int = 30,
    locked: bool = False,
) -> dict[str, Any]:
    """A placed client with one Monday call in ``window``, seen by ``carer_id`` at ``start``."""
    return package(
        package_id,
        at_km,
        [visit(earliest=window[0], latest=window[1], duration=duration)],
        provider_id=provider_id,
        assignments=[_assign([carer_id], start=start, locked=locked)],
    )


def _crossed(**extra: Any) -> Snapshot:
    """Ann lives at km 0 and Bob at km 100, but each visits the client at the other's door."""
    return make_snapshot(
        carers=[carer("ann", at_km=0), carer("bob", at_km=100)],
        packages=[
            package("far", 100, provider_id="prov-a", assignments=[_assign(["ann"], **extra)]),
            package("near", 0, provider_id="prov-a", assignments=[_assign(["bob"])]),
        ],
    )


def _run(
    snapshot: Snapshot, options: ReoptimiseOptions = QUICK, now: dt.datetime | None = None
) -> Plan:
    travel = snapshot_travel(snapshot)
    plan = reoptimise(snapshot, travel, options, now=now)
    result = evaluate(snapshot, plan, travel)
    assert result.is_feasible, result.summary()
    return plan


def _carers(plan: Plan, package_id: str) -> list[str]:
    placement = plan.placement(package_id)
    assert placement is not None
    return [c for a in placement.assignments for c in a.carer_ids]


def test_swapping_two_clients_between_two_carers_saves_their_travel() -> None:
    plan = _run(_crossed())
    assert _carers(plan, "far") == ["bob"]
    assert _carers(plan, "near") == ["ann"]
    assert plan.changes is not None
    assert plan.changes.travel_min_per_week_before == pytest.approx(400)
    assert plan.changes.travel_min_per_week_after == pytest.approx(0)
    assert plan.changes.visits_with_new_carer == 2
    assert plan.changes.clients_with_new_carer == 2
    # The example in docs/formats.md#changes is this run's diff.
    documented = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```json\n(.*?)```", documented, re.DOTALL) if "ann" in b)
    assert PlanChanges.model_validate_json(block) == plan.changes
    assert plan.kpis is not None and plan.kpis.travel_min_per_week == pytest.approx(0)


def test_a_locked_visit_stays_with_its_carer_and_time() -> None:
    plan = _run(_crossed(locked=True))
    placement = plan.placement("far")
    assert placement is not None
    assert [(a.carer_ids, a.start_min, a.locked) for a in placement.assignments] == [
        (["ann"], 540, True)
    ]


def test_a_locked_package_keeps_its_runs() -> None:
    snapshot = _crossed()
    locked = [
        p.model_copy(update={"locked": True}) if p.id == "far" else p for p in snapshot.packages
    ]
    plan = _run(snapshot.model_copy(update={"packages": locked}))
    assert _carers(plan, "far") == ["ann"]


def test_a_double_handed_call_moves_to_two_carers_arriving_together() -> None:
    """Two carers near the client and two far away; the double-up goes to the near pair."""
    snapshot = make_snapshot(
        carers=[
            carer("far-1", at_km=80),
            carer("far-2", at_km=80),
            carer("near-1", at_km=10, start_min=420, end_min=720),
            carer("near-2", at_km=12, start_min=480, end_min=720),
        ],
        packages=[
            package(
                "hoist",
                10,
                [visit(earliest=480, latest=600, duration=45, carers_required=2)],
                provider_id="prov-a",
                assignments=[_assign(["far-1", "far-2"], start=540)],
            )
        ],
    )
    plan = _run(snapshot)
    placement = plan.placement("hoist")
    assert placement is not None
    [a] = placement.assignments
    assert sorted(a.carer_ids) == ["near-1", "near-2"]
    assert 482 <= a.start_min <= 600  # near-2 starts at 08:00 and is 2 km away


def test_move_cap_zero_keeps_every_client_with_their_provider() -> None:
    """Provider A reaches the client 100 km away; provider B's carer lives next door."""
    snapshot = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[carer("ann", "prov-a", at_km=0), carer("bea", "prov-b", at_km=100)],
        packages=[
            package("far", 100, provider_id="prov-a", assignments=[_assign(["ann"])]),
        ],
    )
    kept = _run(snapshot, ReoptimiseOptions(time_limit_s=5, max_moves=0, place_waiting=False))
    assert kept.placement("far").provider_id == "prov-a"  # type: ignore[union-attr]
    assert kept.changes is not None and kept.changes.provider_moves == []

    moved = _run(snapshot, ReoptimiseOptions(time_limit_s=5, max_moves=1, place_waiting=False))
    assert moved.placement("far").provider_id == "prov-b"  # type: ignore[union-attr]
    assert moved.changes is not None
    [move] = moved.changes.provider_moves
    assert (move.from_provider_id, move.to_provider_id) == ("prov-a", "prov-b")
    assert move.travel_saved_min_per_week == pytest.approx(200)
    assert moved.changes.travel_min_per_week_saved == pytest.approx(200)


def _far_from_provider_a(*clients: str) -> Snapshot:
    """Provider A's carers live at km 0; its clients live at km 100, next door to provider
    B's one carer, who can take one 30-minute call between 09:00 and 09:05, not two."""
    return make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[
            carer("ann", "prov-a", at_km=0),
            carer("amy", "prov-a", at_km=0),
            carer("bea", "prov-b", at_km=100, start_min=530, end_min=610),
        ],
        packages=[
            _seen(client, 100, who, 540, (540, 545))
            for client, who in zip(clients, ["ann", "amy"], strict=False)
        ],
    )


def test_clients_move_even_when_the_runs_search_overran_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runs search can take longer than the limit (each provider's week has a floor);
    moving clients keeps its own share, so a move that clearly pays is still made."""
    import allocator.reoptimise as nightly

    solve = nightly.solve_piece

    def slow(piece: nightly.Piece) -> nightly.PieceResult:
        time.sleep(1.2)  # past the whole time limit
        return solve(piece)

    monkeypatch.setattr(nightly, "solve_piece", slow)
    snapshot = _far_from_provider_a("far")
    options = ReoptimiseOptions(time_limit_s=1, max_moves=1, place_waiting=False)
    plan = _run(snapshot, options)
    assert plan.changes is not None
    [move] = plan.changes.provider_moves
    assert (move.package_id, move.to_provider_id) == ("far", "prov-b")


def test_a_provider_takes_no_more_moved_clients_than_its_runs_hold() -> None:
    """Two clients would each save travel with provider B, whose carer can do only one of
    their calls: after the first move B's runs include it, so the second stays."""
    snapshot = _far_from_provider_a("far-1", "far-2")
    plan = _run(snapshot, replace(QUICK, max_moves=2))
    assert plan.changes is not None
    [move] = plan.changes.provider_moves
    assert move.to_provider_id == "prov-b"
    stayed = ({"far-1", "far-2"} - {move.package_id}).pop()
    assert plan.placement(stayed).provider_id == "prov-a"  # type: ignore[union-attr]


def test_the_client_who_can_move_is_tried_before_remote_ones_nobody_else_reaches() -> None:
    """Provider A's carers live at km 0; four of its clients live at km -200 (each costs A
    400 minutes a week, more than anyone, but provider B at km 100 would need 600), and one
    at km 100, next door to B's carer (A spends 200, B would spend nothing). With one move
    allowed, it is that client's, not a vain try of the remote ones."""
    remote = [_seen(f"remote-{k}", -200, f"a{k}", 540, (540, 545)) for k in range(4)]
    snapshot = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[
            *(carer(f"a{k}", "prov-a", at_km=0, start_min=300) for k in range(5)),
            carer("bea", "prov-b", at_km=100),
        ],
        packages=[*remote, _seen("next-to-b", 100, "a4", 540, (540, 600))],
    )
    plan = _run(snapshot, replace(QUICK, max_moves=1))
    assert plan.changes is not None
    [move] = plan.changes.provider_moves
    assert (move.package_id, move.to_provider_id) == ("next-to-b", "prov-b")
    assert move.travel_saved_min_per_week == pytest.approx(200)


def test_stopping_at_once_still_returns_todays_valid_plan() -> None:
    snapshot = _crossed()
    travel = snapshot_travel(snapshot)
    plan = reoptimise(snapshot, travel, QUICK, should_stop=lambda: True)
    assert evaluate(snapshot, plan, travel).is_feasible
    assert _carers(plan, "far") == ["ann"]
    assert plan.solver.status.startswith("stopped early")


def test_a_tiny_time_limit_returns_a_valid_plan_no_worse_than_today() -> None:
    snapshot = _crossed()
    plan = _run(snapshot, ReoptimiseOptions(time_limit_s=0.01, place_waiting=False))
    assert plan.changes is not None
    assert plan.changes.travel_min_per_week_after <= plan.changes.travel_min_per_week_before


def test_the_same_input_and_limits_give_the_same_plan() -> None:
    first, second = _run(_crossed()), _run(_crossed())
    assert [p.model_dump() for p in first.placements] == [p.model_dump() for p in second.placements]


def test_continuity_cap_stops_a_client_gaining_a_second_carer() -> None:
    """Cal would save travel on Tuesday, but the council allows one carer per client."""
    snapshot = make_snapshot(
        carers=[carer("ann", at_km=0), carer("cal", at_km=50)],
        packages=[
            package(
                "mid",
                50,
                [visit(days=("mon", "tue"))],
                provider_id="prov-a",
                assignments=[_assign(["ann"], day="mon"), _assign(["ann"], day="tue")],
            )
        ],
    )
    free = _run(snapshot)
    assert set(_carers(free, "mid")) == {"cal"}
    capped = snapshot.model_copy(
        update={"policy": snapshot.policy.model_copy(update={"max_distinct_carers_per_client": 1})}
    )
    plan = _run(capped)
    assert len(set(_carers(plan, "mid"))) == 1


def test_waiting_referrals_are_placed_into_the_re_planned_runs() -> None:
    """Ann's day is full of driving until the swap frees it for the waiting client."""
    snapshot = make_snapshot(
        carers=[
            carer("ann", at_km=0, start_min=480, end_min=720),
            carer("bob", at_km=100, start_min=480, end_min=720),
        ],
        packages=[
            _seen("far", 100, "ann", 540, (480, 600)),
            _seen("near", 0, "bob", 540, (480, 600)),
        ],
        referrals=[package("new", 1, [visit(earliest=600, latest=660, duration=60)])],
    )
    plan = _run(snapshot, ReoptimiseOptions(time_limit_s=5, solution_limit=200))
    assert plan.placement("new") is not None
    assert plan.changes is not None
    assert plan.changes.newly_placed_package_ids == ["new"]
    assert plan.changes.waiting_hours_newly_placed_per_week == pytest.approx(1.0)


def test_worker_processes_give_the_same_plan_as_one_process() -> None:
    """Two providers' pieces in two spawned worker processes, then the same in this one."""
    snapshot = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[
            carer("ann", "prov-a", at_km=0),
            carer("bob", "prov-a", at_km=100),
            carer("cat", "prov-b", at_km=0),
            carer("dan", "prov-b", at_km=100),
        ],
        packages=[
            package("a-far", 100, provider_id="prov-a", assignments=[_assign(["ann"])]),
            package("a-near", 0, provider_id="prov-a", assignments=[_assign(["bob"])]),
            package("b-far", 100, provider_id="prov-b", assignments=[_assign(["cat"])]),
            package("b-near", 0, provider_id="prov-b", assignments=[_assign(["dan"])]),
        ],
    )
    seen: list[float] = []
    parallel = reoptimise(
        snapshot,
        snapshot_travel(snapshot),
        ReoptimiseOptions(time_limit_s=5, solution_limit=200, place_waiting=False, workers=2),
        progress=lambda fraction, message, figures: seen.append(fraction),
    )
    serial = _run(snapshot)
    assert [p.model_dump() for p in parallel.placements] == [
        p.model_dump() for p in serial.placements
    ]
    assert _carers(parallel, "a-far") == ["bob"] and _carers(parallel, "b-far") == ["dan"]
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_a_council_with_nothing_placed_yet_gets_its_referrals_placed() -> None:
    snapshot = make_snapshot(carers=[carer("ann", at_km=0)], referrals=[package("new", 5)])
    plan = _run(snapshot, ReoptimiseOptions(time_limit_s=3, workers=2))
    assert plan.changes is not None
    assert plan.changes.newly_placed_package_ids == ["new"]
    assert plan.changes.travel_min_per_week_before == 0


def test_a_run_at_the_working_time_cap_does_not_stop_the_day_being_re_planned() -> None:
    """Ann's run works 61.86 of her 62 minutes; counted in tenths with each leg rounded up it
    is 62.2, which once made the whole Monday unsolvable, so Bob and Cid's crossed clients were
    never swapped. Ann's run stays within her cap in exact minutes."""
    snapshot = make_snapshot(
        carers=[
            carer("ann", at_km=0, max_working_min_per_day=62),
            carer("bob", at_km=100),
            carer("cid", at_km=0),
        ],
        packages=[
            *(
                package(
                    f"c{k}",
                    0.31 * k,
                    [visit(earliest=540, latest=600, duration=20)],
                    provider_id="prov-a",
                    assignments=[_assign(["ann"], start=start)],
                )
                for k, start in ((1, 541), (2, 562), (3, 583))
            ),
            package("far", 100, provider_id="prov-a", assignments=[_assign(["cid"])]),
            package("near", 0, provider_id="prov-a", assignments=[_assign(["bob"])]),
        ],
    )
    plan = _run(snapshot)
    assert _carers(plan, "far") == ["bob"]
    assert _carers(plan, "near") == ["cid"]
    assert [_carers(plan, f"c{k}") for k in (1, 2, 3)] == [["ann"]] * 3


def _room_for_one_hour(tuesday_taken: bool = False) -> Snapshot:
    """Ann's usual client is seen at 10:00 (any time 08:00-11:00 would do); the waiting client,
    next door, needs an hour starting 09:50-10:00. Only moving the usual call makes room.
    With ``tuesday_taken`` the waiting client also needs Tuesday, when Bob (the only carer
    working) is held by a locked call at that hour."""
    days = ("mon", "tue") if tuesday_taken else ("mon",)
    carers = [carer("ann", at_km=0, start_min=480, end_min=720, days=("mon",))]
    packages = [
        package(
            "usual",
            1,
            [visit(earliest=480, latest=660)],
            provider_id="prov-a",
            assignments=[_assign(["ann"], start=600)],
        )
    ]
    if tuesday_taken:
        carers.append(carer("bob", at_km=0, start_min=480, end_min=720, days=("tue",)))
        packages.append(
            package(
                "tuesday",
                1,
                [visit(earliest=590, latest=600, duration=60, days=("tue",))],
                provider_id="prov-a",
                assignments=[_assign(["bob"], start=600, day="tue", locked=True)],
            )
        )
    return make_snapshot(
        carers=carers,
        packages=packages,
        referrals=[package("new", 1, [visit(earliest=590, latest=600, duration=60, days=days)])],
    )


def test_runs_are_re_planned_around_a_waiting_referral_that_fits_nowhere_as_they_stand() -> None:
    snapshot = _room_for_one_hour()
    options = ReoptimiseOptions(time_limit_s=5, solution_limit=200)
    plan = _run(snapshot, options)
    assert plan.changes is not None
    assert plan.changes.newly_placed_package_ids == ["new"]
    [call] = plan.placement("new").assignments  # type: ignore[union-attr]
    assert call.carer_ids == ["ann"] and 590 <= call.start_min <= 600
    [usual] = plan.placement("usual").assignments  # type: ignore[union-attr]
    assert usual.start_min + 30 <= call.start_min or usual.start_min >= call.start_min + 60
    # Placing into the runs as they stand (the re-plan not told of the waiting, no visit
    # handed over or re-timed) cannot.
    as_they_stand = ReoptimiseOptions(
        time_limit_s=5, solution_limit=200, fit_waiting_in_runs=False, hand_over_visits=False
    )
    without = _run(snapshot, as_they_stand)
    assert without.changes is not None and without.changes.newly_placed_package_ids == []


def test_a_referral_that_fits_only_some_days_is_not_placed_and_those_days_go_back() -> None:
    """Monday has room once the usual call moves; Tuesday has none. The package is all or
    nothing, so it keeps waiting and Monday's usual call keeps its time."""
    snapshot = _room_for_one_hour(tuesday_taken=True)
    plan = _run(snapshot, ReoptimiseOptions(time_limit_s=5, solution_limit=200))
    assert plan.placement("new") is None
    assert [u.package_id for u in plan.unplaced] == ["new"]
    [usual] = plan.placement("usual").assignments  # type: ignore[union-attr]
    assert (usual.carer_ids, usual.start_min) == (["ann"], 600)
    assert plan.changes is not None and plan.changes.visits_with_new_time == 0


def test_room_is_made_with_the_clients_preferred_provider_when_it_may_take_them() -> None:
    """Provider B's carer lives 50 km away, A's next door; the client asked for B, and B's
    run can make room, so B's run is re-planned, not A's."""
    near = _room_for_one_hour()
    snapshot = make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[
            carer("ann", "prov-a", at_km=0, start_min=480, end_min=720, days=("mon",)),
            carer("bea", "prov-b", at_km=50, start_min=480, end_min=720, days=("mon",)),
        ],
        packages=[
            *(p.model_dump() for p in near.packages),
            package(
                "usual-b",
                51,
                [visit(earliest=480, latest=660)],
                provider_id="prov-b",
                assignments=[_assign(["bea"], start=600)],
            ),
        ],
        referrals=[
            package(
                "new",
                1,
                [visit(earliest=590, latest=600, duration=60)],
                preferences={"preferred_provider_id": "prov-b"},
            )
        ],
    )
    plan = _run(snapshot, ReoptimiseOptions(time_limit_s=5, solution_limit=200))
    placed = plan.placement("new")
    assert placed is not None and placed.provider_id == "prov-b"
    assert [a.carer_ids for a in placed.assignments] == [["bea"]]


def _nearest_cannot_make_room() -> Snapshot:
    """The waiting client lives next to A's carer Ann, whose hour is held by a locked call;
    B's carer Bea, 5 km away, could make room by moving her usual call. With handovers off,
    only re-planning Bea's run around the referral places the client."""
    return make_snapshot(
        providers=[provider("prov-a"), provider("prov-b")],
        carers=[
            carer("ann", "prov-a", at_km=0, start_min=480, end_min=720, days=("mon",)),
            carer("bea", "prov-b", at_km=5, start_min=480, end_min=720, days=("mon",)),
        ],
        packages=[
            _seen("held", 0, "ann", 600, (590, 600), duration=60, locked=True),
            _seen("usual-b", 5, "bea", 600, (480, 660), provider_id="prov-b"),
        ],
        referrals=[package("new", 1, [visit(earliest=590, latest=600, duration=60)])],
    )


def test_the_next_nearest_provider_takes_its_turn_at_a_referral_the_nearest_cannot_fit() -> None:
    """The referral has waited since 20 November 09:00. On its first night the nearest
    provider (A) re-plans around it and cannot; on the second night it is B's turn, and B's
    re-planned run takes it. With one provider in turn it stays with A and keeps waiting."""
    snapshot = _nearest_cannot_make_room()
    options = ReoptimiseOptions(time_limit_s=5, solution_limit=200, hand_over_visits=False)
    first_night = dt.datetime(2026, 11, 20, 22, tzinfo=dt.UTC)
    second_night = first_night + dt.timedelta(days=1)
    assert _run(snapshot, options, first_night).placement("new") is None
    placed = _run(snapshot, options, second_night).placement("new")
    assert placed is not None and placed.provider_id == "prov-b"
    assert [a.carer_ids for a in placed.assignments] == [["bea"]]
    always_nearest = replace(options, waiting_providers_in_turn=1)
    assert _run(snapshot, always_nearest, second_night).placement("new") is None


def test_providers_in_turn_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="waiting_providers_in_turn must be at least 1"):
        ReoptimiseOptions(waiting_providers_in_turn=0)
