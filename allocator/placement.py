"""Shared by sequential and joint placement: applying an offer to the runs, explaining why a
referral stays unplaced, and assembling a complete plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from allocator.model import (
    Assignment,
    Offer,
    Package,
    Placement,
    Plan,
    ReasonCode,
    Snapshot,
    SolverInfo,
    Unplaced,
)
from allocator.offers import Draft
from allocator.runs import RunsView

# What a broker can do about each reason.
NEXT_STEP = {
    ReasonCode.OUTSIDE_LOT: "ask the commissioner whether a provider can work this lot",
    ReasonCode.NO_SKILL: "ask providers whether a carer can be trained for it",
    ReasonCode.NO_CAPACITY: "ask providers about extra hours at those times, or whether the "
    "visit times can move",
    ReasonCode.NO_DOUBLE_UP: "ask providers whether two carers can be paired at that time",
    ReasonCode.GENDER_PREFERENCE: "discuss the carer preference with the client",
    ReasonCode.DECLINED_CARERS: "discuss the declined carers with the client",
    ReasonCode.UNREACHABLE: "check the client's location; no road or ferry reaches it",
    ReasonCode.MAX_WORKING_TIME: "ask providers whether another carer can cover those visits",
    ReasonCode.NO_SHIFT: "ask providers whether a shift can be added at those times",
    ReasonCode.NO_CARERS: "add the provider's carers to carealloc",
    ReasonCode.NOT_SOLVED_IN_TIME: "run the placement again with more time",
    ReasonCode.LOWER_PRIORITY: "it can be offered again after tonight's re-optimisation",
}


def placement_order(referrals: Iterable[Package]) -> list[Package]:
    """Most urgent first (hospital discharges), then longest waiting."""
    return sorted(referrals, key=lambda p: (p.urgency.priority, p.waiting_since, p.id))


def apply_draft(view: RunsView, draft: Draft) -> None:
    """Put a feasible draft's visits into the view's runs."""
    for carer, day, stop in draft.stops:
        view.insert(carer, day, stop)


def draft_placement(package_id: str, draft: Draft) -> Placement:
    """The placement a feasible draft makes."""
    return Placement(
        package_id=package_id, provider_id=draft.provider.id, assignments=draft.assignments
    )


def unplaced_reason(package: Package, offers: list[Offer]) -> Unplaced:
    """Why no provider could take ``package``, from its offers, with a next step."""
    hours = round(package.weekly_hours, 2)
    in_lot = [o for o in offers if o.reason_code is not ReasonCode.OUTSIDE_LOT]
    if not in_lot:
        lot = package.lot_id or "its"
        return Unplaced(
            package_id=package.id,
            reason_code=ReasonCode.OUTSIDE_LOT,
            reason=f"No provider on the framework holds the {lot} lot; "
            f"{NEXT_STEP[ReasonCode.OUTSIDE_LOT]}.",
            weekly_hours=hours,
        )
    closest = in_lot[0]
    code = closest.reason_code or ReasonCode.NO_CAPACITY
    return Unplaced(
        package_id=package.id,
        reason_code=code,
        reason=f"No provider can take every visit. Closest: {closest.explanation} "
        f"Next step: {NEXT_STEP[code]}.",
        weekly_hours=hours,
    )


def with_placed(snapshot: Snapshot, placed: Mapping[str, tuple[str, list[Assignment]]]) -> Snapshot:
    """``snapshot`` with the referrals in ``placed`` (id to provider id and runs) made placed
    packages; other entries of ``placed`` are ignored."""
    new = [
        r.model_copy(update={"provider_id": placed[r.id][0], "assignments": placed[r.id][1]})
        for r in snapshot.referrals
        if r.id in placed
    ]
    return snapshot.model_copy(
        update={
            "packages": [*snapshot.packages, *new],
            "referrals": [r for r in snapshot.referrals if r.id not in placed],
        }
    )


def build_plan(
    snapshot: Snapshot,
    new: Mapping[str, Placement],
    unplaced: list[Unplaced],
    solver: SolverInfo,
) -> Plan:
    """A complete plan: every placed package as it is, the new placements, and the unplaced."""
    placements = [
        Placement(package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments)
        for p in snapshot.packages
    ]
    placements += [new[r.id] for r in snapshot.referrals if r.id in new]
    listed = {p.package_id for p in placements} | {u.package_id for u in unplaced}
    unplaced = list(unplaced)
    for referral in snapshot.referrals:
        if referral.id not in listed:
            unplaced.append(
                Unplaced(
                    package_id=referral.id,
                    reason_code=ReasonCode.NOT_SOLVED_IN_TIME,
                    reason="Not part of this placement run; "
                    f"{NEXT_STEP[ReasonCode.NOT_SOLVED_IN_TIME]}.",
                    weekly_hours=round(referral.weekly_hours, 2),
                )
            )
    return Plan(
        snapshot_name=snapshot.name,
        created_at=dt.datetime.now(dt.UTC),
        solver=solver,
        placements=placements,
        unplaced=unplaced,
        notices=snapshot.notices(),
    )
