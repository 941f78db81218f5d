"""Lots and localities filled from a package's location when the caller leaves them out."""

from __future__ import annotations

from tests.api.conftest import Api, Council, example_snapshot, referral_body


def _without_lot(referral_id: str, location: list[float]) -> dict[str, object]:
    body = referral_body(referral_id, location=location)
    del body["lot_id"]
    return body


def test_a_referral_gets_its_lot_and_locality_from_its_location(api: Api, council: Council) -> None:
    """A referral in Lochgilphead with no lot given lands in Mid Argyll, locality Lochgilphead."""
    api.client.post("/v1/imports", json={**example_snapshot(), "lots": []}, headers=council.admin)
    body = _without_lot("R-020", [-5.43206, 56.03796])
    response = api.client.post("/v1/referrals", json=body, headers=council.broker)
    assert response.status_code == 201, response.text
    assert (response.json()["lot_id"], response.json()["locality"]) == (
        "mid-argyll",
        "Lochgilphead",
    )


def test_a_council_without_lots_gets_the_argyll_and_bute_lots(api: Api) -> None:
    """Importing a snapshot with no lots adopts the six embedded framework lots."""
    council = api.council()
    snapshot = example_snapshot()
    snapshot["lots"] = []
    for package in [*snapshot["packages"], *snapshot["referrals"]]:
        package.pop("lot_id", None)
        package.pop("locality", None)
    response = api.client.post("/v1/imports", json=snapshot, headers=council.admin)
    assert response.status_code == 201, response.text
    lots = [lot["id"] for lot in api.client.get("/v1/lots", headers=council.broker).json()]
    assert len(lots) == 6 and "mid-argyll" in lots
    tarbert = api.client.get("/v1/referrals/R-002", headers=council.broker).json()
    assert tarbert["lot_id"] == "kintyre"


def test_a_location_outside_every_lot_is_422(api: Api, council: Council) -> None:
    """A referral in Edinburgh is outside Argyll and Bute's lots: 422 on its location."""
    api.client.post("/v1/imports", json={**example_snapshot(), "lots": []}, headers=council.admin)
    body = _without_lot("R-021", [-3.18827, 55.95325])
    response = api.client.post("/v1/referrals", json=body, headers=council.broker)
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "location"


def test_lots_without_polygons_need_a_lot_id(api: Api, council: Council) -> None:
    """The worked example's lots have no polygons: a referral without a lot_id is 422."""
    response = api.client.post(
        "/v1/referrals", json=_without_lot("R-022", [-5.43206, 56.03796]), headers=council.broker
    )
    assert response.status_code == 422
    assert "give each package a lot_id" in response.json()["problems"][0]["message"]


def test_a_snapshot_without_lots_naming_other_lots_is_422_and_nothing_is_stored(
    api: Api, council: Council
) -> None:
    """Without lots the snapshot adopts the six Argyll and Bute lots, so a provider or package
    naming another lot breaks a cross-reference: 422 naming each, the old data kept. (Found by
    schemathesis: such an import was stored, and a later job's apply answered 500.)"""
    snapshot = example_snapshot()
    snapshot["lots"] = []
    snapshot["providers"][0]["lot_ids"] = ["0"]
    snapshot["packages"][0]["lot_id"] = "nowhere"
    response = api.client.post("/v1/imports", json=snapshot, headers=council.admin)
    assert response.status_code == 422, response.text
    problems = {(p["path"], p["message"]) for p in response.json()["problems"]}
    assert problems == {
        ("providers[0].lot_ids", "unknown lot '0'"),
        ("packages[0].lot_id", "unknown lot 'nowhere'"),
    }
    assert "six Argyll and Bute framework lots" in response.json()["detail"]
    lots = [lot["id"] for lot in api.client.get("/v1/lots", headers=council.broker).json()]
    assert lots == ["kintyre", "mid-argyll"]  # the example's own lots, still there
    provider = api.client.get("/v1/providers/argyll-homecare", headers=council.broker).json()
    assert provider["lot_ids"] == ["mid-argyll"]


def test_a_council_that_never_imported_still_gets_its_referrals_lots(api: Api) -> None:
    """A council with no lots stored (it never imported) and a provider naming a lot of its
    own: a new referral still gets its Argyll and Bute lot from its location. The check of a
    lot-less snapshot's lot ids belongs to imports, not to completing one referral."""
    council = api.council()
    provider = {"id": "p1", "name": "P One", "lot_ids": ["north"], "hourly_rate_gbp": 25}
    created = api.client.post("/v1/providers", json=provider, headers=council.admin)
    assert created.status_code == 201, created.text
    response = api.client.post(
        "/v1/referrals", json=_without_lot("R-030", [-5.43206, 56.03796]), headers=council.broker
    )
    assert response.status_code == 201, response.text
    assert response.json()["lot_id"] == "mid-argyll"
