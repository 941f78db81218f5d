"""Seeded Argyll-style snapshots: clients, packages, providers, carers and today's runs.

``generate_argyll(seed, ...)`` builds a snapshot on the embedded Argyll and Bute geography whose
existing runs were made the way brokerage makes them today: every past referral, in the order it
arrived, offered to its lot's providers in turn and taken by the first whose runs could fit it
(:data:`allocator.greedy.SequentialPolicy.STATUS_QUO`); those none could fit are the waiting
list. Today's new referrals (hospital discharges and community referrals) are added on top.

Every distribution is listed in docs/generator.md with its source or marked as an assumption.
The same seed and arguments always give the same snapshot.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.greedy import SequentialPolicy, place_into
from allocator.model import DAYS, Package, Snapshot
from allocator.runs import RunsView
from api.prepare import prepare, prepare_snapshot
from geodata.argyll import argyll_network
from geodata.gazetteer import Place, argyll_gazetteer
from geodata.lots import argyll_lot_index
from geodata.travel import TravelSource

TODAY = dt.date(2026, 11, 24)
"""The generated world's 'today' (a Tuesday); fixed so a seed always gives the same snapshot."""
NOW = dt.datetime.combine(TODAY, dt.time(8, 0), tzinfo=dt.UTC)
"""08:00 today: when the default world's new referrals are placed and waiting is measured to."""

NEW_PREFIX = "R-"
"""Ids of today's new referrals start with this; past clients' start with ``P-``."""

SKILLS = ["medication", "hoist", "catheter_care", "peg_feeding"]

# Providers: (id, name, lots, hourly rate £, works adjacent lots, relative size). Fictional
# names; the shape follows Argyll and Bute's framework (15 providers, a few across several lots,
# small local ones in one lot). Rates span the 2024/25 Scottish range (assumption, about
# £24-£28 an hour).
PROVIDERS: tuple[tuple[str, str, tuple[str, ...], float, bool, float], ...] = (
    (
        "caledonia",
        "Caledonia Homecare",
        ("oban-lorn", "mid-argyll", "kintyre", "cowal"),
        26.40,
        True,
        3.0,
    ),
    (
        "westcoast",
        "West Coast Care Partners",
        ("oban-lorn", "mid-argyll", "kintyre"),
        25.90,
        True,
        2.5,
    ),
    ("clydecare", "ClydeCare Services", ("helensburgh-lomond", "cowal", "bute"), 26.10, True, 2.5),
    ("lorn", "Lorn Home Support", ("oban-lorn",), 25.20, False, 1.5),
    ("mull", "Mull and Iona Community Care", ("oban-lorn",), 27.80, False, 1.0),
    ("crinan", "Crinan Care", ("mid-argyll",), 25.50, False, 1.2),
    ("kintyre", "Kintyre Care at Home", ("kintyre",), 25.60, True, 1.5),
    ("islay", "Islay and Jura Care", ("kintyre",), 27.20, False, 1.0),
    ("cowal", "Cowal Care Co-operative", ("cowal",), 24.90, False, 1.2),
    ("dunoon", "Dunoon Home Support", ("cowal",), 24.60, True, 1.0),
    ("bute", "Bute Care Services", ("bute",), 25.10, False, 1.5),
    ("helensburgh", "Helensburgh Homecare", ("helensburgh-lomond",), 26.80, False, 1.8),
    ("lomond", "Lomond Care", ("helensburgh-lomond",), 25.30, True, 1.2),
    ("garelochside", "Garelochside Support", ("helensburgh-lomond",), 24.80, False, 0.8),
    ("tiree", "Tiree and Coll Carers", ("oban-lorn",), 27.50, False, 0.5),
)
# Local providers whose carers live in one area, not across the whole lot.
HOME_AREA: dict[str, tuple[str, ...]] = {
    "mull": ("Tobermory", "Craignure", "Salen", "Bunessan", "Dervaig", "Fionnphort"),
    "islay": ("Bowmore", "Port Ellen", "Port Charlotte", "Bridgend", "Craighouse"),
    "tiree": ("Scarinish", "Arinagour", "Balemartine"),
    "crinan": ("Lochgilphead", "Ardrishaig", "Kilmartin", "Tayvallich", "Cairnbaan"),
    "kintyre": ("Campbeltown", "Tarbert", "Carradale", "Tayinloan", "Southend"),
    "dunoon": ("Dunoon", "Sandbank", "Innellan", "Kirn", "Strone"),
    "garelochside": ("Garelochhead", "Rosneath", "Kilcreggan", "Clynder", "Rhu"),
}

# Calls per day: 1-4, mostly 30 minutes (assumptions shaped to UK home-care practice).
CALLS_PER_DAY = {1: 0.20, 2: 0.25, 3: 0.25, 4: 0.30}
CALL_MINUTES = {15: 0.08, 30: 0.67, 45: 0.15, 60: 0.10}
# Call slots and the range of their earliest start (minutes after midnight): a client's
# preferred time is drawn in 15-minute steps from the range (assumption).
SLOT_RANGES = {
    "morning": (450, 570),  # 07:30-09:30
    "lunch": (690, 780),  # 11:30-13:00
    "tea": (990, 1080),  # 16:30-18:00
    "bed": (1140, 1260),  # 19:00-21:00
}
SLOTS = {
    1: ("morning",),
    2: ("morning", "tea"),
    3: ("morning", "lunch", "bed"),
    4: ("morning", "lunch", "tea", "bed"),
}
WINDOW_MIN = 90
"""A call may start up to 90 minutes after its earliest start: about 45 minutes either side of
the preferred time (assumption; councils commonly agree a tolerance of 30-45 minutes)."""
DAYS_PATTERN = {"daily": 0.88, "weekdays": 0.08, "mon_wed_fri": 0.04}
DOUBLE_HANDED_SHARE = 0.12
"""Issue #7 asks for about 10-15% of packages with a double-handed call."""
WEEKLY_HOURS_CAP = 28.0
"""Argyll and Bute's 2025 policy threshold; packages above it are redrawn."""
MEDICATION_SHARE = 0.40
CATHETER_SHARE = 0.05
PEG_SHARE = 0.02
FEMALE_PREFERENCE_SHARE = 0.12
URGENCY_NEW = {"discharge_pathway_1": 0.35, "urgent": 0.25, "routine": 0.40}

RURAL_WEIGHT = 120.0
"""Clients per gazetteer locality that has no population figure (assumption: a hamlet and its
surroundings)."""
TOWN_SPREAD_KM = 0.6
RURAL_SPREAD_KM = 1.5


@dataclass(frozen=True)
class Rota:
    """The shifts of a carer's working day, in minutes after midnight: a morning shift and,
    for all but the mornings-only carers, an evening one (split shifts)."""

    morning: tuple[int, int]
    evening: tuple[int, int]


# Carers: split shifts five days a week on a rota, a third mornings only (assumptions).
ROTAS = {
    "standard": Rota(morning=(420, 840), evening=(960, 1350)),  # 07:00-14:00, 16:00-22:30
    "late-finish": Rota(morning=(420, 870), evening=(960, 1380)),  # 07:00-14:30, 16:00-23:00
}
"""Rotas a world can be generated with (``--rota``): ``standard`` is the default;
``late-finish`` is a commissioning scenario, mornings to 14:30 so a lunch call can start as
late as its window allows and evenings to 23:00 for bed calls."""
MORNINGS_ONLY_SHARE = 0.30
WORK_DAYS = 5
MAX_WORKING_MIN = 600
FEMALE_CARER_SHARE = 0.83
"""Scottish social care workforce is about 83% female (SSSC workforce data, 2023)."""
WALKER_SHARE_IN_TOWNS = 0.15
CARER_SKILL_SHARE = {"medication": 0.85, "hoist": 0.55, "catheter_care": 0.25, "peg_feeding": 0.10}


@dataclass(frozen=True)
class WorldSettings:
    """What to generate (Argyll and Bute's defaults; :class:`benchmarks.torbay.TorbaySettings`
    has Torbay's)."""

    clients: int = 1000
    """Clients ever referred who still need care: placed today or on the waiting list."""
    new_referrals: int = 40
    """Today's new referrals."""
    capacity_ratio: float = 2.0
    """Carer working hours (each rostered day's shifts, capped at the daily maximum) over the
    commissioned carer hours of all clients. 1.0 is capacity parity; rural travel (about 25
    minutes per contact hour) and the morning peak mean about 2 is needed to place most."""
    rota: str = "standard"
    """The carers' shifts, a key of :data:`ROTAS`."""
    today: dt.date = TODAY
    extra: dict[str, Any] = field(default_factory=dict)


class ArgyllSettings(WorldSettings):
    """Argyll and Bute's defaults."""


ProviderRow = tuple[str, str, tuple[str, ...], float, bool, float]
"""(id, name, lots, hourly rate £, works adjacent lots, relative size)."""


@dataclass(frozen=True)
class Profile:
    """What differs between generated worlds (Argyll and Bute here, Torbay in
    :mod:`benchmarks.torbay`)."""

    name: str
    providers: tuple[ProviderRow, ...]
    home_area: dict[str, tuple[str, ...]]
    """Local providers whose carers live only in these places."""
    calls_per_day: dict[int, float]
    walker_share_in_towns: float
    client_prefix: str
    """Start of pseudonymous client references, e.g. ``AB`` (``AB-1234567``)."""


ARGYLL = Profile(
    name="argyll",
    providers=PROVIDERS,
    home_area=HOME_AREA,
    calls_per_day=CALLS_PER_DAY,
    walker_share_in_towns=WALKER_SHARE_IN_TOWNS,
    client_prefix="AB",
)


@dataclass(frozen=True)
class Home:
    """Where a generated client lives: the point, the place it is near and its lot."""

    point: tuple[float, float]
    place: Place
    lot_id: str
    locality: str | None = None
    """Filled by :func:`api.prepare.prepare_snapshot` when None (inside Argyll and Bute)."""


def rota_option(parser: argparse.ArgumentParser) -> None:
    """``--rota``: the carers' shifts of a generated world."""
    parser.add_argument(
        "--rota",
        choices=sorted(ROTAS),
        help="carers' shifts: standard 07:00-14:00 and 16:00-22:30 (the default); late-finish "
        "07:00-14:30 and 16:00-23:00, the same carer hours as a scenario",
    )


def _pick(rng: np.random.Generator, table: dict[Any, float]) -> Any:
    keys = list(table)
    weights = np.array([table[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=weights / weights.sum()))]


def _client_places(places: list[Place]) -> tuple[list[Place], np.ndarray]:
    usable = [p for p in places if p.kind != "ferry terminal"]
    weights = np.array([p.population or RURAL_WEIGHT for p in usable], dtype=float)
    return usable, weights / weights.sum()


def _jitter(rng: np.random.Generator, place: Place, spread_km: float) -> tuple[float, float]:
    lat = place.lat + rng.normal(0, spread_km / 111.0)
    lon = place.lon + rng.normal(0, spread_km / (111.0 * np.cos(np.radians(place.lat))))
    return (round(float(lon), 5), round(float(lat), 5))


def _locations(
    rng: np.random.Generator, n: int, places: list[Place], weights: np.ndarray
) -> list[tuple[tuple[float, float], Place]]:
    """Client homes near places, on land and reachable by road or ferry from the place."""
    lots = argyll_lot_index()
    network = argyll_network()
    result: list[tuple[tuple[float, float], Place]] = []
    while len(result) < n:
        batch = []
        for i in rng.choice(len(places), size=n - len(result), p=weights):
            place = places[int(i)]
            spread = TOWN_SPREAD_KM if (place.population or 0) >= 2000 else RURAL_SPREAD_KM
            batch.append((_jitter(rng, place, spread), place))
        on_land = lots.positions([point for point, _ in batch]) >= 0
        batch = [b for b, ok in zip(batch, on_land, strict=True) if ok]
        if not batch:
            continue
        minutes, _ = network.matrix([pt for pair in batch for pt in (pair[0], pair[1].point)])
        for k, pair in enumerate(batch):
            if np.isfinite(minutes[2 * k, 2 * k + 1]):
                result.append(pair)
    return result


def _visits(rng: np.random.Generator, calls_per_day: dict[int, float]) -> list[dict[str, Any]]:
    """One package's weekly pattern, redrawn until within the weekly hours cap."""
    while True:
        calls = _pick(rng, calls_per_day)
        pattern = _pick(rng, DAYS_PATTERN)
        days = {
            "daily": list(DAYS),
            "weekdays": list(DAYS[:5]),
            "mon_wed_fri": ["mon", "wed", "fri"],
        }[pattern]
        double = rng.random() < DOUBLE_HANDED_SHARE
        medication = rng.random() < MEDICATION_SHARE
        catheter = rng.random() < CATHETER_SHARE
        peg = rng.random() < PEG_SHARE
        slots = SLOTS[calls]
        visits: list[dict[str, Any]] = []
        for k, label in enumerate(slots):
            low, high = SLOT_RANGES[label]
            start = int(low + 15 * rng.integers(0, (high - low) // 15 + 1))
            skills = []
            if medication and label in ("morning", "bed"):
                skills.append("medication")
            carers_required = 2 if double and k == 0 else 1
            if carers_required == 2:
                skills.append("hoist")
            if peg and k == 0:
                skills.append("peg_feeding")
            if catheter and k == len(slots) - 1:
                skills.append("catheter_care")
            visits.append(
                {
                    "id": label,
                    "label": label,
                    "days": days,
                    "earliest_start_min": start,
                    "latest_start_min": start + WINDOW_MIN,
                    "duration_min": int(_pick(rng, CALL_MINUTES)),
                    "carers_required": carers_required,
                    "required_skills": skills,
                }
            )
        if _carer_minutes({"visits": visits}) / 60 <= WEEKLY_HOURS_CAP:
            return visits


def _carer_minutes(package: dict[str, Any]) -> float:
    """Commissioned carer minutes a week of a package given as JSON."""
    return float(
        sum(v["duration_min"] * len(v["days"]) * v["carers_required"] for v in package["visits"])
    )


def new_package(
    rng: np.random.Generator,
    profile: Profile,
    package_id: str,
    home: Home,
    waiting_since: dt.datetime,
    urgency: str,
    start_date: dt.date,
) -> dict[str, Any]:
    """A referral as decoded JSON: visits, preferences and where the client lives."""
    preferences: dict[str, Any] = {}
    if rng.random() < FEMALE_PREFERENCE_SHARE:
        preferences["carer_gender"] = "female"
    package = {
        "id": package_id,
        "client_ref": f"{profile.client_prefix}-{rng.integers(10**6, 10**7)}",
        "location": list(home.point),
        "lot_id": home.lot_id,
        "start_date": start_date.isoformat(),
        "urgency": urgency,
        "waiting_since": waiting_since.isoformat(),
        "visits": _visits(rng, profile.calls_per_day),
        "preferences": preferences,
    }
    if home.locality is not None:
        package["locality"] = home.locality
    return package


def _carers(
    rng: np.random.Generator,
    profile: Profile,
    communities: list[tuple[str, Place, float]],
    capacity_ratio: float,
    rota: Rota,
) -> list[dict[str, Any]]:
    """Carers per lot in proportion to its care demand, shared among the lot's providers.

    Carers live in the communities they serve: each carer's base is drawn from the places its
    lot's clients live around, weighted by their care minutes (a local provider only from its
    home area). Days off are staggered so every day of the week has its share of carers.
    """
    morning = rota.morning[1] - rota.morning[0]
    evening = rota.evening[1] - rota.evening[0]
    day_minutes = min(MAX_WORKING_MIN, morning) * MORNINGS_ONLY_SHARE + min(
        MAX_WORKING_MIN, morning + evening
    ) * (1 - MORNINGS_ONLY_SHARE)
    week_minutes = day_minutes * WORK_DAYS
    demand_by_lot: dict[str, float] = {}
    for lot_id, _, minutes in communities:
        demand_by_lot[lot_id] = demand_by_lot.get(lot_id, 0.0) + minutes
    carers: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    for lot_id, demand_min in sorted(demand_by_lot.items()):
        needed = max(2, round(capacity_ratio * demand_min / week_minutes))
        holders = [p for p in profile.providers if lot_id in p[2]]
        sizes = np.array([p[5] for p in holders], dtype=float)
        shares = rng.multinomial(needed, sizes / sizes.sum())
        in_lot = [(place, minutes) for lot, place, minutes in communities if lot == lot_id]
        for provider, count in zip(holders, shares, strict=True):
            provider_id = provider[0]
            home = set(profile.home_area.get(provider_id, ()))
            area = [(pl, m) for pl, m in in_lot if pl.name in home] or in_lot
            weights = np.array([m for _, m in area], dtype=float)
            # Every provider on a lot has at least two carers there (a double-up needs two).
            for _ in range(max(int(count), 2)):
                base = area[int(rng.choice(len(area), p=weights / weights.sum()))][0]
                number = counters[provider_id] = counters.get(provider_id, 0) + 1
                carers.append(
                    _carer(
                        rng,
                        f"{provider_id}-{number:03d}",
                        provider_id,
                        base,
                        first_day=number,
                        walker_share=profile.walker_share_in_towns,
                        rota=rota,
                    )
                )
    return carers


def _carer(
    rng: np.random.Generator,
    carer_id: str,
    provider_id: str,
    base: Place,
    first_day: int,
    walker_share: float,
    rota: Rota,
) -> dict[str, Any]:
    days = [DAYS[(first_day + k) % 7] for k in range(WORK_DAYS)]
    mornings_only = rng.random() < MORNINGS_ONLY_SHARE
    shifts = []
    for day in days:
        shifts.append({"day": day, "start_min": rota.morning[0], "end_min": rota.morning[1]})
        if not mornings_only:
            shifts.append({"day": day, "start_min": rota.evening[0], "end_min": rota.evening[1]})
    walks = (base.population or 0) >= 4000 and rng.random() < walker_share
    return {
        "id": carer_id,
        "provider_id": provider_id,
        "base": list(_jitter(rng, base, 0.4)),
        "shifts": shifts,
        "max_working_min_per_day": MAX_WORKING_MIN,
        "skills": [s for s in SKILLS if rng.random() < CARER_SKILL_SHARE[s]],
        "gender": "female" if rng.random() < FEMALE_CARER_SHARE else "male",
        "travel_mode": "walk" if walks else "drive",
    }


def generate_argyll(seed: int, settings: WorldSettings | None = None) -> Snapshot:
    """A seeded Argyll-style snapshot with today's runs built by the status-quo process.

    Parameters
    ----------
    seed
        The same seed (and settings) always gives the same snapshot.
    settings
        How many clients and new referrals, and how much carer capacity.
    """
    settings = settings or ArgyllSettings()
    rng = np.random.default_rng(seed)
    homes = argyll_homes(rng, settings.clients + settings.new_referrals)
    return build_world(rng, ARGYLL, f"argyll-seed{seed}", settings, homes)


def argyll_homes(rng: np.random.Generator, n: int) -> list[Home]:
    """``n`` client homes near Argyll and Bute's places, weighted by population."""
    places, weights = _client_places(argyll_gazetteer().places)
    found = _locations(rng, n, places, weights)
    lots = argyll_lot_index().lookup([point for point, _ in found])
    return [Home(point, place, lot) for (point, place), lot in zip(found, lots, strict=True)]


def build_world(
    rng: np.random.Generator,
    profile: Profile,
    name: str,
    settings: WorldSettings,
    homes: list[Home],
    *,
    lots: list[dict[str, Any]] | None = None,
    travel: TravelSource | None = None,
) -> Snapshot:
    """Clients, carers and today's runs, built the status-quo way, plus today's referrals.

    Parameters
    ----------
    homes
        One per client then one per new referral.
    lots
        The snapshot's lots (the embedded Argyll and Bute lots when None).
    travel
        When given, travel between every point is computed from it and carried in the
        snapshot's ``travel`` section (the embedded network is used otherwise).
    """
    now = dt.datetime.combine(settings.today, dt.time(8, 0), tzinfo=dt.UTC)
    history = []
    for k in range(settings.clients):
        waited = int(rng.integers(1, 900))
        since = now - dt.timedelta(days=waited, hours=int(rng.integers(0, 10)))
        history.append(
            new_package(rng, profile, f"P-{k + 1:04d}", homes[k], since, "routine", since.date())
        )
    today = []
    for k in range(settings.new_referrals):
        since = now - dt.timedelta(hours=int(rng.integers(1, 40)))
        urgency = _pick(rng, URGENCY_NEW)
        start = settings.today + dt.timedelta(days=int(rng.integers(1, 4)))
        home = homes[settings.clients + k]
        today.append(
            new_package(rng, profile, f"{NEW_PREFIX}{k + 1:04d}", home, since, urgency, start)
        )

    communities = [
        (home.lot_id, home.place, _carer_minutes(package))
        for package, home in zip(history, homes[: settings.clients], strict=True)
    ]
    if settings.rota not in ROTAS:
        msg = f"rota must be one of {', '.join(ROTAS)}, got {settings.rota!r}"
        raise ValueError(msg)
    carers = _carers(rng, profile, communities, settings.capacity_ratio, ROTAS[settings.rota])
    history.sort(key=lambda p: p["waiting_since"])
    providers = [
        {
            "id": pid,
            "name": provider_name,
            "lot_ids": list(lot_ids),
            "hourly_rate_gbp": rate,
            "works_adjacent_lots": adjacent,
        }
        for pid, provider_name, lot_ids, rate, adjacent, _ in profile.providers
    ]
    data: dict[str, Any] = {
        "name": name,
        "week_commencing": (
            settings.today + dt.timedelta(days=7 - settings.today.weekday())
        ).isoformat(),
        "skills": SKILLS,
        "lots": lots or [],
        "providers": providers,
        "carers": carers,
        "referrals": history,
    }
    if travel is not None:
        points = [tuple(c["base"]) for c in carers]
        points += [tuple(p["location"]) for p in [*history, *today]]
        data["travel"] = supplied_travel(travel, list(dict.fromkeys(points)))
    ready, matrix = prepare(Snapshot.model_validate(data))
    view = RunsView(ready, matrix)
    drafts = {}
    for referral in ready.referrals:
        placed, _ = place_into(view, ready, SequentialPolicy.STATUS_QUO, [referral.id])
        drafts.update(placed)
    packages = []
    waiting = []
    for referral in ready.referrals:
        draft = drafts.get(referral.id)
        if draft is None:
            waiting.append(referral)
            continue
        packages.append(
            referral.model_copy(
                update={"provider_id": draft.provider.id, "assignments": draft.assignments}
            )
        )
    new = prepare_snapshot(ready.model_copy(update={"referrals": _referrals(today)})).referrals
    return ready.model_copy(update={"packages": packages, "referrals": [*waiting, *new]})


def _referrals(data: list[dict[str, Any]]) -> list[Package]:
    return [Package.model_validate(p) for p in data]


def supplied_travel(source: TravelSource, points: list[tuple[float, float]]) -> dict[str, Any]:
    """A snapshot's ``travel`` section from ``source``: minutes and km to 0.1, rounded up."""
    section: dict[str, Any] = {"points": [list(p) for p in points]}
    for mode in source.modes:
        minutes, km = source.matrix(points, mode)
        section[mode] = {
            "minutes": _rounded(minutes, 1),
            "km": _rounded(km, 1),
        }
    return section


def _rounded(matrix: np.ndarray, digits: int) -> list[list[float | None]]:
    # Minutes round up so a supplied matrix is never more optimistic than its source.
    scale = 10**digits
    values = np.ceil(matrix * scale - 1e-9) / scale + 0.0  # + 0.0 turns -0.0 into 0.0
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in values]


def new_referral_ids(snapshot: Snapshot) -> list[str]:
    """Today's new referrals of a generated snapshot (the rest of its referrals were waiting
    already)."""
    return [r.id for r in snapshot.referrals if r.id.startswith(NEW_PREFIX)]


def _plain(model: Any) -> Any:
    return model.model_dump(mode="json")
