"""``/v1/packages``: placed packages of care and their runs.

Admins may add a package that is already placed (a client transferring in); brokers and
admins change runs and end packages; a provider key reads its own packages and may rearrange
their runs among its own carers. Every change of runs is checked by the evaluator first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from allocator.model import Package, Placement, Problem
from api.deps import Admin, AnyKey, SessionDep, Staff, WriteTx
from api.packages import get_row, move, to_public
from api.problems import ConflictError, UnprocessableError
from api.routes._common import MAX_ROW_ID, IfMatch, Responses, check_if_match
from api.runs import new_violations, raise_for_violations
from api.schemas import PackageList, PackagePublic, ReasonBody, RunsUpdate
from api.security import Role
from api.states import State
from api.tables import PackageRow, utcnow

router = APIRouter(prefix="/v1/packages", tags=["packages and runs"])

_NOT_FOUND: Responses = {404: {"description": "No such package for this key."}}
_CONFLICT: Responses = {409: {"description": "Not allowed from the package's current state."}}


@router.get("", response_model=PackageList)
def list_packages(
    principal: AnyKey,
    session: SessionDep,
    provider_id: str | None = None,
    state: Annotated[State, Query(description="placed by default")] = State.PLACED,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> PackageList:
    """Packages in one state (placed by default), with their runs; a provider key sees its own."""
    stmt = select(PackageRow).where(
        PackageRow.tenant_id == principal.tenant_id, PackageRow.state == state.value
    )
    if principal.role is Role.PROVIDER:
        provider_id = principal.provider_id
    if provider_id is not None:
        stmt = stmt.where(PackageRow.provider_id == provider_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(PackageRow.id).offset(offset).limit(limit))
    return PackageList(items=[to_public(r) for r in rows], total=total)


@router.get("/{package_id}", response_model=PackagePublic, responses=_NOT_FOUND)
def get_package(package_id: str, principal: AnyKey, session: SessionDep) -> PackagePublic:
    """One package."""
    return to_public(get_row(session, principal, package_id))


@router.post(
    "",
    status_code=201,
    response_model=PackagePublic,
    responses={409: {"description": "A package with this id exists."}},
)
def add_placed_package(body: Package, principal: Admin, tx: WriteTx) -> Response:
    """Record a package that is already placed, with its provider and runs."""
    if body.provider_id is None:
        msg = "a placed package needs its provider; send waiting ones to POST /v1/referrals"
        raise UnprocessableError(msg, [Problem(path="provider_id", message="is required")])
    if tx.session.get(PackageRow, (principal.tenant_id, body.id)) is not None:
        msg = f"package {body.id!r} already exists"
        raise ConflictError(msg)
    data = tx.data()
    after = data.with_item("packages", body).check({body.id})
    placement = Placement(
        package_id=body.id, provider_id=body.provider_id, assignments=body.assignments
    )
    raise_for_violations(
        new_violations(data, after, tx.supplied_travel, changes={body.id: placement})
    )
    now = utcnow()
    row = PackageRow(
        tenant_id=principal.tenant_id,
        id=body.id,
        state=State.PLACED.value,
        provider_id=body.provider_id,
        body=body.model_dump(mode="json"),
        version=1,
        created_at=now,
        updated_at=now,
    )
    tx.session.add(row)
    tx.event(body.id, None, State.PLACED.value, provider_id=body.provider_id, note="recorded")
    tx.audit("package.create", body.id, inputs=body)
    tx.session.flush()
    return tx.commit(to_public(row), status_code=201, data=after)


@router.put(
    "/{package_id}/runs",
    response_model=PackagePublic,
    responses={**_NOT_FOUND, **_CONFLICT, 422: {"description": "The runs break a hard rule."}},
)
def update_runs(
    package_id: str, body: RunsUpdate, principal: AnyKey, tx: WriteTx, if_match: IfMatch = None
) -> Response:
    """Replace a placed package's runs (every visit occurrence), keeping its provider."""
    row = get_row(tx.session, principal, package_id, lock=True)
    check_if_match("package", package_id, row.version, if_match)
    if row.state != State.PLACED.value:
        msg = f"package {package_id} is {row.state}; only a placed package has runs to change"
        raise ConflictError(msg)
    data = tx.data()
    current = data.packages[package_id]
    updated = current.model_copy(update={"assignments": body.assignments})
    placement = Placement(
        package_id=package_id, provider_id=row.provider_id or "", assignments=body.assignments
    )
    raise_for_violations(
        new_violations(data, data, tx.supplied_travel, changes={package_id: placement})
    )
    after = data.with_item("packages", updated).check({package_id})
    row.body = updated.model_dump(mode="json")
    row.version += 1
    row.updated_at = utcnow()
    tx.event(package_id, row.state, row.state, provider_id=row.provider_id, note="runs changed")
    tx.audit(
        "package.runs_update",
        package_id,
        inputs=body,
        why={"note": body.note},
        outcome={"assignments": len(body.assignments)},
    )
    return tx.commit(to_public(row), data=after)


@router.post(
    "/{package_id}/end", response_model=PackagePublic, responses={**_NOT_FOUND, **_CONFLICT}
)
def end_package(package_id: str, body: ReasonBody, principal: Staff, tx: WriteTx) -> Response:
    """End a placed package (care no longer needed); its visits leave the carers' runs."""
    row = get_row(tx.session, principal, package_id, lock=True)
    provider_id = row.provider_id
    previous = move(row, State.ENDED, provider_id=provider_id)
    after = tx.data().without_item("packages", package_id)
    tx.event(package_id, previous, State.ENDED.value, provider_id=provider_id, note=body.reason)
    tx.audit("package.end", package_id, inputs=body, why={"reason": body.reason})
    return tx.commit(to_public(row), data=after)
