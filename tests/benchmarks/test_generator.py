"""The Argyll generator: deterministic per seed, valid, and its runs break no hard rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allocator.evaluate import evaluate
from allocator.model import Snapshot
from api.cli import main
from api.prepare import travel_matrix
from benchmarks.generator import WEEKLY_HOURS_CAP, ArgyllSettings, generate_argyll
from tests.builders import current_plan

SMALL = ArgyllSettings(clients=60, new_referrals=6)


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """A small generated snapshot, shared by the tests of this module."""
    return generate_argyll(11, SMALL)


def test_same_seed_same_snapshot(snapshot: Snapshot) -> None:
    """Generating again with the same seed gives exactly the same snapshot."""
    again = generate_argyll(11, SMALL)
    assert again.model_dump(mode="json") == snapshot.model_dump(mode="json")
    other = generate_argyll(12, SMALL)
    assert other.model_dump(mode="json") != snapshot.model_dump(mode="json")


def test_shape_of_the_snapshot(snapshot: Snapshot) -> None:
    """15 providers, six lots, every client counted once, packages within the hours cap."""
    assert len(snapshot.providers) == 15
    assert len(snapshot.lots) == 6
    assert len(snapshot.packages) + len(snapshot.referrals) == 66
    assert all(p.weekly_hours <= WEEKLY_HOURS_CAP for p in snapshot.all_packages())
    assert all(p.lot_id and p.locality for p in snapshot.all_packages())
    new = [r for r in snapshot.referrals if r.id.startswith("R-")]
    assert len(new) == 6


def test_existing_runs_break_no_hard_rule(snapshot: Snapshot) -> None:
    """Today's runs, built by the status-quo process, pass the independent evaluator."""
    result = evaluate(snapshot, current_plan(snapshot), travel_matrix(snapshot))
    assert result.is_feasible, result.violations[:3]
    assert result.kpis.packages_placed == len(snapshot.packages) > 0


def test_generate_cli_writes_a_valid_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`carealloc generate` writes a snapshot that `carealloc validate` accepts."""
    out = tmp_path / "argyll.json"
    assert (
        main(
            [
                "generate",
                "--seed",
                "3",
                "--clients",
                "30",
                "--new-referrals",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "15 providers" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "argyll-seed3"
    assert main(["validate", str(out)]) == 0


def test_bad_counts_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A negative or non-numeric count is refused with the option named."""
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--clients", "-5", "--out", str(tmp_path / "x.json")])
    assert exited.value.code == 2
    assert "--clients" in capsys.readouterr().err


def test_the_late_finish_rota_gives_every_carer_its_shifts(tmp_path: Path) -> None:
    """`--rota late-finish`: mornings 07:00-14:30, evenings 16:00-23:00; still a valid world
    whose runs break no hard rule."""
    out = tmp_path / "late.json"
    args = ["generate", "--seed", "3", "--clients", "30", "--new-referrals", "2"]
    assert main([*args, "--rota", "late-finish", "--out", str(out)]) == 0
    late = Snapshot.model_validate_json(out.read_text(encoding="utf-8"))
    windows = {(s.start_min, s.end_min) for c in late.carers for s in c.shifts}
    assert windows == {(420, 870), (960, 1380)}
    result = evaluate(late, current_plan(late), travel_matrix(late))
    assert result.is_feasible, result.violations[:3]
    standard = generate_argyll(3, ArgyllSettings(clients=30, new_referrals=2))
    assert {(s.start_min, s.end_min) for c in standard.carers for s in c.shifts} == {
        (420, 840),
        (960, 1350),
    }


def test_an_unknown_rota_exits_2_naming_the_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--rota", "nights", "--out", str(out)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--rota" in err and "late-finish" in err and "standard" in err
    assert not out.exists()
