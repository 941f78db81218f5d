"""``/v1/providers``: care providers on the framework.

Admins create and update them; brokers read them all; a provider key reads only its own.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.model import Provider
from api.deps import Admin, AnyKey, SessionDep, WriteTx
from api.problems import ConflictError, NotFoundError
from api.routes._common import IfMatch, Responses, check_if_match, merged
from api.schemas import ProviderPublic, ProviderUpdate
from api.security import Principal
from api.tables import ProviderRow

router = APIRouter(prefix="/v1/providers", tags=["providers and carers"])

_NOT_FOUND: Responses = {404: {"description": "No such provider for this key."}}


def _public(row: ProviderRow) -> ProviderPublic:
    return ProviderPublic(**row.body, version=row.version)


def _row(session: Session, principal: Principal, provider_id: str) -> ProviderRow:
    row = session.get(ProviderRow, (principal.tenant_id, provider_id))
    if row is None or not principal.sees_provider(provider_id):
        msg = f"no provider {provider_id!r}"
        raise NotFoundError(msg)
    return row


@router.get("", response_model=list[ProviderPublic])
def list_providers(principal: AnyKey, session: SessionDep) -> list[ProviderPublic]:
    """Providers of the council (a provider key sees only itself)."""
    rows = session.scalars(
        select(ProviderRow)
        .where(ProviderRow.tenant_id == principal.tenant_id)
        .order_by(ProviderRow.id)
    )
    return [_public(r) for r in rows if principal.sees_provider(r.id)]


@router.get("/{provider_id}", response_model=ProviderPublic, responses=_NOT_FOUND)
def get_provider(provider_id: str, principal: AnyKey, session: SessionDep) -> ProviderPublic:
    """One provider."""
    return _public(_row(session, principal, provider_id))


@router.post(
    "",
    status_code=201,
    response_model=ProviderPublic,
    responses={409: {"description": "A provider with this id exists."}},
)
def create_provider(body: Provider, principal: Admin, tx: WriteTx) -> Response:
    """Add a provider to the framework."""
    data = tx.data()
    if body.id in data.providers:
        msg = f"provider {body.id!r} already exists; update it with PATCH"
        raise ConflictError(msg)
    after = data.with_item("providers", body).check(())
    row = ProviderRow(tenant_id=principal.tenant_id, id=body.id, body=body.model_dump(mode="json"))
    tx.session.add(row)
    tx.audit("provider.create", body.id, inputs=body)
    tx.session.flush()
    return tx.commit(_public(row), status_code=201, data=after)


@router.patch("/{provider_id}", response_model=ProviderPublic, responses=_NOT_FOUND)
def update_provider(
    provider_id: str, body: ProviderUpdate, principal: Admin, tx: WriteTx, if_match: IfMatch = None
) -> Response:
    """Change a provider's name, lots, rate or willingness to work adjacent lots."""
    row = _row(tx.session, principal, provider_id)
    check_if_match("provider", provider_id, row.version, if_match)
    updated = merged(Provider, Provider.model_validate(row.body), body)
    after = tx.data().with_item("providers", updated).check(())
    row.body = updated.model_dump(mode="json")
    row.version += 1
    tx.audit("provider.update", provider_id, inputs=body.model_dump(exclude_unset=True))
    return tx.commit(_public(row), data=after)
