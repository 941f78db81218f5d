"""``/v1/carers``: care workers, their shifts and daily capacity, and their runs.

Admins manage every carer; a provider key manages its own provider's carers; brokers read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.model import DAYS, Carer
from api.deps import AnyKey, ServicesDep, SessionDep, WriteTx
from api.problems import ConflictError, ForbiddenError, NotFoundError
from api.routes._common import IfMatch, Responses, check_if_match, merged
from api.runs import new_violations, raise_for_violations
from api.schemas import CarerPublic, CarerRuns, CarerUpdate, RunStop
from api.security import Principal, Role
from api.tables import CarerRow

router = APIRouter(prefix="/v1/carers", tags=["providers and carers"])

_NOT_FOUND: Responses = {404: {"description": "No such carer for this key."}}


def _public(row: CarerRow) -> CarerPublic:
    return CarerPublic(**row.body, version=row.version)


def _row(session: Session, principal: Principal, carer_id: str) -> CarerRow:
    row = session.get(CarerRow, (principal.tenant_id, carer_id))
    if row is None or not principal.sees_provider(row.provider_id):
        msg = f"no carer {carer_id!r}"
        raise NotFoundError(msg)
    return row


def _may_manage(principal: Principal, provider_id: str) -> None:
    if principal.role is Role.BROKER:
        msg = "brokers read carers; an admin or the carer's provider manages them"
        raise ForbiddenError(msg)
    if not principal.sees_provider(provider_id):
        msg = "a provider key manages only its own provider's carers"
        raise ForbiddenError(msg)


@router.get("", response_model=list[CarerPublic])
def list_carers(
    principal: AnyKey,
    session: SessionDep,
    provider_id: Annotated[str | None, Query(description="Only this provider's carers.")] = None,
) -> list[CarerPublic]:
    """Carers of the council (a provider key sees only its own)."""
    stmt = select(CarerRow).where(CarerRow.tenant_id == principal.tenant_id)
    if provider_id is not None:
        stmt = stmt.where(CarerRow.provider_id == provider_id)
    rows = session.scalars(stmt.order_by(CarerRow.id))
    return [_public(r) for r in rows if principal.sees_provider(r.provider_id)]


@router.get("/{carer_id}", response_model=CarerPublic, responses=_NOT_FOUND)
def get_carer(carer_id: str, principal: AnyKey, session: SessionDep) -> CarerPublic:
    """One carer."""
    return _public(_row(session, principal, carer_id))


@router.get("/{carer_id}/runs", response_model=CarerRuns, responses=_NOT_FOUND)
def get_runs(
    carer_id: str, principal: AnyKey, services: ServicesDep, session: SessionDep
) -> CarerRuns:
    """The carer's weekly runs: each day's visits in time order, with the shifts."""
    row = _row(session, principal, carer_id)
    data = services.cache.data(session, principal.tenant_id)
    runs: dict[str, list[RunStop]] = {day: [] for day in DAYS}
    for package in data.packages.values():
        visits = {v.id: v for v in package.visits}
        for a in package.assignments:
            if carer_id in a.carer_ids:
                visit = visits[a.visit_id]
                runs[a.day].append(
                    RunStop(
                        package_id=package.id,
                        visit_id=visit.id,
                        label=visit.label,
                        start_min=a.start_min,
                        end_min=a.start_min + visit.duration_min,
                        location=package.location,
                        carer_ids=a.carer_ids,
                    )
                )
    for stops in runs.values():
        stops.sort(key=lambda s: (s.start_min, s.package_id))
    carer = Carer.model_validate(row.body)
    return CarerRuns(
        carer_id=carer_id,
        provider_id=row.provider_id,
        runs=runs,
        shifts=carer.shifts,
    )


@router.post(
    "",
    status_code=201,
    response_model=CarerPublic,
    responses={409: {"description": "A carer with this id exists."}},
)
def create_carer(body: Carer, principal: AnyKey, tx: WriteTx) -> Response:
    """Add a carer (an admin, or a provider key for its own provider)."""
    _may_manage(principal, body.provider_id)
    data = tx.data()
    if body.id in data.carers:
        msg = f"carer {body.id!r} already exists; update it with PATCH"
        raise ConflictError(msg)
    after = data.with_item("carers", body).check(())
    row = CarerRow(
        tenant_id=principal.tenant_id,
        id=body.id,
        provider_id=body.provider_id,
        body=body.model_dump(mode="json"),
    )
    tx.session.add(row)
    tx.audit("carer.create", body.id, inputs=body)
    tx.session.flush()
    return tx.commit(_public(row), status_code=201, data=after)


@router.patch("/{carer_id}", response_model=CarerPublic, responses=_NOT_FOUND)
def update_carer(
    carer_id: str, body: CarerUpdate, principal: AnyKey, tx: WriteTx, if_match: IfMatch = None
) -> Response:
    """Change a carer's shifts, daily maximum, skills, base, gender or travel mode.

    Refused with 422 when the carer's existing runs would no longer fit (a shift removed
    under a visit, say): move those visits first.
    """
    row = _row(tx.session, principal, carer_id)
    _may_manage(principal, row.provider_id)
    check_if_match("carer", carer_id, row.version, if_match)
    updated = merged(Carer, Carer.model_validate(row.body), body)
    data = tx.data()
    after = data.with_item("carers", updated).check(())
    raise_for_violations(
        new_violations(data, after, tx.supplied_travel, carers=frozenset({carer_id}))
    )
    row.body = updated.model_dump(mode="json")
    row.version += 1
    tx.audit("carer.update", carer_id, inputs=body.model_dump(exclude_unset=True))
    return tx.commit(_public(row), data=after)
