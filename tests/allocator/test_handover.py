"""Handing visits over between a provider's carers to fit a waiting referral.

The tiny world (tests/builders.py, one minute's drive per km): Ann, the only carer with the
hoist skill, and Bob both live at km 0 and work Monday 08:00-12:00. Ann sees her usual client
(km 1) at 09:00; the waiting client next door needs Ann's skill for an hour starting
09:00-09:10. Bob could do the usual visit just as well, so handing it to him is the only way
to place the new client. Every result is checked by the independent evaluator.
"""

from __future__ import annotations

from typing import Any

import pytest

import allocator.reoptimise as reoptimise_module
from allocator.evaluate import evaluate
from allocator.handover import Handover, HandoverResult, HandoverSettings, fit_with_handovers
from allocator.model import Snapshot
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from tests.builders import carer, current_plan, make_snapshot, package, snapshot_travel, visit


def _world(usual: dict[str, Any] | None = None, **assignment: Any) -> Snapshot:
    monday: dict[str, Any] = {"start_min": 480, "end_min": 720, "days": ("mon",)}
    return make_snapshot(
        carers=[
            carer("ann", at_km=0, skills=["hoist"], **monday),
            carer("bob", at_km=0, **monday),
        ],
        packages=[
            package(
                "usual",
                1,
                [visit(earliest=540, latest=570, duration=30)],
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": ["ann"], "start_min": 540}
                    | assignment
                ],
                **(usual or {}),
            )
        ],
        referrals=[
            package(
                "new",
                1,
                [visit(earliest=540, latest=550, duration=60, required_skills=["hoist"])],
            )
        ],
    )


def _checked(snapshot: Snapshot, settings: HandoverSettings | None = None) -> Any:
    travel = snapshot_travel(snapshot)
    result = fit_with_handovers(snapshot, travel, settings=settings)
    # The runs after, as a plan for the snapshot before.
    check = evaluate(snapshot, current_plan(result.snapshot), travel)
    assert check.is_feasible, check.summary()
    return result


def test_a_visit_in_the_way_is_handed_to_a_colleague_and_the_referral_placed() -> None:
    result = _checked(_world())
    assert result.placed == {"new": "prov-a"}
    assert result.handovers == [
        Handover(
            package_id="usual",
            visit_id="v1",
            day="mon",
            from_carer_id="ann",
            to_carer_id="bob",
            from_start_min=540,
            to_start_min=540,
            for_referral_id="new",
        )
    ]
    placed = {p.id: p for p in result.snapshot.packages}
    [call] = placed["new"].assignments
    assert call.carer_ids == ["ann"] and 540 <= call.start_min <= 550
    assert [a.carer_ids for a in placed["usual"].assignments] == [["bob"]]
    assert result.snapshot.referrals == []


def test_a_locked_visit_is_never_handed_over() -> None:
    result = _checked(_world(locked=True))
    assert result.placed == {} and result.handovers == []
    assert [r.id for r in result.snapshot.referrals] == ["new"]


def test_a_locked_package_is_never_handed_over() -> None:
    result = _checked(_world(usual={"locked": True}))
    assert result.placed == {}


def test_a_visit_goes_only_to_a_carer_the_client_accepts() -> None:
    declined = _world(usual={"preferences": {"declined_carer_ids": ["bob"]}})
    assert _checked(declined).placed == {}


def test_the_continuity_cap_keeps_a_client_with_the_carers_they_have() -> None:
    snapshot = _world()
    capped = snapshot.model_copy(
        update={"policy": snapshot.policy.model_copy(update={"max_distinct_carers_per_client": 1})}
    )
    assert _checked(capped).placed == {}


def test_no_handovers_allowed_means_nothing_is_placed() -> None:
    assert _checked(_world(), HandoverSettings(max_handovers=0)).placed == {}


def test_nothing_changes_when_the_referral_fits_only_some_days() -> None:
    """Tuesday has nobody with the hoist skill: the package is all or nothing, so the
    usual client keeps Ann on Monday."""
    snapshot = _world()
    referral = snapshot.referrals[0]
    both_days = referral.model_copy(
        update={"visits": [referral.visits[0].model_copy(update={"days": ["mon", "tue"]})]}
    )
    result = _checked(snapshot.model_copy(update={"referrals": [both_days]}))
    assert result.placed == {} and result.handovers == []
    assert result.snapshot.packages == snapshot.packages


def test_the_nightly_re_optimisation_hands_visits_over_for_a_waiting_referral() -> None:
    """With the runs search not told of the waiting (``fit_waiting_in_runs=False``), the
    handovers alone place the referral; with them off too it waits."""
    snapshot = _world()
    travel = snapshot_travel(snapshot)
    quick: dict[str, Any] = {"time_limit_s": 5, "solution_limit": 200, "fit_waiting_in_runs": False}
    plan = reoptimise(snapshot, travel, ReoptimiseOptions(**quick))
    assert evaluate(snapshot, plan, travel).is_feasible
    assert plan.changes is not None and plan.changes.newly_placed_package_ids == ["new"]
    assert "1 waiting referrals placed by handing 1 visit over" in plan.solver.status
    usual = plan.placement("usual")
    assert usual is not None and [a.carer_ids for a in usual.assignments] == [["bob"]]

    off = reoptimise(snapshot, travel, ReoptimiseOptions(**quick, hand_over_visits=False))
    assert [u.package_id for u in off.unplaced] == ["new"]


def test_a_double_handed_call_frees_both_carers_it_needs() -> None:
    """Ann and Bob, the only two with the hoist skill, each see a usual client at 09:00;
    Cat and Dan could do those visits. The waiting client needs Ann and Bob together."""
    monday: dict[str, Any] = {"start_min": 480, "end_min": 720, "days": ("mon",)}
    usual = [visit(earliest=540, latest=570, duration=30)]
    snapshot = make_snapshot(
        carers=[
            carer("ann", skills=["hoist"], **monday),
            carer("bob", skills=["hoist"], **monday),
            carer("cat", **monday),
            carer("dan", **monday),
        ],
        packages=[
            package(
                f"usual-{who}",
                1,
                usual,
                provider_id="prov-a",
                assignments=[
                    {"visit_id": "v1", "day": "mon", "carer_ids": [who], "start_min": 540}
                ],
            )
            for who in ("ann", "bob")
        ],
        referrals=[
            package(
                "new",
                1,
                [
                    visit(
                        earliest=540,
                        latest=550,
                        duration=60,
                        carers_required=2,
                        required_skills=["hoist"],
                    )
                ],
            )
        ],
    )
    result = _checked(snapshot)
    assert result.placed == {"new": "prov-a"}
    assert sorted((h.package_id, h.from_carer_id) for h in result.handovers) == [
        ("usual-ann", "ann"),
        ("usual-bob", "bob"),
    ]
    assert {h.to_carer_id for h in result.handovers} <= {"cat", "dan"}
    placed = {p.id: p for p in result.snapshot.packages}
    assert [sorted(a.carer_ids) for a in placed["new"].assignments] == [["ann", "bob"]]


def test_handovers_that_break_a_rule_are_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluator has the last word: a handover result whose runs break a rule (here the
    new client's call put outside Ann's shift) is dropped and the referral keeps waiting."""
    snapshot = _world()
    travel = snapshot_travel(snapshot)

    def broken(after: Snapshot, *args: Any, **kwargs: Any) -> HandoverResult:
        result = fit_with_handovers(after, *args, **kwargs)
        packages = [
            p.model_copy(
                update={
                    "assignments": [a.model_copy(update={"start_min": 1000}) for a in p.assignments]
                }
            )
            if p.id == "new"
            else p
            for p in result.snapshot.packages
        ]
        result.snapshot = result.snapshot.model_copy(update={"packages": packages})
        return result

    monkeypatch.setattr(reoptimise_module, "fit_with_handovers", broken)
    options = ReoptimiseOptions(time_limit_s=5, solution_limit=200, fit_waiting_in_runs=False)
    plan = reoptimise(snapshot, travel, options)
    assert evaluate(snapshot, plan, travel).is_feasible
    assert [u.package_id for u in plan.unplaced] == ["new"]
    assert "handing" not in plan.solver.status


def test_the_handover_adding_least_travel_is_taken() -> None:
    """Ann and Dee both have the hoist skill and a usual client at 09:00. Ann's client (next
    door to the waiting one, so tried first) declines Bob, so only Cat, based 30 km away,
    could take that visit; Dee's client 2 km out can go to Bob. Handing Dee's visit to Bob adds
    least travel; told to take the first way found, Ann's visit goes to Cat."""
    monday: dict[str, Any] = {"start_min": 480, "end_min": 720, "days": ("mon",)}
    usual = [visit(earliest=540, latest=570, duration=30)]

    def at_nine(who: str) -> list[dict[str, Any]]:
        return [{"visit_id": "v1", "day": "mon", "carer_ids": [who], "start_min": 540}]

    snapshot = make_snapshot(
        carers=[
            carer("ann", at_km=0, skills=["hoist"], **monday),
            carer("dee", at_km=0, skills=["hoist"], **monday),
            carer("bob", at_km=0, **monday),
            carer("cat", at_km=30, **monday),
        ],
        packages=[
            package(
                "usual-ann",
                1,
                usual,
                provider_id="prov-a",
                assignments=at_nine("ann"),
                preferences={"declined_carer_ids": ["bob"]},
            ),
            package("usual-dee", 2, usual, provider_id="prov-a", assignments=at_nine("dee")),
        ],
        referrals=[
            package(
                "new",
                1,
                [visit(earliest=540, latest=550, duration=60, required_skills=["hoist"])],
            )
        ],
    )
    moves = [(h.package_id, h.from_carer_id, h.to_carer_id) for h in _checked(snapshot).handovers]
    assert moves == [("usual-dee", "dee", "bob")]
    first = _checked(snapshot, HandoverSettings(choices_per_call=1)).handovers
    assert [(h.package_id, h.from_carer_id, h.to_carer_id) for h in first] == [
        ("usual-ann", "ann", "cat")
    ]


def test_a_referral_costing_more_travel_than_the_cap_is_not_placed() -> None:
    """Handing the usual visit to Bob adds his 2-minute round trip for the new client's hour
    of care: placed under a cap of 5 minutes per care hour, not under a cap of 1."""
    assert _checked(_world(), HandoverSettings(max_travel_per_care_hour=5)).placed == {
        "new": "prov-a"
    }
    capped = _checked(_world(), HandoverSettings(max_travel_per_care_hour=1))
    assert capped.placed == {} and capped.handovers == []


def test_a_negative_travel_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="handover_max_travel_per_care_hour"):
        ReoptimiseOptions(handover_max_travel_per_care_hour=-1)
