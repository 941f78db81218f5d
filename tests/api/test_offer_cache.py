"""Offers are ranked once per referral and data version; a new version ranks afresh."""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.model import Offer, Package
from allocator.travel import TravelMatrix
from api.solvers import Prepared
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
