"""Synthetic land shapes in British National Grid metres, placed in Argyll.

Each shape is built from kilometre offsets from :data:`ORIGIN`, so answers are easy to work
out: on a 500 m grid with the network's circuity, a journey of d straight kilometres along open
land is about ``d * CIRCUITY`` road kilometres.
"""

from __future__ import annotations

import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodata._project import to_lonlat

ORIGIN = (180_000.0, 700_000.0)


def km_box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    """A rectangle given in km from the origin."""
    ox, oy = ORIGIN
    return box(ox + x0 * 1000, oy + y0 * 1000, ox + x1 * 1000, oy + y1 * 1000)


def xy(x_km: float, y_km: float) -> tuple[float, float]:
    """Metres of a point given in km from the origin."""
    return (ORIGIN[0] + x_km * 1000, ORIGIN[1] + y_km * 1000)


def lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    """``(lon, lat)`` of a point given in km from the origin."""
    lon, lat = to_lonlat(shapely.get_coordinates(shapely.points([xy(x_km, y_km)])))[0]
    return (float(lon), float(lat))


def sea_loch() -> BaseGeometry:
    """A 10 x 10 km block with a 2 km wide sea loch cut in from the north down to y = 2 km."""
    return km_box(0, 0, 10, 10).difference(km_box(4, 2, 6, 10.5))
