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

from allocator.model import Assignment, Placement, Problem
from api.deps import Staff, WriteTx
from api.errors import NotBuiltYetError
from api.packages import get_row, move, to_public
from api.problems import ConflictError, UnprocessableError
from api.runs import new_violations, raise_for_violations
from api.schemas import PlacementItem, PlacementRequest, PlacementResult
from api.states import State, check_transition
from api.tables import PackageRow

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
        501: {"description": "The joint placement is not built yet."},
    },
)
def place(body: PlacementRequest, principal: Staff, tx: WriteTx) -> Response:
    """Place one referral or several together; all are placed, or none."""
    if body.referral_ids:
        msg = (
            "the joint placement (choosing providers and runs for several referrals at once) is "
            "not built yet (issue #4); place each with its provider and runs under 'placements'"
        )
        raise NotBuiltYetError(msg)
    if not body.placements:
        msg = "nothing to place"
        raise UnprocessableError(msg, [Problem(path="placements", message="is empty")])
    repeated = sorted(
        i for i, n in Counter(p.referral_id for p in body.placements).items() if n > 1
    )
    if repeated:
        msg = "each referral may appear once"
        raise UnprocessableError(
            msg, [Problem(path="placements", message=f"{r} appears twice") for r in repeated]
        )
    rows = {
        item.referral_id: get_row(tx.session, principal, item.referral_id, lock=True)
        for item in body.placements
    }
    changes = {
        item.referral_id: _placement(rows[item.referral_id], item, i)
        for i, item in enumerate(body.placements)
    }
    data = tx.data()
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
            why={"previous_state": previous, "offer": offer},
            outcome={"provider_id": placement.provider_id, "visits": len(placement.assignments)},
        )
    after.check(set(changes))
    result = PlacementResult(placed=[to_public(rows[p]) for p in changes])
    return tx.commit(result, status_code=201, data=after)
