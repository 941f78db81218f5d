"""The optimisation core as the service calls it: ranked offers, the joint placement and the
nightly re-optimisation.

:class:`Solvers` holds them; the app factory (:func:`api.app.create_app`) takes the core's own
(:meth:`Solvers.from_core`) unless given others (tests give stand-ins). Where the core has none
yet, the endpoints needing it answer 501 saying so. Offers must be fast at a
council's scale, so the core's *prepared* view of the council (its runs compiled for quick
insertion tests) is built once per data version and kept in memory. Every write moves the
version; when only packages and referrals changed (a placement, a package ending) on the same
travel, the next offer request brings the kept view up to date by those packages alone, and
otherwise (carers, framework or travel changed, a new place) prepares it afresh.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from allocator.batch import place_batch
from allocator.model import Offer, Package, Plan, Snapshot
from allocator.offers import OfferEngine as CoreOfferEngine
from allocator.travel import TravelError, TravelMatrix
from api.reoptimise import Reoptimiser, core_reoptimiser
from api.runs import travel_for
from api.settings import Settings
from api.tenants import TenantCache, TenantData


class OfferEngine(Protocol):
    """Ranked offers for one waiting package, from a prepared view of the council."""

    def prepare(self, snapshot: Snapshot, travel: TravelMatrix) -> Any:
        """Compile the council's runs for fast offers (kept per data version)."""

    def offers(self, prepared: Any, package: Package) -> list[Offer]:
        """Every provider ranked for ``package``: feasible first, with reasons otherwise."""


@runtime_checkable
class IncrementalOfferEngine(OfferEngine, Protocol):
    """An offer engine that can bring a prepared view up to date after packages change, in
    the time of the change rather than of the whole council."""

    def update(
        self,
        prepared: Any,
        snapshot: Snapshot,
        removed: Sequence[Package],
        added: Sequence[Package],
    ) -> Any:
        """The prepared view of ``snapshot``, whose placed packages differ from those of
        ``prepared``'s by ``removed`` (as they were) and ``added`` (as they are now); raises
        :class:`~allocator.travel.TravelError` when a place is not in the view's travel."""


BatchPlacer = Callable[[Snapshot, TravelMatrix, list[str]], Plan]
"""Places the listed referrals of a snapshot jointly; returns the plan (placed and unplaced)."""


@dataclass(frozen=True)
class Solvers:
    """The optimisation core's entry points the service uses; None where not built."""

    offers: OfferEngine | None = None
    batch: BatchPlacer | None = None
    reoptimiser: Reoptimiser | None = None

    @classmethod
    def from_core(cls, settings: Settings) -> Solvers:
        """The core's ranked offers, joint placement and nightly re-optimisation."""
        return cls(
            offers=CoreOfferEngine(),
            batch=partial(place_batch, time_limit_s=settings.batch_time_limit_s),
            reoptimiser=core_reoptimiser(settings.reoptimise_workers),
        )


@dataclass(frozen=True)
class Prepared:
    """A council's prepared view for one data version, and the offers already ranked on it.

    Ranking is deterministic for a data version (any write moves the version, and a new view
    is prepared), so a referral asked about again, by another broker or the provider, gets the
    same ranking without computing it again.
    """

    data_version: int
    travel_version: int
    travel: TravelMatrix
    view: Any
    ranked: dict[str, list[Offer]] = field(default_factory=dict)
    data: TenantData | None = None
    """The council's data the view was prepared from (to bring it up to date later)."""

    def offers(self, engine: OfferEngine, package: Package) -> list[Offer]:
        """The ranking for ``package`` on this view, computed once."""
        found = self.ranked.get(package.id)
        if found is None:
            found = self.ranked.setdefault(package.id, engine.offers(self.view, package))
        return found


class PreparedCache:
    """The latest prepared view of each council, rebuilt when its data version moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tenant_locks: dict[str, threading.Lock] = {}
        self._views: dict[str, Prepared] = {}

    def get(
        self, engine: OfferEngine, cache: TenantCache, session: Session, data: TenantData
    ) -> Prepared:
        """The prepared view for ``data``, building it once however many ask at once."""
        with self._lock:
            lock = self._tenant_locks.setdefault(data.tenant_id, threading.Lock())
        with lock:
            current = self._views.get(data.tenant_id)
            if (
                current is not None
                and current.data_version == data.data_version
                and current.travel_version == data.travel_version
            ):
                return current
            prepared = _updated(engine, current, data) if current is not None else None
            if prepared is None:
                snapshot = data.snapshot
                travel = travel_for(snapshot, lambda: cache.supplied_travel(session, data))
                prepared = Prepared(
                    data_version=data.data_version,
                    travel_version=data.travel_version,
                    travel=travel,
                    view=engine.prepare(snapshot, travel),
                    data=data,
                )
            self._views[data.tenant_id] = prepared
            return prepared


def changed_packages(
    before: TenantData, after: TenantData
) -> tuple[list[Package], list[Package]] | None:
    """The placed packages that leave (as they were) and join (as they are now) between two
    versions of a council's data; None when anything but packages and referrals changed."""
    same = (
        before.tenant_id == after.tenant_id
        and (before.skills, before.costs, before.policy)
        == (after.skills, after.costs, after.policy)
        and before.lots == after.lots
        and before.providers == after.providers
        and before.carers == after.carers
    )
    if not same:
        return None
    old, new = before.packages, after.packages
    removed = [p for i, p in old.items() if new.get(i) is not p and new.get(i) != p]
    added = [p for i, p in new.items() if old.get(i) is not p and old.get(i) != p]
    return removed, added


def _updated(engine: OfferEngine, current: Prepared, data: TenantData) -> Prepared | None:
    """``current`` brought up to ``data`` by the packages that changed, when the engine can
    and only packages and referrals changed on the same travel; otherwise None."""
    if (
        not isinstance(engine, IncrementalOfferEngine)
        or current.data is None
        or current.travel_version != data.travel_version
    ):
        return None
    changes = changed_packages(current.data, data)
    if changes is None:
        return None
    removed, added = changes
    # The write that made ``data`` checked its cross-references: no need to validate again.
    snapshot = current.view.snapshot.model_copy(
        update={
            "packages": list(data.packages.values()),
            "referrals": list(data.referrals.values()),
        }
    )
    try:
        view = engine.update(current.view, snapshot, removed, added)
    except TravelError:
        return None
    return Prepared(
        data_version=data.data_version,
        travel_version=data.travel_version,
        travel=current.travel,
        view=view,
        data=data,
    )


class RankingLog:
    """The ranked offers last shown for each waiting referral, so that the decision that
    follows (an offer to a provider, a placement) is audited with the ranking that led to it.

    Kept in memory for the most recent ``size`` referrals; a decision taken without asking for
    offers (or on another server process) is audited without a ranking.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._shown: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def remember(self, data: TenantData, referral_id: str, offers: list[Offer]) -> None:
        """Note the ranking just shown for ``referral_id``."""
        entry = {
            "ranked_at": dt.datetime.now(dt.UTC).isoformat(),
            "data_version": data.data_version,
            "offers": ranking_summary(offers),
        }
        with self._lock:
            key = (data.tenant_id, referral_id)
            self._shown[key] = entry
            self._shown.move_to_end(key)
            while len(self._shown) > self._size:
                self._shown.popitem(last=False)

    def last(self, tenant_id: str, referral_id: str) -> dict[str, Any] | None:
        """The ranking last shown for the referral, with when and on which data version."""
        with self._lock:
            return self._shown.get((tenant_id, referral_id))


def ranking_summary(offers: list[Offer]) -> list[dict[str, Any]]:
    """The ranking as it goes into the audit: who ranked where, and why."""
    return [
        {
            "rank": o.rank,
            "provider_id": o.provider_id,
            "feasible": o.feasible,
            "reason_code": o.reason_code,
            "added_cost_gbp_per_week": o.added_cost_gbp_per_week,
            "added_travel_min_per_week": o.added_travel_min_per_week,
            "explanation": o.explanation,
        }
        for o in offers
    ]
