"""Real OSM roads through osmnx, on a small extract the test writes itself (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.errors import GeodataError
from geodata.osm import FERRY_BOARDING_MIN, osm_source, parse_duration_min

EXTRACT = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="carealloc-test">
 <node id="1" lat="56.0000" lon="-5.5000"/>
 <node id="2" lat="56.0000" lon="-5.4000"/>
 <node id="3" lat="56.0500" lon="-5.4000"/>
 <node id="4" lat="56.1000" lon="-5.4000"/>
 <node id="5" lat="56.1000" lon="-5.5000"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/>
  <tag k="maxspeed" v="60 mph"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="secondary"/></way>
 <way id="12"><nd ref="3"/><nd ref="4"/><tag k="route" v="ferry"/><tag k="duration" v="00:30"/>
  <tag k="name" v="Test Ferry"/></way>
 <way id="13"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/>
  <tag k="oneway" v="yes"/></way>
</osm>
"""


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """The small extract on disk."""
    path = tmp_path / "test.osm"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


def test_route_uses_roads_and_the_timed_ferry(extract: Path) -> None:
    """Node 1 to node 5 drives two roads, sails the 30-minute ferry and drives on."""
    network = osm_source(extract)
    route = network.route((-5.5, 56.0), (-5.5, 56.1))
    assert route.ferries == ["Test Ferry"]
    # 6.2 km at 60 mph, 5.6 km and 6.2 km at imputed speeds, and the ferry with boarding.
    assert 30 + FERRY_BOARDING_MIN < route.minutes < 30 + FERRY_BOARDING_MIN + 25
    assert route.km == pytest.approx(6.2 + 5.56 + 6.2, rel=0.02)


def test_one_way_street_binds_drivers_not_walkers(extract: Path) -> None:
    """The residential street is one-way: no drive back from node 5, but a walk back."""
    network = osm_source(extract)
    assert not network.route((-5.5, 56.1), (-5.5, 56.0), "drive").reachable
    assert network.route((-5.5, 56.1), (-5.5, 56.0), "walk").reachable


@pytest.mark.parametrize(
    ("tag", "minutes"),
    [("00:45", 45), ("1:05", 65), ("1:05:30", 65.5), ("PT45M", 45), ("PT1H10M", 70), ("50", 50)],
)
def test_ferry_duration_tags(tag: str, minutes: float) -> None:
    """The duration formats mappers use are all read."""
    assert parse_duration_min(tag) == minutes


def test_unreadable_duration_is_none() -> None:
    """A duration that is not a time gives None (the ferry is then timed by distance)."""
    assert parse_duration_min("about an hour") is None


def test_missing_extract_is_a_clear_error(tmp_path: Path) -> None:
    """A path with no file is a GeodataError naming it."""
    with pytest.raises(GeodataError, match="not found"):
        osm_source(tmp_path / "none.osm")
