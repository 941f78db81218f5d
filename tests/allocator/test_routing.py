"""The routing core on problems small enough to solve by eye.

Places sit on a line: place p is at kilometre p, and time equals distance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from allocator.routing import RoutingParams, RoutingProblem, Sync, solve
from allocator.routing.solver import construct_routes

PARAMS = RoutingParams(time_limit_s=5, solution_limit=100)


def line(*positions: int) -> np.ndarray:
    xs = np.array(positions)
    return np.abs(xs[:, None] - xs[None, :]).astype(np.int64)


def problem(
    visits: list[int], vehicles: int = 2, *, positions: tuple[int, ...] = (0, 10, 20), **extra: Any
) -> RoutingProblem:
    """Visits at the given places, vehicles based at place 0, a day from 0 to 1000."""
    n = len(visits)
    fields: dict[str, Any] = {
        "time": [line(*positions)],
        "visit_location": np.array(visits, dtype=np.int64),
        "visit_service": np.full(n, 30, dtype=np.int64),
        "visit_earliest": np.zeros(n, dtype=np.int64),
        "visit_latest": np.full(n, 900, dtype=np.int64),
        "vehicle_start_location": np.zeros(vehicles, dtype=np.int64),
        "vehicle_end_location": np.zeros(vehicles, dtype=np.int64),
        "vehicle_earliest": np.zeros(vehicles, dtype=np.int64),
        "vehicle_latest": np.full(vehicles, 1000, dtype=np.int64),
    }
    fields.update(extra)
    return RoutingProblem(**fields)


def test_visits_on_one_road_go_on_one_run_out_and_back() -> None:
    solution = solve(problem([1, 2], vehicles=2, vehicle_fixed_cost=1000), PARAMS)
    assert solution is not None
    assert sorted(map(len, solution.routes)) == [0, 2]
    assert solution.objective == 1000 + 40


def test_a_synchronised_pair_goes_to_two_vehicles_starting_together() -> None:
    p = problem(
        [1, 1, 2],
        visit_earliest=np.array([100, 0, 0]),
        visit_latest=np.array([200, 900, 900]),
        syncs=[Sync(0, 1)],
    )
    solution = solve(p, PARAMS)
    assert solution is not None
    owner = {i: k for k, route in enumerate(solution.routes) for i in route}
    assert owner[0] != owner[1]
    assert solution.starts[0] == solution.starts[1]
    assert 100 <= solution.starts[0] <= 200


def test_a_sequential_pair_keeps_its_delay() -> None:
    p = problem([1, 1], vehicles=1, syncs=[Sync(0, 1, 60, 90, different_vehicles=False)])
    solution = solve(p, PARAMS)
    assert solution is not None
    assert 60 <= solution.starts[1] - solution.starts[0] <= 90


def test_allowed_vehicles_are_respected() -> None:
    p = problem([1, 2], visit_allowed=[[1], [1]])
    solution = solve(p, PARAMS)
    assert solution is not None
    assert solution.routes[0] == [] and sorted(solution.routes[1]) == [0, 1]


def test_a_working_time_cap_splits_the_work() -> None:
    # Both visits on one run: 20 travel + 60 service = 80 minutes; the cap is 70.
    p = problem([1, 2], vehicle_max_work=np.array([70, 70]))
    solution = solve(p, PARAMS)
    assert solution is not None
    assert sorted(map(len, solution.routes)) == [1, 1]


def test_a_shared_cap_over_two_shifts_binds_their_sum() -> None:
    p = problem([1, 2], work_groups=[([0, 1], 70)])
    assert solve(p, PARAMS) is None


def test_a_change_penalty_keeps_a_visit_with_its_usual_vehicle() -> None:
    base: dict[str, Any] = {"positions": (0, 10, 12), "vehicle_start_location": np.array([0, 2])}
    base["vehicle_end_location"] = base["vehicle_start_location"]
    cheap = solve(problem([1], **base), PARAMS)
    assert cheap is not None and cheap.routes[1] == [0]  # vehicle 1 lives 2 km away
    kept = solve(
        problem(
            [1],
            visit_preferred=[frozenset({0})],
            visit_change_penalty=np.array([100]),
            **base,
        ),
        PARAMS,
    )
    assert kept is not None and kept.routes[0] == [0]


def test_a_droppable_visit_is_left_out_when_it_does_not_fit() -> None:
    p = problem(
        [1, 2],
        vehicles=1,
        visit_earliest=np.array([100, 100]),
        visit_latest=np.array([100, 100]),
        visit_drop_penalty=np.array([10_000, 5_000]),
    )
    solution = solve(p, PARAMS)
    assert solution is not None
    assert solution.routes == [[0]]


def test_a_warm_start_is_used_and_never_made_worse() -> None:
    p = problem([1, 2], initial_routes=[[0, 1], []])
    solution = solve(p, PARAMS)
    assert solution is not None and solution.warm_started
    assert solution.objective <= 40


def test_the_construction_keeps_pairs_in_sync() -> None:
    p = problem([1, 1, 2], syncs=[Sync(0, 1)], visit_allowed=[[0], [1], None])
    routes = construct_routes(p)
    assert routes is not None
    assert 0 in routes[0] and 1 in routes[1]


def test_inconsistent_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="visit_service"):
        solve(problem([1], visit_service=np.array([30, 30])), PARAMS)


def test_a_portfolio_of_starts_keeps_the_best() -> None:
    single = solve(problem([1, 2]), PARAMS)
    several = solve(
        problem([1, 2]),
        RoutingParams(
            time_limit_s=3, solution_limit=50, portfolio=("savings", "path_cheapest_arc")
        ),
    )
    assert single is not None and several is not None
    assert several.objective <= single.objective == 40
