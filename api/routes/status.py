"""The status page for brokers who would rather look than read: ``GET /status``.

The page is static (HTML, CSS, a small script, no external resources, so it works without
internet); it asks for a key and draws ``GET /v1/status/overview`` as a table of waiting hours
by lot and an inline SVG map of lots, placed clients and waiting referrals.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import ServicesDep, SessionDep, Staff
from api.schemas import StatusDot, StatusLot, StatusOverview, StatusProvider
from api.tables import Tenant

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["status page"])

_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/status", include_in_schema=False)
def status_page() -> FileResponse:
    """The HTML status page (it loads its data with the key typed into it)."""
    return FileResponse(STATIC / "status.html", media_type="text/html", headers=_SECURITY_HEADERS)


@router.get("/v1/status/overview", response_model=StatusOverview)
def overview(principal: Staff, services: ServicesDep, session: SessionDep) -> StatusOverview:
    """Lots with waiting hours, providers, placed clients and waiting referrals ([lon, lat])."""
    data = services.cache.data(session, principal.tenant_id)
    tenant = session.get(Tenant, principal.tenant_id)
    hours: dict[str | None, float] = defaultdict(float)
    counts: dict[str | None, int] = defaultdict(int)
    for referral in data.referrals.values():
        hours[referral.lot_id] += referral.weekly_hours
        counts[referral.lot_id] += 1
    providers = sorted(data.providers.values(), key=lambda p: p.name)
    lots = [
        StatusLot(
            id=lot.id,
            name=lot.name,
            polygon=lot.polygon,
            waiting_packages=counts[lot.id],
            waiting_hours=round(hours[lot.id], 2),
            provider_names=[p.name for p in providers if lot.id in p.lot_ids],
        )
        for lot in sorted(data.lots.values(), key=lambda lot: lot.name)
    ]
    lot_names = {lot.id: lot.name for lot in data.lots.values()}
    return StatusOverview(
        council=tenant.name if tenant else principal.tenant_id,
        waiting_hours=round(sum(hours.values()), 2),
        lots=lots,
        providers=[
            StatusProvider(id=p.id, name=p.name, lot_names=[lot_names.get(i, i) for i in p.lot_ids])
            for p in providers
        ],
        placed=[
            StatusDot(
                package_id=p.id,
                location=p.location,
                hours_per_week=round(p.weekly_hours, 2),
                provider_id=p.provider_id,
                provider_name=data.providers[p.provider_id].name if p.provider_id else None,
            )
            for p in sorted(data.packages.values(), key=lambda p: p.id)
        ],
        waiting=[
            StatusDot(
                package_id=r.id,
                location=r.location,
                hours_per_week=round(r.weekly_hours, 2),
                urgency=r.urgency,
            )
            for r in sorted(data.referrals.values(), key=lambda r: r.id)
        ],
    )
