"""Bad input gets 413, 422 with field paths, 404 or 409; never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import Api, Council, example_snapshot, referral_body


def test_a_body_over_the_limit_is_413(tmp_path: Path) -> None:
    """A body over max_body_bytes is refused before it is read, with or without a length."""
    app = create_app(Settings(data_dir=tmp_path, max_body_bytes=1000))
    with TestClient(app) as client:
        big = {"reason": "x" * 2000}
        response = client.post("/v1/referrals/R-1/withdraw", json=big)
        assert response.status_code == 413
        assert "1000-byte limit" in response.json()["detail"]

        def chunks() -> object:
            yield b'{"reason": "'
            yield b"x" * 2000
            yield b'"}'

        response = client.post(
            "/v1/referrals/R-1/withdraw",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413


def test_field_errors_name_the_path_and_the_rule(api: Api, council: Council) -> None:
    """A visit window ending before it starts is reported at visits[0] (lunch)."""
    referral = referral_body(earliest=700, latest=100)
    response = api.client.post("/v1/referrals", json=referral, headers=council.broker)
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["path"] == "visits[0] (lunch)"
    assert "time window ends before it starts" in problem["message"]


def test_lat_lon_the_wrong_way_round_is_explained(api: Api, council: Council) -> None:
    """[lat, lon] is caught and named as such."""
    carer = {"id": "C-9", "provider_id": "argyll-homecare", "base": [56.03796, -5.43206]}
    response = api.client.post("/v1/carers", json=carer, headers=council.admin)
    assert response.status_code == 422
    assert "looks like [lat, lon]" in response.json()["problems"][0]["message"]


def test_a_snapshot_with_broken_references_is_422_with_paths(api: Api, council: Council) -> None:
    """An import naming an unknown provider lists the field; nothing is replaced."""
    snapshot = example_snapshot()
    snapshot["carers"][0]["provider_id"] = "nobody"
    response = api.client.post("/v1/imports", json=snapshot, headers=council.admin)
    assert response.status_code == 422
    assert {
        "path": "carers[0].provider_id",
        "message": "unknown provider 'nobody'",
    } in response.json()["problems"]
    assert len(api.client.get("/v1/carers", headers=council.admin).json()) == 3


def test_invalid_json_is_422(api: Api, council: Council) -> None:
    """A body that is not JSON is a 422 saying so."""
    response = api.client.post(
        "/v1/referrals",
        content=b"{nope",
        headers={**council.broker, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["problems"][0]["message"]


def test_unknown_ids_are_404(api: Api, council: Council) -> None:
    """Unknown referral, carer, provider, lot and package: 404 naming it."""
    for path in (
        "/v1/referrals/nope",
        "/v1/carers/nope",
        "/v1/providers/nope",
        "/v1/lots/nope",
        "/v1/packages/nope",
        "/v1/referrals/nope/history",
    ):
        response = api.client.get(path, headers=council.admin)
        assert response.status_code == 404, path
        assert "nope" in response.json()["detail"]


def test_a_stale_version_is_409(api: Api, council: Council) -> None:
    """If-Match with an old version is refused; the current version is accepted."""
    carer = api.client.get("/v1/carers/C-003", headers=council.admin).json()
    version = carer["version"]
    body = {"max_working_min_per_day": 540}
    ok = api.client.patch(
        "/v1/carers/C-003", json=body, headers={**council.admin, "If-Match": str(version)}
    )
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    stale = api.client.patch(
        "/v1/carers/C-003", json=body, headers={**council.admin, "If-Match": str(version)}
    )
    assert stale.status_code == 409
    assert "has changed since you read it" in stale.json()["detail"]


def test_duplicate_ids_are_409(api: Api, council: Council) -> None:
    """Creating a provider, carer or referral with an id in use is 409."""
    provider = {"id": "kintyre-care", "name": "K", "lot_ids": ["kintyre"], "hourly_rate_gbp": 20}
    assert api.client.post("/v1/providers", json=provider, headers=council.admin).status_code == 409
    carer = {"id": "C-001", "provider_id": "argyll-homecare", "base": [-5.43206, 56.03796]}
    assert api.client.post("/v1/carers", json=carer, headers=council.admin).status_code == 409


def test_unknown_references_are_422(api: Api, council: Council) -> None:
    """A carer with an undeclared skill, a provider in an unknown lot: 422 with the field."""
    carer = {
        "id": "C-9",
        "provider_id": "argyll-homecare",
        "base": [-5.43206, 56.03796],
        "skills": ["juggling"],
    }
    response = api.client.post("/v1/carers", json=carer, headers=council.admin)
    assert response.status_code == 422
    assert "unknown skill 'juggling'" in response.json()["problems"][0]["message"]
    update = {"lot_ids": ["atlantis"]}
    response = api.client.patch("/v1/providers/kintyre-care", json=update, headers=council.admin)
    assert response.status_code == 422
    assert "unknown lot 'atlantis'" in response.json()["problems"][0]["message"]


def test_removing_a_shift_under_existing_visits_is_refused(api: Api, council: Council) -> None:
    """A carer's shifts cannot be cut while placed visits sit in them."""
    response = api.client.patch("/v1/carers/C-003", json={"shifts": []}, headers=council.admin)
    assert response.status_code == 422
    assert "[outside_shift]" in response.json()["problems"][0]["message"]
    shifts = api.client.get("/v1/carers/C-003", headers=council.admin).json()["shifts"]
    assert len(shifts) == 7


def test_runs_outside_a_window_are_refused(api: Api, council: Council) -> None:
    """Changing a placed package's runs to start outside the window is 422; valid runs pass."""
    package = api.client.get("/v1/packages/P-001", headers=council.broker).json()
    runs = package["assignments"]
    bad = [dict(a, start_min=900) for a in runs]
    response = api.client.put(
        "/v1/packages/P-001/runs", json={"assignments": bad}, headers=council.broker
    )
    assert response.status_code == 422
    assert "[time_window]" in response.json()["problems"][0]["message"]
    good = [dict(a, start_min=560) for a in runs]
    response = api.client.put(
        "/v1/packages/P-001/runs", json={"assignments": good}, headers=council.broker
    )
    assert response.status_code == 200, response.text
    assert {a["start_min"] for a in response.json()["assignments"]} == {560}


def test_nul_characters_and_huge_numbers_are_422(api: Api, council: Council) -> None:
    """Input a database cannot hold (NUL, integers past 64 bits) is refused, not a 500."""
    nul_query = api.client.get("/v1/audit", params={"subject_id": "a\x00b"}, headers=council.broker)
    assert nul_query.status_code == 422
    body = b'{"reason": "a\\u0000b"}'
    nul_body = api.client.post(
        "/v1/referrals/R-001/withdraw",
        content=body,
        headers={**council.broker, "content-type": "application/json"},
    )
    assert nul_body.status_code == 422
    assert "NUL" in nul_body.json()["detail"]
    huge = api.client.get("/v1/packages", params={"offset": 2**70}, headers=council.broker)
    assert huge.status_code == 422
    huge = api.client.get("/v1/audit", params={"before_id": 2**70}, headers=council.broker)
    assert huge.status_code == 422
