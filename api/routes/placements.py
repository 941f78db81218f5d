"""``POST /v1/placements``: place referrals with providers, all or nothing.

Each referral is placed with a provider and runs (given, or those of the accepted offer). The
evaluator checks the runs of all of them together against every carer day they touch, so two
referrals in one request cannot take the same gap; the council's write lock makes concurrent
requests queue, and a referral already placed is refused with 409, so one referral is never
placed twice. The whole request is one transaction: nothing is half-placed.
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Response

from allocator.model import Assignment, Placement, Problem, Unplaced
from api.deps import Staff, Tx, WriteTx
from api.errors import NotBuiltYetError
from api.packages import get_row, move, to_public
from api.problems import ConflictError, UnprocessableError
from api.runs import new_violations, raise_for_violations, travel_for
from api.schemas import PlacementItem, PlacementRequest, PlacementResult
from api.states import State, check_transition
from api.tables import PackageRow
from api.tenants import TenantData

router = APIRouter(prefix="/v1/placements", tags=["placements"])


def _placement(row: PackageRow, item: PlacementItem, index: int) -> Placement:
    where = f"placements[{index}]"
    check_transition(row.id, row.state, State.PLACED)
    accepted = row.state == State.ACCEPTED.value
    provider_id = item.provider_id
    if accepted:
        if provider_id is not None and provider_id != row.offer_provider_id:
            msg = (
                f"referral {row.id} was accepted by {row.offer_provider_id}; place it with them "
                "or withdraw it and offer again"
            )
            raise ConflictError(msg)
        provider_id = row.offer_provider_id
    if provider_id is None:
        msg = f"say which provider takes referral {row.id}"
        raise UnprocessableError(msg, [Problem(path=f"{where}.provider_id", message="is required")])
    assignments = item.assignments
    if assignments is None and accepted:
        proposed = (row.offer or {}).get("assignments") or []
        assignments = [Assignment.model_validate(a) for a in proposed] or None
    if assignments is None:
        msg = f"give the runs for referral {row.id} (the assignments of its offer)"
        raise UnprocessableError(msg, [Problem(path=f"{where}.assignments", message="is required")])
    return Placement(package_id=row.id, provider_id=provider_id, assignments=assignments)


@router.post(
    "",
    status_code=201,
    response_model=PlacementResult,
    responses={
        404: {"description": "A referral does not exist."},
        409: {"description": "A referral is not in a state that can be placed."},
        422: {"description": "The runs break a hard rule; nothing was placed."},
        501: {"description": "This server has no joint placement."},
    },
)
def place(body: PlacementRequest, principal: Staff, tx: WriteTx) -> Response:
    """Place one referral or several together; all are placed, or none.

    With ``placements`` each referral comes with its provider and runs (or those it accepted).
    With ``referral_ids`` the joint placement decides providers and runs for all of them at
    once, so two referrals do not claim the same gap; those it cannot place come back under
    ``unplaced`` with a reason, and stay waiting.
    """
    if bool(body.placements) == bool(body.referral_ids):
        msg = "give either 'placements' (each with provider and runs) or 'referral_ids'"
        raise UnprocessableError(
            msg, [Problem(path="placements/referral_ids", message="exactly one is needed")]
        )
    ids = [p.referral_id for p in body.placements] or body.referral_ids
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        msg = "each referral may appear once"
        raise UnprocessableError(
            msg, [Problem(path="placements", message=f"{r} appears twice") for r in repeated]
        )
    rows = {rid: get_row(tx.session, principal, rid, lock=True) for rid in ids}
    data = tx.data()
    unplaced: list[Unplaced] = []
    if body.placements:
        changes = {
            item.referral_id: _placement(rows[item.referral_id], item, i)
            for i, item in enumerate(body.placements)
        }
    else:
        changes, unplaced = _joint(tx, rows, data)
    placing = frozenset(changes)
    raise_for_violations(
        new_violations(data, data, tx.supplied_travel, changes=changes, placing=placing)
    )
    after = data
    for package_id, placement in changes.items():
        row = rows[package_id]
        package = data.referrals[package_id].model_copy(
            update={"provider_id": placement.provider_id, "assignments": placement.assignments}
        )
        offer = row.offer
        previous = move(
            row,
            State.PLACED,
            body=package.model_dump(mode="json"),
            provider_id=placement.provider_id,
        )
        after = after.without_item("referrals", package_id).with_item("packages", package)
        tx.event(package_id, previous, State.PLACED.value, provider_id=placement.provider_id)
        tx.audit(
            "referral.place",
            package_id,
            inputs=placement,
            why={
                "previous_state": previous,
                "offer": offer,
                "joint_placement": bool(body.referral_ids),
                "ranking": tx.ranking(package_id),
            },
            outcome={"provider_id": placement.provider_id, "visits": len(placement.assignments)},
        )
    after.check(set(changes))
    result = PlacementResult(
        placed=[to_public(rows[p]) for p in changes],
        unplaced=[u.model_dump(mode="json") for u in unplaced],
    )
    return tx.commit(result, status_code=201, data=after)


def _joint(
    tx: Tx, rows: dict[str, PackageRow], data: TenantData
) -> tuple[dict[str, Placement], list[Unplaced]]:
    """The joint placement's plan for the referrals of ``rows``."""
    batch = tx.services.solvers.batch
    if batch is None:
        msg = (
            "this server was started without the joint placement (choosing providers and runs "
            "for several referrals at once); place each with its provider and runs under "
            "'placements'"
        )
        raise NotBuiltYetError(msg)
    for row in rows.values():
        check_transition(row.id, row.state, State.PLACED)
        if row.state == State.ACCEPTED.value:
            msg = (
                f"referral {row.id} was accepted by {row.offer_provider_id}; place it with them "
                "under 'placements'"
            )
            raise ConflictError(msg)
    snapshot = data.snapshot
    plan = batch(snapshot, travel_for(snapshot, tx.supplied_travel), list(rows))
    changes = {}
    for referral_id in rows:
        placement = plan.placement(referral_id)
        if placement is not None:
            changes[referral_id] = placement
    unplaced = [u for u in plan.unplaced if u.package_id in rows and u.package_id not in changes]
    return changes, unplaced
