"""Fixtures for the REST API: a real database (SQLite file, or PostgreSQL when reachable),
the app on it, and councils with keys of each role."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from allocator.model import Placement, Plan, ReasonCode, Snapshot, SolverInfo, Unplaced
from api.app import create_app
from api.commands.keys import add_key
from api.db import Database, connect, migrate
from api.security import Role
from api.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
POSTGRES_URL = os.environ.get(
    "CAREALLOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def example_snapshot() -> dict[str, Any]:
    """The worked Mid Argyll example of docs/examples, as decoded JSON."""
    data: dict[str, Any] = json.loads((DOCS / "examples" / "snapshot.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    url = make_url(POSTGRES_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any connection failure means "no server here"
        admin.dispose()
        pytest.skip(f"no PostgreSQL reachable at {url.render_as_string()} ({type(error).__name__})")
    name = f"carealloc_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh SQLite file, or the run's PostgreSQL database."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        return Settings(data_dir=tmp_path, database_url=url)
    # Flushing to disk on every commit (FULL, the default) guards against power cuts, which
    # tests do not have; crash safety is the same with NORMAL.
    return Settings(data_dir=tmp_path, database_url=None, sqlite_synchronous="NORMAL")


@dataclass
class Council:
    """A council (tenant) with one key per role."""

    tenant_id: str
    admin: dict[str, str]
    broker: dict[str, str]
    keys: dict[str, str]

    def provider(self, client_db: Database, provider_id: str) -> dict[str, str]:
        """Headers of a (new) provider key for ``provider_id``."""
        made, _ = add_key(client_db, self.tenant_id, Role.PROVIDER, provider_id=provider_id)
        return {"X-API-Key": made.secret_key}


@dataclass
class Api:
    """A running app (TestClient) and its database."""

    client: TestClient
    db: Database

    def council(self, name: str | None = None) -> Council:
        """A new council with admin and broker keys."""
        tenant_id = name or f"council-{uuid.uuid4().hex[:8]}"
        admin, _ = add_key(self.db, tenant_id, Role.ADMIN)
        broker, _ = add_key(self.db, tenant_id, Role.BROKER)
        return Council(
            tenant_id=tenant_id,
            admin={"X-API-Key": admin.secret_key},
            broker={"X-API-Key": broker.secret_key},
            keys={"admin": admin.key_id, "broker": broker.key_id},
        )

    def provider_key(self, council: Council, provider_id: str) -> dict[str, str]:
        """Headers of a provider key."""
        return council.provider(self.db, provider_id)


@contextmanager
def running(settings: Settings, **options: Any) -> Iterator[Api]:
    """The app (made with ``options``) running on ``settings``' database."""
    with TestClient(create_app(settings, **options), raise_server_exceptions=False) as client:
        db = connect(settings)
        try:
            yield Api(client=client, db=db)
        finally:
            db.dispose()


def example_council(api: Api) -> Council:
    """A new council holding the worked Mid Argyll example."""
    council = api.council()
    response = api.client.post("/v1/imports", json=example_snapshot(), headers=council.admin)
    assert response.status_code == 201, response.text
    return council


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """The app on a real database."""
    with running(settings) as started:
        yield started


@pytest.fixture
def council(api: Api) -> Council:
    """A council holding the worked Mid Argyll example."""
    return example_council(api)


def plan_assignments(package_id: str) -> list[dict[str, Any]]:
    """The runs docs/examples/plan.json gives a package (feasible by the evaluator)."""
    plan = json.loads((DOCS / "examples" / "plan.json").read_text("utf-8"))
    for placement in plan["placements"]:
        if placement["package_id"] == package_id:
            assignments: list[dict[str, Any]] = placement["assignments"]
            return assignments
    raise KeyError(package_id)


def place_r001(api: Api, council: Council, **headers: str) -> Any:
    """POST the example's feasible placement of R-001 with Argyll Homecare."""
    body = {
        "placements": [
            {
                "referral_id": "R-001",
                "provider_id": "argyll-homecare",
                "assignments": plan_assignments("R-001"),
            }
        ]
    }
    return api.client.post("/v1/placements", json=body, headers={**council.broker, **headers})


def referral_body(
    referral_id: str = "R-010",
    *,
    days: tuple[str, ...] = ("mon", "wed"),
    earliest: int = 690,
    latest: int = 750,
    **extra: Any,
) -> dict[str, Any]:
    """A new referral for a lunch call in Lochgilphead (a point of the example's travel)."""
    return {
        "id": referral_id,
        "client_ref": "MA-9001",
        "location": [-5.43206, 56.03796],
        "lot_id": "mid-argyll",
        "start_date": "2026-12-01",
        "waiting_since": "2026-11-20T09:00:00Z",
        "visits": [
            {
                "id": "lunch",
                "days": list(days),
                "earliest_start_min": earliest,
                "latest_start_min": latest,
                "duration_min": 30,
            }
        ],
        **extra,
    }


@dataclass
class LiveServer:
    """``carealloc serve`` running on loopback, with a council holding the worked example."""

    url: str
    council: Council


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def example_with_lot_polygons() -> dict[str, Any]:
    """The worked example with rough rectangles for its two lots, for drawing."""

    def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
        ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
        return {"type": "Polygon", "coordinates": [ring]}

    snapshot = example_snapshot()
    polygons = {
        "mid-argyll": box(-5.75, 55.95, -5.2, 56.3),
        "kintyre": box(-5.8, 55.3, -5.3, 55.95),
    }
    for lot in snapshot["lots"]:
        lot["polygon"] = polygons[lot["id"]]
    return snapshot


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``carealloc serve`` in its own process on a free loopback port."""
    settings = Settings(data_dir=tmp_path)
    db = connect(settings)
    migrate(db)
    api = Api(client=None, db=db)  # type: ignore[arg-type]
    council = api.council("argyll-bute")
    db.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("carealloc serve did not answer /health")
        response = httpx.post(
            f"{url}/v1/imports", json=example_with_lot_polygons(), headers=council.admin, timeout=30
        )
        assert response.status_code == 201, response.text
        yield LiveServer(url=url, council=council)
    finally:
        server.terminate()
        server.wait(timeout=20)


def stand_in_plan(snapshot: Snapshot, runs: dict[str, list[dict[str, Any]]]) -> Plan:
    """What a stand-in for the optimisation core returns: every run kept, the referrals in
    ``runs`` placed with Argyll Homecare on those runs, the other referrals unplaced."""
    placements = [
        Placement(package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments)
        for p in snapshot.packages
    ]
    placements += [
        Placement.model_validate(
            {"package_id": r, "provider_id": "argyll-homecare", "assignments": assignments}
        )
        for r, assignments in runs.items()
    ]
    unplaced = [
        Unplaced(
            package_id=r.id,
            reason_code=ReasonCode.NO_SHIFT,
            reason="no evening shift",
            weekly_hours=r.weekly_hours,
        )
        for r in snapshot.referrals
        if r.id not in runs
    ]
    return Plan(
        snapshot_name=snapshot.name,
        created_at=dt.datetime.now(dt.UTC),
        solver=SolverInfo(name="stand-in"),
        placements=placements,
        unplaced=unplaced,
    )
