"""`carealloc demo` on a tiny generated world: checked plans, consistent tables, offline map."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from benchmarks.demo import CAREALLOC, STATUS_QUO, DemoResult, DemoSettings, lot_table, run_demo
from benchmarks.generator import ArgyllSettings

TINY = DemoSettings(seed=5, world=ArgyllSettings(clients=50, new_referrals=6), time_limit_s=2)


@pytest.fixture(scope="module")
def result() -> DemoResult:
    """The demo on a tiny world, shared by the tests of this module."""
    return run_demo(TINY)


def test_both_plans_checked_and_joint_places_at_least_as_many_hours(result: DemoResult) -> None:
    """Both plans come with the evaluator's KPIs; joint placement places at least the status
    quo's hours of today's referrals, and every new referral is placed or waiting in each."""
    new = set(result.new_ids)
    assert len(new) == 6
    hours = {}
    for method in result.methods:
        assert method.plan.kpis is not None
        placed = set(method.placed(new))
        waiting = {u.package_id for u in method.plan.unplaced} & new
        assert placed | waiting == new and not placed & waiting
        hours[method.name] = sum(result.snapshot.package(i).weekly_hours for i in placed)
        assert all(minutes >= -1e-6 for minutes in method.added_travel.values())
    assert hours[CAREALLOC] >= hours[STATUS_QUO] - 1e-9


def test_lot_table_adds_up(result: DemoResult) -> None:
    """The 'all lots' row is the sum of the lot rows, and matches each plan's waiting count."""
    _, rows = lot_table(result)
    *lots, total = rows
    assert total[0] == "all lots"
    assert int(total[1]) == sum(int(r[1]) for r in lots) == len(result.new_ids)
    for k, method in enumerate(result.methods):
        waiting = [int(r[3].split(" / ")[k]) for r in lots]
        assert int(total[3].split(" / ")[k]) == sum(waiting) == len(method.plan.unplaced)


def test_demo_cli_writes_checked_outputs_and_an_offline_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints the tables and writes a snapshot and plan the evaluator accepts, a
    summary and a map page that loads nothing from the internet."""
    args = ["demo", "--seed", "5", "--clients", "40", "--new-referrals", "3", "--time-limit", "1"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "By lot (carealloc / status quo)" in out
    assert "all lots" in out
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"snapshot.json", "plan.json", "plan-status-quo.json", "summary.md", "map.html"}
    assert main(["evaluate", str(tmp_path / "snapshot.json"), str(tmp_path / "plan.json")]) == 0
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "<svg" in page and 'class="lot"' in page and 'class="client' in page
    assert "<script" not in page and "src=" not in page and "@import" not in page
    assert "| all lots |" in (tmp_path / "summary.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("option", "value"), [("--clients", "0"), ("--time-limit", "-1"), ("--seed", "x")]
)
def test_bad_options_exit_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    """A bad option is refused with status 2 and named, never a traceback."""
    try:
        status = main(["demo", option, value, "--out", str(tmp_path)])
    except SystemExit as exited:
        status = int(str(exited.code))
    assert status == 2
    assert option in capsys.readouterr().err
