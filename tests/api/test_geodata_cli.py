"""`carealloc route` and `carealloc lots` as a user runs them."""

from __future__ import annotations

import json

import pytest

from api.cli import main


def test_route_json_has_minutes_km_and_ferries(capsys: pytest.CaptureFixture[str]) -> None:
    """Oban to Tobermory names the Craignure ferry in the JSON."""
    assert main(["route", "Oban", "Tobermory", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["ferries"] == ["Oban - Craignure (Mull)"]
    assert answer["minutes"] > 60
    assert answer["km"] > 30


def test_route_accepts_lat_lon(capsys: pytest.CaptureFixture[str]) -> None:
    """'lat,lon' works, latitude first as copied from a map."""
    assert main(["route", "56.4153,-5.4718", "Lochgilphead"]) == 0
    assert "to Lochgilphead (drive)" in capsys.readouterr().out


def test_unknown_place_suggests_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt place exits 2 with the nearest spelling, no traceback."""
    assert main(["route", "Obann", "Tobermory"]) == 2
    err = capsys.readouterr().err
    assert "did you mean Oban" in err
    assert "Traceback" not in err


def test_point_outside_the_area_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A point in the open sea is outside the service area."""
    assert main(["route", "55.5,-5.0", "Oban"]) == 2
    assert "outside the service area" in capsys.readouterr().err


def test_lots_lists_the_six_lots(capsys: pytest.CaptureFixture[str]) -> None:
    """The table has every lot with its area."""
    assert main(["lots"]) == 0
    out = capsys.readouterr().out
    for name in ("Mid Argyll", "Kintyre", "Oban & Lorn", "Cowal", "Bute", "Helensburgh & Lomond"):
        assert name in out
