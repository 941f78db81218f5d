"""`carealloc offers` and `carealloc allocate` as a broker or a batch job runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allocator.io import read_plan
from api.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[2] / "docs" / "examples" / "snapshot.json")


def test_offers_ranks_providers_with_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    """The Lochgilphead discharge: Argyll Homecare can take it, Kintyre Care cannot and why."""
    assert main(["offers", EXAMPLE, "R-001", "--json"]) == 0
    offers = json.loads(capsys.readouterr().out)
    assert [(o["provider_id"], o["feasible"]) for o in offers] == [
        ("argyll-homecare", True),
        ("kintyre-care", False),
    ]
    assert offers[1]["reason_code"] == "gender_preference"
    assert len(offers[0]["assignments"]) == 28


def test_offers_table_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json, a table with one explanation line per provider."""
    assert main(["offers", EXAMPLE, "R-002"]) == 0
    out = capsys.readouterr().out
    assert "Offers for R-002" in out
    assert "does not hold the Kintyre lot" in out


def test_unknown_package_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An id not in the snapshot names the referrals it does have."""
    assert main(["offers", EXAMPLE, "R-404"]) == 2
    err = capsys.readouterr().err
    assert "no package 'R-404'" in err and "R-001" in err


def test_allocate_writes_a_checked_plan_with_kpis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan places R-001, leaves R-002 waiting with a reason, and carries the KPIs."""
    out = tmp_path / "plan.json"
    assert main(["allocate", EXAMPLE, "--out", str(out), "--time-limit", "2", "--seed", "3"]) == 0
    plan = read_plan(out)
    assert plan.placement("R-001") is not None
    assert [u.package_id for u in plan.unplaced] == ["R-002"]
    assert plan.kpis is not None and plan.kpis.packages_placed == 3
    assert plan.solver.seed == 3
    assert "Placed 1 of 2 referrals" in capsys.readouterr().out
    assert main(["evaluate", EXAMPLE, str(out)]) == 0


def test_allocate_sequential_status_quo(tmp_path: Path) -> None:
    """--sequential status_quo is today's practice, also checked and written."""
    out = tmp_path / "plan.json"
    assert main(["allocate", EXAMPLE, "--out", str(out), "--sequential", "status_quo"]) == 0
    assert read_plan(out).solver.name == "sequential-status_quo"


@pytest.mark.parametrize("bad", [["--time-limit", "0"], ["--time-limit", "soon"], ["--seed", "-1"]])
def test_allocate_rejects_bad_options(
    bad: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nonsense limits and seeds exit 2 with the option named, and write nothing."""
    out = tmp_path / "plan.json"
    with pytest.raises(SystemExit) as exited:
        main(["allocate", EXAMPLE, "--out", str(out), *bad])
    assert exited.value.code == 2
    assert bad[0] in capsys.readouterr().err
    assert not out.exists()
