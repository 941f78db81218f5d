"""The Torbay profile: deterministic per seed, valid, runs that pass the evaluator, Torbay's
scale, and travel that goes round the bay."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from allocator.evaluate import evaluate
from allocator.model import Snapshot
from api.cli import main
from api.prepare import travel_matrix
from benchmarks.torbay import (
    DETOUR_FACTOR,
    PARKING_MIN,
    TorbaySettings,
    TorbayTravel,
    generate_torbay,
)
from tests.builders import current_plan

SMALL = TorbaySettings(clients=60, new_referrals=4)


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """A small Torbay snapshot, shared by the tests of this module."""
    return generate_torbay(7, SMALL)


def test_same_seed_same_snapshot(snapshot: Snapshot) -> None:
    """The same seed gives exactly the same snapshot; another seed a different one."""
    assert generate_torbay(7, SMALL).model_dump(mode="json") == snapshot.model_dump(mode="json")
    assert generate_torbay(8, SMALL).model_dump(mode="json") != snapshot.model_dump(mode="json")


def test_snapshot_carries_its_own_geography(snapshot: Snapshot) -> None:
    """Three lots, every package with a lot and a neighbourhood, and a travel matrix covering
    every point (no embedded map needed)."""
    assert [lot.id for lot in snapshot.lots] == ["torquay", "paignton", "brixham"]
    assert all(p.lot_id in {"torquay", "paignton", "brixham"} for p in snapshot.all_packages())
    assert all(p.locality for p in snapshot.all_packages())
    assert snapshot.travel is not None
    assert set(snapshot.points()) <= set(snapshot.travel.points)
    assert len(snapshot.packages) + len(snapshot.referrals) == 64


def test_existing_runs_break_no_hard_rule(snapshot: Snapshot) -> None:
    """Today's runs, built the status-quo way, pass the independent evaluator."""
    result = evaluate(snapshot, current_plan(snapshot), travel_matrix(snapshot))
    assert result.is_feasible, result.violations[:3]
    assert result.kpis.packages_placed == len(snapshot.packages) > 0


def test_travel_goes_round_the_bay() -> None:
    """Straight line x detour at 25 km/h plus parking; Brixham to Torquay goes via Paignton,
    so it takes longer than the straight line across the water would."""
    brixham, torquay, paignton = (-3.5150, 50.3930), (-3.5290, 50.4650), (-3.5660, 50.4350)
    minutes, km = TorbayTravel().matrix([brixham, torquay, paignton])
    assert np.allclose(np.diag(minutes), 0) and np.allclose(minutes, minutes.T)
    assert km[0, 1] == pytest.approx(km[0, 2] + km[2, 1])
    straight_km = 8.0  # Brixham to Torquay across the bay is about 8 km
    assert km[0, 1] > DETOUR_FACTOR * straight_km
    assert minutes[0, 2] == pytest.approx(km[0, 2] / 25 * 60 + PARKING_MIN)


@pytest.mark.slow
def test_default_is_torbay_scale() -> None:
    """The default has 776 clients with about 9,800 visits a week between them (January
    2021), 7 providers, and the status quo places most of them."""
    snap = generate_torbay(1)
    clients = [p for p in snap.all_packages() if p.id.startswith("P-")]
    visits = sum(len(v.days) for p in clients for v in p.visits)
    assert len(clients) == 776
    assert 9_800 * 0.9 <= visits <= 9_800 * 1.1
    assert len(snap.providers) == 7
    assert len(snap.packages) >= 0.9 * 776


def test_generate_cli_torbay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`carealloc generate --profile torbay` writes a snapshot that validates and allocates."""
    out = tmp_path / "torbay.json"
    args = ["--seed", "3", "--clients", "25", "--new-referrals", "2", "--out", str(out)]
    assert main(["generate", "--profile", "torbay", *args]) == 0
    assert "7 providers" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "torbay-seed3"
    assert main(["validate", str(out)]) == 0
    plan = tmp_path / "plan.json"
    assert main(["allocate", str(out), "--out", str(plan), "--time-limit", "1"]) == 0
    assert main(["evaluate", str(out), str(plan)]) == 0
