"""``GET /v1/reports/waiting``: packages and hours of care waiting, by lot and urgency."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fastapi import APIRouter

from allocator.model import Package, Urgency
from api.deps import ServicesDep, SessionDep, Staff
from api.schemas import WaitingGroup, WaitingReport

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_SECONDS_PER_DAY = 86_400


def waiting_report(referrals: list[Package], as_of: dt.datetime) -> WaitingReport:
    """The weekly waiting figure for ``referrals`` (every package on the waiting list)."""

    def wait_days(p: Package) -> float:
        return max(0.0, (as_of - p.waiting_since).total_seconds() / _SECONDS_PER_DAY)

    groups: dict[tuple[str | None, Urgency], list[Package]] = defaultdict(list)
    for package in referrals:
        groups[(package.lot_id, package.urgency)].append(package)
    rows = []
    for (lot_id, urgency), members in groups.items():
        longest = max(members, key=lambda p: (wait_days(p), p.id))
        rows.append(
            WaitingGroup(
                lot_id=lot_id,
                urgency=urgency,
                packages=len(members),
                hours_per_week=round(sum(p.weekly_hours for p in members), 2),
                longest_wait_days=round(wait_days(longest), 1),
                longest_waiting_package_id=longest.id,
            )
        )
    rows.sort(key=lambda g: (g.lot_id or "", g.urgency.priority))
    by_lot: dict[str, float] = defaultdict(float)
    for package in referrals:
        by_lot[package.lot_id or "unknown"] += package.weekly_hours
    oldest = max(referrals, key=lambda p: (wait_days(p), p.id)) if referrals else None
    return WaitingReport(
        as_of=as_of,
        packages=len(referrals),
        hours_per_week=round(sum(p.weekly_hours for p in referrals), 2),
        longest_wait_days=round(wait_days(oldest), 1) if oldest else None,
        longest_waiting_package_id=oldest.id if oldest else None,
        by_lot={k: round(v, 2) for k, v in sorted(by_lot.items())},
        groups=rows,
    )


@router.get("/waiting", response_model=WaitingReport)
def waiting(
    principal: Staff,
    services: ServicesDep,
    session: SessionDep,
    as_of: dt.datetime | None = None,
) -> WaitingReport:
    """Packages and carer hours a week waiting, by lot and urgency, with the longest wait.

    ``as_of`` (default now) is the moment waits are measured to; every referral received,
    offered, accepted or declined counts as waiting.
    """
    when = as_of or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    data = services.cache.data(session, principal.tenant_id)
    return waiting_report(list(data.referrals.values()), when)
