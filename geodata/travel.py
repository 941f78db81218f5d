"""One interface for travel times, three interchangeable sources.

Every source answers ``matrix(points, mode) -> (minutes, km)`` for ``[lon, lat]`` points, with
``inf`` where there is no route:

* :func:`embedded_source` - the approximate Argyll and Bute road and ferry network (default);
* :func:`geodata.osm.osm_source` - real OSM roads from a user's extract, via osmnx;
* :class:`SuppliedMatrix` - a matrix from the caller's own routing engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from geodata.argyll import argyll_network
from geodata.errors import GeodataError
from geodata.network import FloatArray, Mode, TravelNetwork


class TravelSource(Protocol):
    """Anything that can give travel minutes and km between points."""

    @property
    def modes(self) -> list[Mode]:
        """Travel modes it answers."""
        ...

    def matrix(
        self, points: Sequence[tuple[float, float]], mode: Mode = "drive"
    ) -> tuple[FloatArray, FloatArray]:
        """Minutes and kilometres between every pair of ``[lon, lat]`` points."""
        ...


class SuppliedMatrix:
    """Travel the caller computed: whole matrices over a fixed list of points.

    Parameters
    ----------
    points
        ``[lon, lat]`` pairs; row and column ``i`` belong to ``points[i]``.
    minutes
        Mode to an ``(n, n)`` array of minutes (``inf`` or NaN for no route).
    km
        Mode to an ``(n, n)`` array of kilometres; NaN when not given.
    """

    def __init__(
        self,
        points: Sequence[tuple[float, float]],
        minutes: Mapping[Mode, FloatArray],
        km: Mapping[Mode, FloatArray] | None = None,
    ) -> None:
        self.points = [(float(x), float(y)) for x, y in points]
        self._index = {p: i for i, p in enumerate(self.points)}
        n = len(self.points)
        self._minutes = {
            m: np.nan_to_num(np.asarray(a, float), nan=np.inf) for m, a in minutes.items()
        }
        self._km = {m: np.asarray(a, float) for m, a in (km or {}).items()}
        for mode, array in [*self._minutes.items(), *self._km.items()]:
            if array.shape != (n, n):
                msg = f"supplied {mode} matrix is {array.shape}, expected ({n}, {n})"
                raise GeodataError(msg)

    @property
    def modes(self) -> list[Mode]:
        """Modes with minutes supplied."""
        return sorted(self._minutes)

    def matrix(
        self, points: Sequence[tuple[float, float]], mode: Mode = "drive"
    ) -> tuple[FloatArray, FloatArray]:
        """The sub-matrix for ``points``, which must all be among the supplied points."""
        if mode not in self._minutes:
            msg = f"no supplied travel times for mode {mode!r}"
            raise GeodataError(msg)
        missing = [p for p in points if (float(p[0]), float(p[1])) not in self._index]
        if missing:
            msg = f"{len(missing)} point(s) are not in the supplied matrix, e.g. {list(missing[0])}"
            raise GeodataError(msg)
        rows = np.array([self._index[(float(x), float(y))] for x, y in points], dtype=np.intp)
        minutes = self._minutes[mode][np.ix_(rows, rows)]
        km = (
            self._km[mode][np.ix_(rows, rows)]
            if mode in self._km
            else np.full_like(minutes, np.nan)
        )
        return minutes, km


def embedded_source() -> TravelNetwork:
    """The embedded Argyll and Bute network, built on first use and then kept in memory."""
    return argyll_network()
