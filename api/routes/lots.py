"""``/v1/lots``: the council's framework lots (read-only; they arrive with an import)."""

from __future__ import annotations

from fastapi import APIRouter

from allocator.model import Lot
from api.deps import AnyKey, ServicesDep, SessionDep
from api.problems import NotFoundError

router = APIRouter(prefix="/v1/lots", tags=["lots"])


@router.get("", response_model=list[Lot])
def list_lots(principal: AnyKey, services: ServicesDep, session: SessionDep) -> list[Lot]:
    """Every lot of the framework, with its polygon ([lon, lat]) and neighbours."""
    data = services.cache.data(session, principal.tenant_id)
    return sorted(data.lots.values(), key=lambda lot: lot.id)


@router.get("/{lot_id}", response_model=Lot, responses={404: {"description": "No such lot."}})
def get_lot(lot_id: str, principal: AnyKey, services: ServicesDep, session: SessionDep) -> Lot:
    """One lot."""
    lot = services.cache.data(session, principal.tenant_id).lots.get(lot_id)
    if lot is None:
        msg = f"no lot {lot_id!r}"
        raise NotFoundError(msg)
    return lot
