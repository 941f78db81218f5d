"""The classic suites' readers and independent checkers, on instances with known answers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from allocator.routing import RoutingParams, solve
from api.cli import main
from benchmarks import hhc, solomon
from benchmarks.paths import DATA


def test_the_hhc_toy_reaches_its_proven_optimum() -> None:
    """Ceschia et al.'s 6-patient toy (simultaneous and sequential services): optimum 111.33."""
    inst = hhc.read_instance(DATA / "hhc" / "toy.json")
    solution = solve(hhc.to_problem(inst), RoutingParams(time_limit_s=10, solution_limit=2000))
    assert solution is not None
    figures, problems = hhc.check(inst, solution)
    assert problems == []
    assert figures["objective"] == pytest.approx(111.33, abs=0.01)


def test_solomon_best_known_routes_check_out_at_their_published_distance() -> None:
    inst = solomon.read_solomon(DATA / "solomon" / "instances" / "C101.txt")
    routes = [
        [int(c) for c in line.split(":")[1].split()]
        for line in (DATA / "solomon" / "best_known_routes" / "c101.txt").read_text().splitlines()
        if line.startswith("Route")
    ]
    used, distance, problems = solomon.check_routes(inst, routes)
    assert (used, problems) == (10, [])
    assert distance == pytest.approx(828.94, abs=0.01)


def test_the_solomon_checker_catches_a_late_customer() -> None:
    inst = solomon.read_solomon(DATA / "solomon" / "instances" / "C101.txt")
    reversed_route = [list(range(100, 0, -1))]
    _, _, problems = solomon.check_routes(inst, reversed_route)
    assert any("late" in p for p in problems)


def test_bench_hhc_writes_checked_results(tmp_path: Path) -> None:
    """`carealloc bench hhc --quick` runs and writes one checked row per instance."""
    assert main(["bench", "hhc", "--quick", "--time-limit", "1", "--out", str(tmp_path)]) == 0
    rows = list(csv.DictReader((tmp_path / "hhc.csv").open()))
    assert [r["instance"] for r in rows] == list(hhc.QUICK)
    assert all(r["feasible"] == "True" for r in rows)
    assert "within 5% of best known" in (tmp_path / "hhc.md").read_text()


def test_bench_solomon_writes_checked_results(tmp_path: Path) -> None:
    args = ["--instances", "C101", "--time-limit", "1", "--no-peer", "--out", str(tmp_path)]
    assert main(["bench", "solomon", *args]) == 0
    [row] = list(csv.DictReader((tmp_path / "solomon.csv").open()))
    assert (row["instance"], row["feasible"], row["bks_vehicles"]) == ("C101", "True", "10")


@pytest.mark.parametrize(
    ("bench", "option", "value", "rule"),
    [
        ("nightly", "--clients", "0", "must be at least 1"),
        ("nightly", "--time-limit", "-1", "must be more than 0 seconds"),
        ("nightly", "--max-moves", "-2", "is not a whole number"),
        ("allocation", "--clients", "0", "must be at least 1"),
        ("allocation", "--time-limit", "0", "must be more than 0 seconds"),
        ("hhc", "--time-limit", "-1", "must be more than 0 seconds"),
        ("solomon", "--time-limit", "0", "must be more than 0 seconds"),
        ("geodata", "--repeats", "0", "must be at least 1"),
        ("api", "--clients", "0", "must be at least 1"),
        ("api", "--soak-s", "-5", "must be more than 0 seconds"),
    ],
)
def test_a_benchmark_option_out_of_range_exits_2_before_running(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bench: str,
    option: str,
    value: str,
    rule: str,
) -> None:
    """Before, `bench allocation --clients 0` overwrote the committed results with an empty
    world and `bench nightly --time-limit -1` ended in a traceback."""
    with pytest.raises(SystemExit) as stopped:
        main(["bench", bench, option, value, "--out", str(tmp_path)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"carealloc bench {bench}: error: argument {option}" in err and rule in err
    assert list(tmp_path.iterdir()) == []
