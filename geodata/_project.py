"""Projection between [lon, lat] (WGS84) and metres on the British National Grid."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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


# pyproj builds a transformer afresh (about 150 ms) the first time each thread uses it, and a
# web server's worker threads come and go: so every projection runs on one long-lived thread,
# one per process (a forked child starts its own).
_projector: tuple[int, ThreadPoolExecutor] | None = None
_projector_lock = threading.Lock()


def _on_projection_thread(
    transformer: Callable[[], Transformer], array: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    global _projector
    with _projector_lock:
        if _projector is None or _projector[0] != os.getpid():
            _projector = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="projection"))
        executor = _projector[1]

    def project() -> npt.NDArray[np.float64]:
        a, b = transformer().transform(array[:, 0], array[:, 1])
        return np.column_stack([a, b])

    return executor.submit(project).result()


def to_metres(points: Points) -> npt.NDArray[np.float64]:
    """``[lon, lat]`` rows to British National Grid ``[x, y]`` metres, shape (n, 2)."""
    return _on_projection_thread(_to_bng, np.asarray(points, dtype=np.float64).reshape(-1, 2))


def to_lonlat(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """British National Grid ``[x, y]`` metres to ``[lon, lat]`` rows, shape (n, 2)."""
    return _on_projection_thread(_to_wgs84, np.asarray(xy, dtype=np.float64).reshape(-1, 2))
