"""``carealloc lots``: the framework lots with area and population."""

from __future__ import annotations

import argparse
import json
from typing import Any

from geodata.lots import argyll_lots


def register(subparsers: Any) -> None:
    """Add the ``lots`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lots",
        help="list the framework lots with area and population",
        description="List Argyll and Bute's six care-at-home framework lots with their area, "
        "the population of their settlements of 500 or more (GeoNames), and adjacent lots.",
    )
    parser.add_argument("--json", action="store_true", help="print as JSON (with polygons)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the lots."""
    lots = argyll_lots()
    if args.json:
        print(json.dumps([lot.__dict__ for lot in lots]))
        return 0
    print(f"{'lot':22} {'id':20} {'area km2':>9} {'population':>10}  adjacent lots")
    for lot in lots:
        print(
            f"{lot.name:22} {lot.id:20} {lot.area_km2:9.1f} {lot.population:10d}  "
            f"{', '.join(lot.adjacent_lot_ids)}"
        )
    print("Population: settlements of 500 or more in GeoNames; rural dwellers are not counted.")
    return 0
