"""Seeded Torbay-style snapshots: a compact coastal town instead of a rural council.

Torbay (Torquay, Paignton and Brixham on the English Riviera) is the urban contrast to Argyll
and Bute: about 776 people receiving home care and about 9,800 visits a week in January 2021
(issue #7). carealloc embeds no Torbay map, so the geography here is **synthetic** and every
piece is an assumption, listed in docs/generator.md:

* clients live around 22 neighbourhood centres (approximate coordinates, weighted by rough
  population shares) with a 0.5 km spread;
* three framework lots split the bay by latitude (Torquay north of 50.447, Brixham south of
  50.410, Paignton between): rectangles, not council boundaries;
* travel is straight-line distance times a detour factor of 1.35 at 25 km/h plus 2 minutes to
  park and reach the door; trips between Brixham and Torquay go round the bay through
  Paignton rather than across the water. The snapshot carries this as a supplied matrix
  (``travel``), so every command works on it without any map.

Runs are built the status-quo way, exactly as for Argyll (:func:`benchmarks.generator.build_world`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from allocator.model import Snapshot
from benchmarks.generator import Home, Profile, WorldSettings, build_world
from geodata.gazetteer import Place
from geodata.network import FloatArray, Mode

# Neighbourhood centres: (name, lot, lon, lat, relative population). Coordinates approximate,
# weights a rough share of Torbay's ~136,000 people (assumption).
NEIGHBOURHOODS: tuple[tuple[str, str, float, float, float], ...] = (
    ("Torquay town centre", "torquay", -3.5290, 50.4650, 7.0),
    ("Wellswood", "torquay", -3.5110, 50.4660, 4.0),
    ("Babbacombe", "torquay", -3.5170, 50.4780, 5.0),
    ("St Marychurch", "torquay", -3.5210, 50.4870, 6.0),
    ("Watcombe", "torquay", -3.5290, 50.4960, 4.0),
    ("Barton", "torquay", -3.5420, 50.4870, 5.0),
    ("Hele", "torquay", -3.5350, 50.4800, 4.0),
    ("Shiphay", "torquay", -3.5600, 50.4770, 5.0),
    ("Chelston", "torquay", -3.5460, 50.4640, 5.0),
    ("Cockington and Livermead", "torquay", -3.5530, 50.4560, 3.0),
    ("Ellacombe", "torquay", -3.5260, 50.4730, 4.0),
    ("Preston", "paignton", -3.5580, 50.4440, 6.0),
    ("Paignton town centre", "paignton", -3.5660, 50.4350, 7.0),
    ("Foxhole", "paignton", -3.5830, 50.4300, 4.0),
    ("Blagdon and Collaton", "paignton", -3.6000, 50.4330, 2.0),
    ("Goodrington", "paignton", -3.5690, 50.4210, 4.0),
    ("Roselands", "paignton", -3.5850, 50.4220, 3.0),
    ("Brixham town centre", "brixham", -3.5150, 50.3930, 5.0),
    ("Furzeham", "brixham", -3.5250, 50.3990, 3.0),
    ("Higher Brixham", "brixham", -3.5270, 50.3880, 3.0),
    ("Churston", "brixham", -3.5470, 50.3960, 2.0),
    ("Galmpton", "brixham", -3.5650, 50.3950, 1.5),
)
LOTS = (("torquay", "Torquay"), ("paignton", "Paignton"), ("brixham", "Brixham"))
TORQUAY_SOUTH_LAT = 50.447
BRIXHAM_NORTH_LAT = 50.410
BAY_BOX = (-3.625, 50.370, -3.490, 50.510)
"""(west, south, east, north) of the synthetic lots."""
SPREAD_KM = 0.5

# Seven fictional providers: three across the bay, four local (assumption). Rates: assumption,
# about the 2020/21 range for English councils' home care (£19.50-£21.50 an hour).
PROVIDERS: tuple[tuple[str, str, tuple[str, ...], float, bool, float], ...] = (
    ("bay", "Bay Homecare", ("torquay", "paignton", "brixham"), 20.90, False, 3.0),
    ("riviera", "English Riviera Care", ("torquay", "paignton", "brixham"), 21.20, False, 2.5),
    (
        "southdevon",
        "South Devon Care Services",
        ("torquay", "paignton", "brixham"),
        21.50,
        False,
        2.0,
    ),
    ("torquay", "Torquay Community Care", ("torquay",), 20.40, True, 1.5),
    ("coastal", "Coastal Care at Home", ("torquay", "paignton"), 20.60, False, 1.2),
    ("paignton", "Paignton Home Support", ("paignton",), 19.90, True, 1.2),
    ("brixham", "Brixham Carers", ("brixham",), 19.50, False, 1.0),
)
# Shorter packages than Argyll's: about 12.6 visits a week per client, so that 776 clients get
# about 9,800 visits a week (calibrated to the January 2021 figures; assumption).
CALLS_PER_DAY = {1: 0.45, 2: 0.33, 3: 0.12, 4: 0.10}

DETOUR_FACTOR = 1.35
"""Road distance over straight-line distance in a town (assumption; 1.2-1.4 is usual)."""
DRIVE_KPH = 25.0
"""Average urban driving speed door to door (assumption)."""
PARKING_MIN = 2.0
"""Minutes to park and reach the door, added to every trip between two places."""
ROUND_THE_BAY = (-3.5660, 50.4350)
"""Paignton town centre: trips between Brixham and Torquay go through it, not over water."""

TORBAY = Profile(
    name="torbay",
    providers=PROVIDERS,
    home_area={
        "torquay": ("Torquay town centre", "Wellswood", "Babbacombe", "St Marychurch", "Hele"),
        "paignton": ("Paignton town centre", "Preston", "Goodrington", "Foxhole"),
        "brixham": ("Brixham town centre", "Furzeham", "Higher Brixham"),
    },
    calls_per_day=CALLS_PER_DAY,
    walker_share_in_towns=0.0,
    client_prefix="TB",
)


@dataclass(frozen=True)
class TorbaySettings(WorldSettings):
    """What to generate; the defaults are Torbay's January 2021 scale."""

    clients: int = 776
    new_referrals: int = 25


def lot_of(lat: float) -> str:
    """The synthetic lot of a latitude."""
    if lat > TORQUAY_SOUTH_LAT:
        return "torquay"
    if lat <= BRIXHAM_NORTH_LAT:
        return "brixham"
    return "paignton"


def torbay_lots() -> list[dict[str, Any]]:
    """The three synthetic lots as snapshot JSON (rectangles across the bay, adjacent in a
    row north to south)."""
    west, south, east, north = BAY_BOX
    bands = {
        "torquay": (TORQUAY_SOUTH_LAT, north),
        "paignton": (BRIXHAM_NORTH_LAT, TORQUAY_SOUTH_LAT),
        "brixham": (south, BRIXHAM_NORTH_LAT),
    }
    adjacent = {
        "torquay": ["paignton"],
        "paignton": ["torquay", "brixham"],
        "brixham": ["paignton"],
    }
    lots = []
    for lot_id, name in LOTS:
        low, high = bands[lot_id]
        ring = [[west, low], [east, low], [east, high], [west, high], [west, low]]
        lots.append(
            {
                "id": lot_id,
                "name": name,
                "polygon": {"type": "Polygon", "coordinates": [ring]},
                "adjacent_lot_ids": adjacent[lot_id],
            }
        )
    return lots


def torbay_homes(rng: np.random.Generator, n: int) -> list[Home]:
    """``n`` client homes around the neighbourhood centres, by population share."""
    places = [
        Place(name, lon, lat, None, "neighbourhood") for name, _, lon, lat, _ in NEIGHBOURHOODS
    ]
    weights = np.array([w for *_, w in NEIGHBOURHOODS], dtype=float)
    homes = []
    west, south, east, north = BAY_BOX
    for i in rng.choice(len(places), size=n, p=weights / weights.sum()):
        place = places[int(i)]
        while True:
            lat = place.lat + rng.normal(0, SPREAD_KM / 111.0)
            lon = place.lon + rng.normal(0, SPREAD_KM / (111.0 * np.cos(np.radians(place.lat))))
            if west < lon < east and south < lat < north:
                break
        point = (round(float(lon), 5), round(float(lat), 5))
        homes.append(Home(point, place, lot_of(point[1]), locality=place.name))
    return homes


class TorbayTravel:
    """Straight-line travel with a detour factor, round the bay between Brixham and Torquay
    (a :class:`geodata.travel.TravelSource`; every carer drives)."""

    modes: list[Mode] = ["drive"]  # noqa: RUF012  (read-only, matches the protocol)

    def matrix(
        self, points: Sequence[tuple[float, float]], mode: Mode = "drive"
    ) -> tuple[FloatArray, FloatArray]:
        """Minutes and road km between every pair of ``[lon, lat]`` points."""
        if mode != "drive":
            msg = f"Torbay's synthetic travel has no {mode!r} mode; every carer drives"
            raise ValueError(msg)
        xy = np.asarray(points, dtype=float).reshape(-1, 2)
        direct = _km(xy[:, None, :], xy[None, :, :])
        via = np.asarray(ROUND_THE_BAY)
        to_via = _km(xy, via[None, :])
        round_bay = to_via[:, None] + to_via[None, :]
        south = xy[:, 1] <= BRIXHAM_NORTH_LAT
        north = xy[:, 1] > TORQUAY_SOUTH_LAT
        across = (south[:, None] & north[None, :]) | (north[:, None] & south[None, :])
        km = DETOUR_FACTOR * np.where(across, round_bay, direct)
        minutes = km / DRIVE_KPH * 60 + PARKING_MIN
        np.fill_diagonal(minutes, 0.0)
        np.fill_diagonal(km, 0.0)
        return minutes, km


def _km(a: FloatArray, b: FloatArray) -> FloatArray:
    """Great-circle kilometres between ``[lon, lat]`` arrays (broadcast)."""
    lon1, lat1 = np.radians(a[..., 0]), np.radians(a[..., 1])
    lon2, lat2 = np.radians(b[..., 0]), np.radians(b[..., 1])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(h)), dtype=float)


def generate_torbay(seed: int, settings: WorldSettings | None = None) -> Snapshot:
    """A seeded Torbay-style snapshot with today's runs built by the status-quo process.

    The snapshot carries its lots, every package's lot and locality (neighbourhood) and its
    travel matrix, so it needs no embedded geography.
    """
    settings = settings or TorbaySettings()
    rng = np.random.default_rng(seed)
    homes = torbay_homes(rng, settings.clients + settings.new_referrals)
    return build_world(
        rng,
        TORBAY,
        f"torbay-seed{seed}",
        settings,
        homes,
        lots=torbay_lots(),
        travel=TorbayTravel(),
    )
