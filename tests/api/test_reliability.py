"""Idempotent retries, all-or-nothing writes, a crash between two writes, and concurrent
placement of one referral."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

from sqlalchemy import func, select

from api.tables import AuditRow, PackageEvent, PackageRow
from tests.api.conftest import Api, Council, place_r001, plan_assignments, referral_body


def _count(api: Api, council: Council, table: Any, **where: str) -> int:
    with api.db.read_session() as session:
        stmt = select(func.count()).select_from(table).where(table.tenant_id == council.tenant_id)
        for column, value in where.items():
            stmt = stmt.where(getattr(table, column) == value)
        return int(session.scalar(stmt) or 0)


def test_a_retry_with_the_same_key_gets_the_same_response(api: Api, council: Council) -> None:
    """Same Idempotency-Key and body: the first response again, the write done once."""
    first = place_r001(api, council, **{"Idempotency-Key": "place-r001-1"})
    again = place_r001(api, council, **{"Idempotency-Key": "place-r001-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(api, council, AuditRow, action="referral.place") == 1


def test_a_reused_key_with_another_body_is_422(api: Api, council: Council) -> None:
    """Same Idempotency-Key, different body: refused, nothing written."""
    headers = {**council.broker, "Idempotency-Key": "k-1"}
    body = {"reason": "family care"}
    assert (
        api.client.post("/v1/referrals/R-002/withdraw", json=body, headers=headers).status_code
        == 200
    )
    other = api.client.post("/v1/referrals/R-002/withdraw", json={"reason": "x"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]


def test_idempotency_keys_are_per_api_key(api: Api, council: Council) -> None:
    """Two keys may use the same Idempotency-Key without seeing each other's responses."""
    headers = {**council.broker, "Idempotency-Key": "same"}
    assert (
        api.client.post(
            "/v1/referrals/R-002/withdraw", json={"reason": "a"}, headers=headers
        ).status_code
        == 200
    )
    admin = {**council.admin, "Idempotency-Key": "same"}
    response = api.client.post("/v1/referrals/R-001/withdraw", json={"reason": "b"}, headers=admin)
    assert response.status_code == 200
    assert response.json()["id"] == "R-001"


def test_a_failure_between_two_writes_leaves_nothing_half_written(
    api: Api, council: Council, monkeypatch: Any
) -> None:
    """The referral row is changed, then the audit write fails: nothing of it is stored."""
    from api.deps import Tx

    def broken_audit(self: Tx, *args: Any, **kwargs: Any) -> None:
        self.session.flush()  # the package row and its history are written first
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(Tx, "audit", broken_audit)
    response = place_r001(api, council)
    assert response.status_code == 500
    assert "nothing was stored" in response.json()["detail"]
    monkeypatch.undo()
    referral = api.client.get("/v1/referrals/R-001", headers=council.broker).json()
    assert referral["state"] == "received" and referral["assignments"] == []
    assert _count(api, council, PackageEvent, package_id="R-001") == 1
    assert place_r001(api, council).status_code == 201


_KILL_MID_PLACEMENT = """
import os, sys
from fastapi.testclient import TestClient
from api.app import create_app
from api.deps import Tx
from api.settings import Settings

def killed(self, *args, **kwargs):
    self.session.flush()
    os._exit(137)  # like kill -9: no rollback, no cleanup

Tx.audit = killed
app = create_app(Settings(database_url=sys.argv[1]))
with TestClient(app) as client:
    client.post("/v1/placements", json={"placements": [{"referral_id": "R-001",
        "provider_id": "argyll-homecare", "assignments": %s}]},
        headers={"X-API-Key": sys.argv[2]})
"""


def test_a_killed_process_mid_placement_leaves_no_half_placed_package(
    api: Api, council: Council
) -> None:
    """A server process killed between the package write and the audit write: nothing stored."""
    script = _KILL_MID_PLACEMENT % plan_assignments("R-001")
    done = subprocess.run(
        [sys.executable, "-c", script, api.db.url, council.broker["X-API-Key"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 137, done.stderr
    with api.db.read_session() as session:
        row = session.get(PackageRow, (council.tenant_id, "R-001"))
        assert row is not None and row.state == "received" and row.provider_id is None
    assert _count(api, council, PackageEvent, package_id="R-001") == 1
    assert _count(api, council, AuditRow, action="referral.place") == 0
    assert place_r001(api, council).status_code == 201


def test_concurrent_placements_of_one_referral_exactly_one_succeeds(
    api: Api, council: Council
) -> None:
    """Eight requests at once to place R-001: one 201, seven 409, one placement stored."""
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def attempt() -> None:
        barrier.wait()
        codes.append(place_r001(api, council).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [409] * 7
    assert _count(api, council, AuditRow, action="referral.place") == 1
    assert _count(api, council, PackageEvent, package_id="R-001", to_state="placed") == 1


def test_two_referrals_cannot_take_the_same_gap(api: Api, council: Council) -> None:
    """A second package given the same carer at the same time is refused by the evaluator."""
    assert place_r001(api, council).status_code == 201
    clash = referral_body("R-011", days=("mon",), earliest=720, latest=720)
    assert api.client.post("/v1/referrals", json=clash, headers=council.broker).status_code == 201
    body = {
        "placements": [
            {
                "referral_id": "R-011",
                "provider_id": "argyll-homecare",
                "assignments": [
                    {"visit_id": "lunch", "day": "mon", "carer_ids": ["C-001"], "start_min": 720}
                ],
            }
        ]
    }
    response = api.client.post("/v1/placements", json=body, headers=council.broker)
    assert response.status_code == 422
    rules = {p["message"].split("]")[0] for p in response.json()["problems"]}
    assert "[travel_time" in rules
    assert (
        api.client.get("/v1/referrals/R-011", headers=council.broker).json()["state"] == "received"
    )


def test_a_batch_is_all_or_nothing(api: Api, council: Council) -> None:
    """One good and one bad placement in one request: neither is stored."""
    body = {
        "placements": [
            {
                "referral_id": "R-001",
                "provider_id": "argyll-homecare",
                "assignments": plan_assignments("R-001"),
            },
            {
                "referral_id": "R-002",
                "provider_id": "kintyre-care",
                "assignments": [
                    {"visit_id": "evening", "day": d, "carer_ids": ["C-003"], "start_min": 1080}
                    for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                ],
            },
        ]
    }
    response = api.client.post("/v1/placements", json=body, headers=council.broker)
    assert response.status_code == 422
    assert all(p["path"] in {"R-002", "C-003"} for p in response.json()["problems"])
    assert (
        api.client.get("/v1/referrals/R-001", headers=council.broker).json()["state"] == "received"
    )
