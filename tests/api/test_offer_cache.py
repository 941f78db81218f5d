"""Offers are ranked once per referral and data version; a new version ranks afresh."""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.model import Offer, Package, Snapshot
from allocator.offers import OfferEngine as CoreOfferEngine
from allocator.offers import make_offers
from allocator.runs import RunsView
from allocator.travel import TravelMatrix
from api.settings import Settings
from api.solvers import Prepared, Solvers
from tests.api.conftest import example_council, place_r001, referral_body, running
from tests.builders import make_snapshot, package


class CountingEngine:
    """An offer engine that counts how often it ranks."""

    def __init__(self) -> None:
        self.calls = 0

    def prepare(self, snapshot: Any, travel: TravelMatrix) -> Any:
        return snapshot

    def offers(self, prepared: Any, package: Package) -> list[Offer]:
        self.calls += 1
        return []


def _prepared(version: int) -> Prepared:
    travel = TravelMatrix(points=((0.0, 0.0),), minutes={"drive": np.zeros((1, 1))})
    return Prepared(data_version=version, travel_version=0, travel=travel, view=None)


def test_the_same_referral_on_the_same_data_is_ranked_once() -> None:
    engine = CountingEngine()
    referral = make_snapshot(referrals=[package("R-1", 1)]).referrals[0]
    first = _prepared(1)
    assert first.offers(engine, referral) == first.offers(engine, referral) == []
    assert engine.calls == 1
    _prepared(2).offers(engine, referral)  # data changed: a new view, ranked again
    assert engine.calls == 2


class SpyingCoreEngine(CoreOfferEngine):
    """The core's offer engine, counting views prepared afresh and brought up to date."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared = 0
        self.updated = 0
        self.last: Any = None

    def prepare(self, snapshot: Snapshot, travel: TravelMatrix) -> Any:
        self.prepared += 1
        self.last = super().prepare(snapshot, travel)
        return self.last

    def update(self, prepared: Any, snapshot: Snapshot, removed: Any, added: Any) -> Any:
        self.updated += 1
        self.last = super().update(prepared, snapshot, removed, added)
        return self.last


def test_after_a_placement_offers_come_from_the_view_brought_up_to_date(
    settings: Settings,
) -> None:
    """Creating a referral at a known place and placing R-001 move the data version; the
    kept view is brought up to date each time instead of prepared afresh, and the offers it
    gives are those of a view prepared afresh."""
    engine = SpyingCoreEngine()
    with running(settings, solvers=Solvers(offers=engine)) as api:
        council = example_council(api)
        url = "/v1/referrals/R-010/offers"
        created = api.client.post("/v1/referrals", json=referral_body(), headers=council.broker)
        assert created.status_code == 201, created.text
        assert api.client.post(url, headers=council.broker).status_code == 200
        assert (engine.prepared, engine.updated) == (1, 0)
        assert place_r001(api, council).status_code == 201
        shown = api.client.post(url, headers=council.broker)
        assert shown.status_code == 200, shown.text
        assert (engine.prepared, engine.updated) == (1, 1)
        view = engine.last
        assert "R-001" in {p.id for p in view.snapshot.packages}
        fresh = make_offers(RunsView(view.snapshot, view.travel), view.snapshot.package("R-010"))
        assert [Offer.model_validate(o) for o in shown.json()["offers"]] == fresh
