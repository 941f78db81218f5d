"""Realism and speed of the embedded Argyll and Bute travel network.

Run: ``python -m benchmarks.geodata_travel [--data ../shared/data] [--repeats 5]``.

Writes ``benchmarks/results/geodata_travel.csv`` (one row per journey), ``geodata_speed.csv``
and ``geodata_travel.md``. Targets (issue #3): every reference journey within +/-25% of its
indicative minutes; a 1,000 x 1,000 drive matrix in <= 2 s; repeated matrices cached.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allocator.io import write_text_atomic
from api.commands.args import at_least_one, output_folder, whole_number
from benchmarks.paths import DATA, RESULTS
from benchmarks.tables import write_csv
from geodata.argyll import argyll_network
from geodata.gazetteer import argyll_gazetteer
from geodata.lots import argyll_lot_index
from geodata.network import TravelNetwork

TOLERANCE = 0.25

_ESTIMATE = (
    "lead's estimate of a typical off-peak journey from the known road distance, not a "
    "measured figure; treat as +/-15%"
)
# (from, to, minutes, km, route, source): journeys beyond the council's reference list.
JourneySpec = tuple[str, str, float, float | None, str, str]
EXTRA_JOURNEYS: tuple[JourneySpec, ...] = (
    ("Campbeltown", "Tarbert", 55, 61, "A83 up west Kintyre", _ESTIMATE),
    ("Inveraray", "Lochgilphead", 38, 39, "A83 along Loch Fyne", _ESTIMATE),
    ("Oban", "Inveraray", 58, 61, "A85 to Dalmally, A819 round Loch Awe", _ESTIMATE),
    ("Bowmore", "Port Ellen", 20, 17, "A846 on Islay", _ESTIMATE),
    ("Lochgilphead", "Tarbert", 25, 21, "A83 south along Loch Fyne", _ESTIMATE),
    ("Campbeltown", "Southend", 20, 16, "B842", _ESTIMATE),
    ("Oban", "Benderloch", 17, 13, "A85, Connel Bridge, A828", _ESTIMATE),
    (
        "Tobermory",
        "Fionnphort",
        90,
        71,
        "A848/A849 via Salen and Glen More, single-track",
        _ESTIMATE,
    ),
    ("Helensburgh", "Dunoon", 95, 84, "by road via Arrochar, the A83 and the A815", _ESTIMATE),
    (
        "Oban",
        "Tobermory",
        110,
        None,
        "ferry to Craignure (45 min) with check-in, then A849/A848",
        _ESTIMATE,
    ),
    (
        "Dunoon",
        "Rothesay",
        75,
        None,
        "A815/B836 to Colintraive, ferry to Rhubodach, A886/A844",
        _ESTIMATE,
    ),
)


@dataclass(frozen=True)
class Journey:
    """One journey compared with its indicative time."""

    origin: str
    destination: str
    indicative_min: float
    indicative_km: float | None
    model_min: float
    model_km: float
    ferries: str
    reference: bool
    source: str

    @property
    def error(self) -> float:
        """Relative error in minutes, e.g. 0.1 for 10% slow."""
        return self.model_min / self.indicative_min - 1


def _reference_journeys(data: Path) -> list[JourneySpec]:
    rows: list[JourneySpec] = []
    with (data / "argyll_bute" / "reference_travel_times.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            source = f"reference_travel_times.csv ({r['route_note']})"
            rows.append(
                (
                    r["from"],
                    r["to"],
                    float(r["approx_minutes"]),
                    float(r["approx_road_km"]),
                    "",
                    source,
                )
            )
    return rows


def realism(network: TravelNetwork, data: Path) -> list[Journey]:
    """Every reference and extra journey, modelled."""
    places = argyll_gazetteer()
    journeys = []
    sets: list[tuple[Sequence[JourneySpec], bool]] = [
        (_reference_journeys(data), True),
        (EXTRA_JOURNEYS, False),
    ]
    for rows, is_reference in sets:
        for origin, destination, minutes, km, _, source in rows:
            route = network.route(places.find(origin).point, places.find(destination).point)
            journeys.append(
                Journey(
                    origin=origin,
                    destination=destination,
                    indicative_min=minutes,
                    indicative_km=km,
                    model_min=round(route.minutes, 1),
                    model_km=round(route.km, 1),
                    ferries="; ".join(route.ferries),
                    reference=is_reference,
                    source=source,
                )
            )
    return journeys


def _points(rng: np.random.Generator, n: int) -> list[tuple[float, float]]:
    """``n`` client-like points on land: around gazetteer places, weighted towards towns."""
    places = argyll_gazetteer().places
    weights = np.array([p.population or 150 for p in places], dtype=float)
    lots = argyll_lot_index()
    points: list[tuple[float, float]] = []
    while len(points) < n:
        chosen = rng.choice(len(places), size=n, p=weights / weights.sum())
        candidates = np.array(
            [
                (places[i].lon + rng.normal(0, 0.01), places[i].lat + rng.normal(0, 0.006))
                for i in chosen
            ]
        )
        on_land = candidates[lots.positions(candidates) >= 0]
        points.extend((float(x), float(y)) for x, y in on_land[: n - len(points)])
    return points


def speed(network: TravelNetwork, repeats: int, n: int, seed: int) -> dict[str, float]:
    """Median seconds for a cold (new points) and a cached (same points) n x n drive matrix."""
    rng = np.random.default_rng(seed)
    cold, cached = [], []
    for _ in range(repeats):
        points = _points(rng, n)
        start = time.perf_counter()
        network.matrix(points, "drive")
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        network.matrix(points, "drive")
        cached.append(time.perf_counter() - start)
    return {
        "points": n,
        "repeats": repeats,
        "cold_median_s": round(statistics.median(cold), 3),
        "cold_max_s": round(max(cold), 3),
        "cached_median_s": round(statistics.median(cached), 4),
        "speedup_cached_vs_cold": round(statistics.median(cold) / statistics.median(cached), 1),
    }


def _write(out: Path, journeys: list[Journey], timing: dict[str, float], build_s: float) -> str:
    """Write the CSVs and the markdown under ``out``; return the markdown."""
    write_csv(
        out / "geodata_travel.csv",
        [
            {
                "from": j.origin,
                "to": j.destination,
                "set": "reference" if j.reference else "extra",
                "indicative_min": j.indicative_min,
                "model_min": j.model_min,
                "error_pct": round(100 * j.error, 1),
                "within_25pct": abs(j.error) <= TOLERANCE,
                "indicative_km": j.indicative_km or "",
                "model_km": j.model_km,
                "ferries": j.ferries,
                "source": j.source,
            }
            for j in journeys
        ],
    )
    write_csv(out / "geodata_speed.csv", [{"network_build_s": round(build_s, 2), **timing}])

    reference = [j for j in journeys if j.reference]
    ok = sum(abs(j.error) <= TOLERANCE for j in reference)
    lines = [
        "# Embedded travel network: realism and speed",
        "",
        "Command: `python -m benchmarks.geodata_travel`. Machine: 2 shared cores.",
        "",
        f"Reference journeys within +/-25%: **{ok} of {len(reference)}** (target: all).",
        "",
        "| from | to | set | indicative min | model min | error | model km | ferries |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for j in journeys:
        lines.append(
            f"| {j.origin} | {j.destination} | {'reference' if j.reference else 'extra'} | "
            f"{j.indicative_min:g} | {j.model_min:g} | {100 * j.error:+.0f}% | {j.model_km:g} | "
            f"{j.ferries or '-'} |"
        )
    lines += [
        "",
        "Extra journeys are the lead's estimates from known road distances (see the CSV's "
        "source column), not measurements.",
        "",
        f"Speed: network built in {build_s:.2f} s (once per process). "
        f"{timing['points']:g} x {timing['points']:g} drive matrix, median of "
        f"{timing['repeats']:g}: **{timing['cold_median_s']} s** cold (new points; target "
        f"<= 2 s), {timing['cached_median_s']} s for the same points again (cached, "
        f"{timing['speedup_cached_vs_cold']:g}x faster).",
    ]
    text = "\n".join(lines) + "\n"
    write_text_atomic(out / "geodata_travel.md", text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and write the results."""
    parser = argparse.ArgumentParser(prog="carealloc bench geodata", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeats", type=at_least_one, default=5)
    parser.add_argument("--points", type=at_least_one, default=1000)
    parser.add_argument("--seed", type=whole_number, default=1)
    parser.add_argument("--out", type=output_folder, default=RESULTS, metavar="DIR")
    args = parser.parse_args(argv)
    if not (args.data / "argyll_bute" / "reference_travel_times.csv").is_file():
        parser.error(f"no argyll_bute/reference_travel_times.csv under {args.data}; pass --data")
    start = time.perf_counter()
    network = argyll_network()
    build_s = time.perf_counter() - start
    journeys = realism(network, args.data)
    timing = speed(network, args.repeats, args.points, args.seed)
    print(_write(args.out, journeys, timing, build_s))

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
