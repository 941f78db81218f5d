"""Carers' runs compiled for fast insertion tests: the view offers and placement work on.

Existing visits keep their carers and start times; a new visit can only go into a *gap* of a
run: between the base and the first visit, between two visits, or between the last visit and
the return to base, inside one shift. :class:`RunsView` holds every carer's day as fixed stops
and, per provider and day, a table of all gaps as numpy arrays, so one visit occurrence is
tested against every gap of a provider in a few vectorised operations.

Times are whole minutes after midnight. Travel minutes are rounded the safe way: a start is the
earliest whole minute at or after arrival, and a gap's latest start leaves the full travel
time to the next stop.

The view is copy-on-write: :meth:`RunsView.copy` is cheap, and placing visits in a copy
leaves the original (for example the API's cached view) untouched.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allocator.model import DAYS, Carer, Package, Snapshot
from allocator.travel import TravelMatrix

_EPS = 1e-6
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Stop:
    """A visit occurrence in a run: fixed start and end minutes at a travel-matrix point."""

    start_min: int
    end_min: int
    point: int
    package_id: str
    visit_id: str


@dataclass
class CarerDay:
    """One carer's day: a run per shift, and the minutes worked (visits plus travel)."""

    shifts: list[tuple[int, int]]
    runs: list[list[Stop]]
    orphans: list[Stop] = field(default_factory=list)
    """Stops outside every shift (input the evaluator would flag); they still block time."""
    work_min: float = 0.0

    def copy(self) -> CarerDay:
        """An independent copy."""
        return CarerDay(
            shifts=list(self.shifts),
            runs=[list(run) for run in self.runs],
            orphans=list(self.orphans),
            work_min=self.work_min,
        )


@dataclass(frozen=True)
class Gaps:
    """Every gap of one provider's carers on one day, as parallel arrays."""

    carer: IntArray
    shift: IntArray
    position: IntArray
    """Index in the run where a stop inserted in this gap goes."""
    prev_point: IntArray
    next_point: IntArray
    prev_min: IntArray
    """End of the previous stop, or the shift start."""
    next_min: IntArray
    """Start of the next stop, or the shift end."""
    direct_min: FloatArray
    """Travel from the previous point straight to the next: what an insertion replaces (zero
    for an empty run, base to base)."""
    direct_km: FloatArray
    walks: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.carer)


@dataclass(frozen=True)
class Insertion:
    """Where one visit occurrence can go: a gap, its start window and what it adds."""

    carer: int
    shift: int
    position: int
    earliest_min: int
    latest_min: int
    added_travel_min: float
    added_km: float


def _require_travel(snapshot: Snapshot, travel: TravelMatrix) -> None:
    """Raise :class:`~allocator.travel.TravelError` unless ``travel`` covers every place of
    ``snapshot`` for its carers' modes (and driving)."""
    modes = sorted({c.travel_mode for c in snapshot.carers} | {"drive"})
    travel.require(snapshot.points(), modes)


class RunsView:
    """A snapshot's carers and runs, compiled for insertion.

    Parameters
    ----------
    snapshot
        Its placed packages' assignments are the existing runs.
    travel
        Minutes (and km) covering every carer base and package location.
    """

    def __init__(self, snapshot: Snapshot, travel: TravelMatrix) -> None:
        _require_travel(snapshot, travel)
        self.snapshot = snapshot
        self.travel = travel
        self.carers: list[Carer] = list(snapshot.carers)
        self.carer_index = {c.id: i for i, c in enumerate(self.carers)}
        self.base_point = np.array([travel.index(c.base) for c in self.carers], dtype=np.int64)
        self.walks = np.array([c.travel_mode == "walk" for c in self.carers], dtype=bool)
        self.max_work = np.array([c.max_working_min_per_day for c in self.carers], dtype=float)
        self.provider_carers: dict[str, list[int]] = {p.id: [] for p in snapshot.providers}
        for i, carer in enumerate(self.carers):
            self.provider_carers.setdefault(carer.provider_id, []).append(i)
        self.drive_min = travel.minutes["drive"]
        self.walk_min = travel.minutes.get("walk", self.drive_min)
        self.drive_km = travel.km.get("drive")
        self.walk_km = travel.km.get("walk", self.drive_km)
        self.has_km = self.drive_km is not None
        self._days: dict[tuple[int, str], CarerDay] = {}
        self._owned: set[tuple[int, str]] = set()
        self._gaps: dict[tuple[str, str], Gaps] = {}
        self._rows: dict[tuple[int, str], IntArray] = {}
        self._build(snapshot)

    # --- construction -----------------------------------------------------------------------

    def _build(self, snapshot: Snapshot) -> None:
        for i, carer in enumerate(self.carers):
            for day in DAYS:
                shifts = [(s.start_min, s.end_min) for s in carer.shifts_on(day)]
                self._days[(i, day)] = CarerDay(shifts=shifts, runs=[[] for _ in shifts])
                self._owned.add((i, day))
        for package in snapshot.packages:
            for position, day, stop in self._stops(package):
                self._place_stop(self._days[(position, day)], stop)
        for (position, _), carer_day in self._days.items():
            for run in carer_day.runs:
                run.sort(key=lambda s: s.start_min)
            carer_day.work_min = self._work(position, carer_day)
        # Offers work on copies; computing every gap table here lets all copies share them.
        for provider_id in self.provider_carers:
            for day in DAYS:
                self.gaps(provider_id, day)

    def _stops(self, package: Package) -> Iterator[tuple[int, str, Stop]]:
        """(carer index, day, stop) of every carer-visit of a placed package's runs."""
        point = self.travel.index(package.location)
        visits = {v.id: v for v in package.visits}
        for a in package.assignments:
            visit = visits[a.visit_id]
            stop = Stop(a.start_min, a.start_min + visit.duration_min, point, package.id, visit.id)
            for carer_id in a.carer_ids:
                position = self.carer_index.get(carer_id)
                if position is not None:
                    yield position, a.day, stop

    def with_packages_changed(
        self, snapshot: Snapshot, removed: Iterable[Package], added: Iterable[Package]
    ) -> RunsView:
        """A view of ``snapshot``, built from this one in the time of the change, not of the
        whole council: ``snapshot`` must differ from this view's only in its placed packages
        and waiting referrals, with ``removed`` (as this view has them) leaving the runs and
        ``added`` (as ``snapshot`` has them) joining them. This view is not changed.

        Raises :class:`~allocator.travel.TravelError` when ``snapshot`` has a place the
        travel matrix does not cover (build a new view then).
        """
        _require_travel(snapshot, self.travel)
        other = self.copy()
        other.snapshot = snapshot
        touched: set[tuple[int, str]] = set()
        for package in removed:
            for position, day, stop in self._stops(package):
                carer_day = other._writable(position, day)
                for bucket in (*carer_day.runs, carer_day.orphans):
                    if stop in bucket:
                        bucket.remove(stop)
                        break
                touched.add((position, day))
        for package in added:
            for position, day, stop in other._stops(package):
                other._place_stop(other._writable(position, day), stop)
                touched.add((position, day))
        for position, day in touched:
            carer_day = other._days[(position, day)]
            for run in carer_day.runs:
                run.sort(key=lambda s: s.start_min)
            carer_day.work_min = other._work(position, carer_day)
        # As in a new view, the changed gap tables are computed once for every copy to share.
        for provider_id, day in {(other.carers[c].provider_id, d) for c, d in touched}:
            other.gaps(provider_id, day)
        return other

    @staticmethod
    def _place_stop(day: CarerDay, stop: Stop) -> None:
        for k, (start, end) in enumerate(day.shifts):
            if start <= stop.start_min and stop.end_min <= end:
                day.runs[k].append(stop)
                return
        day.orphans.append(stop)

    def _work(self, carer: int, day: CarerDay) -> float:
        total = float(sum(s.end_min - s.start_min for run in day.runs for s in run))
        base = int(self.base_point[carer])
        for run in day.runs:
            if run:
                points = [base, *(s.point for s in run), base]
                total += sum(self.minutes(carer, a, b) for a, b in itertools.pairwise(points))
        return float(total)

    def travel_min(self, carer: int, day: str) -> float:
        """Minutes the carer spends travelling that day (base legs included)."""
        carer_day = self._days[(carer, day)]
        visits = sum(s.end_min - s.start_min for run in carer_day.runs for s in run)
        return carer_day.work_min - visits

    # --- travel -----------------------------------------------------------------------------

    def minutes(self, carer: int, a: int, b: int) -> float:
        """Travel minutes for ``carer`` (by its mode) between two matrix points."""
        matrix = self.walk_min if self.walks[carer] else self.drive_min
        return float(matrix[a, b])

    def km(self, carer: int, a: int, b: int) -> float:
        """Road km for ``carer`` between two points (0 when the matrix has none)."""
        matrix = self.walk_km if self.walks[carer] else self.drive_km
        return 0.0 if matrix is None else float(matrix[a, b])

    def point_of(self, package: Package) -> int:
        """Travel-matrix row of a package's location."""
        return self.travel.index(package.location)

    # --- copy-on-write ----------------------------------------------------------------------

    def copy(self) -> RunsView:
        """A view that can be changed without changing this one."""
        other = object.__new__(RunsView)
        other.__dict__.update(self.__dict__)
        other._days = dict(self._days)
        other._owned = set()
        other._gaps = dict(self._gaps)
        other._rows = dict(self._rows)
        return other

    def day(self, carer: int, day: str) -> CarerDay:
        """The carer's day (read-only use)."""
        return self._days[(carer, day)]

    def _writable(self, carer: int, day: str) -> CarerDay:
        key = (carer, day)
        if key not in self._owned:
            self._days[key] = self._days[key].copy()
            self._owned.add(key)
        self._gaps.pop((self.carers[carer].provider_id, day), None)
        self._rows.pop(key, None)
        return self._days[key]

    # --- gaps -------------------------------------------------------------------------------

    def gaps(self, provider_id: str, day: str) -> Gaps:
        """All gaps of a provider's carers on ``day`` (cached until one of those days changes)."""
        key = (provider_id, day)
        cached = self._gaps.get(key)
        if cached is None:
            cached = self._compute_gaps(self.provider_carers.get(provider_id, []), day)
            self._gaps[key] = cached
        return cached

    def _carer_rows(self, carer: int, day: str) -> IntArray:
        """Gap rows of one carer's day: (carer, shift, position, prev point, next point,
        prev minute, next minute); cached until that day changes."""
        key = (carer, day)
        rows = self._rows.get(key)
        if rows is None:
            carer_day = self._days[key]
            base = int(self.base_point[carer])
            found: list[tuple[int, int, int, int, int, int, int]] = []
            for k, ((start, end), run) in enumerate(
                zip(carer_day.shifts, carer_day.runs, strict=True)
            ):
                prev_point, prev_min = base, start
                for position, stop in enumerate(run):
                    found.append(
                        (carer, k, position, prev_point, stop.point, prev_min, stop.start_min)
                    )
                    prev_point, prev_min = stop.point, stop.end_min
                found.append((carer, k, len(run), prev_point, base, prev_min, end))
            rows = np.array(found, dtype=np.int64).reshape(-1, 7)
            self._rows[key] = rows
        return rows

    def _compute_gaps(self, carers: Iterable[int], day: str) -> Gaps:
        parts = [self._carer_rows(carer, day) for carer in carers]
        table = np.concatenate(parts) if parts else np.zeros((0, 7), dtype=np.int64)
        gap_carer, gap_prev, gap_next = table[:, 0], table[:, 3], table[:, 4]
        walks = self.walks[gap_carer]
        direct = np.where(
            walks, self.walk_min[gap_prev, gap_next], self.drive_min[gap_prev, gap_next]
        )
        if self.has_km:
            assert self.drive_km is not None and self.walk_km is not None
            direct_km = np.where(
                walks, self.walk_km[gap_prev, gap_next], self.drive_km[gap_prev, gap_next]
            )
        else:
            direct_km = np.zeros(len(table))
        return Gaps(
            carer=gap_carer,
            shift=table[:, 1],
            position=table[:, 2],
            prev_point=gap_prev,
            next_point=gap_next,
            prev_min=table[:, 5],
            next_min=table[:, 6],
            direct_min=np.asarray(direct, dtype=float),
            direct_km=np.asarray(direct_km, dtype=float),
            walks=walks,
        )

    def insertions(
        self,
        gaps: Gaps,
        mask: npt.NDArray[np.bool_],
        point: int,
        earliest_min: int,
        latest_min: int,
        duration_min: int,
    ) -> list[Insertion]:
        """Every gap (where ``mask``) a visit can go into, with its start window and cost.

        A gap fits when the carer can arrive, do the visit and reach the next stop (or base)
        in time, and the day's visit plus travel minutes stay within the carer's maximum.
        """
        index = np.flatnonzero(mask)
        if not len(index):
            return []
        carer = gaps.carer[index]
        prev_point, next_point = gaps.prev_point[index], gaps.next_point[index]
        walks = gaps.walks[index]
        t_in = np.where(walks, self.walk_min[prev_point, point], self.drive_min[prev_point, point])
        t_out = np.where(walks, self.walk_min[point, next_point], self.drive_min[point, next_point])
        with np.errstate(invalid="ignore"):
            first = np.maximum(earliest_min, np.ceil(gaps.prev_min[index] + t_in - _EPS))
            last = np.minimum(
                latest_min, np.floor(gaps.next_min[index] - duration_min - t_out + _EPS)
            )
            added = t_in + t_out - gaps.direct_min[index]
            fits = np.isfinite(t_in) & np.isfinite(t_out) & (first <= last)
        if not fits.any():
            return []
        result = []
        km_in = km_out = None
        if self.has_km:
            assert self.drive_km is not None and self.walk_km is not None
            km_in = np.where(
                walks, self.walk_km[prev_point, point], self.drive_km[prev_point, point]
            )
            km_out = np.where(
                walks, self.walk_km[point, next_point], self.drive_km[point, next_point]
            )
        for j in np.flatnonzero(fits):
            g = int(index[j])
            result.append(
                Insertion(
                    carer=int(carer[j]),
                    shift=int(gaps.shift[g]),
                    position=int(gaps.position[g]),
                    earliest_min=int(first[j]),
                    latest_min=int(last[j]),
                    added_travel_min=float(added[j]),
                    added_km=(
                        float(km_in[j] + km_out[j] - gaps.direct_km[g])
                        if km_in is not None and km_out is not None
                        else 0.0
                    ),
                )
            )
        return result

    def within_work_limit(self, insertion: Insertion, day: str, duration_min: int) -> bool:
        """Whether the carer's day stays within its maximum working minutes after it."""
        carer_day = self._days[(insertion.carer, day)]
        work = carer_day.work_min + duration_min + insertion.added_travel_min
        return work <= self.max_work[insertion.carer] + _EPS

    def overlaps_orphans(self, carer: int, day: str, start_min: int, end_min: int) -> bool:
        """Whether an interval clashes with a stop that lies outside every shift."""
        return any(
            s.start_min < end_min and start_min < s.end_min
            for s in self._days[(carer, day)].orphans
        )

    # --- changes ----------------------------------------------------------------------------

    def insert(self, carer: int, day: str, stop: Stop) -> None:
        """Add a stop to a carer's run (the caller has checked that it fits)."""
        carer_day = self._writable(carer, day)
        for k, (start, end) in enumerate(carer_day.shifts):
            if start <= stop.start_min and stop.end_min <= end:
                run = carer_day.runs[k]
                position = next(
                    (i for i, s in enumerate(run) if s.start_min > stop.start_min), len(run)
                )
                run.insert(position, stop)
                carer_day.work_min = self._work(carer, carer_day)
                self._carer_rows(carer, day)
                return
        msg = f"stop at {stop.start_min} lies outside every shift of carer {self.carers[carer].id}"
        raise ValueError(msg)

    def remove(self, carer: int, day: str, stop: Stop) -> None:
        """Take a stop out of a carer's run (a :class:`KeyError` when it is not there)."""
        carer_day = self._writable(carer, day)
        for run in carer_day.runs:
            if stop in run:
                run.remove(stop)
                carer_day.work_min = self._work(carer, carer_day)
                self._carer_rows(carer, day)
                return
        msg = f"carer {self.carers[carer].id} has no stop {stop} on {day}"
        raise KeyError(msg)

    def run_fits(self, carer: int, day: str, extra: Sequence[Stop]) -> bool:
        """Whether ``extra`` stops can all join the carer's day at their fixed start times.

        This is the exact check behind joint placement: sequence, travel, shifts, working
        minutes, orphan clashes.
        """
        carer_day = self._days[(carer, day)]
        runs = [list(run) for run in carer_day.runs]
        for stop in extra:
            if self.overlaps_orphans(carer, day, stop.start_min, stop.end_min):
                return False
            for k, (start, end) in enumerate(carer_day.shifts):
                if start <= stop.start_min and stop.end_min <= end:
                    runs[k].append(stop)
                    break
            else:
                return False
        base = int(self.base_point[carer])
        work = 0.0
        for (start, end), run in zip(carer_day.shifts, runs, strict=True):
            if not run:
                continue
            run.sort(key=lambda s: s.start_min)
            at_min, at_point = float(start), base
            for stop in run:
                arrive = at_min + self.minutes(carer, at_point, stop.point)
                if stop.start_min + _EPS < arrive:
                    return False
                work += self.minutes(carer, at_point, stop.point) + stop.end_min - stop.start_min
                at_min, at_point = float(stop.end_min), stop.point
            back = self.minutes(carer, at_point, base)
            if not math.isfinite(back) or at_min + back > end + _EPS:
                return False
            work += back
        return work <= self.max_work[carer] + _EPS
