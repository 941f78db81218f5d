"""The benchmark report: plots and REPORT.md drawn from a simulation's results."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from allocator.greedy import SequentialPolicy
from api.cli import main
from benchmarks.generator import ArgyllSettings, generate_argyll
from benchmarks.report import (
    Setting,
    measured_settings,
    plot_runs_map,
    read_days,
    trade_off_lines,
    write_report,
)
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


def _simulation_csv(
    path: Path, rows: dict[str, list[tuple[float, float, int]]], moved: int | None = None
) -> None:
    """A simulation CSV with (hours waiting, travel per contact hour, placed today) per day,
    day 0 first; with ``moved``, a moved_today column (that many each day after day 0), as
    runs since 2026-12-05 write."""
    header = "policy,day,hours_waiting,travel_min_per_contact_hour,placed_today"
    lines = [header + ("" if moved is None else ",moved_today")]
    for policy, days in rows.items():
        for day, (h, t, p) in enumerate(days):
            extra = "" if moved is None else f",{moved if day else 0}"
            lines.append(f"{policy},{day},{h},{t},{p}{extra}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_trade_off_sets_every_run_against_its_own_status_quo(tmp_path: Path) -> None:
    """Two runs of the Argyll world: each policy's hours waiting and travel are taken against
    the status quo of its own run, day 0 left out; the report says which meet both targets
    and draws the plot."""
    # Day 0 is the same starting world for every policy and is not counted.
    _simulation_csv(
        tmp_path / "simulation_argyll.csv",
        {
            "status_quo": [(999, 99, 0), (100, 20, 1), (100, 20, 1)],
            "carealloc_nightly": [(999, 99, 0), (60, 19, 2), (40, 19, 2)],
        },
    )
    _simulation_csv(
        tmp_path / "simulation_argyll_cap30.csv",
        {
            "status_quo": [(999, 99, 0), (200, 20, 1), (200, 20, 1)],
            "carealloc_nightly": [(999, 99, 0), (40, 16, 1), (40, 16, 1)],
        },
        moved=3,
    )
    (tmp_path / "simulation_argyll_cap30.md").write_text(
        "# x\n\nCommand: `carealloc bench simulate --handover-travel-cap 30`. More.\n", "utf-8"
    )
    _simulation_csv(
        tmp_path / "simulation_argyll_quick.csv",
        {"status_quo": [(1, 1, 0), (1, 1, 0)], "carealloc_nightly": [(0, 0, 0), (0, 0, 0)]},
    )
    found = {s.run: s for s in measured_settings(tmp_path)}
    assert set(found) == {"simulation_argyll", "simulation_argyll_cap30"}  # quick left out
    default, capped = found["simulation_argyll"], found["simulation_argyll_cap30"]
    assert default.hours_share == 50.0 and default.travel_lower == pytest.approx(5.0)
    assert (default.placed, default.placed_status_quo) == (4, 2)
    assert not default.meets_targets
    assert capped.hours_share == 20.0 and capped.travel_lower == pytest.approx(20.0)
    assert capped.meets_targets
    assert capped.command == "carealloc bench simulate --handover-travel-cap 30"
    assert default.command == "(command not recorded)"
    assert (default.moved, capped.moved) == (None, 6)

    lines = trade_off_lines(list(found.values()))
    assert lines[2] == (
        "| `simulation_argyll_cap30` | carealloc_nightly | 2 | 20.0 | 20.0 | 2 (2) | 6 | yes |"
    )
    assert lines[3].endswith("| 4 (2) | not counted | no |")
    assert "1 of 2 measured settings meet both targets" in "\n".join(lines)
    assert "None of" in "\n".join(trade_off_lines([default]))

    report = write_report(tmp_path, with_map=False).read_text(encoding="utf-8")
    assert "## Hours waiting against travel: every measured setting (argyll)" in report
    assert (tmp_path / "plots" / "trade_off_argyll.png").read_bytes().startswith(PNG)


def test_the_trade_off_correlation_compares_runs_of_one_length() -> None:
    """A 4-week run places fewer extra clients than any 12-week run whatever it does, so the
    correlation is taken over the 84-day settings only, and says so."""

    def nightly(run: str, extra: int, lower: float, days: int) -> Setting:
        return Setting(run, "cmd", "carealloc_nightly", 50.0, lower, 300 + extra, 300, days)

    long_runs = [nightly("a", 100, 8.0, 84), nightly("b", 150, 5.0, 84), nightly("c", 50, 14.0, 84)]
    short = nightly("d", 10, 2.0, 28)  # would turn r positive if counted
    text = "\n".join(trade_off_lines([*long_runs, short]))
    r = statistics.correlation([100.0, 150.0, 50.0], [8.0, 5.0, 14.0])
    assert "Across the 3 nightly re-optimisation settings of 84 days, the correlation" in text
    assert f"r = {r:.2f}" in text
    assert "| `d` | carealloc_nightly | 28 |" in text
