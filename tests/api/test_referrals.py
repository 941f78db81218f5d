"""The referral state machine, its history, the waiting list and the waiting report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, Council, place_r001, plan_assignments, referral_body


def _post(api: Api, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return api.client.post(path, json=body, headers=headers)


def test_the_whole_life_of_a_referral(api: Api, council: Council) -> None:
    """received -> offered -> accepted -> placed -> ended, each step in the history."""
    provider = api.provider_key(council, "argyll-homecare")
    offer = {"provider_id": "argyll-homecare", "assignments": plan_assignments("R-001")}
    response = _post(api, "/v1/referrals/R-001/offer-to-provider", offer, council.broker)
    assert response.json()["state"] == "offered"
    assert len(response.json()["proposed_assignments"]) == 28
    offered = api.client.get("/v1/referrals", headers=provider).json()
    assert [r["id"] for r in offered["items"]] == ["R-001"]
    response = _post(api, "/v1/referrals/R-001/accept", {}, provider)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "accepted"
    response = _post(
        api, "/v1/placements", {"placements": [{"referral_id": "R-001"}]}, council.broker
    )
    assert response.status_code == 201, response.text
    placed = response.json()["placed"][0]
    assert placed["state"] == "placed" and placed["provider_id"] == "argyll-homecare"
    runs = api.client.get("/v1/carers/C-002/runs", headers=provider).json()
    assert {s["package_id"] for s in runs["runs"]["mon"]} == {"R-001"}
    response = _post(
        api, "/v1/packages/R-001/end", {"reason": "moved to a care home"}, council.broker
    )
    assert response.json()["state"] == "ended"
    history = api.client.get("/v1/referrals/R-001/history", headers=council.broker).json()
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        (None, "received"),
        ("received", "offered"),
        ("offered", "accepted"),
        ("accepted", "placed"),
        ("placed", "ended"),
    ]
    assert history[2]["role"] == "provider"
    assert api.client.get("/v1/carers/C-002/runs", headers=provider).json()["runs"]["mon"] == []


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ([], "accept", {}),
        ([], "decline", {"reason": "no"}),
        (["withdraw"], "withdraw", {"reason": "again"}),
        (["withdraw"], "offer-to-provider", {"provider_id": "argyll-homecare"}),
        (["offer"], "offer-to-provider", {"provider_id": "kintyre-care"}),
    ],
)
def test_illegal_transitions_are_409(
    api: Api, council: Council, setup: list[str], action: str, body: dict[str, Any]
) -> None:
    """Accepting what was never offered, acting on a withdrawn referral, offering twice: 409."""
    for step in setup:
        if step == "withdraw":
            _post(api, "/v1/referrals/R-001/withdraw", {"reason": "x"}, council.broker)
        else:
            _post(
                api,
                "/v1/referrals/R-001/offer-to-provider",
                {"provider_id": "argyll-homecare"},
                council.broker,
            )
    response = _post(api, f"/v1/referrals/R-001/{action}", body, council.broker)
    assert response.status_code == 409
    assert "only from" in response.json()["detail"]


def test_a_placed_package_cannot_be_withdrawn_or_placed_again(api: Api, council: Council) -> None:
    """Placed is left only by ending; ended is final."""
    assert place_r001(api, council).status_code == 201
    assert (
        _post(api, "/v1/referrals/R-001/withdraw", {"reason": "x"}, council.broker).status_code
        == 409
    )
    assert place_r001(api, council).status_code == 409
    _post(api, "/v1/packages/R-001/end", {"reason": "x"}, council.broker)
    assert _post(api, "/v1/packages/R-001/end", {"reason": "x"}, council.broker).status_code == 409


def test_details_cannot_change_while_an_offer_is_out(api: Api, council: Council) -> None:
    """PATCH works while received, 409 while offered."""
    ok = api.client.patch("/v1/referrals/R-001", json={"urgency": "urgent"}, headers=council.broker)
    assert ok.status_code == 200 and ok.json()["urgency"] == "urgent"
    _post(
        api,
        "/v1/referrals/R-001/offer-to-provider",
        {"provider_id": "argyll-homecare"},
        council.broker,
    )
    refused = api.client.patch(
        "/v1/referrals/R-001", json={"urgency": "routine"}, headers=council.broker
    )
    assert refused.status_code == 409


def test_a_decline_returns_the_referral_to_the_list(api: Api, council: Council) -> None:
    """The provider declines; the referral is waiting again and hidden from that provider."""
    provider = api.provider_key(council, "kintyre-care")
    _post(
        api,
        "/v1/referrals/R-002/offer-to-provider",
        {"provider_id": "kintyre-care"},
        council.broker,
    )
    response = _post(api, "/v1/referrals/R-002/decline", {"reason": "no evening carer"}, provider)
    assert response.json()["state"] == "declined"
    assert api.client.get("/v1/referrals/R-002", headers=provider).status_code == 404
    waiting = api.client.get("/v1/referrals", headers=council.broker).json()
    assert {r["id"]: r["state"] for r in waiting["items"]} == {
        "R-001": "received",
        "R-002": "declined",
    }
    history = api.client.get("/v1/referrals/R-002/history", headers=council.broker).json()
    assert history[-1]["note"] == "no evening carer"


def test_only_the_offered_provider_can_answer(api: Api, council: Council) -> None:
    """Another provider's key cannot see, accept or decline the offer (404)."""
    other = api.provider_key(council, "kintyre-care")
    _post(
        api,
        "/v1/referrals/R-001/offer-to-provider",
        {"provider_id": "argyll-homecare"},
        council.broker,
    )
    assert _post(api, "/v1/referrals/R-001/accept", {}, other).status_code == 404


def test_waiting_list_order_and_report(api: Api, council: Council) -> None:
    """Most urgent first; the report adds hours by lot and urgency with the longest wait."""
    _post(api, "/v1/referrals", referral_body(urgency="urgent"), council.broker)
    waiting = api.client.get("/v1/referrals", headers=council.broker).json()
    assert [r["id"] for r in waiting["items"]] == ["R-001", "R-010", "R-002"]
    report = api.client.get(
        "/v1/reports/waiting", params={"as_of": "2026-11-24T12:00:00Z"}, headers=council.broker
    ).json()
    assert report["packages"] == 3
    assert report["hours_per_week"] == 23.75
    assert report["by_lot"] == {"kintyre": 5.25, "mid-argyll": 18.5}
    assert report["longest_waiting_package_id"] == "R-002"
    assert report["longest_wait_days"] == 43.0
    groups = {(g["lot_id"], g["urgency"]): g for g in report["groups"]}
    assert groups[("mid-argyll", "urgent")]["hours_per_week"] == 1.0
    assert groups[("mid-argyll", "urgent")]["longest_wait_days"] == 4.1


def test_withdrawn_referrals_leave_the_report(api: Api, council: Council) -> None:
    """A withdrawn referral no longer counts as waiting."""
    _post(api, "/v1/referrals/R-002/withdraw", {"reason": "family care"}, council.broker)
    report = api.client.get("/v1/reports/waiting", headers=council.broker).json()
    assert report["by_lot"] == {"mid-argyll": 17.5}


def test_every_decision_is_audited(api: Api, council: Council) -> None:
    """Placement, offer and withdrawal are in the audit with key, role, inputs and why."""
    _post(api, "/v1/referrals/R-002/withdraw", {"reason": "family care"}, council.broker)
    assert place_r001(api, council).status_code == 201
    entries = api.client.get("/v1/audit", headers=council.broker).json()["items"]
    actions = [e["action"] for e in entries]
    assert actions[:3] == ["referral.place", "referral.withdraw", "snapshot.import"]
    placed = entries[0]
    assert placed["key_id"] == council.keys["broker"] and placed["role"] == "broker"
    assert placed["inputs"]["provider_id"] == "argyll-homecare"
    assert placed["why"]["previous_state"] == "received"
    withdrawn = api.client.get(
        "/v1/audit", params={"subject_id": "R-002"}, headers=council.broker
    ).json()["items"]
    assert [e["why"]["reason"] for e in withdrawn] == ["family care"]
    page = api.client.get("/v1/audit", params={"limit": 1}, headers=council.broker).json()
    older = api.client.get(
        "/v1/audit",
        params={"limit": 5, "before_id": page["next_before_id"]},
        headers=council.broker,
    ).json()
    assert [e["action"] for e in older["items"]] == ["referral.withdraw", "snapshot.import"]


def test_listed_packages_are_whole_valid_wire_forms(api: Api, council: Council) -> None:
    """A listed package carries every field of the package as imported, plus where it is in
    its life, and reads back as a valid PackagePublic (the list builds it without validating
    the package twice)."""
    from allocator.model import Package
    from api.schemas import PackagePublic
    from tests.api.conftest import example_snapshot

    listed = api.client.get("/v1/packages", headers=council.broker).json()
    imported = {p["id"]: p for p in example_snapshot()["packages"]}
    assert listed["total"] == len(imported) and listed["items"]
    for item in listed["items"]:
        public = PackagePublic.model_validate(item)
        expected = Package.model_validate(imported[item["id"]])
        assert public.model_dump(include=set(Package.model_fields)) == expected.model_dump()
        assert public.state == "placed" and public.version == 1
        assert public.hours_per_week == round(expected.weekly_hours, 3)
