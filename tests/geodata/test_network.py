"""The travel network on synthetic shapes whose answers are obvious."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from geodata.argyll import CIRCUITY, PARK_AND_WALK_ON_MIN, Ferry, FixedLink, build_network
from geodata.errors import OutsideServiceAreaError
from tests.geodata.shapes import km_box, lonlat, sea_loch, xy


def test_journey_goes_round_a_sea_loch() -> None:
    """Across a 2 km loch the road goes round its head: about 15 km, not 4."""
    network = build_network(sea_loch(), spacing_m=500)
    west, east = lonlat(3, 9), lonlat(7, 9)
    route = network.route(west, east)
    assert route.reachable
    assert route.ferries == []
    # Down 7 km, across 4 km below the loch head, up 7 km: about 18 straight km.
    assert 16 * CIRCUITY < route.km < 21 * CIRCUITY


def test_open_land_distance_follows_the_straight_line() -> None:
    """Between two grid nodes 6 km apart on open land: exactly 6 km times the circuity."""
    network = build_network(km_box(0, 0, 10, 10), spacing_m=500)
    # The 500 m grid's nodes sit at 0.25 km + multiples of 0.5 km.
    route = network.route(lonlat(2.25, 5.25), lonlat(8.25, 5.25))
    assert route.km == pytest.approx(6 * CIRCUITY, abs=0.02)


def test_island_is_reached_only_by_its_ferry() -> None:
    """An island 3 km offshore is reached by the ferry, whose minutes are counted in full."""
    land = shapely.union_all([km_box(0, 0, 5, 5), km_box(8, 0, 13, 5)])
    ferry = Ferry("Test ferry", xy(5, 2.5), xy(8, 2.5), minutes=40.0, vehicles=True, foot=True)
    network = build_network(land, ferries=[ferry], spacing_m=500)
    route = network.route(lonlat(4, 2.5), lonlat(9, 2.5))
    assert route.reachable
    assert route.ferries == ["Test ferry"]
    assert route.minutes > 40
    without = build_network(land, spacing_m=500)
    minutes, km = without.matrix([lonlat(4, 2.5), lonlat(9, 2.5)])
    assert np.isinf(minutes[0, 1]) and np.isinf(km[0, 1])
    assert not without.route(lonlat(4, 2.5), lonlat(9, 2.5)).reachable


def test_foot_ferry_walkers_cross_and_drivers_park_first() -> None:
    """A passenger-only ferry is walked on; a driver parks first, which costs 10 minutes more."""
    land = shapely.union_all([km_box(0, 0, 5, 5), km_box(6, 0, 8, 2)])
    ferry = Ferry("Foot ferry", xy(5, 1), xy(6, 1), minutes=15.0, vehicles=False, foot=True)
    network = build_network(land, ferries=[ferry], spacing_m=500)
    walk = network.route(lonlat(4.5, 1), lonlat(6.5, 1), "walk")
    drive = network.route(lonlat(4.5, 1), lonlat(6.5, 1), "drive")
    assert walk.ferries == drive.ferries == ["Foot ferry"]
    assert drive.minutes > 15 + PARK_AND_WALK_ON_MIN


def test_barrier_forces_a_detour() -> None:
    """A freshwater loch drawn as a barrier line cannot be crossed."""
    land = km_box(0, 0, 10, 10)
    barrier = LineString([xy(5, 1), xy(5, 10.5)])
    network = build_network(land, barriers=[barrier], spacing_m=500)
    route = network.route(lonlat(3, 8), lonlat(7, 8))
    # Round the barrier's southern end at y = 1: down 7, across 4, up 7.
    assert route.km > 15 * CIRCUITY


def test_bridge_joins_two_pieces_of_land() -> None:
    """A fixed link (a bridge) makes the other side reachable without a ferry."""
    land = shapely.union_all([km_box(0, 0, 5, 5), km_box(5.3, 0, 10, 5)])
    bridge = FixedLink(
        "Test bridge", xy(4.9, 2.5), xy(5.4, 2.5), km=0.5, minutes=1.0, walkable=True
    )
    network = build_network(land, links=[bridge], spacing_m=500)
    route = network.route(lonlat(3, 2.5), lonlat(7, 2.5))
    assert route.reachable and route.ferries == []


def test_walking_is_slower_than_driving() -> None:
    """The same 6 km takes walkers several times longer."""
    network = build_network(km_box(0, 0, 10, 10), spacing_m=500)
    points = [lonlat(2, 5), lonlat(8, 5)]
    drive, _ = network.matrix(points, "drive")
    walk, _ = network.matrix(points, "walk")
    assert walk[0, 1] > 5 * drive[0, 1]


def test_matrix_is_cached_and_callers_cannot_corrupt_the_cache() -> None:
    """Asking twice gives equal answers, even if the first answer was changed by its caller."""
    network = build_network(km_box(0, 0, 10, 10), spacing_m=500)
    points = [lonlat(1, 1), lonlat(9, 9), lonlat(5, 5)]
    first, _ = network.matrix(points)
    expected = first.copy()
    first[0, 1] = -1
    second, _ = network.matrix(points)
    np.testing.assert_array_equal(second, expected)
    assert np.all(np.diag(second) == 0)


def test_point_far_offshore_is_outside_the_service_area() -> None:
    """A point 20 km out to sea is refused with the point named."""
    network = build_network(km_box(0, 0, 10, 10), spacing_m=500)
    with pytest.raises(OutsideServiceAreaError, match="outside the service area"):
        network.matrix([lonlat(5, 5), lonlat(30, 5)])
