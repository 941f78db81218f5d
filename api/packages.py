"""Reading and changing package rows on behalf of a caller, shared by the package routes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.model import Assignment, Package
from api.problems import NotFoundError
from api.schemas import PackagePublic
from api.security import Principal, Role
from api.states import State, check_transition
from api.tables import PackageRow, utcnow


def visible(row: PackageRow, principal: Principal) -> bool:
    """Provider keys see packages placed with, or offered to, their provider."""
    if principal.role is not Role.PROVIDER:
        return True
    return principal.provider_id in {row.provider_id, row.offer_provider_id}


def get_row(
    session: Session, principal: Principal, package_id: str, *, lock: bool = False
) -> PackageRow:
    """The package row, or 404 when it does not exist for this caller."""
    stmt = select(PackageRow).where(
        PackageRow.tenant_id == principal.tenant_id, PackageRow.id == package_id
    )
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None or not visible(row, principal):
        msg = f"no package {package_id!r}"
        raise NotFoundError(msg)
    return row


def received_row(tenant_id: str, package: Package) -> PackageRow:
    """A new waiting referral's row, in state ``received``."""
    now = utcnow()
    return PackageRow(
        tenant_id=tenant_id,
        id=package.id,
        state=State.RECEIVED.value,
        body=package.model_dump(mode="json"),
        version=1,
        created_at=now,
        updated_at=now,
    )


def to_public(row: PackageRow) -> PackagePublic:
    """The wire form of a package row."""
    package = Package.model_validate(row.body)
    proposed = (row.offer or {}).get("assignments") or []
    # The package is validated once; building the wire form from its fields as they are
    # (instead of dumping and validating them again) halves the cost of listing packages.
    fields = {name: getattr(package, name) for name in type(package).model_fields}
    return PackagePublic.model_construct(
        **fields,
        state=State(row.state),
        version=row.version,
        offered_to_provider_id=row.offer_provider_id,
        proposed_assignments=[Assignment.model_validate(a) for a in proposed],
        hours_per_week=round(package.weekly_hours, 3),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def move(
    row: PackageRow,
    target: State,
    *,
    body: dict[str, Any] | None = None,
    provider_id: str | None = None,
    offer_provider_id: str | None = None,
    offer: dict[str, Any] | None = None,
) -> str:
    """Apply an allowed transition to ``row`` (409 otherwise); returns the previous state."""
    check_transition(row.id, row.state, target)
    previous = row.state
    row.state = target.value
    if body is not None:
        row.body = body
    row.provider_id = provider_id
    row.offer_provider_id = offer_provider_id
    row.offer = offer
    row.version += 1
    row.updated_at = utcnow()
    return previous
