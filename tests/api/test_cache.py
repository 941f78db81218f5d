"""Two server processes on one database: each sees the other's writes, reading only the rows
that changed."""

from __future__ import annotations

from typing import Any

import pytest

import api.tenants
from api.settings import Settings
from tests.api.conftest import (
    example_council,
    example_snapshot,
    place_r001,
    referral_body,
    running,
)


def test_a_second_server_sees_writes_reading_only_changed_rows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server B loads the council once; after A's writes it refreshes, not reloads."""
    loads: list[str] = []
    full_load = api.tenants._load

    def counting(session: Any, tenant: Any) -> Any:
        loads.append(tenant.id)
        return full_load(session, tenant)

    monkeypatch.setattr(api.tenants, "_load", counting)
    with running(settings) as a, running(settings) as b:
        council = example_council(a)
        report = b.client.get("/v1/reports/waiting", headers=council.broker).json()
        assert report["packages"] == 2
        loads_after_first_read = len(loads)

        assert place_r001(a, council).status_code == 201
        created = a.client.post("/v1/referrals", json=referral_body(), headers=council.broker)
        assert created.status_code == 201
        a.client.post("/v1/referrals/R-002/withdraw", json={"reason": "x"}, headers=council.broker)

        report = b.client.get("/v1/reports/waiting", headers=council.broker).json()
        assert report["by_lot"] == {"mid-argyll": 1.0}
        runs = b.client.get("/v1/carers/C-002/runs", headers=council.broker).json()
        assert {s["package_id"] for s in runs["runs"]["mon"]} == {"R-001"}
        assert len(loads) == loads_after_first_read


def test_an_import_makes_other_servers_load_afresh(settings: Settings) -> None:
    """After a whole import by A, B's view is the new snapshot (lots and providers included)."""
    with running(settings) as a, running(settings) as b:
        council = example_council(a)
        assert len(b.client.get("/v1/providers", headers=council.broker).json()) == 2
        snapshot = example_snapshot()
        snapshot["providers"][1]["name"] = "Kintyre Care (renamed)"
        snapshot["referrals"] = []
        assert a.client.post("/v1/imports", json=snapshot, headers=council.admin).status_code == 201
        overview = b.client.get("/v1/status/overview", headers=council.broker).json()
        assert "Kintyre Care (renamed)" in {p["name"] for p in overview["providers"]}
        assert overview["waiting"] == []
