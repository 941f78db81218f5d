"""Framework lots (zones) and the point -> lot lookup.

Argyll and Bute's 2024 care-at-home framework has six lots, each a union of council wards
(2013 boundaries, the ones the embedded data carries):

=====================  =====================  =================================================
id                     name                   wards
=====================  =====================  =================================================
``mid-argyll``         Mid Argyll             Mid Argyll
``kintyre``            Kintyre                South Kintyre; Kintyre and the Islands (Islay,
                                              Jura, Gigha, Colonsay)
``oban-lorn``          Oban & Lorn            Oban South and the Isles (Mull, Iona, Coll,
                                              Tiree); Oban North and Lorn (Lismore)
``cowal``              Cowal                  Cowal; Dunoon
``bute``               Bute                   Isle of Bute
``helensburgh-lomond`` Helensburgh & Lomond   Lomond North; Helensburgh Central; Helensburgh
                                              and Lomond South
=====================  =====================  =================================================

Lots are adjacent when their polygons come within :data:`ADJACENT_WITHIN_M` of each other,
so Bute and Cowal, 185 m apart across the Kyles of Bute, are adjacent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geodata._data import places_frame, wards_frame
from geodata._project import Points, to_lonlat, to_metres
from geodata.errors import OutsideServiceAreaError

OFFSHORE_TOLERANCE_M = 2000.0
"""A point this close to a lot (a house on the shore, a pier) belongs to the nearest lot."""

ADJACENT_WITHIN_M = 200.0

# Simplification of the polygons carried in snapshots, in metres; lookups use the full detail.
_SNAPSHOT_SIMPLIFY_M = 100.0

ARGYLL_LOTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("mid-argyll", "Mid Argyll", ("Mid Argyll",)),
    ("kintyre", "Kintyre", ("South Kintyre", "Kintyre and the Islands")),
    ("oban-lorn", "Oban & Lorn", ("Oban South and the Isles", "Oban North and Lorn")),
    ("cowal", "Cowal", ("Cowal", "Dunoon")),
    ("bute", "Bute", ("Isle of Bute",)),
    (
        "helensburgh-lomond",
        "Helensburgh & Lomond",
        ("Lomond North", "Helensburgh Central", "Helensburgh and Lomond South"),
    ),
)


@dataclass(frozen=True)
class LotInfo:
    """A lot as people see it."""

    id: str
    name: str
    area_km2: float
    population: int
    adjacent_lot_ids: tuple[str, ...]
    polygon: dict[str, Any]
    """GeoJSON geometry in [lon, lat], simplified to about 100 m."""


class LotIndex:
    """Which lot each point lies in, thousands of points at once.

    Parameters
    ----------
    ids, names
        One per lot.
    polygons_m
        Lot polygons in British National Grid metres.
    tolerance_m
        A point outside every lot but within this distance of one belongs to the nearest.
    """

    def __init__(
        self,
        ids: Sequence[str],
        names: Sequence[str],
        polygons_m: Sequence[BaseGeometry],
        tolerance_m: float = OFFSHORE_TOLERANCE_M,
    ) -> None:
        self.ids = list(ids)
        self.names = list(names)
        self.polygons_m = list(polygons_m)
        self.tolerance_m = tolerance_m
        for polygon in self.polygons_m:
            shapely.prepare(polygon)
        self._tree = shapely.STRtree(self.polygons_m)

    @classmethod
    def from_lonlat(
        cls,
        ids: Sequence[str],
        names: Sequence[str],
        polygons: Sequence[BaseGeometry],
        tolerance_m: float = OFFSHORE_TOLERANCE_M,
    ) -> LotIndex:
        """Build from polygons in [lon, lat]."""
        projected = [shapely.transform(p, lambda xy: to_metres(xy)) for p in polygons]
        return cls(ids, names, projected, tolerance_m)

    def positions(self, points: Points) -> npt.NDArray[np.intp]:
        """Index of each point's lot, or -1 where it is outside every lot and the tolerance."""
        xy = to_metres(points)
        geoms = np.asarray(shapely.points(xy))
        result = np.full(len(xy), -1, dtype=np.intp)
        point_idx, lot_idx = self._tree.query(geoms, predicate="within")
        result[point_idx] = lot_idx
        missing = np.flatnonzero(result < 0)
        if len(missing):
            near_point, near_lot = self._tree.query_nearest(
                geoms[missing], max_distance=self.tolerance_m, all_matches=False
            )
            result[missing[near_point]] = near_lot
        return result

    def lookup(self, points: Points) -> list[str]:
        """The lot id of each ``[lon, lat]`` point.

        Raises
        ------
        OutsideServiceAreaError
            Naming every point farther than the tolerance from all lots.
        """
        positions = self.positions(points)
        outside = np.flatnonzero(positions < 0)
        if len(outside):
            array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
            raise OutsideServiceAreaError(
                [(float(array[i, 0]), float(array[i, 1])) for i in outside],
                self.tolerance_m / 1000,
            )
        return [self.ids[i] for i in positions]

    def adjacency(self, within_m: float = ADJACENT_WITHIN_M) -> dict[str, list[str]]:
        """Lots whose polygons come within ``within_m`` of each other."""
        result: dict[str, list[str]] = {lot_id: [] for lot_id in self.ids}
        for i, a in enumerate(self.polygons_m):
            for j, b in enumerate(self.polygons_m):
                if i != j and a.distance(b) <= within_m:
                    result[self.ids[i]].append(self.ids[j])
        return result


@cache
def argyll_lot_index() -> LotIndex:
    """The six Argyll and Bute framework lots, built from the embedded ward boundaries."""
    wards = wards_frame()
    polygons = []
    for _, _, ward_names in ARGYLL_LOTS:
        members = wards[wards["WD13NM"].isin(ward_names)]
        if len(members) != len(ward_names):
            msg = f"embedded ward boundaries lack some of {ward_names}"
            raise RuntimeError(msg)
        polygons.append(shapely.union_all(members.geometry.values))
    return LotIndex(
        [lot_id for lot_id, _, _ in ARGYLL_LOTS], [name for _, name, _ in ARGYLL_LOTS], polygons
    )


@cache
def argyll_lots() -> tuple[LotInfo, ...]:
    """The six lots with area, population of their settlements and adjacency."""
    index = argyll_lot_index()
    places = places_frame()
    place_lots = index.positions(places[["lon", "lat"]].to_numpy())
    adjacency = index.adjacency()
    infos = []
    for position, (lot_id, name, polygon_m) in enumerate(
        zip(index.ids, index.names, index.polygons_m, strict=True)
    ):
        simplified = shapely.simplify(polygon_m, _SNAPSHOT_SIMPLIFY_M, preserve_topology=True)
        lonlat = shapely.transform(simplified, lambda xy: np.round(to_lonlat(xy), 5))
        population = places["population"].where(place_lots == position).sum()
        infos.append(
            LotInfo(
                id=lot_id,
                name=name,
                area_km2=round(polygon_m.area / 1e6, 1),
                population=int(population),
                adjacent_lot_ids=tuple(adjacency[lot_id]),
                polygon=dict(mapping(lonlat)),
            )
        )
    return tuple(infos)
