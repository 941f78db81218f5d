"""Point -> lot lookup and the six Argyll and Bute lots."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.errors import OutsideServiceAreaError
from geodata.lots import LotIndex, argyll_lot_index, argyll_lots
from tests.geodata.shapes import km_box, lonlat


def two_lots() -> LotIndex:
    """West (0-5 km) and East (5-10 km) lots side by side."""
    return LotIndex(["west", "east"], ["West", "East"], [km_box(0, 0, 5, 5), km_box(5, 0, 10, 5)])


def test_points_map_to_the_lot_they_lie_in() -> None:
    """Inside each square, the square's lot."""
    assert two_lots().lookup([lonlat(1, 1), lonlat(9, 4)]) == ["west", "east"]


def test_point_just_offshore_snaps_to_the_nearest_lot() -> None:
    """1 km off the east edge belongs to East (tolerance 2 km)."""
    assert two_lots().lookup([lonlat(11, 2)]) == ["east"]


def test_point_far_offshore_is_an_error_naming_it() -> None:
    """5 km away is outside the service area, and the error names the point."""
    with pytest.raises(OutsideServiceAreaError) as caught:
        two_lots().lookup([lonlat(1, 1), lonlat(15, 2)])
    assert len(caught.value.points) == 1
    assert "[lon, lat]" in str(caught.value)


def test_adjacency_of_touching_lots() -> None:
    """Squares sharing an edge are adjacent."""
    assert two_lots().adjacency() == {"west": ["east"], "east": ["west"]}


@pytest.mark.parametrize(
    ("lon", "lat", "lot"),
    [
        (-5.43206, 56.03796, "mid-argyll"),  # Lochgilphead
        (-5.60764, 55.42583, "kintyre"),  # Campbeltown
        (-6.28426, 55.75583, "kintyre"),  # Bowmore, Islay
        (-6.07231, 56.62198, "oban-lorn"),  # Tobermory, Mull
        (-6.7998, 56.5048, "oban-lorn"),  # Scarinish, Tiree
        (-5.47184, 56.41535, "oban-lorn"),  # Oban
        (-4.92734, 55.95031, "cowal"),  # Dunoon
        (-5.05508, 55.83648, "bute"),  # Rothesay
        (-4.72648, 56.00614, "helensburgh-lomond"),  # Helensburgh
    ],
)
def test_real_places_are_in_their_lots(lon: float, lat: float, lot: str) -> None:
    """Towns and islands land in the framework lot the council puts them in."""
    assert argyll_lot_index().lookup([(lon, lat)]) == [lot]


def test_lookup_is_vectorised_over_thousands_of_points() -> None:
    """5,000 points around Lochgilphead all come back in one call, in order."""
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.normal(-5.43, 0.01, 5000), rng.normal(56.04, 0.005, 5000)])
    lots = argyll_lot_index().lookup(points)
    assert len(lots) == 5000
    assert set(lots) == {"mid-argyll"}


def test_six_lots_with_symmetric_adjacency() -> None:
    """Six lots; Bute is adjacent to Cowal across the Kyles; adjacency is symmetric."""
    lots = {lot.id: lot for lot in argyll_lots()}
    assert set(lots) == {
        "mid-argyll",
        "kintyre",
        "oban-lorn",
        "cowal",
        "bute",
        "helensburgh-lomond",
    }
    assert lots["bute"].adjacent_lot_ids == ("cowal",)
    for lot in lots.values():
        for other in lot.adjacent_lot_ids:
            assert lot.id in lots[other].adjacent_lot_ids
        assert lot.polygon["type"] in {"Polygon", "MultiPolygon"}
        assert lot.area_km2 > 100


def test_projection_from_new_threads_and_a_forked_child_gives_the_same_metres() -> None:
    """Server worker threads come and go; each gets the same answer as the first thread, and
    a forked worker process projects too (the projection thread is per process)."""
    import multiprocessing
    import threading

    from geodata._project import to_lonlat, to_metres

    point = [(-5.43, 56.04)]  # Lochgilphead
    expected = to_metres(point)
    found: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: found.append(to_metres(point))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 3
    for xy in found:
        np.testing.assert_allclose(xy, expected)
    np.testing.assert_allclose(to_lonlat(expected), point, atol=1e-7)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        in_child = pool.apply(to_metres, (point,))
    np.testing.assert_allclose(in_child, expected)
