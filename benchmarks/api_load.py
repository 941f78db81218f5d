"""Load on the REST API at Argyll scale, on loopback: offers latency, a soak, and schemathesis.

``python -m benchmarks.api_load [--soak-s 600] [--clients 20] ...`` builds a seeded instance
of Argyll and Bute's size (12 lots, 15 providers, 180 carers with full weekly runs, 1,000
placed packages, 60 referrals waiting, travel times between all 1,240-odd points), starts
``carealloc serve`` on a free loopback port, imports it, and then measures:

1. **offers**: ``POST /v1/referrals/{id}/offers`` from ``--clients`` concurrent clients; p50,
   p95 and p99 latency (target p95 <= 150 ms with 20 clients);
2. **soak**: ``--soak-s`` seconds of mixed reads, offers and placements (each a new referral
   placed in a free late-evening slot of a carer, later ended again), counting every response
   by status; target 0 server errors (5xx or dropped connections);
3. **schemathesis** over the OpenAPI description, for ``--fuzz-s`` seconds, checking that no
   request gets a 5xx.

Results go to ``benchmarks/results/api_load.json`` and ``api_load.md``. Capabilities not built
yet (an endpoint answering 501) are reported as such, never measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from allocator.evaluate import evaluate
from allocator.io import write_text_atomic
from allocator.model import DAYS, Plan, Snapshot
from allocator.travel import TravelMatrix
from api.commands.args import at_least_one, output_folder, positive_seconds, whole_number
from api.commands.keys import add_key
from api.db import connect, migrate
from api.security import Role
from api.settings import Settings
from benchmarks.paths import RESULTS

# A synthetic box the size of Argyll and Bute's mainland and near islands (degrees).
LON_MIN, LON_MAX = -6.3, -4.7
LAT_MIN, LAT_MAX = 55.4, 56.5
LOT_ROWS, LOT_COLS = 4, 3
ROAD_FACTOR = 1.3
DRIVE_KPH = 50.0
PACKAGE_RADIUS_KM = 3.0
# Each carer's clients are visited in four rounds a day; the k-th client of a carer is visited
# SLOT_MIN * k minutes into each round (a call plus at most ten minutes' drive).
VISIT_STARTS_MIN = {"morning": 450, "lunch": 690, "tea": 960, "bed": 1140}
VISIT_DURATION_MIN = {"morning": 20, "lunch": 15, "tea": 15, "bed": 20}
VISIT_CHANCE = 0.85
SLOT_MIN = 30
VISIT_WINDOW_MIN = 30
MAX_WORKING_MIN = 720
SOAK_VISIT_START_MIN = 1335
SOAK_VISIT_MIN = 20
SHIFT = (420, 1380)


# --- the instance ---------------------------------------------------------------------------


def _km_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between every row of ``a`` and every row of ``b`` ([lon, lat])."""
    lon1, lat1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    lon2, lat2 = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def _lot_box(row: int, col: int) -> tuple[float, float, float, float]:
    width = (LON_MAX - LON_MIN) / LOT_COLS
    height = (LAT_MAX - LAT_MIN) / LOT_ROWS
    lon0, lat0 = LON_MIN + col * width, LAT_MIN + row * height
    return lon0, lat0, lon0 + width, lat0 + height


def _lot_of(lon: float, lat: float) -> str:
    col = min(LOT_COLS - 1, int((lon - LON_MIN) / (LON_MAX - LON_MIN) * LOT_COLS))
    row = min(LOT_ROWS - 1, int((lat - LAT_MIN) / (LAT_MAX - LAT_MIN) * LOT_ROWS))
    return f"lot-{row}{col}"


def build_instance(
    seed: int = 7,
    carers: int = 180,
    providers: int = 15,
    packages: int = 1000,
    referrals: int = 60,
) -> dict[str, Any]:
    """A feasible snapshot of Argyll and Bute's size, as decoded JSON, with travel times.

    The default size is the one the allocation issue names: 15 providers, about 180 carers,
    1,000 placed clients and about 25,000 visit occurrences a week. Every carer works
    07:00-23:00 every day and visits five or six clients living near its base in four rounds a
    day, so its runs are full by day and free from 22:15, where the soak places new referrals.
    """
    rng = np.random.default_rng(seed)
    lots: list[dict[str, Any]] = []
    for row in range(LOT_ROWS):
        for col in range(LOT_COLS):
            lon0, lat0, lon1, lat1 = _lot_box(row, col)
            ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
            neighbours = [
                f"lot-{r}{c}"
                for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
                if 0 <= r < LOT_ROWS and 0 <= c < LOT_COLS
            ]
            lots.append(
                {
                    "id": f"lot-{row}{col}",
                    "name": f"Zone {'ABCD'[row]}{col + 1}",
                    "polygon": {"type": "Polygon", "coordinates": [ring]},
                    "adjacent_lot_ids": neighbours,
                }
            )
    lot_ids = [lot["id"] for lot in lots]
    provider_rows: list[dict[str, Any]] = []
    for i in range(providers):
        held = {lot_ids[i % len(lot_ids)]}
        if rng.random() < 0.5:
            held.add(lot_ids[int(rng.integers(len(lot_ids)))])
        provider_rows.append(
            {
                "id": f"prov-{i:02d}",
                "name": f"Provider {i:02d}",
                "lot_ids": sorted(held),
                "hourly_rate_gbp": round(float(rng.uniform(24, 29)), 2),
                "works_adjacent_lots": bool(rng.random() < 0.3),
            }
        )
    skills = ["medication", "hoist", "dementia"]
    carer_rows: list[dict[str, Any]] = []
    package_rows: list[dict[str, Any]] = []
    for i in range(carers):
        provider = provider_rows[i % providers]
        lot = next(x for x in lots if x["id"] == provider["lot_ids"][0])
        (lon0, lat0), _, (lon1, lat1), *_ = lot["polygon"]["coordinates"][0]
        base = [round(float(rng.uniform(lon0, lon1)), 5), round(float(rng.uniform(lat0, lat1)), 5)]
        carer_id = f"C-{i:04d}"
        carer_rows.append(
            {
                "id": carer_id,
                "provider_id": provider["id"],
                "base": base,
                "shifts": [{"day": d, "start_min": SHIFT[0], "end_min": SHIFT[1]} for d in DAYS],
                "max_working_min_per_day": MAX_WORKING_MIN,
                "skills": sorted(set(rng.choice(skills, size=2).tolist())),
                "gender": str(rng.choice(["female", "male"])),
            }
        )
        for k in range(packages // carers + (i < packages % carers)):
            angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(0.2, PACKAGE_RADIUS_KM)
            lat = base[1] + radius * math.sin(angle) / 111.0
            lon = base[0] + radius * math.cos(angle) / (111.0 * math.cos(math.radians(base[1])))
            names = [n for n in VISIT_STARTS_MIN if rng.random() < VISIT_CHANCE] or ["morning"]
            visits, assignments = [], []
            for name in names:
                start = VISIT_STARTS_MIN[name] + SLOT_MIN * k
                visits.append(
                    {
                        "id": name,
                        "days": list(DAYS),
                        "earliest_start_min": start - VISIT_WINDOW_MIN // 2,
                        "latest_start_min": start + VISIT_WINDOW_MIN // 2,
                        "duration_min": VISIT_DURATION_MIN[name],
                    }
                )
                assignments += [
                    {"visit_id": name, "day": d, "carer_ids": [carer_id], "start_min": start}
                    for d in DAYS
                ]
            package_id = f"P-{i:04d}-{k}"
            package_rows.append(
                {
                    "id": package_id,
                    "client_ref": f"AB-{i:04d}{k}",
                    "location": [round(lon, 5), round(lat, 5)],
                    "lot_id": _lot_of(lon, lat),
                    "start_date": "2026-01-05",
                    "urgency": "routine",
                    "waiting_since": "2025-12-01T09:00:00Z",
                    "visits": visits,
                    "provider_id": provider["id"],
                    "assignments": assignments,
                }
            )
    urgencies = ["discharge_pathway_1", "urgent", "routine", "routine"]
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    referral_rows: list[dict[str, Any]] = []
    for i in range(referrals):
        lon = float(rng.uniform(LON_MIN, LON_MAX))
        lat = float(rng.uniform(LAT_MIN, LAT_MAX))
        names = [n for n in VISIT_STARTS_MIN if rng.random() < 0.6] or ["lunch"]
        referral_rows.append(
            {
                "id": f"R-{i:04d}",
                "client_ref": f"AB-R{i:04d}",
                "location": [round(lon, 5), round(lat, 5)],
                "lot_id": _lot_of(lon, lat),
                "start_date": "2026-12-01",
                "urgency": urgencies[i % len(urgencies)],
                "waiting_since": (
                    now - dt.timedelta(hours=float(rng.uniform(1, 1500)))
                ).isoformat(),
                "visits": [
                    {
                        "id": name,
                        "days": list(DAYS),
                        "earliest_start_min": VISIT_STARTS_MIN[name] - 30,
                        "latest_start_min": VISIT_STARTS_MIN[name] + 60,
                        "duration_min": 30,
                        "required_skills": ["hoist"] if rng.random() < 0.1 else [],
                    }
                    for name in names
                ],
            }
        )
    points = []
    seen: set[tuple[float, float]] = set()
    for item in [
        *(c["base"] for c in carer_rows),
        *(p["location"] for p in package_rows),
        *(r["location"] for r in referral_rows),
    ]:
        key = (item[0], item[1])
        if key not in seen:
            seen.add(key)
            points.append(list(key))
    xy = np.array(points)
    road_km = _km_between(xy, xy) * ROAD_FACTOR
    minutes = road_km / DRIVE_KPH * 60
    return {
        "name": f"Argyll-scale load instance (seed {seed})",
        "skills": skills,
        "lots": lots,
        "providers": provider_rows,
        "carers": carer_rows,
        "packages": package_rows,
        "referrals": referral_rows,
        "travel": {
            "points": points,
            "drive": {
                "minutes": np.round(minutes, 1).tolist(),
                "km": np.round(road_km, 2).tolist(),
            },
        },
    }


def check_instance(data: dict[str, Any]) -> None:
    """Raise unless the instance's placed runs break no hard rule (by the evaluator)."""
    snapshot = Snapshot.model_validate(data)
    assert snapshot.travel is not None
    plan = Plan.model_validate(
        {
            "snapshot_name": snapshot.name,
            "created_at": "2026-11-24T00:00:00Z",
            "solver": {"name": "instance builder"},
            "placements": [
                {"package_id": p.id, "provider_id": p.provider_id, "assignments": p.assignments}
                for p in snapshot.packages
            ],
            "unplaced": [
                {
                    "package_id": r.id,
                    "reason_code": "not_solved_in_time",
                    "reason": "waiting",
                    "weekly_hours": r.weekly_hours,
                }
                for r in snapshot.referrals
            ],
        }
    )
    result = evaluate(snapshot, plan, TravelMatrix.from_supplied(snapshot.travel))
    if not result.is_feasible:
        msg = f"the load instance breaks hard rules: {result.violations[:3]}"
        raise RuntimeError(msg)


# --- the server ----------------------------------------------------------------------------


@dataclass
class Server:
    """``carealloc serve`` in its own process."""

    url: str
    process: subprocess.Popen[bytes]
    keys: dict[str, str]

    def stop(self) -> None:
        """Stop the server and wait for it."""
        self.process.terminate()
        self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path, database_url: str | None, workers: int) -> Server:
    """Start the server (``workers`` processes) on a free loopback port, with admin and broker
    keys for two councils."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    db = connect(settings)
    migrate(db)
    tenant = f"argyll-load-{os.getpid()}"
    keys = {
        "admin": add_key(db, tenant, Role.ADMIN)[0].secret_key,
        "broker": add_key(db, tenant, Role.BROKER)[0].secret_key,
        "fuzz": add_key(db, f"{tenant}-fuzz", Role.ADMIN)[0].secret_key,
    }
    db.dispose()
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
    ]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url=url, process=process, keys=keys)
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    msg = "carealloc serve did not come up"
    raise RuntimeError(msg)


# --- measurements ---------------------------------------------------------------------------


def _percentiles(samples_ms: list[float]) -> dict[str, float | int | None]:
    if not samples_ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1)

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 1),
    }


def _run_clients(client: Callable[[int], None], clients: int) -> float:
    """Run ``client(0..clients-1)`` in parallel threads; returns the wall time in seconds."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def measure_offers(
    server: Server, referral_ids: list[str], clients: int, requests: int, seed: int
) -> dict[str, Any]:
    """Offers latency with ``clients`` concurrent clients, or why it was not measured."""
    headers = {"X-API-Key": server.keys["broker"]}
    probe = httpx.post(
        f"{server.url}/v1/referrals/{referral_ids[0]}/offers", headers=headers, timeout=60
    )
    if probe.status_code == 501:
        return {"measured": False, "reason": probe.json()["detail"]}
    if probe.status_code != 200:
        return {"measured": False, "reason": f"probe answered {probe.status_code}: {probe.text}"}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def client(index: int) -> None:
        rng = np.random.default_rng(seed + index)
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            for _ in range(per_client):
                referral = referral_ids[int(rng.integers(len(referral_ids)))]
                start = time.perf_counter()
                response = http.post(f"/v1/referrals/{referral}/offers")
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] += 1

    wall = _run_clients(client, clients)
    alone: list[float] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        for referral in referral_ids:
            start = time.perf_counter()
            http.post(f"/v1/referrals/{referral}/offers")
            alone.append((time.perf_counter() - start) * 1000)
    return {
        "measured": True,
        "one_client": _percentiles(alone),
        "clients": clients,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "throughput_per_s": round(len(latencies) / wall, 1),
        **_percentiles(latencies),
    }


@dataclass
class SoakState:
    """What the soak's clients share: free evening slots and the tallies."""

    free_slots: list[tuple[str, str, list[float]]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    created: int = 0

    def record(self, kind: str, status: int | str, elapsed_ms: float, detail: str = "") -> None:
        """Tally one response (or a transport failure)."""
        with self.lock:
            self.statuses[f"{kind} {status}"] += 1
            self.latencies.setdefault(kind, []).append(elapsed_ms)
            if not isinstance(status, int) or status >= 500:
                self.server_errors.append(f"{kind} {status} {detail[:300]}")


def soak(
    server: Server,
    data: dict[str, Any],
    seconds: float,
    clients: int,
    offers_built: bool,
    seed: int,
) -> dict[str, Any]:
    """Mixed reads, offers and placements for ``seconds``; every status tallied."""
    carers = data["carers"]
    state = SoakState(free_slots=[(c["id"], day, c["base"]) for c in carers for day in DAYS])
    order = np.random.default_rng(seed).permutation(len(state.free_slots))
    state.free_slots = [state.free_slots[i] for i in order]
    carer_provider = {c["id"]: c["provider_id"] for c in carers}
    waiting = [r["id"] for r in data["referrals"]]
    headers = {"X-API-Key": server.keys["broker"]}
    deadline = time.monotonic() + seconds

    def call(
        http: httpx.Client, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = http.request(method, path, **kw)
        except httpx.HTTPError as error:
            state.record(kind, type(error).__name__, (time.perf_counter() - start) * 1000)
            return None
        state.record(
            kind, response.status_code, (time.perf_counter() - start) * 1000, response.text
        )
        return response

    def client(index: int) -> None:
        rng = np.random.default_rng(seed + 1000 + index)
        placed: list[tuple[str, tuple[str, str, list[float]]]] = []
        serial = 0
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as http:
            while time.monotonic() < deadline:
                roll = rng.random()
                if roll < 0.5:
                    choice = int(rng.integers(5))
                    if choice == 0:
                        call(http, "read", "GET", "/v1/referrals", params={"limit": 50})
                    elif choice == 1:
                        offset = int(rng.integers(0, 950))
                        call(
                            http,
                            "read",
                            "GET",
                            "/v1/packages",
                            params={"limit": 50, "offset": offset},
                        )
                    elif choice == 2:
                        carer = carers[int(rng.integers(len(carers)))]["id"]
                        call(http, "read", "GET", f"/v1/carers/{carer}/runs")
                    elif choice == 3:
                        call(http, "read", "GET", "/v1/reports/waiting")
                    else:
                        call(http, "read", "GET", "/v1/audit", params={"limit": 20})
                elif roll < 0.75 and offers_built:
                    referral = waiting[int(rng.integers(len(waiting)))]
                    call(http, "offers", "POST", f"/v1/referrals/{referral}/offers")
                elif placed and rng.random() < 0.45:
                    package_id, slot = placed.pop(int(rng.integers(len(placed))))
                    response = call(
                        http,
                        "end",
                        "POST",
                        f"/v1/packages/{package_id}/end",
                        json={"reason": "soak"},
                    )
                    if response is not None and response.status_code == 200:
                        with state.lock:
                            state.free_slots.append(slot)
                else:
                    with state.lock:
                        free = state.free_slots.pop() if state.free_slots else None
                    if free is None:
                        continue
                    carer_id, day, base = free
                    serial += 1
                    package_id = f"S-{index:02d}-{serial:05d}"
                    referral = {
                        "id": package_id,
                        "client_ref": f"SOAK-{index}-{serial}",
                        "location": base,
                        "start_date": "2026-12-01",
                        "visits": [
                            {
                                "id": "late",
                                "days": [day],
                                "earliest_start_min": SOAK_VISIT_START_MIN,
                                "latest_start_min": SOAK_VISIT_START_MIN,
                                "duration_min": SOAK_VISIT_MIN,
                            }
                        ],
                    }
                    key = {"Idempotency-Key": f"create-{package_id}"}
                    created = call(
                        http, "create", "POST", "/v1/referrals", json=referral, headers=key
                    )
                    if created is None or created.status_code != 201:
                        continue
                    body = {
                        "placements": [
                            {
                                "referral_id": package_id,
                                "provider_id": carer_provider[carer_id],
                                "assignments": [
                                    {
                                        "visit_id": "late",
                                        "day": day,
                                        "carer_ids": [carer_id],
                                        "start_min": SOAK_VISIT_START_MIN,
                                    }
                                ],
                            }
                        ]
                    }
                    response = call(
                        http,
                        "place",
                        "POST",
                        "/v1/placements",
                        json=body,
                        headers={"Idempotency-Key": f"place-{package_id}"},
                    )
                    if response is not None and response.status_code == 201:
                        placed.append((package_id, free))
                        with state.lock:
                            state.created += 1

    wall = _run_clients(client, clients)
    total = sum(state.statuses.values())
    return {
        "seconds": round(wall, 1),
        "clients": clients,
        "requests": total,
        "requests_per_s": round(total / wall, 1),
        "placements": state.created,
        "server_errors": len(state.server_errors),
        "server_error_examples": state.server_errors[:10],
        "statuses": dict(sorted(state.statuses.items())),
        "latency_by_kind": {k: _percentiles(v) for k, v in sorted(state.latencies.items())},
    }


def fuzz(server: Server, seconds: int, seed: int) -> dict[str, Any]:
    """schemathesis over the OpenAPI description: every 5xx it finds, by operation."""
    schemathesis = Path(sys.executable).parent / "schemathesis"
    if not schemathesis.exists():
        return {"ran": False, "reason": "schemathesis is not installed (pip install -e '.[bench]')"}
    fuzz_key = server.keys["fuzz"]
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "snapshot.json"
    httpx.post(
        f"{server.url}/v1/imports",
        content=example.read_bytes(),
        headers={"X-API-Key": fuzz_key, "Content-Type": "application/json"},
        timeout=60,
    )
    command = [
        str(schemathesis),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--header",
        f"X-API-Key: {fuzz_key}",
        "--max-time",
        str(seconds),
        "--seed",
        str(seed),
        "--workers",
        "2",
    ]
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as scratch:  # for its cache
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=scratch)
    failures = _fuzz_failures(done.stdout)
    not_built = sorted(op for op, statuses in failures.items() if statuses == {501})
    real = {op: sorted(statuses - {501}) for op, statuses in failures.items() if statuses - {501}}
    return {
        "ran": True,
        "exit_code": done.returncode,
        "server_errors": sum(len(s) for s in real.values()),
        "server_errors_by_operation": real,
        "not_built_yet_501": not_built,
        "summary": done.stdout.strip().splitlines()[-22:],
    }


def _fuzz_failures(output: str) -> dict[str, set[int]]:
    """The 5xx statuses schemathesis reports per operation, read from its failure blocks
    (``____ POST /v1/x ____`` then ``[500] Internal Server Error:``)."""
    found: dict[str, set[int]] = {}
    operation = None
    for line in output.splitlines():
        header = re.fullmatch(r"_+ ([A-Z]+ /\S*) _+", line.strip())
        if header:
            operation = header.group(1)
            continue
        status = re.match(r"\[(5\d\d)\] ", line.strip())
        if status and operation:
            found.setdefault(operation, set()).add(int(status.group(1)))
    return found


# --- the run -------------------------------------------------------------------------------


def _markdown(result: dict[str, Any]) -> str:
    inst, offers, soak_r, fuzz_r = (
        result[k] for k in ("instance", "offers", "soak", "schemathesis")
    )
    lines = [
        "# REST API load (`python -m benchmarks.api_load`)",
        "",
        f"Run {result['finished_at']} at commit {result['commit']} on {result['machine']}; "
        f"command `{result['command']}`; "
        f"{result['database']} database, {result['server_workers']} server process(es); the load "
        "generator runs on the same machine.",
        "",
        f"Instance: {inst['lots']} lots, {inst['providers']} providers, {inst['carers']} carers, "
        f"{inst['packages']} placed packages ({inst['assignments']} visit assignments), "
        f"{inst['referrals']} referrals, {inst['travel_points']} travel points; "
        f"import {inst['import_s']} s ({inst['import_mb']} MB).",
        "",
        "## Offers (target: p95 <= 150 ms with 20 concurrent clients)",
        "",
    ]
    if offers["measured"]:
        lines += [
            f"{offers['n']} requests from {offers['clients']} clients: p50 {offers['p50_ms']} ms, "
            f"**p95 {offers['p95_ms']} ms**, p99 {offers['p99_ms']} ms, max {offers['max_ms']} ms; "
            f"{offers['throughput_per_s']} requests/s; statuses {offers['statuses']}.",
            "",
            f"The same offers one at a time (one client, each referral once): p50 "
            f"{offers['one_client']['p50_ms']} ms, p95 {offers['one_client']['p95_ms']} ms: "
            "the service time that 20 concurrent clients queue for on the machine's cores.",
        ]
    else:
        lines.append(f"Not measured: {offers['reason']}")
    lines += [
        "",
        f"## Soak (target: 0 server errors; {soak_r['seconds']} s)",
        "",
        f"{soak_r['requests']} requests from {soak_r['clients']} clients "
        f"({soak_r['requests_per_s']}/s), {soak_r['placements']} placements; "
        f"**{soak_r['server_errors']} server errors**.",
        "",
        "| kind | n | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for kind, p in soak_r["latency_by_kind"].items():
        lines.append(f"| {kind} | {p['n']} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} |")
    lines += ["", "Statuses: " + ", ".join(f"{k}: {v}" for k, v in soak_r["statuses"].items()), ""]
    lines += ["## schemathesis (target: no 5xx)", ""]
    if fuzz_r["ran"]:
        lines.append(
            f"**{fuzz_r['server_errors']} server errors**; operations answering 501 because "
            f"they are not built yet: {', '.join(fuzz_r['not_built_yet_501']) or 'none'}."
        )
        lines += ["", "```text", *fuzz_r["summary"], "```"]
    else:
        lines.append(f"Not run: {fuzz_r['reason']}")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    """The git commit the benchmark ran, when run from a checkout."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(
        prog="carealloc bench api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--soak-s", type=positive_seconds, default=600, help="soak length (default 600)"
    )
    parser.add_argument("--clients", type=at_least_one, default=20)
    parser.add_argument("--offers-requests", type=at_least_one, default=2000)
    parser.add_argument(
        "--fuzz-s", type=at_least_one, default=120, help="schemathesis time budget (seconds)"
    )
    parser.add_argument("--seed", type=whole_number, default=7)
    parser.add_argument(
        "--workers",
        type=at_least_one,
        default=1,
        help="server processes (default 1: with SQLite, a second process reloads the council "
        "after each write of the first)",
    )
    parser.add_argument("--database-url", help="run against this database instead of SQLite")
    parser.add_argument("--out", type=output_folder, default=RESULTS, metavar="DIR")
    args = parser.parse_args(argv)

    commit = _commit()
    data = build_instance(args.seed)
    check_instance(data)
    body = json.dumps(data).encode()
    with tempfile.TemporaryDirectory(prefix="carealloc-load-") as tmp:
        server = start_server(Path(tmp), args.database_url, args.workers)
        try:
            start = time.perf_counter()
            imported = httpx.post(
                f"{server.url}/v1/imports",
                content=body,
                timeout=600,
                headers={"X-API-Key": server.keys["admin"], "Content-Type": "application/json"},
            )
            import_s = round(time.perf_counter() - start, 2)
            if imported.status_code != 201:
                msg = f"import failed: {imported.status_code} {imported.text[:500]}"
                raise RuntimeError(msg)
            referral_ids = [r["id"] for r in data["referrals"]]
            print(f"imported in {import_s} s; measuring offers", flush=True)
            offers = measure_offers(
                server, referral_ids, args.clients, args.offers_requests, args.seed
            )
            print(
                f"offers: {offers.get('p95_ms', offers.get('reason'))}; soaking {args.soak_s} s",
                flush=True,
            )
            soak_result = soak(
                server, data, args.soak_s, args.clients, offers["measured"], args.seed
            )
            print(f"soak: {soak_result['server_errors']} server errors; schemathesis", flush=True)
            fuzz_result = fuzz(server, args.fuzz_s, args.seed)
        finally:
            server.stop()
    result = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python -m benchmarks.api_load " + " ".join(argv or sys.argv[1:]),
        "commit": commit,
        "database": "postgresql" if args.database_url else "sqlite",
        "server_workers": args.workers,
        "instance": {
            "lots": len(data["lots"]),
            "providers": len(data["providers"]),
            "carers": len(data["carers"]),
            "packages": len(data["packages"]),
            "assignments": sum(len(p["assignments"]) for p in data["packages"]),
            "referrals": len(data["referrals"]),
            "travel_points": len(data["travel"]["points"]),
            "import_s": import_s,
            "import_mb": round(len(body) / 1e6, 1),
        },
        "offers": offers,
        "soak": soak_result,
        "schemathesis": fuzz_result,
    }
    write_text_atomic(args.out / "api_load.json", json.dumps(result, indent=2) + "\n")
    write_text_atomic(args.out / "api_load.md", _markdown(result))
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
