"""Solve a :class:`~allocator.routing.problem.RoutingProblem` with OR-Tools' routing library.

Nodes are the visits, then each vehicle's start, then each vehicle's end. Travel is a
node-indexed transit matrix per travel profile (registered once, evaluated in C++). The time
dimension carries waiting as slack; a second, slack-free dimension counts travel plus service
for working-time caps. Continuity is a per-vehicle arc cost: arriving at a visit with a vehicle
outside its preferred set adds the visit's change penalty, so vehicles with the same
preferences share one cost matrix. Synchronised visits are constraints on the time and vehicle
variables, which the local search respects through its constraint checks.

Search: a warm start from ``initial_routes`` when it is feasible (otherwise parallel cheapest
insertion), then guided local search until the time or solution limit. With a
``solution_limit`` and no time pressure, runs are deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from allocator.routing.problem import IntArray, RoutingProblem

_FIRST = routing_enums_pb2.FirstSolutionStrategy
FIRST_SOLUTIONS = {
    "parallel_cheapest_insertion": _FIRST.PARALLEL_CHEAPEST_INSERTION,
    "path_cheapest_arc": _FIRST.PATH_CHEAPEST_ARC,
    "savings": _FIRST.SAVINGS,
    "christofides": _FIRST.CHRISTOFIDES,
    "local_cheapest_insertion": _FIRST.LOCAL_CHEAPEST_INSERTION,
}
METAHEURISTICS = {
    "guided_local_search": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "simulated_annealing": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu_search": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
    "greedy_descent": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
}


@dataclass(frozen=True)
class RoutingParams:
    """How long to search. ``solution_limit`` (solutions found) makes runs repeatable."""

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    first_solution: str = "parallel_cheapest_insertion"
    portfolio: tuple[str, ...] = ()
    """Other first-solution strategies to try when there is no warm start: the time is split
    evenly between ``first_solution`` and these, and the best result kept (local search from
    one start tends to stay in its basin)."""
    metaheuristic: str = "guided_local_search"
    on_solution: Callable[[int], None] | None = None


@dataclass(frozen=True)
class RoutingSolution:
    """Each vehicle's visits in order with their start times; ``None`` when nothing was found."""

    routes: list[list[int]]
    starts: dict[int, int]
    vehicle_departure: list[int]
    objective: int
    status: str
    wall_time_s: float
    warm_started: bool


def _node_matrix(place: IntArray, matrix: IntArray) -> IntArray:
    return np.asarray(matrix[np.ix_(place, place)], dtype=np.int64)


def solve(problem: RoutingProblem, params: RoutingParams | None = None) -> RoutingSolution | None:
    """Best solution found within the limits, or ``None`` when none was found."""
    params = params or RoutingParams()
    problem.check()
    if params.portfolio and problem.initial_routes is None and not problem.syncs:
        starts = (params.first_solution, *params.portfolio)
        share = params.time_limit_s / len(starts)
        found = [
            _solve_once(problem, replace(params, first_solution=s, time_limit_s=share))
            for s in starts
        ]
        solved = [f for f in found if f is not None]
        return min(solved, key=lambda f: f.objective) if solved else None
    return _solve_once(problem, params)


def _solve_once(problem: RoutingProblem, params: RoutingParams) -> RoutingSolution | None:
    started = time.monotonic()
    n, v = problem.n_visits, problem.n_vehicles
    starts = list(range(n, n + v))
    ends = list(range(n + v, n + 2 * v))
    place = np.concatenate(
        [problem.visit_location, problem.vehicle_start_location, problem.vehicle_end_location]
    ).astype(np.int64)
    service = np.concatenate([problem.visit_service, np.zeros(2 * v, dtype=np.int64)])

    manager = pywrapcp.RoutingIndexManager(n + 2 * v, v, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    # Transit (travel + service at the node left) and arc costs, one matrix each per profile.
    profiles = sorted({problem.profile_of(k) for k in range(v)})
    transit: dict[int, int] = {}
    for profile in profiles:
        travel = _node_matrix(place, problem.time[profile])
        transit[profile] = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
        costs = problem.cost if problem.cost is not None else problem.time
        arc_cost = routing.RegisterTransitMatrix(_node_matrix(place, costs[profile]).tolist())
        for k in range(v):
            if problem.profile_of(k) == profile:
                routing.SetArcCostEvaluatorOfVehicle(arc_cost, k)

    # Continuity: a visit served by a vehicle outside its preferred set costs its penalty. The
    # cost depends on the visit and the vehicle only, so it is a per-vehicle unary "dimension"
    # whose span is charged to the objective: O(visits) per vehicle, where per-vehicle arc
    # cost matrices would be O(places^2) each.
    penalised = _penalty_columns(problem)
    if penalised:
        assert problem.visit_preferred is not None and problem.visit_change_penalty is not None
        unary: dict[frozenset[int], int] = {}
        evaluators = []
        for k in range(v):
            outside = frozenset(i for i in penalised if k not in problem.visit_preferred[i])
            if outside not in unary:
                vector = [0] * (n + 2 * v)
                for i in outside:
                    vector[i] = int(problem.visit_change_penalty[i])
                unary[outside] = routing.RegisterUnaryTransitVector(vector)
            evaluators.append(unary[outside])
        most = int(sum(int(problem.visit_change_penalty[i]) for i in penalised)) + 1
        routing.AddDimensionWithVehicleTransits(evaluators, 0, most, True, "carer_change")
        routing.GetDimensionOrDie("carer_change").SetSpanCostCoefficientForAllVehicles(1)

    if problem.vehicle_fixed_cost:
        routing.SetFixedCostOfAllVehicles(int(problem.vehicle_fixed_cost))

    horizon = int(max(problem.vehicle_latest.max(initial=0), problem.visit_latest.max(initial=0)))
    horizon += int(problem.visit_service.max(initial=0)) + 1
    vehicle_transits = [transit[problem.profile_of(k)] for k in range(v)]
    routing.AddDimensionWithVehicleTransits(vehicle_transits, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for i in range(n):
        index = manager.NodeToIndex(i)
        clock.CumulVar(index).SetRange(int(problem.visit_earliest[i]), int(problem.visit_latest[i]))
        if problem.visit_due is not None and problem.tardiness_cost:
            clock.SetCumulVarSoftUpperBound(
                index, int(problem.visit_due[i]), int(problem.tardiness_cost)
            )
        if (
            problem.visit_target is not None
            and problem.target_cost
            and problem.visit_target[i] >= 0
        ):
            target = int(problem.visit_target[i])
            clock.SetCumulVarSoftUpperBound(index, target, int(problem.target_cost))
            clock.SetCumulVarSoftLowerBound(index, target, int(problem.target_cost))
    for k in range(v):
        window = (int(problem.vehicle_earliest[k]), int(problem.vehicle_latest[k]))
        clock.CumulVar(routing.Start(k)).SetRange(*window)
        clock.CumulVar(routing.End(k)).SetRange(*window)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(k)))
        routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(k)))

    if problem.vehicle_max_work is not None or problem.work_groups:
        caps = (
            problem.vehicle_max_work
            if problem.vehicle_max_work is not None
            else np.full(v, horizon, dtype=np.int64)
        )
        work_transits = vehicle_transits
        if problem.work_time is not None:
            work_service = np.concatenate(
                [
                    problem.work_service
                    if problem.work_service is not None
                    else problem.visit_service,
                    np.zeros(2 * v, dtype=np.int64),
                ]
            )
            by_profile = {
                profile: routing.RegisterTransitMatrix(
                    (
                        _node_matrix(place, problem.work_time[profile]) + work_service[:, None]
                    ).tolist()
                )
                for profile in profiles
            }
            work_transits = [by_profile[problem.profile_of(k)] for k in range(v)]
        routing.AddDimensionWithVehicleTransitAndCapacity(
            work_transits, 0, [int(c) for c in caps], True, "work"
        )
        work = routing.GetDimensionOrDie("work")
        for group, cap in problem.work_groups:
            solver.Add(solver.Sum([work.CumulVar(routing.End(k)) for k in group]) <= int(cap))

    if problem.visit_demand is not None and problem.vehicle_capacity is not None:
        demand = np.concatenate([problem.visit_demand, np.zeros(2 * v, dtype=np.int64)]).tolist()
        load = routing.RegisterUnaryTransitVector([int(d) for d in demand])
        routing.AddDimensionWithVehicleCapacity(
            load, 0, [int(c) for c in problem.vehicle_capacity], True, "load"
        )

    if problem.visit_allowed is not None:
        # (SetAllowedVehiclesForIndex's Python binding rejects every list in OR-Tools 9.15;
        # restricting the vehicle variable's domain is equivalent and the filters see it.)
        for i, allowed in enumerate(problem.visit_allowed):
            if allowed is not None:
                domain = sorted({-1, *(int(k) for k in allowed)})
                routing.VehicleVar(manager.NodeToIndex(i)).SetValues(domain)
    if problem.visit_drop_penalty is not None:
        for i, penalty in enumerate(problem.visit_drop_penalty):
            if penalty >= 0:
                routing.AddDisjunction([manager.NodeToIndex(i)], int(penalty))

    for sync in problem.syncs:
        a, b = manager.NodeToIndex(sync.first), manager.NodeToIndex(sync.second)
        delay = clock.CumulVar(b) - clock.CumulVar(a)
        solver.Add(routing.ActiveVar(a) == routing.ActiveVar(b))
        solver.Add(delay >= sync.min_delay)
        solver.Add(delay <= sync.max_delay)
        if sync.different_vehicles:
            differ = solver.IsDifferentVar(routing.VehicleVar(a), routing.VehicleVar(b))
            solver.Add(differ >= routing.ActiveVar(a))
        # Both ends of a pair are kept on the time variables the local search checks.
        routing.AddToAssignment(clock.CumulVar(a))
        routing.AddToAssignment(clock.CumulVar(b))

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = FIRST_SOLUTIONS[params.first_solution]
    search.local_search_metaheuristic = METAHEURISTICS[params.metaheuristic]
    search.time_limit.FromMilliseconds(max(1, int(params.time_limit_s * 1000)))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    if params.on_solution is not None:
        report = params.on_solution
        routing.AddAtSolutionCallback(lambda: report(int(routing.CostVar().Max())))

    warm = None
    initial = problem.initial_routes
    if initial is None and problem.syncs:
        # Insertion heuristics do not see synchronisation, so start from a schedule built here.
        initial = construct_routes(problem)
    if initial is not None:
        routing.CloseModelWithParameters(search)
        warm = routing.ReadAssignmentFromRoutes([list(r) for r in initial], True)
    if warm is not None:
        assignment = routing.SolveFromAssignmentWithParameters(warm, search)
    else:
        assignment = routing.SolveWithParameters(search)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if assignment is None:
        return None

    routes: list[list[int]] = []
    start_times: dict[int, int] = {}
    departures: list[int] = []
    for k in range(v):
        index = routing.Start(k)
        departures.append(int(assignment.Value(clock.CumulVar(index))))
        route = []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            route.append(node)
            start_times[node] = int(assignment.Value(clock.CumulVar(index)))
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    return RoutingSolution(
        routes=routes,
        starts=start_times,
        vehicle_departure=departures,
        objective=int(assignment.ObjectiveValue()),
        status=status,
        wall_time_s=time.monotonic() - started,
        warm_started=warm is not None,
    )


def construct_routes(problem: RoutingProblem) -> list[list[int]] | None:
    """A feasible start for problems with synchronised visits, or ``None``.

    Visits in order of earliest start are appended to the vehicle (or, for a synchronised
    pair, the pair of vehicles) where they would add least travel plus lateness, keeping each
    pair's delay within its bounds. Working-time caps are not considered (the solver checks
    the result and starts from scratch when it does not fit).
    """
    n, v = problem.n_visits, problem.n_vehicles
    clock = [int(t) for t in problem.vehicle_earliest]
    here = [int(p) for p in problem.vehicle_start_location]
    routes: list[list[int]] = [[] for _ in range(v)]
    partner = {s.first: s for s in problem.syncs}
    seconds = {s.second for s in problem.syncs}
    due = problem.visit_due if problem.visit_due is not None else problem.visit_latest
    allowed = [
        list(range(v))
        if problem.visit_allowed is None or problem.visit_allowed[i] is None
        else list(problem.visit_allowed[i])  # type: ignore[arg-type]
        for i in range(n)
    ]

    def arrive(k: int, i: int, ready: int, at: int) -> tuple[int, int]:
        leg = int(problem.time[problem.profile_of(k)][at, problem.visit_location[i]])
        return max(ready + leg, int(problem.visit_earliest[i])), leg

    def fits(k: int, i: int, start: int) -> bool:
        back = int(
            problem.time[problem.profile_of(k)][
                problem.visit_location[i], problem.vehicle_end_location[k]
            ]
        )
        return (
            start <= problem.visit_latest[i]
            and start + problem.visit_service[i] + back <= problem.vehicle_latest[k]
        )

    def late(i: int, start: int) -> int:
        return max(0, start - int(due[i])) * max(1, problem.tardiness_cost)

    order = sorted(
        (i for i in range(n) if i not in seconds),
        key=lambda i: (problem.visit_earliest[i], due[i], i),
    )
    for i in order:
        sync = partner.get(i)
        if sync is None:
            options = []
            for k in allowed[i]:
                start, leg = arrive(k, i, clock[k], here[k])
                if fits(k, i, start):
                    options.append((leg + late(i, start), start, k))
            if not options:
                return None
            _, start, k = min(options)
            routes[k].append(i)
            clock[k], here[k] = (
                start + int(problem.visit_service[i]),
                int(problem.visit_location[i]),
            )
            continue
        j = sync.second
        pairs = []
        for ka in allowed[i]:
            for kb in allowed[j]:
                if ka == kb and sync.different_vehicles:
                    continue
                arr_a, leg_a = arrive(ka, i, clock[ka], here[ka])
                if ka == kb:
                    start_a = arr_a
                    arr_b, leg_b = arrive(
                        kb,
                        j,
                        start_a + int(problem.visit_service[i]),
                        int(problem.visit_location[i]),
                    )
                    start_b = max(arr_b, start_a + sync.min_delay)
                else:
                    arr_b, leg_b = arrive(kb, j, clock[kb], here[kb])
                    start_a = max(arr_a, arr_b - sync.max_delay)
                    start_b = max(arr_b, start_a + sync.min_delay)
                    start_a = max(start_a, start_b - sync.max_delay)
                if not sync.min_delay <= start_b - start_a <= sync.max_delay:
                    continue
                if not (fits(ka, i, start_a) and fits(kb, j, start_b)):
                    continue
                pairs.append(
                    (leg_a + leg_b + late(i, start_a) + late(j, start_b), start_a, start_b, ka, kb)
                )
        if not pairs:
            return None
        _, start_a, start_b, ka, kb = min(pairs)
        routes[ka].append(i)
        routes[kb].append(j)
        if ka == kb:
            clock[ka] = start_b + int(problem.visit_service[j])
            here[ka] = int(problem.visit_location[j])
        else:
            clock[ka], here[ka] = (
                start_a + int(problem.visit_service[i]),
                int(problem.visit_location[i]),
            )
            clock[kb], here[kb] = (
                start_b + int(problem.visit_service[j]),
                int(problem.visit_location[j]),
            )
    return routes


def _penalty_columns(problem: RoutingProblem) -> list[int]:
    if problem.visit_preferred is None or problem.visit_change_penalty is None:
        return []
    return [
        i
        for i in range(problem.n_visits)
        if problem.visit_change_penalty[i] > 0 and problem.visit_preferred[i]
    ]


_STATUS = {
    0: "not_solved",
    1: "success",
    2: "partial_success_local_optimum_not_reached",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}
