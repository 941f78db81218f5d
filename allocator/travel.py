"""Travel times as the optimisation core receives them: matrices between known points.

The core never computes travel itself (``geodata`` does, or the caller supplies a matrix). A
:class:`TravelMatrix` holds, per travel mode, minutes and kilometres between every pair of
``points``; ``inf`` marks a pair with no route (an island with no ferry, say).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allocator.model import SuppliedTravel

FloatMatrix = npt.NDArray[np.float64]


class TravelError(ValueError):
    """Travel data that does not fit the snapshot (a missing point or mode)."""


@dataclass(frozen=True)
class TravelMatrix:
    """Minutes and kilometres between points, per travel mode.

    Parameters
    ----------
    points
        ``[lon, lat]`` pairs; row and column ``i`` of every matrix belong to ``points[i]``.
    minutes
        Mode (``"drive"``, ``"walk"``) to an ``n x n`` array of travel minutes; ``inf`` where
        there is no route.
    km
        Mode to an ``n x n`` array of road kilometres, when known.
    """

    points: tuple[tuple[float, float], ...]
    minutes: Mapping[str, FloatMatrix]
    km: Mapping[str, FloatMatrix] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.points)
        for label, matrices in (("minutes", self.minutes), ("km", self.km)):
            for mode, matrix in matrices.items():
                if matrix.shape != (n, n):
                    msg = f"{label}[{mode!r}] is {matrix.shape}, expected ({n}, {n})"
                    raise TravelError(msg)
        object.__setattr__(self, "_index", {p: i for i, p in enumerate(self.points)})

    def index(self, point: tuple[float, float]) -> int:
        """Row of ``point`` ([lon, lat]) in the matrices."""
        try:
            return self._index[point]  # type: ignore[attr-defined]
        except KeyError:
            msg = f"point {list(point)} is not in the travel matrix"
            raise TravelError(msg) from None

    def indices(self, points: Sequence[tuple[float, float]]) -> npt.NDArray[np.intp]:
        """Rows of several points at once."""
        return np.array([self.index(p) for p in points], dtype=np.intp)

    def modes(self) -> list[str]:
        """Travel modes with minutes available."""
        return sorted(self.minutes)

    def require(self, points: Sequence[tuple[float, float]], modes: Sequence[str]) -> None:
        """Raise :class:`TravelError` unless every point and mode is covered."""
        missing_modes = sorted(set(modes) - set(self.minutes))
        if missing_modes:
            msg = f"no travel times for mode(s) {', '.join(missing_modes)}"
            raise TravelError(msg)
        missing = [p for p in points if p not in self._index]  # type: ignore[attr-defined]
        if missing:
            msg = f"{len(missing)} point(s) have no travel times, e.g. {list(missing[0])}"
            raise TravelError(msg)

    @classmethod
    def from_supplied(cls, supplied: SuppliedTravel) -> TravelMatrix:
        """Build from the ``travel`` section of a snapshot (the caller's own routing engine)."""
        minutes: dict[str, FloatMatrix] = {}
        km: dict[str, FloatMatrix] = {}
        for mode in ("drive", "walk"):
            data = getattr(supplied, mode)
            if data is None:
                continue
            minutes[mode] = _to_array(data.minutes)
            if data.km is not None:
                km[mode] = _to_array(data.km)
        return cls(points=tuple(supplied.points), minutes=minutes, km=km)


def _to_array(rows: list[list[float | None]]) -> FloatMatrix:
    return np.array([[np.inf if v is None else v for v in row] for row in rows], dtype=np.float64)
