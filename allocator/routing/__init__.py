"""A vehicle-routing core on OR-Tools: carers' runs with time windows, shifts, working-time caps,
allowed carers, continuity costs and synchronised (double-handed) visits.

:mod:`allocator.routing.problem` states a problem in plain arrays (no care vocabulary), so the
same core solves the nightly re-optimisation's pieces and the classic benchmark suites;
:mod:`allocator.routing.solver` solves it.
"""

from allocator.routing.problem import RoutingProblem, Sync
from allocator.routing.solver import RoutingParams, RoutingSolution, solve

__all__ = ["RoutingParams", "RoutingProblem", "RoutingSolution", "Sync", "solve"]
