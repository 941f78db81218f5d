"""``carealloc route FROM TO``: travel time, distance and ferries between two places."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from api.errors import UserError
from geodata.gazetteer import argyll_gazetteer
from geodata.network import Route
from geodata.osm import osm_source
from geodata.travel import embedded_source

_LAT_LON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def register(subparsers: Any) -> None:
    """Add the ``route`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "route",
        help="travel time, distance and ferries between two places",
        description="Fastest journey between two places on the embedded Argyll and Bute road "
        "and ferry network (or an OSM extract). FROM and TO are place names from the gazetteer "
        "(e.g. Oban, 'Port Ellen') or 'lat,lon' as copied from a map, e.g. 56.415,-5.472. "
        "Note the order: on this command line latitude comes first; inside carealloc's files "
        "coordinates are [lon, lat].",
    )
    parser.add_argument("origin", metavar="FROM")
    parser.add_argument("destination", metavar="TO")
    parser.add_argument("--mode", choices=("drive", "walk"), default="drive")
    parser.add_argument("--json", action="store_true", help="print minutes, km and ferries as JSON")
    parser.add_argument(
        "--osm", metavar="EXTRACT.osm", help="use real roads from this OSM XML extract instead"
    )
    parser.set_defaults(handler=run)


def _point(text: str) -> tuple[tuple[float, float], str]:
    """``(lon, lat)`` and a label for a place name or a ``lat,lon`` pair."""
    match = _LAT_LON.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            msg = f"{text!r} is not a valid 'lat,lon' pair"
            raise UserError(msg)
        return (lon, lat), f"{lat:.5f},{lon:.5f}"
    place = argyll_gazetteer().find(text)
    return place.point, place.name


def run(args: argparse.Namespace) -> int:
    """Print the route; exit 0 even when unreachable (the answer says so)."""
    origin, origin_label = _point(args.origin)
    destination, destination_label = _point(args.destination)
    network = osm_source(args.osm) if args.osm else embedded_source()
    route: Route = network.route(origin, destination, args.mode)
    if args.json:
        print(
            json.dumps(
                {"from": origin_label, "to": destination_label, "mode": args.mode} | route.as_dict()
            )
        )
        return 0
    if not route.reachable:
        print(
            f"No {args.mode} route from {origin_label} to {destination_label}: no road or ferry "
            "link reaches one of them."
        )
        return 0
    ferries = f", ferries: {'; '.join(route.ferries)}" if route.ferries else ", no ferry"
    print(
        f"{origin_label} to {destination_label} ({args.mode}): {route.minutes:.0f} minutes, "
        f"{route.km:.1f} km by road{ferries}."
    )
    return 0
