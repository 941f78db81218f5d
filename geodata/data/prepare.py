"""Rebuild the embedded Argyll and Bute data files from the shared source data.

Run from the repository root: ``python geodata/data/prepare.py ../shared/data/argyll_bute``.
The product never runs this; it documents exactly how ``places.csv`` and ``ferry_routes.csv``
were derived. Hand-curated rows (crossing times and slipway positions the sources lack, fixed
links) are written from the tables below, each with its reason.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Crossing minutes, boarding allowance and what each route carries. The allowance covers
# check-in plus a typical wait: 10 min for shuttles (every 30 min or better), 25 min for
# roughly hourly sailings, 45 min for a few sailings a day. Carers cannot wait at a pier on
# every visit, so infrequent crossings are costed heavily on purpose.
# route: (crossing_min or None to take the source's, allowance_min, vehicles, foot, note)
ROUTES: dict[str, tuple[float | None, float, bool, bool, str]] = {
    "Oban - Craignure (Mull)": (None, 25, True, True, ""),
    "Wemyss Bay - Rothesay (Bute)": (None, 25, True, True, ""),
    "Colintraive - Rhubodach (Bute)": (None, 10, True, True, ""),
    "Gourock - Dunoon": (None, 10, False, True, "passenger-only since 2011"),
    "McInroy's Point - Hunters Quay": (
        20,
        10,
        True,
        True,
        "crossing estimated at 20 min (Western Ferries advertise a crossing of about 20 "
        "minutes); no stored source",
    ),
    "Tarbert (Loch Fyne) - Portavadie": (None, 25, True, True, ""),
    "Kennacraig - Port Askaig (Islay)": (None, 45, True, True, ""),
    "Kennacraig - Port Ellen (Islay)": (None, 45, True, True, ""),
    "Port Askaig - Feolin (Jura)": (None, 10, True, True, "source marks 5 min as estimated"),
    "Tayinloan - Gigha": (None, 25, True, True, ""),
    "Fionnphort - Iona": (
        10,
        10,
        False,
        True,
        "crossing estimated at 10 min for the 1.7 km sound; vehicles by resident permit only",
    ),
    "Oban - Coll": (None, 45, True, True, ""),
    "Oban - Tiree (via Coll)": (None, 45, True, True, ""),
    "Coll - Tiree": (None, 45, True, True, ""),
    "Oban - Colonsay": (None, 45, True, True, ""),
    "Port Askaig - Colonsay": (None, 45, True, True, ""),
    "Oban - Lismore": (None, 45, True, True, ""),
    "Port Appin - Point (Lismore)": (
        10,
        10,
        False,
        True,
        "crossing estimated at 10 min for about 1 km; passenger ferry; Point slipway "
        "position estimated",
    ),
    "Gallanach - Kerrera": (
        5,
        10,
        False,
        True,
        "crossing estimated at 5 min for about 500 m; passenger ferry",
    ),
    "Cuan (Seil) - Luing": (
        None,
        10,
        True,
        True,
        "slipway positions estimated either side of Cuan Sound",
    ),
    "Gourock - Kilcreggan": (
        13,
        25,
        False,
        True,
        "crossing estimated at 13 min for about 3.5 km; passenger ferry",
    ),
    "Tobermory (Mull) - Kilchoan": (None, 45, True, True, "Kilchoan is in Highland"),
    "Fishnish (Mull) - Lochaline": (None, 10, True, True, "Lochaline is in Highland"),
}
# Slipways the source has no coordinates for: (lat, lon), estimated from the shape of the
# coast at each named slipway; within a few hundred metres.
MISSING_COORDS = {
    "Lismore (Point)": (56.5455, -5.4165),
    "Cuan (Seil)": (56.2660, -5.6235),
    "Luing": (56.2630, -5.6270),
}
# Left out: Claonaig - Lochranza and Ardrossan - Campbeltown are seasonal and lead out of the
# council area to Arran and Ayrshire, where carealloc has no roads.

SETTLEMENT_KIND_TOWN_POPULATION = 2000

# Postal coordinates that are rounded so coarsely they land somewhere wrong: (lat, lon, why).
CORRECTIONS = {
    "Laphroaig": (
        55.6299,
        -6.1519,
        "GeoNames gives 55.6167,-6.15 (rounded), which lies on the islet of Texa; moved to the "
        "Laphroaig distillery on the Islay shore",
    ),
}


def prepare_places(source: Path) -> None:
    """places.csv: settlements with populations, then place-specific postal localities."""
    rows: dict[str, dict[str, str]] = {}
    with (source / "settlements_geonames_pop500.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["island_aggregate_entry"] == "True":
                continue
            population = int(r["population_geonames"])
            rows[r["name"]] = {
                "name": r["name"],
                "lon": r["lon"],
                "lat": r["lat"],
                "population": str(population),
                "kind": "town" if population >= SETTLEMENT_KIND_TOWN_POPULATION else "village",
                "source": f"GeoNames cities500 geonameid {r['geonameid']}",
            }
    with (source / "localities_geonames_postal.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["coordinate_is_place_specific"] != "True" or r["in_argyll_bute_polygon"] != "True":
                continue
            if r["place_name"] in rows or r["place_name"] == "Argyll and Bute":
                continue
            origin = f"GeoNames postal codes {r['postcode_district']}"
            lat, lon = r["lat"], r["lon"]
            if r["place_name"] in CORRECTIONS:
                fixed_lat, fixed_lon, why = CORRECTIONS[r["place_name"]]
                lat, lon, origin = str(fixed_lat), str(fixed_lon), f"{origin}; corrected: {why}"
            rows[r["place_name"]] = {
                "name": r["place_name"],
                "lon": lon,
                "lat": lat,
                "population": "",
                "kind": "locality",
                "source": origin,
            }
    with (HERE / "places.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["name", "lon", "lat", "population", "kind", "source"])
        writer.writeheader()
        writer.writerows(sorted(rows.values(), key=lambda r: r["name"]))


def prepare_ferries(source: Path) -> None:
    """ferry_routes.csv: the routes above with terminals, times and what they carry."""
    fields = [
        "route",
        "operator",
        "from_terminal",
        "from_lon",
        "from_lat",
        "to_terminal",
        "to_lon",
        "to_lat",
        "crossing_min",
        "boarding_allowance_min",
        "carries_vehicles",
        "foot_passengers",
        "crossing_source",
        "notes",
    ]
    out = []
    with (source / "ferry_routes.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["route"] not in ROUTES:
                continue
            crossing, allowance, vehicles, foot, note = ROUTES[r["route"]]
            ends = []
            for side in ("from", "to"):
                name = r[side]
                lat, lon = r[f"{side}_lat"], r[f"{side}_lon"]
                if not lat:
                    lat, lon = (str(v) for v in MISSING_COORDS[name])
                ends.append((name, lon, lat))
            if crossing is None:
                crossing_min = float(r["crossing_minutes"])
                crossing_source = r["crossing_source"]
            else:
                crossing_min = crossing
                crossing_source = "estimate (see notes)"
            out.append(
                {
                    "route": r["route"],
                    "operator": r["operator"],
                    "from_terminal": ends[0][0],
                    "from_lon": ends[0][1],
                    "from_lat": ends[0][2],
                    "to_terminal": ends[1][0],
                    "to_lon": ends[1][1],
                    "to_lat": ends[1][2],
                    "crossing_min": f"{crossing_min:g}",
                    "boarding_allowance_min": f"{allowance:g}",
                    "carries_vehicles": str(vehicles).lower(),
                    "foot_passengers": str(foot).lower(),
                    "crossing_source": crossing_source,
                    "notes": "; ".join(n for n in (note, r["notes"]) if n),
                }
            )
    with (HERE / "ferry_routes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(out)


def main(source: Path) -> None:
    """Copy the ward boundaries and rebuild the derived CSVs."""
    shutil.copyfile(
        source / "boundaries" / "argyll_bute_wards_2013.geojson",
        HERE / "argyll_bute_wards_2013.geojson",
    )
    prepare_places(source)
    prepare_ferries(source)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
