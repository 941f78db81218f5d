"""The domain model: lots, providers, carers, packages of care, snapshots and plans.

Units are carried in field names and stated once in ``docs/formats.md``:

* coordinates are ``[lon, lat]`` (WGS84 degrees);
* times of day are ``*_min``: whole minutes after local midnight (``480`` is 08:00);
* durations are ``*_min`` (minutes), travel ``*_min`` and ``*_km``; money is ``*_gbp``;
* a *week* is the recurring weekly rota, days ``mon`` .. ``sun``.

Every model rejects unknown keys, so a misspelt field is an error rather than silently ignored.
Cross-references (a carer's provider, a visit's skills, an assignment's carer) are checked when a
:class:`Snapshot` or :class:`Plan` is built; each problem names the field path and the rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

FORMAT_VERSION: Literal["1"] = "1"

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
MINUTES_PER_DAY = 1440

# A generous box around Great Britain and its islands (Scilly to Shetland), in degrees.
GB_LON_MIN, GB_LON_MAX = -8.7, 1.9
GB_LAT_MIN, GB_LAT_MAX = 49.8, 60.95

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Gender = Literal["female", "male", "unspecified"]
TravelMode = Literal["drive", "walk"]


class Urgency(StrEnum):
    """How soon a package must start, most urgent first."""

    DISCHARGE_PATHWAY_1 = "discharge_pathway_1"
    URGENT = "urgent"
    ROUTINE = "routine"

    @property
    def priority(self) -> int:
        """0 for the most urgent, larger for less urgent."""
        return list(Urgency).index(self)

    @property
    def label(self) -> str:
        """Words a broker uses for this urgency."""
        return {
            Urgency.DISCHARGE_PATHWAY_1: "hospital discharge (pathway 1)",
            Urgency.URGENT: "urgent community referral",
            Urgency.ROUTINE: "routine referral",
        }[self]


class ReasonCode(StrEnum):
    """Why a provider cannot take a package, or why a package stays unplaced.

    Each code comes with a sentence a broker can act on; the code is for systems, the
    sentence for people.
    """

    OUTSIDE_LOT = "outside_lot"
    NO_SKILL = "no_skill"
    NO_CAPACITY = "no_capacity"
    NO_DOUBLE_UP = "no_double_up"
    GENDER_PREFERENCE = "gender_preference"
    DECLINED_CARERS = "declined_carers"
    UNREACHABLE = "unreachable"
    MAX_WORKING_TIME = "max_working_time"
    NO_SHIFT = "no_shift"
    NO_CARERS = "no_carers"
    NOT_SOLVED_IN_TIME = "not_solved_in_time"
    LOWER_PRIORITY = "lower_priority"


def format_time(minutes: int) -> str:
    """``HH:MM`` for minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _in_great_britain(point: tuple[float, float]) -> tuple[float, float]:
    lon, lat = point
    if GB_LON_MIN <= lon <= GB_LON_MAX and GB_LAT_MIN <= lat <= GB_LAT_MAX:
        return point
    hint = ""
    if GB_LON_MIN <= lat <= GB_LON_MAX and GB_LAT_MIN <= lon <= GB_LAT_MAX:
        hint = " (it looks like [lat, lon]: coordinates are [lon, lat])"
    msg = (
        f"must be [lon, lat] inside Great Britain (lon {GB_LON_MIN} to {GB_LON_MAX}, "
        f"lat {GB_LAT_MIN} to {GB_LAT_MAX}); got [{lon}, {lat}]{hint}"
    )
    raise ValueError(msg)


LonLat = Annotated[tuple[float, float], AfterValidator(_in_great_britain)]
"""A point ``[lon, lat]`` in WGS84 degrees, inside Great Britain."""

Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
"""A domain id: letters, digits and ``_ . : -``; strings at every edge of the product."""

MinuteOfDay = Annotated[int, Field(ge=0, le=MINUTES_PER_DAY)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Problem(_Model):
    """One thing wrong with an input, located by the path of the field."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class CrossReferenceError(ValueError):
    """Cross-reference problems found when a snapshot or plan is assembled."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class Notice(_Model):
    """A warning carried in a result: worth a broker's attention, not an error."""

    code: str
    message: str
    package_id: str | None = None


# --- the framework: lots, providers, carers -------------------------------------------------


class Lot(_Model):
    """A zone of the council's care-at-home framework (for example "Mid Argyll")."""

    id: Id
    name: str = Field(min_length=1)
    polygon: dict[str, Any] | None = Field(
        default=None,
        description="GeoJSON Polygon or MultiPolygon geometry, coordinates [lon, lat].",
    )
    adjacent_lot_ids: list[Id] = Field(default_factory=list)

    @field_validator("polygon")
    @classmethod
    def _polygon_is_geojson(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return value
        kind = value.get("type")
        if kind not in {"Polygon", "MultiPolygon"}:
            msg = f"must be a GeoJSON Polygon or MultiPolygon geometry; got type {kind!r}"
            raise ValueError(msg)
        rings: list[Any] = value.get("coordinates") or []
        if kind == "MultiPolygon":
            rings = [ring for polygon in rings for ring in polygon]
        if not rings:
            msg = "has no coordinates"
            raise ValueError(msg)
        for ring in rings:
            for point in ring:
                _in_great_britain((float(point[0]), float(point[1])))
        return value


class Provider(_Model):
    """A care provider on the framework."""

    id: Id
    name: str = Field(min_length=1)
    lot_ids: list[Id] = Field(min_length=1, description="Lots the provider holds on the framework.")
    hourly_rate_gbp: float = Field(gt=0, le=500, description="Framework rate per carer hour.")
    works_adjacent_lots: bool = Field(
        default=False,
        description="Willing to take packages in lots adjacent to its own, at a ranking penalty.",
    )


class Shift(_Model):
    """A carer's availability on one day of the week, leaving from and returning to base."""

    day: Day
    start_min: MinuteOfDay
    end_min: MinuteOfDay

    @model_validator(mode="after")
    def _end_after_start(self) -> Shift:
        if self.end_min <= self.start_min:
            msg = (
                f"end_min ({self.end_min}) must be after start_min ({self.start_min}); "
                "shifts do not cross midnight"
            )
            raise ValueError(msg)
        return self

    @property
    def length_min(self) -> int:
        """Minutes from start to end."""
        return self.end_min - self.start_min


class Carer(_Model):
    """A care worker employed by a provider."""

    id: Id
    provider_id: Id
    base: LonLat = Field(description="Where the carer starts and ends each shift, [lon, lat].")
    shifts: list[Shift] = Field(default_factory=list)
    max_working_min_per_day: int = Field(
        default=600,
        gt=0,
        le=MINUTES_PER_DAY,
        description="Cap on visit minutes plus travel minutes in one day.",
    )
    skills: list[Id] = Field(default_factory=list)
    gender: Gender = "unspecified"
    travel_mode: TravelMode = "drive"

    @field_validator("shifts")
    @classmethod
    def _shifts_do_not_overlap(cls, shifts: list[Shift]) -> list[Shift]:
        by_day: dict[str, list[Shift]] = {}
        for shift in shifts:
            by_day.setdefault(shift.day, []).append(shift)
        for day, day_shifts in by_day.items():
            ordered = sorted(day_shifts, key=lambda s: s.start_min)
            for first, second in itertools.pairwise(ordered):
                if second.start_min < first.end_min:
                    msg = (
                        f"two shifts overlap on {day} ({format_time(first.start_min)}-"
                        f"{format_time(first.end_min)} and {format_time(second.start_min)}-"
                        f"{format_time(second.end_min)})"
                    )
                    raise ValueError(msg)
        return shifts

    def shifts_on(self, day: str) -> list[Shift]:
        """The carer's shifts on ``day``, earliest first."""
        return sorted((s for s in self.shifts if s.day == day), key=lambda s: s.start_min)


# --- packages of care -----------------------------------------------------------------------


class Visit(_Model):
    """One call in a package's weekly pattern, repeated on each of its days."""

    id: Id
    label: str | None = Field(default=None, description='For people, e.g. "morning".')
    days: list[Day] = Field(min_length=1)
    earliest_start_min: MinuteOfDay
    latest_start_min: MinuteOfDay
    duration_min: int = Field(gt=0, le=720, description="Minutes of care at the client's home.")
    carers_required: int = Field(
        default=1,
        ge=1,
        le=2,
        description="2 for a double-handed call: two carers starting together.",
    )
    required_skills: list[Id] = Field(default_factory=list)

    @field_validator("days")
    @classmethod
    def _days_unique(cls, days: list[str]) -> list[str]:
        repeated = sorted(d for d, n in Counter(days).items() if n > 1)
        if repeated:
            msg = f"lists {', '.join(repeated)} more than once"
            raise ValueError(msg)
        return sorted(days, key=DAYS.index)

    @model_validator(mode="after")
    def _window_order(self) -> Visit:
        if self.latest_start_min < self.earliest_start_min:
            msg = (
                f"latest_start_min ({self.latest_start_min}) is before earliest_start_min "
                f"({self.earliest_start_min}): the time window ends before it starts"
            )
            raise ValueError(msg)
        if self.latest_start_min + self.duration_min > MINUTES_PER_DAY:
            msg = "latest_start_min + duration_min runs past midnight"
            raise ValueError(msg)
        return self

    @property
    def weekly_contact_min(self) -> int:
        """Minutes at the client's home per week."""
        return self.duration_min * len(self.days)

    @property
    def weekly_carer_min(self) -> int:
        """Carer minutes per week (a double-handed call counts twice)."""
        return self.weekly_contact_min * self.carers_required


class Preferences(_Model):
    """The client's wishes, honoured as hard rules."""

    carer_gender: Gender | None = None
    declined_carer_ids: list[Id] = Field(default_factory=list)
    preferred_provider_id: Id | None = None


class Assignment(_Model):
    """One visit occurrence (visit on a day) given to one or two carers at a start time."""

    visit_id: Id
    day: Day
    carer_ids: list[Id] = Field(min_length=1, max_length=2)
    start_min: MinuteOfDay
    locked: bool = Field(default=False, description="Must stay exactly as it is.")

    @field_validator("carer_ids")
    @classmethod
    def _distinct_carers(cls, carer_ids: list[str]) -> list[str]:
        if len(set(carer_ids)) != len(carer_ids):
            msg = "a double-handed call needs two different carers"
            raise ValueError(msg)
        return carer_ids

    @property
    def key(self) -> tuple[str, str]:
        """The occurrence this assignment covers: (visit id, day)."""
        return (self.visit_id, self.day)


class Package(_Model):
    """A package of care for one client: a weekly pattern of visits.

    In a snapshot's ``packages`` it is placed (``provider_id`` and ``assignments`` set); in
    ``referrals`` it is waiting for a provider.
    """

    id: Id
    client_ref: str = Field(
        min_length=1,
        max_length=100,
        description="Pseudonymous client reference; never a name or address.",
    )
    location: LonLat
    lot_id: Id | None = Field(
        default=None, description="Framework lot; filled from the location when omitted."
    )
    locality: str | None = Field(
        default=None,
        description="Settlement or area, for 'providers per locality'; filled when omitted.",
    )
    start_date: dt.date
    urgency: Urgency = Urgency.ROUTINE
    waiting_since: dt.datetime = Field(
        description="When the referral started waiting; a time without a zone is read as UTC."
    )
    visits: list[Visit] = Field(min_length=1)
    preferences: Preferences = Field(default_factory=Preferences)
    provider_id: Id | None = None
    assignments: list[Assignment] = Field(default_factory=list)
    locked: bool = Field(default=False, description="Provider and runs must not change.")
    accepts_part_package: bool = Field(
        default=False,
        description="The client agrees to start with the calls a provider can fit now while "
        "the other calls wait (a part package). Only for referrals.",
    )

    @field_validator("waiting_since")
    @classmethod
    def _zoned(cls, value: dt.datetime) -> dt.datetime:
        # Waits are measured against an aware "now"; a naive time cannot be compared with it.
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

    @field_validator("visits")
    @classmethod
    def _visit_ids_unique(cls, visits: list[Visit]) -> list[Visit]:
        repeated = sorted(i for i, n in Counter(v.id for v in visits).items() if n > 1)
        if repeated:
            msg = f"duplicate visit id {', '.join(repeated)}"
            raise ValueError(msg)
        return visits

    @property
    def weekly_carer_min(self) -> int:
        """Commissioned carer minutes per week (double-handed calls count twice)."""
        return sum(v.weekly_carer_min for v in self.visits)

    @property
    def weekly_hours(self) -> float:
        """Commissioned carer hours per week: the figure councils report."""
        return self.weekly_carer_min / 60

    @property
    def weekly_contact_min(self) -> int:
        """Minutes per week a carer is in the client's home."""
        return sum(v.weekly_contact_min for v in self.visits)

    def occurrences(self) -> Iterator[tuple[Visit, str]]:
        """Every (visit, day) of the weekly pattern, in day then time order."""
        pairs = [(v, d) for v in self.visits for d in v.days]
        return iter(sorted(pairs, key=lambda p: (DAYS.index(p[1]), p[0].earliest_start_min)))

    def visit(self, visit_id: str) -> Visit:
        """The visit with this id."""
        for v in self.visits:
            if v.id == visit_id:
                return v
        msg = f"package {self.id} has no visit {visit_id!r}"
        raise KeyError(msg)


class WaitingCalls(_Model):
    """Days of one call of a part package that have no carer yet."""

    visit_id: Id
    days: list[Day] = Field(min_length=1)


class PartPackage(_Model):
    """A waiting referral started with the calls a provider can fit now (a part package).

    The referral ``package_id`` is placed with every call but ``waiting_calls``; those wait as
    a new referral ``rest_id`` for the same client, keeping the referral's place in the queue.
    """

    package_id: Id
    rest_id: Id
    waiting_calls: list[WaitingCalls] = Field(min_length=1)


def split_package(package: Package, part: PartPackage) -> tuple[Package, Package]:
    """``package`` as (the calls that start, the calls that wait as referral ``part.rest_id``).

    Raises ValueError naming the rule when ``part`` does not fit ``package``.
    """
    if not package.accepts_part_package:
        msg = f"referral {package.id} has not agreed to a part package (accepts_part_package)"
        raise ValueError(msg)
    waiting: dict[str, set[str]] = defaultdict(set)
    for calls in part.waiting_calls:
        visit = next((v for v in package.visits if v.id == calls.visit_id), None)
        if visit is None:
            msg = f"part package of {package.id}: no visit {calls.visit_id!r}"
            raise ValueError(msg)
        stray = sorted(set(calls.days) - set(visit.days), key=DAYS.index)
        if stray:
            msg = f"part package of {package.id}: visit {visit.id} is not on {', '.join(stray)}"
            raise ValueError(msg)
        waiting[visit.id] |= set(calls.days)
    started, rest = [], []
    for visit in package.visits:
        now = [d for d in visit.days if d not in waiting[visit.id]]
        later = [d for d in visit.days if d in waiting[visit.id]]
        if now:
            started.append(visit.model_copy(update={"days": now}))
        if later:
            rest.append(visit.model_copy(update={"days": later}))
    if not started:
        msg = f"part package of {package.id}: every call would still wait; nothing starts"
        raise ValueError(msg)
    return (
        package.model_copy(update={"visits": started}),
        package.model_copy(update={"id": part.rest_id, "visits": rest}),
    )


# --- travel supplied by the caller -----------------------------------------------------------


class SuppliedTravelMode(_Model):
    """One mode: ``minutes[i][j]`` from ``points[i]`` to ``points[j]``; null if no route."""

    minutes: list[list[float | None]]
    km: list[list[float | None]] | None = None


class SuppliedTravel(_Model):
    """Travel times from the caller's own routing engine, used instead of computing them."""

    points: list[LonLat] = Field(min_length=1)
    drive: SuppliedTravelMode
    walk: SuppliedTravelMode | None = None

    @model_validator(mode="after")
    def _square(self) -> SuppliedTravel:
        n = len(self.points)
        for mode_name in ("drive", "walk"):
            mode: SuppliedTravelMode | None = getattr(self, mode_name)
            if mode is None:
                continue
            for label, matrix in (("minutes", mode.minutes), ("km", mode.km)):
                if matrix is None:
                    continue
                if len(matrix) != n or any(len(row) != n for row in matrix):
                    msg = f"{mode_name}.{label} must be {n} x {n}, one row and column per point"
                    raise ValueError(msg)
                if any(v is not None and v < 0 for row in matrix for v in row):
                    msg = f"{mode_name}.{label} has a negative entry"
                    raise ValueError(msg)
        return self


# --- settings carried in a snapshot ----------------------------------------------------------


class Costs(_Model):
    """How added cost is priced, on top of each provider's hourly rate."""

    travel_gbp_per_hour: float = Field(
        default=13.45,
        ge=0,
        description="Paid travel time; default the 2025/26 real living wage.",
    )
    mileage_gbp_per_km: float = Field(
        default=0.28, ge=0, description="Default HMRC 45p per mile, as pence per km."
    )
    adjacent_lot_penalty_gbp: float = Field(
        default=50.0,
        ge=0,
        description="Weekly ranking penalty for a provider working outside its own lots.",
    )


class Policy(_Model):
    """Council policy thresholds."""

    weekly_hours_warning: float = Field(
        default=28.0,
        gt=0,
        description="Packages above this many carer hours a week carry a warning (A&B 2025).",
    )
    max_distinct_carers_per_client: int | None = Field(
        default=None, ge=1, description="Continuity cap used by the nightly re-optimisation."
    )


_T = TypeVar("_T", "Lot", "Provider", "Carer", "Package")


# --- the snapshot ---------------------------------------------------------------------------


class Snapshot(_Model):
    """Everything carealloc needs to decide: the framework, the carers and their current runs,
    placed packages and new referrals."""

    format_version: Literal["1"] = FORMAT_VERSION
    name: str = Field(default="snapshot", min_length=1)
    week_commencing: dt.date | None = None
    skills: list[Id] = Field(default_factory=list, description="Every skill that may be required.")
    lots: list[Lot] = Field(default_factory=list)
    providers: list[Provider] = Field(min_length=1)
    carers: list[Carer] = Field(default_factory=list)
    packages: list[Package] = Field(default_factory=list, description="Placed packages.")
    referrals: list[Package] = Field(default_factory=list, description="Waiting for a provider.")
    costs: Costs = Field(default_factory=Costs)
    policy: Policy = Field(default_factory=Policy)
    travel: SuppliedTravel | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> Snapshot:
        problems = list(_snapshot_problems(self))
        if problems:
            raise CrossReferenceError(problems)
        return self

    def all_packages(self) -> list[Package]:
        """Placed packages, then referrals."""
        return [*self.packages, *self.referrals]

    def with_part_packages(self, parts: Iterable[PartPackage]) -> Snapshot:
        """This snapshot with each part package's referral split into the calls that start
        (still a referral, for the plan to place) and a new referral for the rest.

        Raises ValueError naming the rule when a part does not fit its referral."""
        referrals = {r.id: r for r in self.referrals}
        taken = {p.id for p in self.all_packages()}
        for part in parts:
            referral = referrals.get(part.package_id)
            if referral is None:
                msg = f"part package of {part.package_id}: not a waiting referral"
                raise ValueError(msg)
            if part.rest_id in taken:
                msg = f"part package of {part.package_id}: rest_id {part.rest_id!r} is taken"
                raise ValueError(msg)
            started, rest = split_package(referral, part)
            referrals[started.id] = started
            referrals[rest.id] = rest
            taken.add(rest.id)
        return self.model_copy(update={"referrals": list(referrals.values())})

    def provider(self, provider_id: str) -> Provider:
        """The provider with this id."""
        return _index(self.providers)[provider_id]

    def package(self, package_id: str) -> Package:
        """The package or referral with this id."""
        return _index(self.all_packages())[package_id]

    def carer(self, carer_id: str) -> Carer:
        """The carer with this id."""
        return _index(self.carers)[carer_id]

    def points(self) -> list[tuple[float, float]]:
        """Every distinct place the model travels between: carer bases, then packages, in order."""
        seen: dict[tuple[float, float], None] = {}
        for carer in self.carers:
            seen.setdefault(carer.base, None)
        for package in self.all_packages():
            seen.setdefault(package.location, None)
        return list(seen)

    def notices(self) -> list[Notice]:
        """Warnings about the input that are not errors (e.g. packages above the hours policy)."""
        limit = self.policy.weekly_hours_warning
        notices = []
        for package in self.all_packages():
            if package.weekly_hours > limit:
                notices.append(
                    Notice(
                        code="weekly_hours_above_policy",
                        package_id=package.id,
                        message=(
                            f"Package {package.id} asks for {package.weekly_hours:.1f} carer "
                            f"hours a week, above the {limit:g}-hour policy threshold; "
                            "it may need review before placement."
                        ),
                    )
                )
        return notices


def _index(items: Iterable[_T]) -> dict[str, _T]:
    return {item.id: item for item in items}


def _duplicates(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def _snapshot_problems(snap: Snapshot) -> Iterator[Problem]:
    for name in ("lots", "providers", "carers"):
        for dup in _duplicates(item.id for item in getattr(snap, name)):
            yield Problem(path=name, message=f"duplicate id {dup!r}")
    for dup in _duplicates(p.id for p in snap.all_packages()):
        yield Problem(path="packages/referrals", message=f"duplicate package id {dup!r}")

    lot_ids = {lot.id for lot in snap.lots}
    skills = set(snap.skills)
    providers = _index(snap.providers)
    carers = _index(snap.carers)

    for i, lot in enumerate(snap.lots):
        for adj in lot.adjacent_lot_ids:
            if adj not in lot_ids:
                yield Problem(path=f"lots[{i}].adjacent_lot_ids", message=f"unknown lot {adj!r}")
    for i, provider in enumerate(snap.providers):
        for lot_id in provider.lot_ids:
            if lot_ids and lot_id not in lot_ids:
                yield Problem(path=f"providers[{i}].lot_ids", message=f"unknown lot {lot_id!r}")
    for i, carer in enumerate(snap.carers):
        if carer.provider_id not in providers:
            yield Problem(
                path=f"carers[{i}].provider_id", message=f"unknown provider {carer.provider_id!r}"
            )
        for skill in carer.skills:
            if skill not in skills:
                yield Problem(
                    path=f"carers[{i}].skills",
                    message=f"unknown skill {skill!r}; declare it in the snapshot's skills",
                )

    for section in ("packages", "referrals"):
        for i, package in enumerate(getattr(snap, section)):
            yield from _package_problems(
                f"{section}[{i}]",
                package,
                placed=section == "packages",
                snap_lots=lot_ids,
                skills=skills,
                providers=providers,
                carers=carers,
            )


def _package_problems(
    path: str,
    package: Package,
    *,
    placed: bool,
    snap_lots: set[str],
    skills: set[str],
    providers: dict[str, Provider],
    carers: dict[str, Carer],
) -> Iterator[Problem]:
    if package.lot_id is not None and snap_lots and package.lot_id not in snap_lots:
        yield Problem(path=f"{path}.lot_id", message=f"unknown lot {package.lot_id!r}")
    for j, visit in enumerate(package.visits):
        for skill in visit.required_skills:
            if skill not in skills:
                yield Problem(
                    path=f"{path}.visits[{j}].required_skills",
                    message=f"unknown skill {skill!r}; declare it in the snapshot's skills",
                )
    prefs = package.preferences
    if prefs.preferred_provider_id is not None and prefs.preferred_provider_id not in providers:
        yield Problem(
            path=f"{path}.preferences.preferred_provider_id",
            message=f"unknown provider {prefs.preferred_provider_id!r}",
        )
    for carer_id in prefs.declined_carer_ids:
        if carer_id not in carers:
            yield Problem(
                path=f"{path}.preferences.declined_carer_ids", message=f"unknown carer {carer_id!r}"
            )

    if not placed:
        if package.provider_id is not None or package.assignments:
            yield Problem(
                path=path,
                message="a referral has no provider_id or assignments yet; "
                "put placed packages under 'packages'",
            )
        if package.locked:
            yield Problem(
                path=f"{path}.locked", message="a referral waiting for a provider cannot be locked"
            )
        return
    if package.provider_id is None:
        yield Problem(
            path=f"{path}.provider_id",
            message="a placed package needs its provider; put waiting ones under 'referrals'",
        )
        return
    if package.provider_id not in providers:
        yield Problem(
            path=f"{path}.provider_id", message=f"unknown provider {package.provider_id!r}"
        )
        return
    yield from assignment_problems(path, package, package.provider_id, package.assignments, carers)


def assignment_problems(
    path: str,
    package: Package,
    provider_id: str,
    assignments: list[Assignment],
    carers: dict[str, Carer],
) -> Iterator[Problem]:
    """Structural problems with a package's assignments: unknown visits, days or carers,
    carers of another provider, the wrong number of carers, or an occurrence given twice.

    Timing and capacity are the evaluator's business, not the data model's.
    """
    visits = {v.id: v for v in package.visits}
    seen: set[tuple[str, str]] = set()
    for k, assignment in enumerate(assignments):
        where = f"{path}.assignments[{k}]"
        visit = visits.get(assignment.visit_id)
        if visit is None:
            yield Problem(
                path=f"{where}.visit_id", message=f"unknown visit {assignment.visit_id!r}"
            )
            continue
        if assignment.day not in visit.days:
            yield Problem(
                path=f"{where}.day",
                message=f"visit {visit.id!r} does not happen on {assignment.day}",
            )
        if assignment.key in seen:
            yield Problem(
                path=where,
                message=f"visit {visit.id!r} on {assignment.day} is assigned more than once",
            )
        seen.add(assignment.key)
        if len(assignment.carer_ids) != visit.carers_required:
            yield Problem(
                path=f"{where}.carer_ids",
                message=f"visit {visit.id!r} needs {visit.carers_required} carer(s); "
                f"got {len(assignment.carer_ids)}",
            )
        for carer_id in assignment.carer_ids:
            carer = carers.get(carer_id)
            if carer is None:
                yield Problem(path=f"{where}.carer_ids", message=f"unknown carer {carer_id!r}")
            elif carer.provider_id != provider_id:
                yield Problem(
                    path=f"{where}.carer_ids",
                    message=f"carer {carer_id!r} works for {carer.provider_id!r}, "
                    f"not the package's provider {provider_id!r}",
                )


# --- results: offers and plans ---------------------------------------------------------------


class VisitFailure(_Model):
    """A visit occurrence a provider cannot cover, and why."""

    visit_id: str
    day: Day
    reason_code: ReasonCode
    reason: str


class Offer(_Model):
    """Whether one provider's existing runs can absorb a package, and at what added cost."""

    provider_id: str
    provider_name: str
    rank: int = Field(ge=1, description="1 is the best offer; infeasible offers rank last.")
    feasible: bool
    in_own_lot: bool
    reason_code: ReasonCode | None = None
    explanation: str = Field(description="One plain sentence for the broker.")
    care_hours_per_week: float
    added_travel_min_per_week: float | None = None
    added_travel_km_per_week: float | None = None
    added_cost_gbp_per_week: float | None = None
    distinct_carers: int | None = Field(
        default=None, description="How many different carers the client would see in a week."
    )
    assignments: list[Assignment] = Field(default_factory=list)
    failing_visits: list[VisitFailure] = Field(default_factory=list)


class Unplaced(_Model):
    """A package left without a provider, with a reason a broker can act on."""

    package_id: str
    reason_code: ReasonCode
    reason: str
    weekly_hours: float


class Placement(_Model):
    """A package's provider and every visit occurrence's carer(s) and start."""

    package_id: Id
    provider_id: Id
    assignments: list[Assignment] = Field(default_factory=list)


class SolverInfo(_Model):
    """How a plan was produced."""

    name: str
    seed: int | None = None
    time_limit_s: float | None = None
    status: str = "ok"
    wall_time_s: float | None = None
    objective: float | None = None


class Kpis(_Model):
    """Key performance indicators of a plan, computed by the independent evaluator."""

    packages_placed: int
    packages_unplaced: int
    hours_placed_per_week: float
    hours_waiting_per_week: float
    hours_waiting_by_lot: dict[str, float]
    contact_hours_per_week: float
    travel_min_per_week: float
    travel_km_per_week: float | None
    travel_min_per_contact_hour: float | None
    distinct_providers_per_locality_mean: float | None
    distinct_providers_per_locality_max: int | None
    distinct_carers_per_client_mean: float | None
    distinct_carers_per_client_max: int | None
    carer_utilisation: float | None = Field(
        description="Visit plus travel minutes over rostered shift minutes, 0..1."
    )


class ProviderMove(_Model):
    """A client the re-optimisation moves to another provider, and why."""

    package_id: str
    from_provider_id: str
    to_provider_id: str
    travel_saved_min_per_week: float = Field(
        description="Travel the move saves across both providers' runs, after its added travel."
    )
    reason: str


class RunChange(_Model):
    """One carer's run on one day, before and after."""

    carer_id: str
    day: Day
    visits_before: int
    visits_after: int
    travel_min_before: float
    travel_min_after: float


class PlanChanges(_Model):
    """What a re-optimised plan changes from today's runs, for a broker to approve."""

    travel_min_per_week_before: float
    travel_min_per_week_after: float
    travel_min_per_week_saved: float
    provider_moves: list[ProviderMove] = Field(default_factory=list)
    visits_with_new_carer: int = Field(
        description="Visit occurrences (per week) whose carer or carers change."
    )
    visits_with_new_time: int = Field(
        description="Visit occurrences that keep their carers but start at another time."
    )
    clients_with_new_carer: int
    runs_changed: list[RunChange] = Field(default_factory=list)
    newly_placed_package_ids: list[str] = Field(default_factory=list)
    waiting_hours_newly_placed_per_week: float = 0.0


class Plan(_Model):
    """A complete allocation: every placed package's provider and runs, and what is unplaced.

    ``placements`` covers every package that has a provider after this plan, existing ones
    included, so a plan can be checked on its own against the snapshot it came from.
    """

    format_version: Literal["1"] = FORMAT_VERSION
    snapshot_name: str
    created_at: dt.datetime
    solver: SolverInfo
    placements: list[Placement] = Field(default_factory=list)
    unplaced: list[Unplaced] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    kpis: Kpis | None = None
    changes: PlanChanges | None = Field(
        default=None, description="Only in re-optimised plans: what changes from today's runs."
    )
    part_packages: list[PartPackage] = Field(
        default_factory=list,
        description="Referrals started with the calls that fit now; the rest wait as new "
        "referrals (placed and unplaced refer to the split referrals).",
    )

    @model_validator(mode="after")
    def _each_package_once(self) -> Plan:
        ids = [p.package_id for p in self.placements] + [u.package_id for u in self.unplaced]
        problems = [
            Problem(path="placements/unplaced", message=f"package {dup!r} appears more than once")
            for dup in _duplicates(ids)
        ]
        if problems:
            raise CrossReferenceError(problems)
        return self

    def placement(self, package_id: str) -> Placement | None:
        """The placement of this package, or None when it is not placed."""
        for placement in self.placements:
            if placement.package_id == package_id:
                return placement
        return None
