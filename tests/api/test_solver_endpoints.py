"""Ranked offers and the joint placement through the API, with stand-ins for the core.

The optimisation core plugs its offers and joint placement into the app factory; these tests
check the service around them (caching per data version, audit of the ranking, all-or-nothing
placement re-checked by the evaluator) with stand-ins whose answers are obvious.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from allocator.model import (
    Assignment,
    Offer,
    Package,
    Plan,
    ReasonCode,
    Snapshot,
)
from allocator.travel import TravelMatrix
from api.settings import Settings
from api.solvers import Solvers
from tests.api.conftest import (
    Api,
    Council,
    example_council,
    plan_assignments,
    running,
    stand_in_plan,
)


class StandInOffers:
    """Providers holding the package's lot are feasible (cheapest first); others are not.
    R-001 with Argyll Homecare gets the runs of docs/examples/plan.json."""

    def __init__(self) -> None:
        self.prepared = 0

    def prepare(self, snapshot: Snapshot, travel: TravelMatrix) -> Snapshot:
        self.prepared += 1
        return snapshot

    def offers(self, prepared: Snapshot, package: Package) -> list[Offer]:
        holders = sorted(
            (p for p in prepared.providers if package.lot_id in p.lot_ids),
            key=lambda p: p.hourly_rate_gbp,
        )
        others = [p for p in prepared.providers if p not in holders]
        offers = []
        for rank, provider in enumerate([*holders, *others], start=1):
            feasible = provider in holders
            runs = plan_assignments("R-001") if package.id == "R-001" and feasible else []
            offers.append(
                Offer(
                    provider_id=provider.id,
                    provider_name=provider.name,
                    rank=rank,
                    feasible=feasible,
                    in_own_lot=feasible,
                    reason_code=None if feasible else ReasonCode.OUTSIDE_LOT,
                    explanation="holds the lot" if feasible else "does not hold the lot",
                    care_hours_per_week=package.weekly_hours,
                    added_cost_gbp_per_week=package.weekly_hours * provider.hourly_rate_gbp
                    if feasible
                    else None,
                    assignments=[Assignment.model_validate(a) for a in runs],
                )
            )
        return offers


def stand_in_batch(runs: dict[str, list[dict[str, Any]]]) -> Any:
    """A joint placement placing the listed referrals found in ``runs`` with Argyll Homecare,
    the rest unplaced for want of a shift."""

    def batch(snapshot: Snapshot, travel: TravelMatrix, referral_ids: list[str]) -> Plan:
        return stand_in_plan(snapshot, {r: runs[r] for r in referral_ids if r in runs})

    return batch


@pytest.fixture
def engine() -> StandInOffers:
    """A fresh stand-in offer engine."""
    return StandInOffers()


@pytest.fixture
def solver_api(settings: Settings, engine: StandInOffers) -> Iterator[Api]:
    """The app with stand-in offers and a joint placement that places R-001."""
    batch = stand_in_batch({"R-001": plan_assignments("R-001")})
    with running(settings, solvers=Solvers(offers=engine, batch=batch)) as started:
        yield started


@pytest.fixture
def solver_council(solver_api: Api) -> Council:
    """The worked example on the app with stand-ins."""
    return example_council(solver_api)


def test_offers_are_ranked_and_the_prepared_view_is_reused(
    solver_api: Api, solver_council: Council, engine: StandInOffers
) -> None:
    """Two offer requests prepare the council once; a write makes the next one prepare again."""
    url = "/v1/referrals/R-001/offers"
    first = solver_api.client.post(url, headers=solver_council.broker).json()
    assert [(o["provider_id"], o["feasible"]) for o in first["offers"]] == [
        ("argyll-homecare", True),
        ("kintyre-care", False),
    ]
    feasible = solver_api.client.post(
        url, params={"feasible_only": True}, headers=solver_council.broker
    ).json()
    assert [o["provider_id"] for o in feasible["offers"]] == ["argyll-homecare"]
    assert engine.prepared == 1
    solver_api.client.patch(
        "/v1/referrals/R-002", json={"urgency": "urgent"}, headers=solver_council.broker
    )
    solver_api.client.post(url, headers=solver_council.broker)
    assert engine.prepared == 2


def test_offers_need_a_waiting_referral_and_a_broker(
    solver_api: Api, solver_council: Council
) -> None:
    """Offers for a placed package are 409; a provider key may not rank providers (403)."""
    assert (
        solver_api.client.post(
            "/v1/referrals/P-001/offers", headers=solver_council.broker
        ).status_code
        == 409
    )
    provider = solver_api.provider_key(solver_council, "argyll-homecare")
    assert solver_api.client.post("/v1/referrals/R-001/offers", headers=provider).status_code == 403


def test_a_decision_is_audited_with_the_ranking_that_led_to_it(
    solver_api: Api, solver_council: Council
) -> None:
    """Offering the top-ranked provider and placing store the ranking as the reason."""
    offers = solver_api.client.post("/v1/referrals/R-001/offers", headers=solver_council.broker)
    best = offers.json()["offers"][0]
    body = {"provider_id": best["provider_id"], "assignments": best["assignments"]}
    solver_api.client.post(
        "/v1/referrals/R-001/offer-to-provider", json=body, headers=solver_council.broker
    )
    solver_api.client.post("/v1/referrals/R-001/accept", json={}, headers=solver_council.broker)
    placed = solver_api.client.post(
        "/v1/placements",
        json={"placements": [{"referral_id": "R-001"}]},
        headers=solver_council.broker,
    )
    assert placed.status_code == 201, placed.text
    audit = solver_api.client.get(
        "/v1/audit", params={"subject_id": "R-001"}, headers=solver_council.broker
    ).json()["items"]
    why = {e["action"]: e["why"] for e in audit}
    shown = why["referral.offer_to_provider"]["ranking"]
    ranked = [(r["rank"], r["provider_id"]) for r in shown["offers"]]
    assert ranked == [(1, "argyll-homecare"), (2, "kintyre-care")]
    assert why["referral.place"]["ranking"] == shown
    assert why["referral.place"]["ranking"]["ranked_at"]


def test_the_joint_placement_places_what_it_can_and_lists_the_rest(
    solver_api: Api, solver_council: Council
) -> None:
    """R-001 placed with its runs; R-002 comes back unplaced with its reason and stays waiting."""
    response = solver_api.client.post(
        "/v1/placements", json={"referral_ids": ["R-001", "R-002"]}, headers=solver_council.broker
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert [p["id"] for p in result["placed"]] == ["R-001"]
    assert [(u["package_id"], u["reason_code"]) for u in result["unplaced"]] == [
        ("R-002", "no_shift")
    ]
    state = solver_api.client.get("/v1/referrals/R-002", headers=solver_council.broker).json()
    assert state["state"] == "received"


def test_a_joint_plan_breaking_a_rule_is_refused_whole(
    settings: Settings, engine: StandInOffers
) -> None:
    """The service re-checks the joint plan: one bad placement and nothing is stored."""
    bad = [
        {"visit_id": "evening", "day": d, "carer_ids": ["C-001"], "start_min": 1080}
        for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    ]
    batch = stand_in_batch({"R-001": plan_assignments("R-001"), "R-002": bad})
    with running(settings, solvers=Solvers(offers=engine, batch=batch)) as started:
        council = example_council(started)
        response = started.client.post(
            "/v1/placements", json={"referral_ids": ["R-001", "R-002"]}, headers=council.broker
        )
        assert response.status_code == 422
        assert (
            started.client.get("/v1/referrals/R-001", headers=council.broker).json()["state"]
            == "received"
        )


def test_an_accepted_referral_is_not_placed_jointly(
    solver_api: Api, solver_council: Council
) -> None:
    """An accepted referral goes with the provider that accepted it, not the joint placement."""
    solver_api.client.post(
        "/v1/referrals/R-001/offer-to-provider",
        json={"provider_id": "argyll-homecare"},
        headers=solver_council.broker,
    )
    solver_api.client.post("/v1/referrals/R-001/accept", json={}, headers=solver_council.broker)
    response = solver_api.client.post(
        "/v1/placements", json={"referral_ids": ["R-001"]}, headers=solver_council.broker
    )
    assert response.status_code == 409


def test_placements_and_referral_ids_together_are_422(api: Api, council: Council) -> None:
    """One request places either listed runs or a joint batch, not both."""
    body = {"placements": [{"referral_id": "R-001"}], "referral_ids": ["R-002"]}
    assert api.client.post("/v1/placements", json=body, headers=council.broker).status_code == 422


def test_a_decision_without_offers_is_audited_without_a_ranking(
    solver_api: Api, solver_council: Council, engine: StandInOffers
) -> None:
    """Placing without asking for offers records no ranking, and computes none."""
    body = {
        "placements": [
            {
                "referral_id": "R-001",
                "provider_id": "argyll-homecare",
                "assignments": plan_assignments("R-001"),
            }
        ]
    }
    assert (
        solver_api.client.post(
            "/v1/placements", json=body, headers=solver_council.broker
        ).status_code
        == 201
    )
    audit = solver_api.client.get(
        "/v1/audit", params={"action": "referral.place"}, headers=solver_council.broker
    ).json()["items"]
    assert audit[0]["why"]["ranking"] is None
    assert engine.prepared == 0
