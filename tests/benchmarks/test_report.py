"""The benchmark report: plots and REPORT.md drawn from a simulation's results."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.greedy import SequentialPolicy
from api.cli import main
from benchmarks.generator import ArgyllSettings, generate_argyll
from benchmarks.report import plot_runs_map, read_days, write_report
from benchmarks.simulate import Offers, Sequential, SimulationSettings, run, write_results

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_draws_the_simulation_and_links_other_results(tmp_path: Path) -> None:
    """From a simulation's CSV: a waiting-hours and a travel plot per profile, the summary in
    REPORT.md, and links to other benchmarks' results that are present."""
    settings = SimulationSettings(weeks=1, seed=3, clients=30, progress=False)
    result = run(settings, [Sequential(SequentialPolicy.STATUS_QUO), Offers(time_limit_s=1)])
    write_results(result, tmp_path, "carealloc bench simulate ...", "simulation_argyll")
    (tmp_path / "allocation.md").write_text("# Offers\n", encoding="utf-8")
    days = read_days(tmp_path / "simulation_argyll.csv")
    assert set(days) == {"status_quo", "carealloc_offers"}
    assert [int(r["day"]) for r in days["status_quo"]] == list(range(8))

    report = write_report(tmp_path, with_map=False).read_text(encoding="utf-8")
    for name in ("waiting_hours_argyll.png", "travel_argyll.png"):
        assert (tmp_path / "plots" / name).read_bytes().startswith(PNG)
        assert f"plots/{name}" in report
    assert "## Simulation: argyll" in report and "| status_quo |" in report
    assert "[Offers and joint placement at Argyll scale](allocation.md)" in report
    assert "torbay" not in report


def test_runs_map_is_a_png(tmp_path: Path) -> None:
    """One day's runs of a small generated world are drawn to a PNG."""
    snapshot = generate_argyll(2, ArgyllSettings(clients=30, new_referrals=0))
    out = plot_runs_map(snapshot, "mon", tmp_path / "runs.png")
    assert out.read_bytes().startswith(PNG)


def test_bench_lists_simulate_report_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    """`carealloc bench --help` offers simulate, report and all."""
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = capsys.readouterr().out
    for name in ("simulate", "report", "all"):
        assert name in text
