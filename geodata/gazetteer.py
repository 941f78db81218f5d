"""Places a broker knows by name: towns, villages and localities with coordinates.

Settlements carry GeoNames populations (places of 500 or more); localities come from GeoNames
postal places that have a coordinate of their own. Ferry terminals can be looked up by name too.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.spatial import cKDTree

from geodata._data import ferry_routes_frame, places_frame
from geodata._project import Points, to_metres
from geodata.errors import UnknownPlaceError
from geodata.lots import LotIndex, argyll_lot_index

LOCALITY_RADIUS_M = 8000.0
"""A point farther than this from every place in its lot is 'rural <lot name>'."""


@dataclass(frozen=True)
class Place:
    """A named place."""

    name: str
    lon: float
    lat: float
    population: int | None
    kind: str

    @property
    def point(self) -> tuple[float, float]:
        """``(lon, lat)``."""
        return (self.lon, self.lat)


class Gazetteer:
    """Named places, looked up by name or by nearness."""

    def __init__(self, places: list[Place], lots: LotIndex) -> None:
        self.places = places
        self._by_key = {_key(p.name): p for p in places}
        self._lots = lots
        self._place_lots = lots.positions([p.point for p in places])
        self._xy = to_metres([p.point for p in places])

    def find(self, name: str) -> Place:
        """The place called ``name`` (case and spacing ignored).

        Raises
        ------
        UnknownPlaceError
            With up to three of the nearest spellings.
        """
        place = self._by_key.get(_key(name))
        if place is not None:
            return place
        close = difflib.get_close_matches(_key(name), list(self._by_key), n=3, cutoff=0.6)
        raise UnknownPlaceError(name, [self._by_key[k].name for k in close])

    def localities(self, points: Points) -> list[str]:
        """For each point, the nearest place in the same lot, else ``rural <lot name>``.

        Points outside every lot raise :class:`~geodata.errors.OutsideServiceAreaError`.
        """
        self._lots.lookup(points)
        lot_positions = self._lots.positions(points)
        xy = to_metres(points)
        result = [""] * len(xy)
        for lot in np.unique(lot_positions):
            members = np.flatnonzero(lot_positions == lot)
            candidates = np.flatnonzero(self._place_lots == lot)
            rural = f"rural {self._lots.names[lot]}"
            if len(candidates) == 0:
                for i in members:
                    result[i] = rural
                continue
            distance, nearest = cKDTree(self._xy[candidates]).query(xy[members])
            for i, d, k in zip(members, distance, nearest, strict=True):
                result[i] = self.places[candidates[k]].name if d <= LOCALITY_RADIUS_M else rural
        return result


def _key(name: str) -> str:
    return " ".join(name.lower().replace("'", "").split())


@cache
def argyll_gazetteer() -> Gazetteer:
    """Places of Argyll and Bute, plus ferry terminals by their pier names."""
    places = [
        Place(
            name=str(row["name"]),
            lon=float(row["lon"]),
            lat=float(row["lat"]),
            population=None if np.isnan(row["population"]) else int(row["population"]),
            kind=str(row["kind"]),
        )
        for row in places_frame().to_dict("records")
    ]
    known = {_key(p.name) for p in places}
    lots = argyll_lot_index()
    for row in ferry_routes_frame().to_dict("records"):
        for side in ("from", "to"):
            name = str(row[f"{side}_terminal"])
            point = (float(row[f"{side}_lon"]), float(row[f"{side}_lat"]))
            if _key(name) not in known and lots.positions([point])[0] >= 0:
                known.add(_key(name))
                places.append(Place(name, point[0], point[1], None, "ferry terminal"))
    return Gazetteer(places, lots)
