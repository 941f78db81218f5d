"""Tiny instances whose right answer is obvious by construction.

Places lie on a straight east-west "road" along latitude 56.0, one kilometre apart per
0.016 degrees of longitude; driving takes one minute per kilometre and walking twelve.
``place(3)`` is three minutes' drive east of ``place(0)``, so every expected travel figure in a
test can be worked out in one's head.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from allocator.model import DAYS, Placement, Plan, ReasonCode, Snapshot, SolverInfo, Unplaced
from allocator.travel import TravelMatrix

ORIGIN_LON = -5.5
LAT = 56.0
DEG_PER_KM = 0.016
WALK_MIN_PER_KM = 12.0


def place(km: float) -> tuple[float, float]:
    """The point ``km`` kilometres east of the origin, as ``(lon, lat)``."""
    return (round(ORIGIN_LON + km * DEG_PER_KM, 6), LAT)


def km_of(point: tuple[float, float]) -> float:
    """Kilometres east of the origin of a point made by :func:`place`."""
    return round((point[0] - ORIGIN_LON) / DEG_PER_KM, 6)


def line_travel(
    points: list[tuple[float, float]], unreachable: set[tuple[float, float]] | None = None
) -> TravelMatrix:
    """Drive 1 min/km, walk 12 min/km along the line; ``unreachable`` points have no route."""
    xs = np.array([km_of(p) for p in points])
    km = np.abs(xs[:, None] - xs[None, :])
    drive = km.copy()
    walk = km * WALK_MIN_PER_KM
    for p in unreachable or set():
        i = points.index(p)
        for m in (drive, walk):
            m[i, :] = np.inf
            m[:, i] = np.inf
            m[i, i] = 0.0
    return TravelMatrix(
        points=tuple(points), minutes={"drive": drive, "walk": walk}, km={"drive": km, "walk": km}
    )


def snapshot_travel(
    snapshot: Snapshot, unreachable: set[tuple[float, float]] | None = None
) -> TravelMatrix:
    """Line travel for every point of ``snapshot``."""
    return line_travel(snapshot.points(), unreachable)


def shifts(start_min: int, end_min: int, days: tuple[str, ...] = DAYS) -> list[dict[str, Any]]:
    """The same shift on each of ``days``."""
    return [{"day": d, "start_min": start_min, "end_min": end_min} for d in days]


def carer(
    carer_id: str,
    provider_id: str = "prov-a",
    at_km: float = 0,
    *,
    start_min: int = 420,
    end_min: int = 1320,
    days: tuple[str, ...] = DAYS,
    **extra: Any,
) -> dict[str, Any]:
    """A carer based ``at_km`` with one shift a day."""
    return {
        "id": carer_id,
        "provider_id": provider_id,
        "base": list(place(at_km)),
        "shifts": shifts(start_min, end_min, days),
        **extra,
    }


def visit(
    visit_id: str = "v1",
    earliest: int = 540,
    latest: int = 600,
    duration: int = 30,
    days: tuple[str, ...] = ("mon",),
    **extra: Any,
) -> dict[str, Any]:
    """One visit in a weekly pattern."""
    return {
        "id": visit_id,
        "days": list(days),
        "earliest_start_min": earliest,
        "latest_start_min": latest,
        "duration_min": duration,
        **extra,
    }


def package(
    package_id: str,
    at_km: float,
    visits: list[dict[str, Any]] | None = None,
    *,
    lot_id: str | None = "lot-1",
    provider_id: str | None = None,
    assignments: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A package at ``at_km``; placed when ``provider_id`` is given."""
    data: dict[str, Any] = {
        "id": package_id,
        "client_ref": f"client-{package_id}",
        "location": list(place(at_km)),
        "lot_id": lot_id,
        "start_date": "2026-12-01",
        "waiting_since": "2026-11-20T09:00:00Z",
        "visits": visits or [visit()],
        **extra,
    }
    if provider_id is not None:
        data["provider_id"] = provider_id
        data["assignments"] = assignments or []
    return data


def provider(
    provider_id: str = "prov-a", lots: tuple[str, ...] = ("lot-1",), **extra: Any
) -> dict[str, Any]:
    """A provider holding ``lots`` at £25 an hour."""
    return {
        "id": provider_id,
        "name": f"Provider {provider_id}",
        "lot_ids": list(lots),
        "hourly_rate_gbp": 25.0,
        **extra,
    }


def snapshot_data(
    *,
    providers: list[dict[str, Any]] | None = None,
    carers: list[dict[str, Any]] | None = None,
    packages: list[dict[str, Any]] | None = None,
    referrals: list[dict[str, Any]] | None = None,
    lots: list[dict[str, Any]] | None = None,
    skills: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A snapshot as decoded JSON, with one lot and one provider unless told otherwise."""
    return {
        "name": "tiny",
        "skills": skills or ["medication", "hoist"],
        "lots": lots or [{"id": "lot-1", "name": "Lot One"}, {"id": "lot-2", "name": "Lot Two"}],
        "providers": providers or [provider()],
        "carers": carers or [],
        "packages": packages or [],
        "referrals": referrals or [],
        **extra,
    }


def make_snapshot(**kwargs: Any) -> Snapshot:
    """A validated :class:`Snapshot` built by :func:`snapshot_data`."""
    return Snapshot.model_validate(snapshot_data(**kwargs))


def plan_data(
    placements: list[dict[str, Any]], unplaced: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A plan as decoded JSON."""
    return {
        "snapshot_name": "tiny",
        "created_at": dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC).isoformat(),
        "solver": {"name": "test"},
        "placements": placements,
        "unplaced": unplaced or [],
    }


def current_plan(snap: Snapshot) -> Plan:
    """Today's runs as a plan: every placed package as it stands, referrals waiting."""
    return Plan(
        snapshot_name=snap.name,
        created_at=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC),
        solver=SolverInfo(name="today"),
        placements=[
            Placement(package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments)
            for p in snap.packages
        ],
        unplaced=[
            Unplaced(
                package_id=r.id,
                reason_code=ReasonCode.NO_CAPACITY,
                reason="waiting",
                weekly_hours=round(r.weekly_hours, 2),
            )
            for r in snap.referrals
        ],
    )
