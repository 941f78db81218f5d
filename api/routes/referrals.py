"""``/v1/referrals``: packages of care waiting for a provider, and their state machine.

received -> offered (to one provider) -> accepted or declined by that provider -> placed
(``POST /v1/placements``) -> ended (``POST /v1/packages/{id}/end``); withdrawn while waiting.
See :mod:`api.states`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from allocator.model import Package, Problem, Urgency
from api.deps import AnyKey, ServicesDep, SessionDep, Staff, WriteTx
from api.errors import NotBuiltYetError
from api.packages import get_row, move, received_row, to_public, visible
from api.problems import ConflictError, ForbiddenError, UnprocessableError
from api.routes._common import MAX_ROW_ID, IfMatch, Responses, check_if_match, merged
from api.schemas import (
    Acceptance,
    HistoryEntry,
    OfferList,
    OfferToProvider,
    PackageList,
    PackagePublic,
    ReasonBody,
    ReferralCreate,
    ReferralUpdate,
)
from api.security import Principal, Role
from api.states import EDITABLE, WAITING, State
from api.tables import PackageEvent, PackageRow, utcnow

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

_NOT_FOUND: Responses = {404: {"description": "No such referral for this key."}}
_CONFLICT: Responses = {409: {"description": "Not allowed from the referral's current state."}}
_WAITING_STATES = sorted(s.value for s in WAITING)


@router.get("", response_model=PackageList)
def waiting_list(
    principal: AnyKey,
    session: SessionDep,
    state: Annotated[
        list[State] | None, Query(description="States to list; the waiting ones by default.")
    ] = None,
    lot_id: str | None = None,
    urgency: Urgency | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> PackageList:
    """The waiting list: most urgent first, then longest waiting.

    A provider key sees only the referrals offered to (or accepted by) its provider.
    """
    states = [s.value for s in state] if state else _WAITING_STATES
    stmt = select(PackageRow).where(
        PackageRow.tenant_id == principal.tenant_id, PackageRow.state.in_(states)
    )
    if principal.role is Role.PROVIDER:
        stmt = stmt.where(PackageRow.offer_provider_id == principal.provider_id)
    rows = [to_public(r) for r in session.scalars(stmt)]
    if lot_id is not None:
        rows = [r for r in rows if r.lot_id == lot_id]
    if urgency is not None:
        rows = [r for r in rows if r.urgency == urgency]
    rows.sort(key=lambda r: (r.urgency.priority, r.waiting_since, r.id))
    return PackageList(items=rows[offset : offset + limit], total=len(rows))


@router.post(
    "",
    status_code=201,
    response_model=PackagePublic,
    responses={409: {"description": "A package with this id exists."}},
)
def create_referral(body: ReferralCreate, principal: Staff, tx: WriteTx) -> Response:
    """Receive a new referral; it joins the waiting list in state ``received``."""
    exists = tx.session.scalar(
        select(func.count())
        .select_from(PackageRow)
        .where(PackageRow.tenant_id == principal.tenant_id, PackageRow.id == body.id)
    )
    if exists:
        msg = f"package {body.id!r} already exists; update it with PATCH"
        raise ConflictError(msg)
    data = tx.data()
    fields = body.model_dump(exclude_unset=True)
    fields.setdefault("waiting_since", utcnow())
    package = data.complete(Package.model_validate(fields))
    after = data.with_item("referrals", package).check({package.id})
    row = received_row(principal.tenant_id, package)
    tx.session.add(row)
    tx.event(package.id, None, State.RECEIVED.value)
    tx.audit("referral.create", package.id, inputs=body.model_dump(mode="json"))
    tx.session.flush()
    return tx.commit(to_public(row), status_code=201, data=after)


@router.get("/{referral_id}", response_model=PackagePublic, responses=_NOT_FOUND)
def get_referral(referral_id: str, principal: AnyKey, session: SessionDep) -> PackagePublic:
    """One referral (or package), in whatever state it is."""
    return to_public(get_row(session, principal, referral_id))


@router.get("/{referral_id}/history", response_model=list[HistoryEntry], responses=_NOT_FOUND)
def history(referral_id: str, principal: AnyKey, session: SessionDep) -> list[HistoryEntry]:
    """Every step of the referral's life, oldest first."""
    get_row(session, principal, referral_id)
    events = session.scalars(
        select(PackageEvent)
        .where(
            PackageEvent.tenant_id == principal.tenant_id, PackageEvent.package_id == referral_id
        )
        .order_by(PackageEvent.id)
    )
    return [
        HistoryEntry(
            at=e.at,
            from_state=State(e.from_state) if e.from_state else None,
            to_state=State(e.to_state),
            provider_id=e.provider_id,
            role=e.role,
            key_id=e.key_id,
            note=e.note,
        )
        for e in events
    ]


@router.patch("/{referral_id}", response_model=PackagePublic, responses={**_NOT_FOUND, **_CONFLICT})
def update_referral(
    referral_id: str,
    body: ReferralUpdate,
    principal: Staff,
    tx: WriteTx,
    if_match: IfMatch = None,
) -> Response:
    """Change a waiting referral's details (while no offer is out with a provider)."""
    row = get_row(tx.session, principal, referral_id, lock=True)
    check_if_match("referral", referral_id, row.version, if_match)
    if State(row.state) not in EDITABLE:
        msg = (
            f"referral {referral_id} is {row.state}; its details can change only while "
            f"{' or '.join(sorted(s.value for s in EDITABLE))} (withdraw the offer first)"
        )
        raise ConflictError(msg)
    current = Package.model_validate(row.body)
    if body.location is not None and body.location != current.location:
        # A new address may be in another lot and locality, unless the update says which.
        current = current.model_copy(
            update={"lot_id": None if body.lot_id is None else body.lot_id, "locality": None}
        )
    updated = tx.data().complete(merged(Package, current, body))
    after = tx.data().with_item("referrals", updated).check({referral_id})
    row.body = updated.model_dump(mode="json")
    row.version += 1
    row.updated_at = utcnow()
    tx.event(referral_id, row.state, row.state, note="details updated")
    tx.audit(
        "referral.update", referral_id, inputs=body.model_dump(mode="json", exclude_unset=True)
    )
    return tx.commit(to_public(row), data=after)


@router.post(
    "/{referral_id}/withdraw", response_model=PackagePublic, responses={**_NOT_FOUND, **_CONFLICT}
)
def withdraw(referral_id: str, body: ReasonBody, principal: Staff, tx: WriteTx) -> Response:
    """Take a waiting referral off the list (care no longer needed, or arranged elsewhere)."""
    row = get_row(tx.session, principal, referral_id, lock=True)
    previous = move(row, State.WITHDRAWN)
    after = tx.data().without_item("referrals", referral_id)
    tx.event(referral_id, previous, State.WITHDRAWN.value, note=body.reason)
    tx.audit("referral.withdraw", referral_id, inputs=body, why={"reason": body.reason})
    return tx.commit(to_public(row), data=after)


@router.post(
    "/{referral_id}/offer-to-provider",
    response_model=PackagePublic,
    responses={**_NOT_FOUND, **_CONFLICT},
)
def offer_to_provider(
    referral_id: str, body: OfferToProvider, principal: Staff, tx: WriteTx
) -> Response:
    """Send the referral to one provider to accept or decline (state ``offered``).

    Usually the broker picks an offer from ``POST /v1/referrals/{id}/offers`` and sends its
    provider and assignments here.
    """
    row = get_row(tx.session, principal, referral_id, lock=True)
    data = tx.data()
    if body.provider_id not in data.providers:
        msg = "the provider is not on the framework"
        raise UnprocessableError(
            msg, [Problem(path="provider_id", message=f"unknown provider {body.provider_id!r}")]
        )
    offer = {"assignments": [a.model_dump(mode="json") for a in body.assignments]}
    previous = move(row, State.OFFERED, offer_provider_id=body.provider_id, offer=offer)
    tx.event(
        referral_id, previous, State.OFFERED.value, provider_id=body.provider_id, note=body.note
    )
    tx.audit(
        "referral.offer_to_provider",
        referral_id,
        inputs=body,
        why={
            "note": body.note,
            "proposed_assignments": len(body.assignments),
            "ranking": tx.ranking(referral_id),
        },
    )
    return tx.commit(to_public(row))


@router.post(
    "/{referral_id}/accept", response_model=PackagePublic, responses={**_NOT_FOUND, **_CONFLICT}
)
def accept(referral_id: str, body: Acceptance, principal: AnyKey, tx: WriteTx) -> Response:
    """The provider takes the package (a provider key, or a broker recording its answer).

    The provider may give its own runs; otherwise the proposed ones stand.
    """
    row = get_row(tx.session, principal, referral_id, lock=True)
    provider_id = _answering_provider(row, principal)
    offer = dict(row.offer or {})
    if body.assignments is not None:
        offer["assignments"] = [a.model_dump(mode="json") for a in body.assignments]
    previous = move(row, State.ACCEPTED, offer_provider_id=provider_id, offer=offer)
    tx.event(referral_id, previous, State.ACCEPTED.value, provider_id=provider_id, note=body.note)
    tx.audit("referral.accept", referral_id, inputs=body, why={"note": body.note})
    return tx.commit(to_public(row))


@router.post(
    "/{referral_id}/decline", response_model=PackagePublic, responses={**_NOT_FOUND, **_CONFLICT}
)
def decline(referral_id: str, body: ReasonBody, principal: AnyKey, tx: WriteTx) -> Response:
    """The provider cannot take the package; it stays on the waiting list (``declined``)."""
    row = get_row(tx.session, principal, referral_id, lock=True)
    provider_id = _answering_provider(row, principal)
    previous = move(row, State.DECLINED)
    tx.event(referral_id, previous, State.DECLINED.value, provider_id=provider_id, note=body.reason)
    tx.audit("referral.decline", referral_id, inputs=body, why={"reason": body.reason})
    return tx.commit(to_public(row))


def _answering_provider(row: PackageRow, principal: Principal) -> str | None:
    if principal.role is Role.ADMIN or principal.role is Role.BROKER:
        return row.offer_provider_id
    if not visible(row, principal):
        msg = "only the provider the referral was offered to can answer"
        raise ForbiddenError(msg)
    return principal.provider_id


@router.post(
    "/{referral_id}/offers",
    response_model=OfferList,
    responses={**_NOT_FOUND, **_CONFLICT, 501: {"description": "This server has no offer engine."}},
)
def ranked_offers(
    referral_id: str,
    principal: Staff,
    services: ServicesDep,
    session: SessionDep,
    feasible_only: bool = False,
) -> Response:
    """Rank every provider for the referral: feasible ones by added cost, the others with the
    reason they cannot take it. Commits nothing."""
    data = services.cache.data(session, principal.tenant_id)
    referral = data.referrals.get(referral_id)
    if referral is None:
        # Not waiting: say whether it exists at all (404) or is past waiting (409).
        row = get_row(session, principal, referral_id)
        msg = f"referral {referral_id} is {row.state}; offers are for waiting referrals"
        raise ConflictError(msg)
    engine = services.solvers.offers
    if engine is None:
        msg = (
            "this server was started without an offer engine (ranked offers: which providers' "
            "runs can absorb the package, at what added travel and cost)"
        )
        raise NotBuiltYetError(msg)
    prepared = services.prepared.get(engine, services.cache, session, data)
    offers = prepared.offers(engine, referral)
    services.rankings.remember(data, referral_id, offers)
    if feasible_only:
        offers = [o for o in offers if o.feasible]
    # Serialised here: the offers are the core's own validated models.
    body = OfferList(referral_id=referral_id, offers=offers).model_dump_json()
    return Response(body, media_type="application/json")
