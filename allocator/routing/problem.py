"""A routing problem in plain arrays.

Everything is integer: times in the problem's time unit (minutes for care, hundredths for the
benchmark suites), costs in the objective's unit. Visits are numbered ``0..n_visits-1``,
vehicles ``0..n_vehicles-1``; places are rows of the ``time`` and ``cost`` matrices, one pair
of matrices per travel profile (drive, walk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Sync:
    """Visit ``second`` starts between ``min_delay`` and ``max_delay`` after visit ``first``.

    ``min_delay == max_delay == 0`` is a double-handed visit: two carers arrive together.
    ``different_vehicles`` makes two different vehicles serve them.
    """

    first: int
    second: int
    min_delay: int = 0
    max_delay: int = 0
    different_vehicles: bool = True


@dataclass(frozen=True)
class RoutingProblem:
    """Vehicles leave a start place no earlier than ``vehicle_earliest`` and are back at their
    end place by ``vehicle_latest``; each visit starts within ``[visit_earliest,
    visit_latest]`` and lasts ``visit_service``.

    Optional parts (``None`` or empty means "no such rule"):

    - ``visit_demand`` with ``vehicle_capacity``: a load limit (the classic suites' demand).
    - ``vehicle_max_work``: most travel plus service per vehicle; ``work_groups`` caps the sum
      over several vehicles (one carer's split shifts). Work is counted with ``time`` and
      ``visit_service`` unless ``work_time`` and ``work_service`` give it in finer units
      (caps in the same units), so rounding travel up does not eat a carer's working time.
    - ``visit_due`` with ``tardiness_cost``: starting after the due time is allowed and costs
      that much per unit late.
    - ``visit_allowed``: the vehicles that may serve each visit.
    - ``visit_drop_penalty``: visits that may be left out, at that cost (``-1`` = mandatory).
    - ``visit_preferred`` with ``visit_change_penalty``: serving a visit with a vehicle outside
      its preferred set costs that much (continuity of carers).
    - ``visit_target`` with ``target_cost``: each unit the start moves from the target costs
      that much (clients keep their usual times).
    - ``syncs``: synchronised pairs of visits.
    - ``initial_routes``: a solution to start from (each vehicle's visits in order).
    """

    time: Sequence[IntArray]
    visit_location: IntArray
    visit_service: IntArray
    visit_earliest: IntArray
    visit_latest: IntArray
    vehicle_start_location: IntArray
    vehicle_end_location: IntArray
    vehicle_earliest: IntArray
    vehicle_latest: IntArray
    cost: Sequence[IntArray] | None = None
    vehicle_profile: IntArray | None = None
    vehicle_fixed_cost: int = 0
    visit_demand: IntArray | None = None
    vehicle_capacity: IntArray | None = None
    vehicle_max_work: IntArray | None = None
    work_time: Sequence[IntArray] | None = None
    work_service: IntArray | None = None
    work_groups: Sequence[tuple[Sequence[int], int]] = ()
    visit_due: IntArray | None = None
    tardiness_cost: int = 0
    visit_allowed: Sequence[Sequence[int] | None] | None = None
    visit_drop_penalty: IntArray | None = None
    visit_preferred: Sequence[frozenset[int]] | None = None
    visit_change_penalty: IntArray | None = None
    visit_target: IntArray | None = None
    target_cost: int = 0
    syncs: Sequence[Sync] = ()
    initial_routes: Sequence[Sequence[int]] | None = None
    names: Sequence[str] = field(default=())

    @property
    def n_visits(self) -> int:
        return len(self.visit_location)

    @property
    def n_vehicles(self) -> int:
        return len(self.vehicle_start_location)

    def profile_of(self, vehicle: int) -> int:
        return 0 if self.vehicle_profile is None else int(self.vehicle_profile[vehicle])

    def check(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent array."""
        n, v = self.n_visits, self.n_vehicles
        for name in ("visit_service", "visit_earliest", "visit_latest"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected {n}")
        for name in ("vehicle_end_location", "vehicle_earliest", "vehicle_latest"):
            if len(getattr(self, name)) != v:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected {v}")
        places = {m.shape for m in self.time}
        if len(places) != 1 or next(iter(places))[0] != next(iter(places))[1]:
            raise ValueError("time matrices must be square and all the same size")
        if np.any(self.visit_latest < self.visit_earliest):
            raise ValueError("a visit's latest start is before its earliest")
        for s in self.syncs:
            if not (0 <= s.first < n and 0 <= s.second < n) or s.min_delay > s.max_delay:
                raise ValueError(f"bad sync {s}")
        if self.initial_routes is not None and len(self.initial_routes) != v:
            raise ValueError(f"initial_routes has {len(self.initial_routes)} routes, expected {v}")
