"""Keys, roles and councils: who may see and do what."""

from __future__ import annotations

from sqlalchemy import select

from api.tables import ApiKey
from tests.api.conftest import Api, Council, example_snapshot, referral_body


def test_missing_and_wrong_keys_are_401(api: Api, council: Council) -> None:
    """No key, a malformed key and a well-formed unknown key are all 401."""
    assert api.client.get("/v1/referrals").status_code == 401
    assert api.client.get("/v1/referrals", headers={"X-API-Key": "nope"}).status_code == 401
    forged = "ca_0123456789ab_" + "x" * 43
    assert api.client.get("/v1/referrals", headers={"X-API-Key": forged}).status_code == 401
    good = council.broker["X-API-Key"]
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert api.client.get("/v1/referrals", headers={"X-API-Key": tampered}).status_code == 401


def test_bearer_token_is_accepted(api: Api, council: Council) -> None:
    """The key also works as Authorization: Bearer."""
    key = council.broker["X-API-Key"]
    response = api.client.get("/v1/referrals", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_keys_are_stored_hashed(api: Api, council: Council) -> None:
    """The database holds only SHA-256 digests, never the keys."""
    secret = council.admin["X-API-Key"]
    with api.db.read_session() as session:
        rows = list(session.scalars(select(ApiKey)))
    assert rows
    for row in rows:
        assert secret not in (row.key_sha256, row.id)
        assert len(row.key_sha256) == 64


def test_a_council_never_sees_another_councils_data(api: Api, council: Council) -> None:
    """Another council's broker gets 404 for our referral and an empty waiting list."""
    other = api.council()
    assert api.client.get("/v1/referrals/R-001", headers=other.broker).status_code == 404
    assert api.client.get("/v1/referrals", headers=other.broker).json()["total"] == 0
    assert api.client.get("/v1/providers", headers=other.broker).json() == []
    assert api.client.get("/v1/packages/P-001", headers=other.broker).status_code == 404
    withdraw = api.client.post(
        "/v1/referrals/R-001/withdraw", json={"reason": "x"}, headers=other.broker
    )
    assert withdraw.status_code == 404
    assert api.client.get("/v1/referrals/R-001", headers=council.broker).json()["state"] == (
        "received"
    )


def test_same_ids_in_two_councils_stay_apart(api: Api, council: Council) -> None:
    """Two councils may import the same ids; each sees its own."""
    other = api.council()
    snapshot = example_snapshot()
    snapshot["referrals"] = snapshot["referrals"][:1]
    assert api.client.post("/v1/imports", json=snapshot, headers=other.admin).status_code == 201
    assert api.client.get("/v1/referrals", headers=other.broker).json()["total"] == 1
    assert api.client.get("/v1/referrals", headers=council.broker).json()["total"] == 2


def test_roles_are_enforced_with_403(api: Api, council: Council) -> None:
    """Brokers cannot import or add providers; providers cannot create referrals or read audit."""
    provider = api.provider_key(council, "argyll-homecare")
    assert (
        api.client.post("/v1/imports", json=example_snapshot(), headers=council.broker).status_code
        == 403
    )
    new_provider = {"id": "p9", "name": "P9", "lot_ids": ["kintyre"], "hourly_rate_gbp": 25}
    assert (
        api.client.post("/v1/providers", json=new_provider, headers=council.broker).status_code
        == 403
    )
    referral = referral_body()
    assert api.client.post("/v1/referrals", json=referral, headers=provider).status_code == 403
    assert api.client.get("/v1/audit", headers=provider).status_code == 403
    assert api.client.get("/v1/reports/waiting", headers=provider).status_code == 403


def test_a_provider_key_sees_only_its_own(api: Api, council: Council) -> None:
    """A provider reads its own provider, carers and packages; others are hidden (404)."""
    provider = api.provider_key(council, "kintyre-care")
    assert [p["id"] for p in api.client.get("/v1/providers", headers=provider).json()] == [
        "kintyre-care"
    ]
    assert [c["id"] for c in api.client.get("/v1/carers", headers=provider).json()] == ["C-003"]
    assert api.client.get("/v1/carers/C-001", headers=provider).status_code == 404
    assert api.client.get("/v1/carers/C-001/runs", headers=provider).status_code == 404
    packages = api.client.get("/v1/packages", headers=provider).json()
    assert [p["id"] for p in packages["items"]] == ["P-002"]
    assert api.client.get("/v1/packages/P-001", headers=provider).status_code == 404
    assert api.client.get("/v1/referrals", headers=provider).json()["total"] == 0
    assert api.client.get("/v1/referrals/R-001", headers=provider).status_code == 404


def test_a_provider_manages_only_its_own_carers(api: Api, council: Council) -> None:
    """A provider may add a carer to itself but not to another provider."""
    provider = api.provider_key(council, "kintyre-care")
    carer = {"id": "C-009", "provider_id": "kintyre-care", "base": [-5.41622, 55.86277]}
    assert api.client.post("/v1/carers", json=carer, headers=provider).status_code == 201
    theirs = {**carer, "id": "C-010", "provider_id": "argyll-homecare"}
    assert api.client.post("/v1/carers", json=theirs, headers=provider).status_code == 403


def test_client_names_and_addresses_are_refused(api: Api, council: Council) -> None:
    """A client_ref that looks like a name, or a name/address field, is 422."""
    referral = referral_body(client_ref="Mary Smith")
    response = api.client.post("/v1/referrals", json=referral, headers=council.broker)
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "client_ref"
    referral["client_ref"] = "MA-9001"
    referral["address"] = "1 Argyll Street, Lochgilphead"
    response = api.client.post("/v1/referrals", json=referral, headers=council.broker)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "path": "address",
            "message": "is not a known field (check the spelling against docs/formats.md)",
        }
    ]
