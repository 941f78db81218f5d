"""``GET /v1/audit``: the council's decisions, newest first, with filters."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import SessionDep, Staff
from api.routes._common import MAX_ROW_ID
from api.schemas import AuditEntry, AuditPage
from api.tables import AuditRow

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def audit(
    principal: Staff,
    session: SessionDep,
    action: Annotated[str | None, Query(description="e.g. referral.place")] = None,
    subject_id: Annotated[str | None, Query(description="A package, provider or carer id.")] = None,
    key_id: str | None = None,
    role: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Page back from this entry id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Who decided what, when, on what inputs and why."""
    stmt = select(AuditRow).where(AuditRow.tenant_id == principal.tenant_id)
    filters = {
        AuditRow.action: action,
        AuditRow.subject_id: subject_id,
        AuditRow.key_id: key_id,
        AuditRow.role: role,
    }
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditRow.at >= _aware(since))
    if until is not None:
        stmt = stmt.where(AuditRow.at < _aware(until))
    if before_id is not None:
        stmt = stmt.where(AuditRow.id < before_id)
    rows = list(session.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[
            AuditEntry(
                id=r.id,
                at=r.at,
                key_id=r.key_id,
                role=r.role,
                action=r.action,
                subject_id=r.subject_id,
                inputs=r.inputs,
                why=r.why,
                outcome=r.outcome,
            )
            for r in rows
        ],
        next_before_id=rows[-1].id if more and rows else None,
    )


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
