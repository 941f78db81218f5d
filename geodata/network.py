"""A road and ferry network and shortest-time travel over it, by mode.

:class:`TravelNetwork` is shared by the embedded Argyll network (:mod:`geodata.argyll`) and
real OSM roads (:mod:`geodata.osm`). Points are snapped to network nodes; the access leg from a
point to its node is timed at :data:`ACCESS_SPEED_KPH` of the mode.

One Dijkstra run gives both the fastest time and the kilometres along that fastest route: each
edge weight packs minutes (to 1/10,000 min) in the high digits and kilometres (to 10 m) in the
low digits of one float64, whose 53-bit mantissa holds the sums exactly for any journey in
Great Britain. Minimising the packed weight minimises time, breaking ties by distance.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geodata._project import Points, to_metres

Mode = str
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

ACCESS_SPEED_KPH = {"drive": 30.0, "walk": 4.8}
"""Speed from a point to its nearest network node (a drive or a walk to the road)."""

ACCESS_CIRCUITY = 1.3

_MIN_UNITS = 10_000.0  # packed weight: minutes in 1/10,000 min
_KM_UNITS = 100.0  # kilometres in units of 10 m
_KM_SPAN = 1e7  # kilometre units per minute unit; journeys stay below 100,000 km

# A snapper maps projected points to (node index, access km); -1 marks a point off the network.
Snapper = Callable[[FloatArray], tuple[IntArray, FloatArray]]


@dataclass(frozen=True)
class Route:
    """One journey's time, distance and ferries."""

    minutes: float
    km: float
    ferries: list[str]
    reachable: bool

    def as_dict(self) -> dict[str, object]:
        """For JSON output."""
        return {
            "reachable": self.reachable,
            "minutes": round(self.minutes, 1) if self.reachable else None,
            "km": round(self.km, 1) if self.reachable else None,
            "ferries": self.ferries,
        }


@dataclass
class Edges:
    """Directed edges; ``minutes[mode]`` is ``inf`` where that mode may not use the edge."""

    source: IntArray
    target: IntArray
    km: FloatArray
    minutes: dict[Mode, FloatArray]
    ferry: list[str | None] = field(default_factory=list)
    """The ferry route an edge sails, or None for roads."""

    @staticmethod
    def concatenate(parts: Sequence[Edges]) -> Edges:
        """All edges of several groups, in order."""
        modes = set.intersection(*(set(p.minutes) for p in parts))
        return Edges(
            source=np.concatenate([p.source for p in parts]),
            target=np.concatenate([p.target for p in parts]),
            km=np.concatenate([p.km for p in parts]),
            minutes={m: np.concatenate([p.minutes[m] for p in parts]) for m in modes},
            ferry=[f for p in parts for f in (p.ferry or [None] * len(p.source))],
        )


class TravelNetwork:
    """Nodes, directed edges and a snapper; answers travel matrices and single routes.

    Parameters
    ----------
    node_xy
        Node positions in British National Grid metres, shape (n, 2).
    edges
        Directed edges with per-mode minutes.
    snapper
        Maps projected points to nodes and access kilometres.
    cache_size
        How many recent matrices to keep (the same points are often asked for again).
    """

    def __init__(
        self, node_xy: FloatArray, edges: Edges, snapper: Snapper, cache_size: int = 8
    ) -> None:
        self.node_xy = node_xy
        self.edges = edges
        self._snap = snapper
        n = len(node_xy)
        self._graphs: dict[Mode, csr_matrix] = {}
        for mode, minutes in edges.minutes.items():
            usable = np.isfinite(minutes)
            packed = self._pack(minutes[usable], edges.km[usable])
            # Keep only the fastest of parallel edges: csr_matrix would add them up.
            order = np.lexsort((-packed, edges.source[usable], edges.target[usable]))
            src, dst, weight = (
                edges.source[usable][order],
                edges.target[usable][order],
                packed[order],
            )
            keep = np.ones(len(src), dtype=bool)
            keep[:-1] = (src[:-1] != src[1:]) | (dst[:-1] != dst[1:])
            self._graphs[mode] = csr_matrix((weight[keep], (src[keep], dst[keep])), shape=(n, n))
        self._ferry_by_arc = {
            (int(s), int(t)): name
            for s, t, name in zip(edges.source, edges.target, edges.ferry, strict=False)
            if name is not None
        }
        self._cache: OrderedDict[tuple[Mode, bytes], tuple[FloatArray, FloatArray]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def modes(self) -> list[Mode]:
        """Travel modes the network can answer."""
        return sorted(self._graphs)

    @staticmethod
    def _pack(minutes: FloatArray, km: FloatArray) -> FloatArray:
        # At least one minute unit per edge, so no edge weighs zero (scipy drops zero weights);
        # that adds at most 1/10,000 minute per edge.
        minute_units = np.maximum(np.round(minutes * _MIN_UNITS), 1.0)
        return minute_units * _KM_SPAN + np.round(km * _KM_UNITS)

    @staticmethod
    def _unpack(packed: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(invalid="ignore"):
            minute_units = np.floor(packed / _KM_SPAN)
            km_units = packed - minute_units * _KM_SPAN
        return minute_units / _MIN_UNITS, km_units / _KM_UNITS

    def _graph(self, mode: Mode) -> csr_matrix:
        try:
            return self._graphs[mode]
        except KeyError:
            msg = f"unknown travel mode {mode!r}; use one of {', '.join(self.modes)}"
            raise ValueError(msg) from None

    def snap(self, points: Points) -> tuple[IntArray, FloatArray]:
        """Nearest usable node of each ``[lon, lat]`` point and the access kilometres."""
        return self._snap(to_metres(points))

    def matrix(self, points: Points, mode: Mode = "drive") -> tuple[FloatArray, FloatArray]:
        """Minutes and kilometres between every pair of ``[lon, lat]`` points.

        Returns
        -------
        minutes, km
            ``(n, n)`` arrays; ``inf`` where there is no route. The diagonal is zero.
        """
        graph = self._graph(mode)
        array = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 2))
        key = (mode, array.tobytes())
        if key in self._cache:
            self._cache.move_to_end(key)
            minutes, km = self._cache[key]
            return minutes.copy(), km.copy()

        nodes, access_km = self.snap(array)
        access_min = access_km * ACCESS_CIRCUITY / ACCESS_SPEED_KPH[mode] * 60
        sources, row_of = np.unique(nodes, return_inverse=True)
        packed = dijkstra(graph, directed=True, indices=sources)
        between = packed[row_of][:, nodes]
        core_min, core_km = self._unpack(between)
        minutes = access_min[:, None] + core_min + access_min[None, :]
        km = access_km[:, None] * ACCESS_CIRCUITY + core_km + access_km[None, :] * ACCESS_CIRCUITY
        # Two points on the same node: go directly rather than via the node.
        same = nodes[:, None] == nodes[None, :]
        if same.any():
            xy = to_metres(array)
            direct_km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000
            direct_min = direct_km * ACCESS_CIRCUITY / ACCESS_SPEED_KPH[mode] * 60
            use = same & (direct_min < minutes)
            minutes[use] = direct_min[use]
            km[use] = direct_km[use] * ACCESS_CIRCUITY
        unreachable = ~np.isfinite(between)
        minutes[unreachable] = np.inf
        km[unreachable] = np.inf
        np.fill_diagonal(minutes, 0.0)
        np.fill_diagonal(km, 0.0)

        self._cache[key] = (minutes, km)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return minutes.copy(), km.copy()

    def route(
        self, origin: tuple[float, float], destination: tuple[float, float], mode: Mode = "drive"
    ) -> Route:
        """The fastest journey between two ``[lon, lat]`` points, with the ferries it uses."""
        graph = self._graph(mode)
        minutes, km = self.matrix([origin, destination], mode)
        if not np.isfinite(minutes[0, 1]):
            return Route(minutes=np.inf, km=np.inf, ferries=[], reachable=False)
        nodes, _ = self.snap([origin, destination])
        _, predecessors = dijkstra(
            graph, directed=True, indices=int(nodes[0]), return_predecessors=True
        )
        ferries: list[str] = []
        node = int(nodes[1])
        while node != nodes[0] and node >= 0:
            previous = int(predecessors[node])
            name = self._ferry_by_arc.get((previous, node))
            if name is not None:
                ferries.append(name)
            node = previous
        return Route(
            minutes=float(minutes[0, 1]), km=float(km[0, 1]), ferries=ferries[::-1], reachable=True
        )
