"""The embedded approximate road and ferry network of Argyll and Bute.

No OSM road data is available offline, so the network is derived from the real coastline:
nodes on a 1 km grid over the land (the union of the council's wards), links between nearby
nodes only where the straight segment stays over land. Journeys therefore go round sea lochs
and cross water only by ferry, bridge, or a road outside the council area listed in
``geodata/data/fixed_links.csv``. A point on an island with no ferry is unreachable. The ward
polygons count freshwater lochs as land, so the largest, Loch Awe, is a hand-traced barrier
(``inland_barriers.csv``) that links may not cross. Roadless hills are still crossed as if a
road ran over them: the main known source of error (see docs/geodata.md).

Speed assumptions (drive), applied to straight grid links stretched by :data:`CIRCUITY`:

============== ======== =======================================================================
class          km/h     where
============== ======== =======================================================================
town           30       within 2 km of a town of 4,000+ people, 1.2 km of one of 1,000+
two-lane       65       the mainland (and Appin), Bute, Islay and Mull: A- and B-roads, bends
single-track   45       every other island (Jura, Coll, Tiree, Colonsay, Lismore, Luing, ...)
============== ======== =======================================================================

Walkers go at 4.8 km/h with a circuity of 1.15 and use every ferry that takes foot
passengers; drivers use vehicle ferries, or park and walk on to a foot-passenger ferry (10
more minutes) for the small islands only those serve. Ferries cost their crossing minutes
plus a boarding allowance (check-in and a typical wait, 10 to 45 minutes by frequency: see
``ferry_routes.csv``); their kilometres are not counted as road kilometres. The figures are
calibrated against indicative real journey times (``benchmarks/geodata_travel.py`` reports
every error).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geodata._data import (
    ferry_routes_frame,
    fixed_links_frame,
    inland_barriers_frame,
    places_frame,
    wards_frame,
)
from geodata._project import to_lonlat, to_metres
from geodata.errors import OutsideServiceAreaError
from geodata.lots import OFFSHORE_TOLERANCE_M
from geodata.network import Edges, FloatArray, IntArray, TravelNetwork

GRID_SPACING_M = 1000.0
CIRCUITY = 1.2
"""Road kilometres per straight grid-link kilometre (bends the grid cannot see)."""
SPEED_KPH = {"town": 30.0, "two_lane": 65.0, "single_track": 45.0}
WALK_KPH = 4.8
WALK_CIRCUITY = 1.15
TOWN_RADIUS_M = ((4000, 2000.0), (1000, 1200.0))
"""(minimum population, radius): the first that applies gives a town's radius."""
TWO_LANE_PLACES = ("Oban", "Benderloch", "Rothesay", "Bowmore", "Tobermory")
"""The land parts containing these places have two-lane roads (the mainland, Appin, Bute, Islay
and Mull's A848/A849 spine); other islands single-track."""
MIN_PART_AREA_M2 = 20_000.0
"""Islets smaller than this get no node."""
TERMINAL_REACH_M = 2500.0
"""A ferry terminal joins the land part within this distance, if any."""
TERMINAL_LINKS = 2
SUBSTANTIAL_PART_M2 = 1_000_000.0
"""A point offshore joins the nearest part of at least 1 km2 when one is in reach, not a sliver
the generalised coastline split off."""
PARK_AND_WALK_ON_MIN = 10.0
"""A driving carer may leave the car at the pier and take a foot-passenger ferry (Iona,
Kerrera, Lismore from Port Appin); these islands are small enough to cover on foot."""
LINK_END_AT_TERMINAL_M = 300.0

# Grid neighbour offsets (rows, columns): the 8 neighbours and the 8 knight moves, so paths
# are not forced onto 45-degree zigzags.
_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1), (1, 2), (2, 1), (1, -2), (2, -1))


@dataclass(frozen=True)
class Ferry:
    """A ferry route between two terminals (metres), costed at ``minutes`` door to door."""

    name: str
    from_xy: tuple[float, float]
    to_xy: tuple[float, float]
    minutes: float
    vehicles: bool
    foot: bool


@dataclass(frozen=True)
class FixedLink:
    """A bridge or a road outside the land polygons joining two points (metres)."""

    name: str
    from_xy: tuple[float, float]
    to_xy: tuple[float, float]
    km: float
    minutes: float
    walkable: bool


@dataclass
class _Builder:
    """Nodes and edges as the network is assembled."""

    xy: list[FloatArray]
    part: list[IntArray]
    edges: list[Edges]

    def add_nodes(self, xy: FloatArray, part: IntArray) -> IntArray:
        start = sum(len(a) for a in self.xy)
        self.xy.append(xy)
        self.part.append(part)
        return np.arange(start, start + len(xy))

    def node_xy(self) -> FloatArray:
        return np.concatenate(self.xy)

    def node_part(self) -> IntArray:
        return np.concatenate(self.part)


def build_network(
    land: BaseGeometry,
    *,
    towns: list[tuple[float, float, int]] | None = None,
    two_lane_points: list[tuple[float, float]] | None = None,
    ferries: list[Ferry] | None = None,
    links: list[FixedLink] | None = None,
    barriers: list[BaseGeometry] | None = None,
    spacing_m: float = GRID_SPACING_M,
) -> TravelNetwork:
    """Build a coastline-respecting network over ``land`` (British National Grid metres).

    Parameters
    ----------
    land
        Land polygons in metres.
    towns
        ``(x, y, population)`` of towns, for the town speed.
    two_lane_points
        ``(x, y)`` points whose land parts have two-lane roads (all parts when None).
    ferries
        Ferry routes; their terminals join the land part within reach.
    links
        Bridges and roads outside the land that join its parts.
    barriers
        Lines (metres) no land link may cross, such as freshwater lochs inside the land.
    spacing_m
        Grid spacing.
    """
    parts = [p for p in shapely.get_parts(land) if p.area >= MIN_PART_AREA_M2]
    shapely.prepare(land)
    for p in parts:
        shapely.prepare(p)
    part_tree = shapely.STRtree(parts)
    builder = _Builder(xy=[], part=[], edges=[])

    grid_xy, grid_index = _grid_nodes(land, spacing_m)
    grid_part = _part_of(part_tree, grid_xy)
    grid_nodes = builder.add_nodes(grid_xy, grid_part)
    has_node = np.zeros(len(parts), dtype=bool)
    has_node[grid_part[grid_part >= 0]] = True
    lonely = [i for i in range(len(parts)) if not has_node[i]]
    if lonely:
        reps = shapely.get_coordinates(
            shapely.point_on_surface(np.array([parts[i] for i in lonely]))
        )
        builder.add_nodes(reps, np.array(lonely, dtype=np.intp))

    two_lane = _two_lane_parts(part_tree, len(parts), two_lane_points)
    land_edges = _land_edges(
        land, grid_xy, grid_index, grid_nodes, grid_part, two_lane, towns or [], barriers or []
    )
    builder.edges.append(land_edges)
    node_xy, node_part = builder.node_xy(), builder.node_part()
    n = len(node_xy)
    adjacency = csr_matrix(
        (np.ones(len(land_edges.source)), (land_edges.source, land_edges.target)), shape=(n, n)
    )
    _, component = connected_components(adjacency, directed=False)
    snapper = _PartSnapper(part_tree, parts, node_xy, node_part, component)

    terminals: dict[tuple[float, float], int] = {}
    for ferry in ferries or []:
        ends = []
        for xy in (ferry.from_xy, ferry.to_xy):
            if xy not in terminals:
                terminals[xy] = _add_terminal(builder, snapper, xy)
            ends.append(terminals[xy])
        builder.edges.append(_ferry_edges(ends[0], ends[1], ferry))
    for link in links or []:
        builder.edges.append(_link_edges(snapper, terminals, link))

    return TravelNetwork(builder.node_xy(), Edges.concatenate(builder.edges), snapper)


def _grid_nodes(land: BaseGeometry, spacing_m: float) -> tuple[FloatArray, IntArray]:
    minx, miny, maxx, maxy = land.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(land, gx.ravel(), gy.ravel())
    index = np.full(gx.size, -1, dtype=np.intp)
    index[inside] = np.arange(int(inside.sum()))
    xy = np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])
    return xy, index.reshape(gx.shape)


def _part_of(tree: shapely.STRtree, xy: FloatArray) -> IntArray:
    result = np.full(len(xy), -1, dtype=np.intp)
    if len(xy):
        point_idx, part_idx = tree.query(shapely.points(xy), predicate="within")
        result[point_idx] = part_idx
    return result


def _two_lane_parts(
    tree: shapely.STRtree, n_parts: int, points: list[tuple[float, float]] | None
) -> FloatArray:
    if points is None:
        return np.ones(n_parts, dtype=bool)
    flags = np.zeros(n_parts, dtype=bool)
    _, nearest = tree.query_nearest(shapely.points(np.asarray(points)), all_matches=False)
    flags[nearest] = True
    return flags


def _land_edges(
    land: BaseGeometry,
    xy: FloatArray,
    index: IntArray,
    nodes: IntArray,
    part: IntArray,
    two_lane: FloatArray,
    towns: list[tuple[float, float, int]],
    barriers: list[BaseGeometry],
) -> Edges:
    pairs = []
    rows, cols = index.shape
    for dr, dc in _OFFSETS:
        if dc >= 0:
            a, b = index[: rows - dr, : cols - dc], index[dr:, dc:]
        else:
            a, b = index[: rows - dr, -dc:], index[dr:, : cols + dc]
        both = (a >= 0) & (b >= 0)
        pairs.append(np.column_stack([a[both], b[both]]))
    candidates = np.concatenate(pairs)
    lines = shapely.linestrings(np.stack([xy[candidates[:, 0]], xy[candidates[:, 1]]], axis=1))
    over_land = shapely.covers(land, lines)
    if barriers:
        over_land &= ~shapely.intersects(lines, shapely.union_all(barriers))
    a, b = candidates[over_land, 0], candidates[over_land, 1]
    straight_km = np.hypot(*(xy[a] - xy[b]).T) / 1000

    speed = np.where(two_lane[part[a]], SPEED_KPH["two_lane"], SPEED_KPH["single_track"])
    if towns:
        mid = (xy[a] + xy[b]) / 2
        in_town = np.zeros(len(a), dtype=bool)
        for x, y, population in towns:
            radius = next((r for p, r in TOWN_RADIUS_M if population >= p), 0.0)
            in_town |= np.hypot(mid[:, 0] - x, mid[:, 1] - y) <= radius
        speed = np.where(in_town, SPEED_KPH["town"], speed)
    road_km = straight_km * CIRCUITY
    drive = road_km / speed * 60
    walk = straight_km * WALK_CIRCUITY / WALK_KPH * 60
    return Edges(
        source=np.concatenate([nodes[a], nodes[b]]),
        target=np.concatenate([nodes[b], nodes[a]]),
        km=np.concatenate([road_km, road_km]),
        minutes={"drive": np.concatenate([drive, drive]), "walk": np.concatenate([walk, walk])},
    )


class _PartSnapper:
    """Snaps a point to the nearest node on its own piece of land (never across water).

    Only nodes of a part's main connected piece of network are used, so a point is never left
    on a lone node of a headland whose links would all cross water.
    """

    def __init__(
        self,
        tree: shapely.STRtree,
        parts: list[BaseGeometry],
        node_xy: FloatArray,
        node_part: IntArray,
        component: IntArray,
    ) -> None:
        self._tree = tree
        substantial = [i for i, p in enumerate(parts) if p.area >= SUBSTANTIAL_PART_M2]
        self._substantial = np.array(substantial, dtype=np.intp)
        self._substantial_tree = shapely.STRtree([parts[i] for i in substantial])
        self._node_trees: dict[int, tuple[cKDTree, IntArray]] = {}
        for part in np.unique(node_part[node_part >= 0]):
            members = np.flatnonzero(node_part == part)
            main = np.bincount(component[members]).argmax()
            members = members[component[members] == main]
            self._node_trees[int(part)] = (cKDTree(node_xy[members]), members)

    def part_of(self, xy: FloatArray, tolerance_m: float = OFFSHORE_TOLERANCE_M) -> IntArray:
        """Land part of each point, -1 when none is within the tolerance.

        A point inside a part belongs to it; one offshore joins the nearest substantial part in
        reach, else the nearest part of any size.
        """
        part = _part_of(self._tree, xy)
        for tree, mapping in ((self._substantial_tree, self._substantial), (self._tree, None)):
            missing = np.flatnonzero(part < 0)
            if not len(missing):
                break
            near_point, near_part = tree.query_nearest(
                shapely.points(xy[missing]), max_distance=tolerance_m, all_matches=False
            )
            part[missing[near_point]] = near_part if mapping is None else mapping[near_part]
        return part

    def nearest_nodes(self, part: int, xy: FloatArray, k: int = 1) -> tuple[FloatArray, IntArray]:
        """Distances (m) and node ids of the ``k`` nearest nodes of ``part``."""
        tree, members = self._node_trees[part]
        k = min(k, len(members))
        distance, position = tree.query(xy, k=k)
        return np.asarray(distance), members[np.asarray(position)]

    def __call__(self, xy: FloatArray) -> tuple[IntArray, FloatArray]:
        part = self.part_of(xy)
        outside = np.flatnonzero(part < 0)
        if len(outside):
            lonlat = to_lonlat(xy[outside])
            raise OutsideServiceAreaError(
                [(float(x), float(y)) for x, y in lonlat], OFFSHORE_TOLERANCE_M / 1000
            )
        nodes = np.empty(len(xy), dtype=np.intp)
        access_km = np.empty(len(xy))
        for p in np.unique(part):
            members = np.flatnonzero(part == p)
            distance, node = self.nearest_nodes(int(p), xy[members])
            nodes[members] = node
            access_km[members] = distance / 1000
        return nodes, access_km


def _access(distance_m: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    km = distance_m / 1000 * CIRCUITY
    return km, km / SPEED_KPH["town"] * 60, distance_m / 1000 * WALK_CIRCUITY / WALK_KPH * 60


def _add_terminal(builder: _Builder, snapper: _PartSnapper, xy: tuple[float, float]) -> int:
    point = np.array([xy])
    node = int(builder.add_nodes(point, np.array([-1], dtype=np.intp))[0])
    part = int(snapper.part_of(point, TERMINAL_REACH_M)[0])
    if part >= 0:
        distance, linked = snapper.nearest_nodes(part, point, k=TERMINAL_LINKS)
        distance, linked = distance.ravel(), linked.ravel()
        km, drive, walk = _access(distance)
        terminal = np.full(len(linked), node)
        builder.edges.append(
            Edges(
                source=np.concatenate([terminal, linked]),
                target=np.concatenate([linked, terminal]),
                km=np.concatenate([km, km]),
                minutes={
                    "drive": np.concatenate([drive, drive]),
                    "walk": np.concatenate([walk, walk]),
                },
            )
        )
    return node


def _ferry_edges(a: int, b: int, ferry: Ferry) -> Edges:
    drive = ferry.minutes if ferry.vehicles else ferry.minutes + PARK_AND_WALK_ON_MIN
    walk = ferry.minutes if ferry.foot else np.inf
    name = ferry.name
    return Edges(
        source=np.array([a, b]),
        target=np.array([b, a]),
        km=np.zeros(2),
        minutes={"drive": np.full(2, drive), "walk": np.full(2, walk)},
        ferry=[name, name],
    )


def _link_edges(
    snapper: _PartSnapper, terminals: dict[tuple[float, float], int], link: FixedLink
) -> Edges:
    ends: list[tuple[int, float]] = []
    for end in (link.from_xy, link.to_xy):
        xy = np.asarray(end, dtype=np.float64)
        at_terminal = [
            node
            for txy, node in terminals.items()
            if np.hypot(*(np.asarray(txy) - xy)) <= LINK_END_AT_TERMINAL_M
        ]
        if at_terminal:
            ends.append((at_terminal[0], 0.0))
            continue
        part = int(snapper.part_of(xy[None, :], TERMINAL_REACH_M)[0])
        if part < 0:
            msg = f"fixed link {link.name!r} ends away from any land or terminal"
            raise ValueError(msg)
        distance, node = snapper.nearest_nodes(part, xy[None, :])
        ends.append((int(node.ravel()[0]), float(distance.ravel()[0])))
    (a, da), (b, db) = ends
    access_km, access_drive, access_walk = _access(np.array([da + db]))
    km = link.km + float(access_km[0])
    drive = link.minutes + float(access_drive[0])
    walk_min = link.km * WALK_CIRCUITY / WALK_KPH * 60 + float(access_walk[0])
    walk = walk_min if link.walkable else np.inf
    return Edges(
        source=np.array([a, b]),
        target=np.array([b, a]),
        km=np.full(2, km),
        minutes={"drive": np.full(2, drive), "walk": np.full(2, walk)},
    )


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = to_metres([(lon, lat)])[0]
    return (float(x), float(y))


@cache
def argyll_network() -> TravelNetwork:
    """The embedded Argyll and Bute network (built in about a second, then kept in memory)."""
    land = shapely.union_all(wards_frame().geometry.values)
    places = places_frame().to_dict("records")
    towns = [
        (*_xy(p["lon"], p["lat"]), int(p["population"]))
        for p in places
        if not np.isnan(p["population"]) and p["population"] >= TOWN_RADIUS_M[-1][0]
    ]
    by_name = {p["name"]: _xy(p["lon"], p["lat"]) for p in places}
    ferries = [
        Ferry(
            name=str(r["route"]),
            from_xy=_xy(r["from_lon"], r["from_lat"]),
            to_xy=_xy(r["to_lon"], r["to_lat"]),
            minutes=float(r["crossing_min"]) + float(r["boarding_allowance_min"]),
            vehicles=bool(r["carries_vehicles"]),
            foot=bool(r["foot_passengers"]),
        )
        for r in ferry_routes_frame().to_dict("records")
    ]
    links = [
        FixedLink(
            name=str(r["name"]),
            from_xy=_xy(r["from_lon"], r["from_lat"]),
            to_xy=_xy(r["to_lon"], r["to_lat"]),
            km=float(r["km"]),
            minutes=float(r["minutes"]),
            walkable=bool(r["walkable"]),
        )
        for r in fixed_links_frame().to_dict("records")
    ]
    barriers: list[BaseGeometry] = [
        LineString(to_metres(group[["lon", "lat"]].to_numpy()))
        for _, group in inland_barriers_frame().groupby("name", sort=False)
    ]
    return build_network(
        land,
        towns=towns,
        two_lane_points=[by_name[name] for name in TWO_LANE_PLACES],
        ferries=ferries,
        links=links,
        barriers=barriers,
    )
