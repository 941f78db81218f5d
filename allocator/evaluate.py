"""The independent plan evaluator: re-checks every hard rule and computes the KPIs.

It is the oracle of the solver tests and backs ``carealloc evaluate``, so it deliberately
shares no logic with the solvers: it works from the snapshot, the plan and the travel matrix
alone, rebuilding each carer's day from scratch. Each rule is one ``_check_<rule>()`` function
that yields :class:`Violation` records naming the package, carer and day involved.

Timing rules, per carer and day (each shift is a run from base and back to base):

* every visit lies inside one of the carer's shifts that day;
* the carer can reach the first visit from base after the shift starts, each next visit after
  the previous one ends plus travel, and base after the last visit before the shift ends;
* visit minutes plus travel minutes in the day (base legs included) stay within
  ``max_working_min_per_day``; waiting time is not working time.

Travel minutes are compared exactly as given (integer-time solvers should round travel up).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict

from allocator.model import (
    DAY_NAMES,
    Assignment,
    Carer,
    Kpis,
    Package,
    Placement,
    Plan,
    Shift,
    Snapshot,
    assignment_problems,
    format_time,
)
from allocator.travel import TravelMatrix

_EPS = 1e-6
# Packages with no locality are grouped in cells of about 5.5 km (0.05 deg lat, 0.08 deg lon).
_CELL_LAT_DEG = 0.05
_CELL_LON_DEG = 0.08


class Violation(BaseModel):
    """A broken hard rule."""

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str
    package_id: str | None = None
    carer_id: str | None = None
    day: str | None = None


class Evaluation(BaseModel):
    """The evaluator's verdict on a plan: its violations and its KPIs."""

    model_config = ConfigDict(frozen=True)

    violations: list[Violation]
    kpis: Kpis

    @property
    def is_feasible(self) -> bool:
        """True when the plan breaks no hard rule."""
        return not self.violations

    def summary(self) -> str:
        """A few lines for people."""
        k = self.kpis
        verdict = (
            "breaks no hard rule"
            if self.is_feasible
            else (f"breaks {len(self.violations)} hard rule(s)")
        )
        per_hour = (
            f"{k.travel_min_per_contact_hour:.1f}"
            if k.travel_min_per_contact_hour is not None
            else "n/a"
        )
        return (
            f"The plan {verdict}.\n"
            f"Placed: {k.packages_placed} packages, "
            f"{k.hours_placed_per_week:.1f} carer hours/week.\n"
            f"Waiting: {k.packages_unplaced} packages, {k.hours_waiting_per_week:.1f} hours/week.\n"
            f"Travel: {k.travel_min_per_week / 60:.1f} hours/week, {per_hour} min per contact hour."
        )


@dataclass(frozen=True)
class _Stop:
    """One visit occurrence in a carer's day, as the evaluator sees it."""

    start_min: int
    end_min: int
    point: tuple[float, float]
    package_id: str
    visit_id: str


def evaluate(snapshot: Snapshot, plan: Plan, travel: TravelMatrix) -> Evaluation:
    """Check ``plan`` against ``snapshot``'s hard rules and compute its KPIs.

    Parameters
    ----------
    snapshot
        The situation the plan was made for.
    plan
        The plan to check; it must list every placed package, old and new.
    travel
        Travel minutes (and km) covering every carer base and package location.

    Returns
    -------
    Evaluation
        Violations (empty when feasible) and KPIs.
    """
    travel.require(snapshot.points(), sorted({c.travel_mode for c in snapshot.carers}))
    violations: list[Violation] = []
    if plan.part_packages:
        # A part package's placement covers the calls that start; the rest wait as a new
        # referral. The plan is checked against the snapshot with those referrals split.
        try:
            snapshot = snapshot.with_part_packages(plan.part_packages)
        except ValueError as error:
            violations.append(Violation(rule="part_package", message=f"{error}."))
    packages = {p.id: p for p in snapshot.all_packages()}
    carers = {c.id: c for c in snapshot.carers}
    placements = [p for p in plan.placements if p.package_id in packages]

    violations += _check_known_ids(snapshot, plan)
    violations += _check_every_package_accounted_for(snapshot, plan)
    for placement in placements:
        package = packages[placement.package_id]
        violations += _check_structure(package, placement, carers)
        violations += _check_complete(package, placement)
        violations += _check_time_windows(package, placement)
        violations += _check_carer_fit(package, placement, carers)
        violations += _check_lot(snapshot, package, placement)
        violations += _check_locks(package, placement)

    days = _carer_days(placements, packages, carers)
    travel_min_total = 0.0
    travel_km_total = 0.0
    km_known = all(mode in travel.km for mode in {c.travel_mode for c in carers.values()})
    busy_min_total = 0.0
    for (carer_id, day), stops in sorted(days.items()):
        carer = carers[carer_id]
        found, minutes, km = _check_carer_day(carer, day, stops, travel)
        violations += found
        travel_min_total += minutes
        travel_km_total += km
        busy_min_total += minutes + sum(s.end_min - s.start_min for s in stops)

    kpis = _kpis(
        snapshot,
        placements,
        packages,
        travel_min_total,
        travel_km_total if km_known else None,
        busy_min_total,
    )
    return Evaluation(violations=violations, kpis=kpis)


# --- plan-level rules -----------------------------------------------------------------------


def _check_known_ids(snapshot: Snapshot, plan: Plan) -> Iterator[Violation]:
    packages = {p.id for p in snapshot.all_packages()}
    providers = {p.id for p in snapshot.providers}
    for placement in plan.placements:
        if placement.package_id not in packages:
            yield Violation(
                rule="unknown_package",
                package_id=placement.package_id,
                message=f"Plan places package {placement.package_id}, "
                "which is not in the snapshot.",
            )
        elif placement.provider_id not in providers:
            yield Violation(
                rule="unknown_provider",
                package_id=placement.package_id,
                message=f"Package {placement.package_id} is placed with unknown provider "
                f"{placement.provider_id}.",
            )
    for unplaced in plan.unplaced:
        if unplaced.package_id not in packages:
            yield Violation(
                rule="unknown_package",
                package_id=unplaced.package_id,
                message=f"Plan lists package {unplaced.package_id} as unplaced, but the snapshot "
                "has no such package.",
            )


def _check_every_package_accounted_for(snapshot: Snapshot, plan: Plan) -> Iterator[Violation]:
    placed = {p.package_id for p in plan.placements}
    unplaced = {u.package_id for u in plan.unplaced}
    for package in snapshot.packages:
        if package.id not in placed:
            yield Violation(
                rule="placed_package_dropped",
                package_id=package.id,
                message=f"Package {package.id} had care from {package.provider_id} but the plan "
                "leaves the client without a provider.",
            )
    for referral in snapshot.referrals:
        if referral.id not in placed and referral.id not in unplaced:
            yield Violation(
                rule="referral_missing",
                package_id=referral.id,
                message=f"Referral {referral.id} is neither placed nor listed as unplaced.",
            )


# --- package-level rules --------------------------------------------------------------------


def _check_structure(
    package: Package, placement: Placement, carers: dict[str, Carer]
) -> Iterator[Violation]:
    for problem in assignment_problems(
        "", package, placement.provider_id, placement.assignments, carers
    ):
        yield Violation(
            rule="assignment_structure",
            package_id=package.id,
            message=f"Package {package.id}{problem.path}: {problem.message}.",
        )


def _check_complete(package: Package, placement: Placement) -> Iterator[Violation]:
    covered = {(a.visit_id, a.day) for a in placement.assignments}
    missing = [
        (visit.id, day) for visit, day in package.occurrences() if (visit.id, day) not in covered
    ]
    if missing:
        listed = ", ".join(f"{v} on {d}" for v, d in missing[:6])
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        yield Violation(
            rule="incomplete_package",
            package_id=package.id,
            message=f"Package {package.id} is placed but {len(missing)} visit(s) have no carer: "
            f"{listed}{more}.",
        )


def _check_time_windows(package: Package, placement: Placement) -> Iterator[Violation]:
    visits = {v.id: v for v in package.visits}
    for a in placement.assignments:
        visit = visits.get(a.visit_id)
        if visit is None:
            continue
        if not visit.earliest_start_min <= a.start_min <= visit.latest_start_min:
            yield Violation(
                rule="time_window",
                package_id=package.id,
                day=a.day,
                message=f"Visit {visit.id} of package {package.id} on {DAY_NAMES[a.day]} starts "
                f"at {format_time(a.start_min)}, outside its window "
                f"{format_time(visit.earliest_start_min)}-{format_time(visit.latest_start_min)}.",
            )


def _check_carer_fit(
    package: Package, placement: Placement, carers: dict[str, Carer]
) -> Iterator[Violation]:
    visits = {v.id: v for v in package.visits}
    prefs = package.preferences
    declined = set(prefs.declined_carer_ids)
    for a in placement.assignments:
        visit = visits.get(a.visit_id)
        if visit is None:
            continue
        for carer_id in a.carer_ids:
            carer = carers.get(carer_id)
            if carer is None:
                continue
            lacking = sorted(set(visit.required_skills) - set(carer.skills))
            if lacking:
                yield Violation(
                    rule="skill",
                    package_id=package.id,
                    carer_id=carer_id,
                    day=a.day,
                    message=f"Carer {carer_id} lacks {', '.join(lacking)} needed for visit "
                    f"{visit.id} of package {package.id}.",
                )
            if prefs.carer_gender is not None and carer.gender != prefs.carer_gender:
                yield Violation(
                    rule="gender_preference",
                    package_id=package.id,
                    carer_id=carer_id,
                    day=a.day,
                    message=f"Client of package {package.id} asked for {prefs.carer_gender} "
                    f"carers; carer {carer_id} is {carer.gender}.",
                )
            if carer_id in declined:
                yield Violation(
                    rule="declined_carer",
                    package_id=package.id,
                    carer_id=carer_id,
                    day=a.day,
                    message=f"Client of package {package.id} declined carer {carer_id}.",
                )


def _check_lot(snapshot: Snapshot, package: Package, placement: Placement) -> Iterator[Violation]:
    # Existing placements are kept as they are: the lot rule binds new placements and moves.
    if package.lot_id is None or placement.provider_id == package.provider_id:
        return
    provider = next((p for p in snapshot.providers if p.id == placement.provider_id), None)
    if provider is None or package.lot_id in provider.lot_ids:
        return
    if provider.works_adjacent_lots:
        lots = {lot.id: lot for lot in snapshot.lots}
        adjacent = {
            adj
            for lot_id in provider.lot_ids
            if lot_id in lots
            for adj in lots[lot_id].adjacent_lot_ids
        }
        if package.lot_id in adjacent:
            return
    yield Violation(
        rule="outside_lot",
        package_id=package.id,
        message=f"Provider {provider.id} does not hold lot {package.lot_id} on the framework "
        f"(it holds {', '.join(provider.lot_ids)}), so it cannot take package {package.id}.",
    )


def _check_locks(package: Package, placement: Placement) -> Iterator[Violation]:
    def as_set(assignments: list[Assignment]) -> set[tuple[str, str, tuple[str, ...], int]]:
        return {(a.visit_id, a.day, tuple(sorted(a.carer_ids)), a.start_min) for a in assignments}

    if package.locked and (
        placement.provider_id != package.provider_id
        or as_set(placement.assignments) != as_set(package.assignments)
    ):
        yield Violation(
            rule="locked_package_changed",
            package_id=package.id,
            message=f"Package {package.id} is locked but the plan changes its provider or runs.",
        )
        return
    planned: dict[tuple[str, str], Assignment] = {a.key: a for a in placement.assignments}
    for old in package.assignments:
        if not old.locked:
            continue
        new = planned.get(old.key)
        if (
            new is None
            or sorted(new.carer_ids) != sorted(old.carer_ids)
            or new.start_min != old.start_min
            or placement.provider_id != package.provider_id
        ):
            yield Violation(
                rule="locked_visit_changed",
                package_id=package.id,
                day=old.day,
                message=f"Visit {old.visit_id} of package {package.id} on {DAY_NAMES[old.day]} is "
                "locked but the plan moves it.",
            )


# --- carer-day rules ------------------------------------------------------------------------


def _carer_days(
    placements: list[Placement], packages: dict[str, Package], carers: dict[str, Carer]
) -> dict[tuple[str, str], list[_Stop]]:
    days: dict[tuple[str, str], list[_Stop]] = defaultdict(list)
    for placement in placements:
        package = packages[placement.package_id]
        visits = {v.id: v for v in package.visits}
        for a in placement.assignments:
            visit = visits.get(a.visit_id)
            if visit is None:
                continue
            stop = _Stop(
                start_min=a.start_min,
                end_min=a.start_min + visit.duration_min,
                point=package.location,
                package_id=package.id,
                visit_id=visit.id,
            )
            for carer_id in a.carer_ids:
                if carer_id in carers:
                    days[(carer_id, a.day)].append(stop)
    for stops in days.values():
        stops.sort(key=lambda s: (s.start_min, s.end_min, s.package_id, s.visit_id))
    return days


def _containing_shift(shifts: list[Shift], stop: _Stop) -> Shift | None:
    for shift in shifts:
        if shift.start_min <= stop.start_min and stop.end_min <= shift.end_min:
            return shift
    return None


def _check_carer_day(
    carer: Carer, day: str, stops: list[_Stop], travel: TravelMatrix
) -> tuple[list[Violation], float, float]:
    """Violations in one carer's day, with its travel minutes and km."""
    minutes = travel.minutes[carer.travel_mode]
    km = travel.km.get(carer.travel_mode)
    base = travel.index(carer.base)
    shifts = carer.shifts_on(day)
    name = DAY_NAMES[day]
    violations: list[Violation] = []

    runs: dict[Shift, list[_Stop]] = defaultdict(list)
    for stop in stops:
        shift = _containing_shift(shifts, stop)
        if shift is None:
            violations.append(
                Violation(
                    rule="outside_shift",
                    package_id=stop.package_id,
                    carer_id=carer.id,
                    day=day,
                    message=f"Carer {carer.id} has no shift on {name} covering visit "
                    f"{stop.visit_id} of package {stop.package_id} "
                    f"({format_time(stop.start_min)}-{format_time(stop.end_min)}).",
                )
            )
        else:
            runs[shift].append(stop)

    travel_min = 0.0
    travel_km = 0.0
    for shift, run in runs.items():
        legs = [base, *(travel.index(s.point) for s in run), base]
        leg_min = [float(minutes[a, b]) for a, b in itertools.pairwise(legs)]
        if km is not None:
            travel_km += sum(float(km[a, b]) for a, b in itertools.pairwise(legs))
        if not all(np.isfinite(leg_min)):
            violations.append(
                Violation(
                    rule="unreachable",
                    carer_id=carer.id,
                    day=day,
                    package_id=run[0].package_id,
                    message=f"Carer {carer.id}'s {name} run includes a journey with no road or "
                    f"ferry route ({carer.travel_mode}).",
                )
            )
            continue
        travel_min += sum(leg_min)
        ready = shift.start_min + leg_min[0]
        previous: _Stop | None = None
        for stop, arrive_after in zip(run, leg_min, strict=False):
            earliest = ready if previous is None else previous.end_min + arrive_after
            if stop.start_min + _EPS < earliest:
                where = (
                    "from base after the shift starts"
                    if previous is None
                    else (f"after visit {previous.visit_id} of package {previous.package_id}")
                )
                violations.append(
                    Violation(
                        rule="travel_time",
                        package_id=stop.package_id,
                        carer_id=carer.id,
                        day=day,
                        message=f"Carer {carer.id} cannot reach visit {stop.visit_id} of package "
                        f"{stop.package_id} by {format_time(stop.start_min)} on {name} {where} "
                        f"(earliest {format_time(int(np.ceil(earliest - _EPS)))}).",
                    )
                )
            previous = stop
        back = run[-1].end_min + leg_min[-1]
        if back > shift.end_min + _EPS:
            violations.append(
                Violation(
                    rule="shift_end",
                    carer_id=carer.id,
                    day=day,
                    package_id=run[-1].package_id,
                    message=f"Carer {carer.id} gets back to base at "
                    f"{format_time(int(np.ceil(back - _EPS)))} on {name}, after the shift ends at "
                    f"{format_time(shift.end_min)}.",
                )
            )

    working = travel_min + sum(s.end_min - s.start_min for s in stops)
    if working > carer.max_working_min_per_day + _EPS:
        violations.append(
            Violation(
                rule="max_working_time",
                carer_id=carer.id,
                day=day,
                message=f"Carer {carer.id} works {working:.0f} minutes on {name} (visits plus "
                f"travel), over the {carer.max_working_min_per_day}-minute daily maximum.",
            )
        )
    return violations, travel_min, travel_km


# --- KPIs -----------------------------------------------------------------------------------


def _locality(package: Package) -> str:
    if package.locality:
        return package.locality
    lon, lat = package.location
    return f"cell:{int(np.floor(lat / _CELL_LAT_DEG))}:{int(np.floor(lon / _CELL_LON_DEG))}"


def _kpis(
    snapshot: Snapshot,
    placements: list[Placement],
    packages: dict[str, Package],
    travel_min: float,
    travel_km: float | None,
    busy_min: float,
) -> Kpis:
    placed_ids = {p.package_id for p in placements}
    waiting = [p for p in snapshot.all_packages() if p.id not in placed_ids]
    hours_by_lot: dict[str, float] = defaultdict(float)
    for package in waiting:
        hours_by_lot[package.lot_id or "unknown"] += package.weekly_hours

    contact_min = 0.0
    carers_per_client: list[int] = []
    providers_by_locality: dict[str, set[str]] = defaultdict(set)
    for placement in placements:
        package = packages[placement.package_id]
        durations = {v.id: v.duration_min for v in package.visits}
        contact_min += sum(
            durations.get(a.visit_id, 0) * len(a.carer_ids) for a in placement.assignments
        )
        distinct = {c for a in placement.assignments for c in a.carer_ids}
        if distinct:
            carers_per_client.append(len(distinct))
        providers_by_locality[_locality(package)].add(placement.provider_id)

    shift_min = sum(s.length_min for c in snapshot.carers for s in c.shifts)
    per_locality = [len(v) for v in providers_by_locality.values()]
    contact_hours = contact_min / 60
    return Kpis(
        packages_placed=len(placements),
        packages_unplaced=len(waiting),
        hours_placed_per_week=round(sum(packages[p].weekly_hours for p in placed_ids), 3),
        hours_waiting_per_week=round(sum(p.weekly_hours for p in waiting), 3),
        hours_waiting_by_lot={k: round(v, 3) for k, v in sorted(hours_by_lot.items())},
        contact_hours_per_week=round(contact_hours, 3),
        travel_min_per_week=round(travel_min, 2),
        travel_km_per_week=None if travel_km is None else round(travel_km, 2),
        travel_min_per_contact_hour=(
            round(travel_min / contact_hours, 3) if contact_hours > 0 else None
        ),
        distinct_providers_per_locality_mean=(
            round(float(np.mean(per_locality)), 3) if per_locality else None
        ),
        distinct_providers_per_locality_max=max(per_locality) if per_locality else None,
        distinct_carers_per_client_mean=(
            round(float(np.mean(carers_per_client)), 3) if carers_per_client else None
        ),
        distinct_carers_per_client_max=max(carers_per_client) if carers_per_client else None,
        carer_utilisation=round(busy_min / shift_min, 4) if shift_min > 0 else None,
    )
