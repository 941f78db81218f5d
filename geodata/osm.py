"""Travel on real OpenStreetMap roads from a user's own extract, via osmnx.

carealloc never downloads map data. A council makes an OSM XML extract of its area once, for
example with osmium from Geofabrik's Scotland file (see docs/geodata.md), and points carealloc
at it. Road speeds come from osmnx's speed imputation (``maxspeed`` where tagged, else the mean
of the same highway type); ferry ways (``route=ferry``) are timed from their ``duration`` tag
plus :data:`FERRY_BOARDING_MIN`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import osmnx as ox
from scipy.spatial import cKDTree

from geodata._project import to_lonlat, to_metres
from geodata.errors import GeodataError, OutsideServiceAreaError
from geodata.lots import OFFSHORE_TOLERANCE_M
from geodata.network import Edges, FloatArray, IntArray, TravelNetwork

FERRY_BOARDING_MIN = 20.0
"""Check-in and a typical wait added to every ferry crossing."""
FERRY_DEFAULT_KPH = 15.0
"""Used for a ferry way with no ``duration`` tag."""
WALK_KPH = 4.8
FALLBACK_KPH = 50.0
"""For a highway type with no `maxspeed` on any of its edges in the extract."""
_EXTRA_WAY_TAGS = ("route", "duration", "motor_vehicle", "motorcar", "foot")
_NOT_FOR_CARS = {"footway", "path", "pedestrian", "cycleway", "steps", "bridleway", "corridor"}
_NOT_FOR_WALKERS = {"motorway", "motorway_link"}


@contextlib.contextmanager
def _ferry_tags() -> Iterator[None]:
    """Keep the tags ferries need while osmnx reads the file, then restore its settings."""
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted({*saved, *_EXTRA_WAY_TAGS})
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def parse_duration_min(value: object) -> float | None:
    """Minutes in an OSM ``duration`` tag (``"00:45"``, ``"1:05:00"``, ``"PT45M"``, ``"45"``)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    iso = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", text)
    if iso and any(iso.groups()):
        hours, minutes, seconds = (int(g) if g else 0 for g in iso.groups())
        return hours * 60 + minutes + seconds / 60
    parts = text.split(":")
    if all(p.isdigit() for p in parts) and 1 <= len(parts) <= 3:
        numbers = [int(p) for p in parts]
        if len(numbers) == 1:
            return float(numbers[0])
        if len(numbers) == 2:
            return numbers[0] * 60 + numbers[1]
        return numbers[0] * 60 + numbers[1] + numbers[2] / 60
    return None


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def osm_source(path: str | Path) -> TravelNetwork:
    """A travel network from an OSM XML file (``.osm``).

    Raises
    ------
    GeodataError
        When the file is missing or holds no usable ways.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"OSM extract {path} not found"
        raise GeodataError(msg)
    with _ferry_tags():
        try:
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
        except Exception as error:
            msg = f"cannot read OSM extract {path}: {error}"
            raise GeodataError(msg) from error
    roads = graph.edge_subgraph(
        [e for e, data in _edges(graph) if data.get("highway") is not None]
    ).copy()
    if roads.number_of_edges():
        roads = ox.add_edge_travel_times(ox.add_edge_speeds(roads, fallback=FALLBACK_KPH))

    nodes = list(graph.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    lonlat = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=float)
    source: list[int] = []
    target: list[int] = []
    km: list[float] = []
    drive: list[float] = []
    walk: list[float] = []
    ferry: list[str | None] = []

    def add(
        u: Any, v: Any, length_km: float, drive_min: float, walk_min: float, name: str | None
    ) -> None:
        source.append(position[u])
        target.append(position[v])
        km.append(length_km)
        drive.append(drive_min)
        walk.append(walk_min)
        ferry.append(name)

    for (u, v, key), data in _edges(graph):
        length_km = float(data.get("length", 0.0)) / 1000
        if _first(data.get("route")) == "ferry":
            crossing = parse_duration_min(_first(data.get("duration")))
            if crossing is None:
                crossing = length_km / FERRY_DEFAULT_KPH * 60
            minutes = crossing + FERRY_BOARDING_MIN
            cars = (
                _first(data.get("motor_vehicle")) != "no" and _first(data.get("motorcar")) != "no"
            )
            foot = _first(data.get("foot")) != "no"
            name = str(_first(data.get("name")) or "ferry")
            for a, b in ((u, v), (v, u)):
                add(a, b, 0.0, minutes if cars else np.inf, minutes if foot else np.inf, name)
            continue
        highway = _first(data.get("highway"))
        if highway is None:
            continue
        walk_min = (
            np.inf
            if highway in _NOT_FOR_WALKERS or _first(data.get("foot")) == "no"
            else length_km / WALK_KPH * 60
        )
        drive_min = (
            np.inf
            if highway in _NOT_FOR_CARS
            else float(roads.edges[u, v, key]["travel_time"]) / 60
        )
        add(u, v, length_km, drive_min, walk_min, None)
        # Walkers may go both ways along a one-way street.
        if not graph.has_edge(v, u):
            add(v, u, length_km, np.inf, walk_min, None)

    if not source:
        msg = f"OSM extract {path} has no roads or ferries carealloc can use"
        raise GeodataError(msg)
    edges = Edges(
        source=np.array(source, dtype=np.intp),
        target=np.array(target, dtype=np.intp),
        km=np.array(km),
        minutes={"drive": np.array(drive), "walk": np.array(walk)},
        ferry=ferry,
    )
    node_xy = to_metres(lonlat)
    return TravelNetwork(node_xy, edges, _NearestNodeSnapper(node_xy))


def _edges(graph: Any) -> Iterator[tuple[tuple[Any, Any, Any], dict[str, Any]]]:
    for u, v, key, data in graph.edges(keys=True, data=True):
        yield (u, v, key), data


class _NearestNodeSnapper:
    """Nearest OSM node within the offshore tolerance."""

    def __init__(self, node_xy: FloatArray) -> None:
        self._tree = cKDTree(node_xy)

    def __call__(self, xy: FloatArray) -> tuple[IntArray, FloatArray]:
        distance, node = self._tree.query(xy)
        far = np.flatnonzero(distance > OFFSHORE_TOLERANCE_M)
        if len(far):
            lonlat = to_lonlat(xy[far])
            raise OutsideServiceAreaError(
                [(float(x), float(y)) for x, y in lonlat], OFFSHORE_TOLERANCE_M / 1000
            )
        return np.asarray(node, dtype=np.intp), np.asarray(distance) / 1000
