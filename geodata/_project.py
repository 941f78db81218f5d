"""Projection between [lon, lat] (WGS84) and metres on the British National Grid."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

Points = Sequence[tuple[float, float]] | npt.NDArray[np.float64]


@cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(WGS84, BNG, always_xy=True)


@cache
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(BNG, WGS84, always_xy=True)


def to_metres(points: Points) -> npt.NDArray[np.float64]:
    """``[lon, lat]`` rows to British National Grid ``[x, y]`` metres, shape (n, 2)."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = _to_bng().transform(array[:, 0], array[:, 1])
    return np.column_stack([x, y])


def to_lonlat(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """British National Grid ``[x, y]`` metres to ``[lon, lat]`` rows, shape (n, 2)."""
    array = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    lon, lat = _to_wgs84().transform(array[:, 0], array[:, 1])
    return np.column_stack([lon, lat])
