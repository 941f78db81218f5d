"""A council's data as the domain model sees it, cached in memory per data version.

:class:`TenantData` holds validated :mod:`allocator.model` objects (lots, providers, carers,
placed packages, waiting referrals). Building it from the database validates every row, so it
is cached per tenant and rebuilt only when the tenant's ``data_version`` moves (every write
moves it, in any process). A write derives the next :class:`TenantData` from the current one
and checks the cross-references of the whole snapshot before anything is stored; since the
objects in it are already validated this costs only the cross-reference pass.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.io import problems_from_validation_error
from allocator.model import Carer, Costs, Lot, Package, Policy, Problem, Provider, Snapshot
from allocator.travel import FloatMatrix, TravelMatrix
from api.prepare import prepare_snapshot
from api.problems import NotFoundError, UnprocessableError
from api.states import WAITING, State
from api.tables import CarerRow, LotRow, PackageRow, ProviderRow, Tenant, TravelRow
from geodata.errors import GeodataError


@dataclass(frozen=True)
class TenantData:
    """One council's framework, carers, placed packages and waiting referrals."""

    tenant_id: str
    data_version: int
    travel_version: int
    framework_version: int
    name: str
    week_commencing: str | None
    skills: tuple[str, ...]
    costs: Costs
    policy: Policy
    lots: Mapping[str, Lot] = field(default_factory=dict)
    providers: Mapping[str, Provider] = field(default_factory=dict)
    carers: Mapping[str, Carer] = field(default_factory=dict)
    packages: Mapping[str, Package] = field(default_factory=dict)
    referrals: Mapping[str, Package] = field(default_factory=dict)

    def replace(self, **changes: Any) -> TenantData:
        """A copy with some fields changed (the cached snapshot is not carried over)."""
        return dataclasses.replace(self, **changes)

    def with_item(self, kind: str, item: Any) -> TenantData:
        """A copy with ``item`` added to or replacing its id in ``kind`` (e.g. ``"carers"``)."""
        items = dict(getattr(self, kind))
        items[item.id] = item
        return self.replace(**{kind: items})

    def without_item(self, kind: str, item_id: str) -> TenantData:
        """A copy without ``item_id`` in ``kind``."""
        items = dict(getattr(self, kind))
        items.pop(item_id, None)
        return self.replace(**{kind: items})

    @cached_property
    def snapshot(self) -> Snapshot:
        """The whole snapshot (without travel); raises :class:`UnprocessableError` when a
        cross-reference is broken."""
        return self._snapshot(list(self.packages.values()), list(self.referrals.values()))

    def _snapshot(self, packages: list[Package], referrals: list[Package]) -> Snapshot:
        data: dict[str, Any] = {
            "name": self.name,
            "week_commencing": self.week_commencing,
            "skills": list(self.skills),
            "lots": list(self.lots.values()),
            "providers": list(self.providers.values()),
            "carers": list(self.carers.values()),
            "packages": packages,
            "referrals": referrals,
            "costs": self.costs,
            "policy": self.policy,
        }
        try:
            return Snapshot.model_validate(data)
        except ValidationError as error:
            problems = problems_from_validation_error(error)
            detail = "the change would leave the council's data inconsistent"
            if not self.providers:
                detail = "add at least one provider first (POST /v1/providers or /v1/imports)"
            raise UnprocessableError(detail, problems) from None

    def complete(self, package: Package) -> Package:
        """``package`` with its lot (from the council's lot polygons, or the embedded Argyll
        and Bute lots when it has none) and locality filled in where missing.

        Raises :class:`UnprocessableError` for a location outside every lot.
        """
        if package.lot_id is not None and package.locality is not None:
            return package
        alone = Snapshot.model_construct(
            lots=list(self.lots.values()),
            providers=list(self.providers.values()),
            referrals=[package],
        )
        try:
            # Only this package's lot and locality are wanted; the council's providers were
            # checked when they were stored.
            return prepare_snapshot(alone, check_lot_ids=False).referrals[0]
        except GeodataError as error:
            problem = Problem(path="location", message=str(error))
            msg = "the package's lot cannot be worked out from its location"
            raise UnprocessableError(msg, [problem]) from None

    def check(self, package_ids: Collection[str] | None = None) -> TenantData:
        """Raise :class:`UnprocessableError` unless every cross-reference holds; returns self.

        With ``package_ids``, only those packages are checked against the framework: enough
        when nothing else changed, and it costs the same for ten packages or a thousand.
        """
        if not (self.providers or self.carers or self.packages or self.referrals):
            return self
        if package_ids is None:
            _ = self.snapshot
            return self
        self._snapshot(
            [self.packages[i] for i in package_ids if i in self.packages],
            [self.referrals[i] for i in package_ids if i in self.referrals],
        )
        return self


def _load(session: Session, tenant: Tenant) -> TenantData:
    tid = tenant.id
    lots = {r.id: Lot.model_validate(r.body) for r in _rows(session, LotRow, tid)}
    providers = {r.id: Provider.model_validate(r.body) for r in _rows(session, ProviderRow, tid)}
    carers = {r.id: Carer.model_validate(r.body) for r in _rows(session, CarerRow, tid)}
    waiting = [s.value for s in WAITING]
    packages: dict[str, Package] = {}
    referrals: dict[str, Package] = {}
    stmt = select(PackageRow.id, PackageRow.state, PackageRow.body).where(
        PackageRow.tenant_id == tid, PackageRow.state.in_([*waiting, State.PLACED.value])
    )
    for package_id, state, body in session.execute(stmt):
        target = packages if state == State.PLACED else referrals
        target[package_id] = Package.model_validate(body)
    return TenantData(
        tenant_id=tid,
        data_version=tenant.data_version,
        travel_version=tenant.travel_version,
        framework_version=tenant.framework_version,
        name=tenant.snapshot_name,
        week_commencing=tenant.week_commencing,
        skills=tuple(tenant.skills),
        costs=Costs.model_validate(tenant.costs),
        policy=Policy.model_validate(tenant.policy),
        lots=lots,
        providers=providers,
        carers=carers,
        packages=packages,
        referrals=referrals,
    )


def _refresh(session: Session, tenant: Tenant, cached: TenantData) -> TenantData:
    """``cached`` brought up to ``tenant``'s data version by reading only the rows changed
    since (another server process wrote them)."""
    since = cached.data_version
    tid = tenant.id
    providers = dict(cached.providers)
    for row in _changed(session, ProviderRow, tid, since):
        providers[row.id] = Provider.model_validate(row.body)
    carers = dict(cached.carers)
    for row in _changed(session, CarerRow, tid, since):
        carers[row.id] = Carer.model_validate(row.body)
    packages = dict(cached.packages)
    referrals = dict(cached.referrals)
    for row in _changed(session, PackageRow, tid, since):
        packages.pop(row.id, None)
        referrals.pop(row.id, None)
        if row.state == State.PLACED:
            packages[row.id] = Package.model_validate(row.body)
        elif State(row.state) in WAITING:
            referrals[row.id] = Package.model_validate(row.body)
    return cached.replace(
        data_version=tenant.data_version,
        providers=providers,
        carers=carers,
        packages=packages,
        referrals=referrals,
    )


def _changed(session: Session, table: Any, tenant_id: str, since: int) -> list[Any]:
    return list(
        session.scalars(
            select(table).where(table.tenant_id == tenant_id, table.changed_version > since)
        )
    )


def _rows(session: Session, table: Any, tenant_id: str) -> list[Any]:
    return list(session.scalars(select(table).where(table.tenant_id == tenant_id)))


class TenantCache:
    """The latest :class:`TenantData` and travel matrix of each tenant, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._data: dict[str, TenantData] = {}
        self._travel: dict[str, tuple[int, TravelMatrix | None]] = {}

    def publishing(self, tenant_id: str) -> threading.Lock:
        """Held by a write from just before its commit until :meth:`put`, so a reader that
        sees the new data version waits for the new data instead of loading it again."""
        return self._tenant_lock(tenant_id)

    def _tenant_lock(self, tenant_id: str) -> threading.Lock:
        with self._lock:
            return self._tenant_locks.setdefault(tenant_id, threading.Lock())

    def data(self, session: Session, tenant_id: str) -> TenantData:
        """The tenant's data as of ``session``'s view of the database."""
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            msg = f"no council {tenant_id!r}"
            raise NotFoundError(msg)
        return self.data_for(session, tenant)

    def data_for(self, session: Session, tenant: Tenant) -> TenantData:
        """As :meth:`data`, for a tenant row already read (and perhaps locked)."""
        # Newer data than this session's view of the database is fine for reading (a write
        # holds the write lock, so its view is the newest there is).
        cached = self._data.get(tenant.id)
        if cached is not None and cached.data_version >= tenant.data_version:
            return cached
        with self._tenant_lock(tenant.id):
            cached = self._data.get(tenant.id)
            if cached is not None and cached.data_version >= tenant.data_version:
                return cached
            if (
                cached is not None
                and cached.framework_version == tenant.framework_version
                and cached.travel_version == tenant.travel_version
            ):
                fresh = _refresh(session, tenant, cached)
            else:
                fresh = _load(session, tenant)
        self.put(fresh)  # a reader on an older database view must not replace newer data
        return fresh

    def put(self, data: TenantData) -> None:
        """Remember ``data`` once its write committed (newer versions win)."""
        with self._lock:
            current = self._data.get(data.tenant_id)
            if current is None or current.data_version <= data.data_version:
                self._data[data.tenant_id] = data

    def supplied_travel(self, session: Session, data: TenantData) -> TravelMatrix | None:
        """The travel matrix the council supplied, or None when it supplied none."""
        cached = self._travel.get(data.tenant_id)
        if cached is not None and cached[0] == data.travel_version:
            return cached[1]
        with self._tenant_lock(data.tenant_id):
            body = session.scalar(
                select(TravelRow.body).where(TravelRow.tenant_id == data.tenant_id)
            )
            matrix = None if body is None else _travel_from_json(body)
            self._travel[data.tenant_id] = (data.travel_version, matrix)
            return matrix


def _travel_from_json(body: str) -> TravelMatrix:
    """Travel stored by an import (already validated then), without re-validating 10^6 cells."""
    raw = json.loads(body)
    minutes: dict[str, FloatMatrix] = {}
    km: dict[str, FloatMatrix] = {}
    for mode in ("drive", "walk"):
        section = raw.get(mode)
        if not section:
            continue
        minutes[mode] = _no_route_is_inf(section["minutes"])
        if section.get("km") is not None:
            km[mode] = _no_route_is_inf(section["km"])
    points = tuple((float(lon), float(lat)) for lon, lat in raw["points"])
    return TravelMatrix(points=points, minutes=minutes, km=km)


def _no_route_is_inf(rows: list[list[float | None]]) -> FloatMatrix:
    array = np.array(rows, dtype=np.float64)  # null becomes nan
    array[np.isnan(array)] = np.inf
    return array
