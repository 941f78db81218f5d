"""The nightly re-optimisation: re-plan every carer's runs for the week with as little change
for clients as the savings allow, move a few clients to another provider where it clearly
pays, then place waiting referrals into the time freed.

Three phases, each never worse than what it starts from:

1. **Runs.** One piece per provider (its carers and placed clients for the week), solved in
   parallel behind an :class:`~allocator.executor.Executor`. Inside a piece each day is a
   routing problem (:mod:`allocator.routing`): a vehicle per carer shift, starting and ending
   at the carer's base within the shift; each visit occurrence a stop within its window
   (two synchronised stops with different carers for a double-handed call); skills, gender
   preference and declined carers restrict who may take a stop; the daily working-time cap
   covers all the carer's shifts. Locked packages and locked visits are stops pinned to their
   carer and start. The objective is travel plus a cost for every visit occurrence given to a
   carer other than today's (continuity) and a small cost per minute a visit's start moves.
   Each day starts from today's runs; a day is kept as it is when today's runs do not fit the
   model (for example a visit outside its carer's shifts) or nothing better is found. With the
   council's continuity cap (``policy.max_distinct_carers_per_client``) no client ends the
   week with more distinct carers than the cap, or than today if that is more.
   **Making room**: each waiting referral is also given to the piece of one provider that
   may take it (the preferred one, else the nearest few in turn, night by night: see
   :func:`_waiting_by_provider`), its calls optional stops worth ``waiting_call_value_min``
   each, so runs are re-planned around it. It is placed only when every call of its week
   fits (all or nothing); a day re-planned only for referrals that in the end do not fit
   goes back as it was.
2. **Provider moves** (at most ``max_moves`` clients). Clients are tried in the order of the
   gain a move is likely to bring (the travel their visits cost their provider's runs, less a
   detour to the nearest carer or client of another provider that may take them, for each
   carer-visit); each is offered to the other providers on the re-optimised runs and moves
   when another provider's insertion saves more travel than the move's cost. This
   phase keeps ``_MOVES_SHARE`` of the time limit even when the runs search overran.
3. **Waiting referrals** not placed in phase 1: the joint placement
   (:func:`allocator.batch.place_batch`) into the re-optimised runs, then, for those still
   waiting, **handing visits over** (:mod:`allocator.handover`): a visit of another client
   in the way of a call goes to a colleague of the carer, so the referral fits (all or
   nothing again). This step keeps ``_HANDOVER_SHARE`` of the time limit even when the runs
   search overran. Last, a referral still waiting whose client has agreed to a **part
   package** starts with the calls one provider's runs can fit (:mod:`allocator.part_packages`);
   the other calls wait as a new referral.

The plan carries :class:`~allocator.model.PlanChanges`, the diff a broker approves. The whole
plan is checked by the independent evaluator against today's: a provider's re-planned week
that breaks a rule today's runs kept is put back as it was.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from allocator.batch import place_batch
from allocator.evaluate import Evaluation, Violation, evaluate
from allocator.executor import Executor, default_executor
from allocator.handover import HandoverSettings, fit_with_handovers
from allocator.model import (
    DAYS,
    Assignment,
    Carer,
    Package,
    Plan,
    PlanChanges,
    ProviderMove,
    RunChange,
    Shift,
    Snapshot,
    SolverInfo,
)
from allocator.offers import draft_offer, rank, standing_in_lots
from allocator.part_packages import PartPackageSettings, start_part_packages
from allocator.placement import build_plan, draft_placement, with_placed
from allocator.routing import RoutingParams, RoutingProblem, Sync, solve
from allocator.runs import RunsView, Stop
from allocator.travel import TravelMatrix

UNREACHABLE = 100_000
"""Minutes standing in for "no route": longer than any day, so no run can use it."""
_HANDOVER_SHARE = 0.3
"""Share of the time limit kept for handing visits over once the joint placement is done
(kept even when the runs search overran the limit)."""
_MOVES_SHARE = 0.1
"""Share of the time limit kept for moving clients to another provider (phase 2), kept even
when the runs search overran the limit."""
_PART_SHARE = 0.05
"""Share of the time limit kept for starting part packages, last."""
_TURN_SLACK_MIN = 30.0
"""A provider takes a turn at a waiting referral only if its nearest able carer is at most
this many minutes further from the client than the best placed provider's."""
_COST_SCALE = 10  # routing costs in tenths of a travel minute
_WORK_SCALE = 10  # working time in tenths of a minute

Progress = Callable[[float, str, dict[str, float]], None]


@dataclass(frozen=True)
class ReoptimiseOptions:
    """How long the re-optimisation may run and how much change it may propose.

    Costs are in travel-minute equivalents, so a broker can read them: by default giving one
    visit occurrence to a different carer must save at least 10 minutes of travel, and moving
    a client to another provider at least 2 hours a week.
    """

    time_limit_s: float = 60.0
    max_moves: int = 0
    seed: int = 0
    workers: int = 1
    carer_change_cost_min: float = 10.0
    time_change_cost_per_min: float = 0.1
    provider_move_cost_min: float = 120.0
    place_waiting: bool = True
    fit_waiting_in_runs: bool = True
    """Give each waiting referral's calls to the runs search of the provider best placed to
    take it (optional calls), so runs are re-planned around them; placed only when every call
    of the week fits."""
    waiting_providers_in_turn: int = 3
    """How many providers take turns, night by night, to re-plan their runs around a waiting
    referral: the best placed on the first night it waits, the next on the second, and so on
    round (only providers whose nearest able carer is at most ``_TURN_SLACK_MIN`` further
    than the best placed one's; the client's preferred provider every night). 1: always the
    best placed."""
    hand_over_visits: bool = True
    """After the joint placement, fit referrals still waiting by handing visits of other
    clients over between the provider's carers (:mod:`allocator.handover`)."""
    handover_max_travel_per_care_hour: float | None = None
    """Most travel minutes a referral placed by handovers may add per carer hour of its care
    (None: no limit; :attr:`allocator.handover.HandoverSettings.max_travel_per_care_hour`)."""
    start_part_packages: bool = True
    """Start waiting referrals whose clients accept a part package with the calls that fit
    (:mod:`allocator.part_packages`); only referrals with ``accepts_part_package``."""
    part_package_min_share: float = 0.5
    """Start a part package only when at least this share of its weekly carer hours fit."""
    waiting_call_value_min: float = 180.0
    """What fitting one call of a waiting referral is worth in travel minutes: the runs search
    may add up to this much travel, or re-plan that much of other clients' calls, to fit it."""
    solution_limit: int | None = None
    """Stop each day's search after this many solutions (repeatable runs, e.g. in tests)."""

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            msg = f"time_limit_s must be positive, got {self.time_limit_s}"
            raise ValueError(msg)
        if self.max_moves < 0:
            msg = f"max_moves must be 0 or more, got {self.max_moves}"
            raise ValueError(msg)
        if self.workers < 1:
            msg = f"workers must be at least 1, got {self.workers}"
            raise ValueError(msg)
        turns = self.waiting_providers_in_turn
        if turns < 1:
            msg = f"waiting_providers_in_turn must be at least 1, got {turns}"
            raise ValueError(msg)
        cap = self.handover_max_travel_per_care_hour
        if cap is not None and not cap >= 0:
            msg = f"handover_max_travel_per_care_hour must be 0 or more, got {cap}"
            raise ValueError(msg)
        share = self.part_package_min_share
        if not 0 < share <= 1:
            msg = f"part_package_min_share must be more than 0 and at most 1, got {share}"
            raise ValueError(msg)


# --- phase 1: one provider's week of runs ----------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One provider's carers and placed clients, with travel between their places only."""

    provider_id: str
    carers: list[Carer]
    packages: list[Package]
    points: tuple[tuple[float, float], ...]
    minutes: dict[str, np.ndarray]
    budget_s: float
    options: ReoptimiseOptions
    carer_cap: int | None
    waiting: tuple[Package, ...] = ()
    """Waiting referrals this provider's search may fit in (``fit_waiting_in_runs``)."""

    @property
    def occurrences(self) -> int:
        placed = sum(_occurrences(p) for p in self.packages)
        return placed + sum(v.carers_required * len(v.days) for p in self.waiting for v in p.visits)


@dataclass
class PieceResult:
    provider_id: str
    assignments: dict[str, list[Assignment]]
    placed: dict[str, list[Assignment]] = field(default_factory=dict)
    """Waiting referrals fitted into the runs on every day of their week."""
    days_improved: int = 0
    days_kept: int = 0
    travel_before_min: float = 0.0
    travel_after_min: float = 0.0
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Node:
    package: Package
    assignment: Assignment
    slot: int
    fixed: bool
    optional: bool = False
    """A call of a waiting referral: it may be left out (at ``waiting_call_value_min``)."""


def solve_piece(piece: Piece) -> PieceResult:
    """Re-plan one provider's week, day by day (module docstring, phase 1)."""
    started = time.monotonic()
    current = {p.id: list(p.assignments) for p in piece.packages}
    result = PieceResult(piece.provider_id, assignments={k: list(v) for k, v in current.items()})
    occurrences_by_day = {
        day: sum(len(a.carer_ids) for p in piece.packages for a in p.assignments if a.day == day)
        for day in DAYS
    }
    total = max(1, sum(occurrences_by_day.values()))
    # Waiting referrals still in the running: one that misses a call on some day is out.
    fitting = {p.id: p for p in piece.waiting}
    fitted: dict[str, list[Assignment]] = {p.id: [] for p in piece.waiting}
    # Days re-planned only because waiting calls made it pay: (day, its referrals, travel).
    for_waiting: list[tuple[str, set[str], float, float]] = []
    for day in DAYS:
        calls = {p.id: sum(1 for v in p.visits if day in v.days) for p in fitting.values()}
        today = [p for p in fitting.values() if calls[p.id]]
        if occurrences_by_day[day] == 0:
            for p in today:
                fitting.pop(p.id)
            continue
        budget = max(0.2, piece.budget_s * occurrences_by_day[day] / total)
        outcome = _solve_day(piece, day, result.assignments, budget, today)
        before, after, new = outcome
        result.travel_before_min += before
        for p in today:
            got = new.pop(p.id, []) if new is not None else []
            if len(got) == calls[p.id]:
                fitted[p.id].extend(got)
            else:
                fitting.pop(p.id)
        if new is None:
            result.days_kept += 1
            result.travel_after_min += before
            continue
        if new.pop(_ONLY_WITH_WAITING, None) is not None:
            for_waiting.append((day, {p.id for p in today}, before, after))
        result.days_improved += 1
        result.travel_after_min += after
        for package_id, assignments in new.items():
            others = [a for a in result.assignments[package_id] if a.day != day]
            result.assignments[package_id] = others + assignments
    for package_id in fitting:
        carers = {c for a in fitted[package_id] for c in a.carer_ids}
        if piece.carer_cap is None or len(carers) <= piece.carer_cap:
            result.placed[package_id] = fitted[package_id]
    for day, referral_ids, before, after in for_waiting:
        if referral_ids & result.placed.keys():
            continue
        # None of the referrals it was re-planned for is placed: the day goes back as it was.
        for package_id, assignments in current.items():
            others = [a for a in result.assignments[package_id] if a.day != day]
            result.assignments[package_id] = others + [a for a in assignments if a.day == day]
        result.days_improved -= 1
        result.days_kept += 1
        result.travel_after_min += before - after
    result.wall_s = time.monotonic() - started
    return result


def _solve_day(
    piece: Piece,
    day: str,
    week: dict[str, list[Assignment]],
    budget_s: float,
    waiting: Sequence[Package] = (),
) -> tuple[float, float, dict[str, list[Assignment]] | None]:
    """(travel before, travel after, new assignments of the day or None to keep it).

    The calls of ``waiting`` on this day are optional stops; those fitted come back under
    their referral's id (travel figures are of the placed clients' calls only, as before)."""
    index = {p: i for i, p in enumerate(piece.points)}
    modes = sorted(piece.minutes)
    vehicles: list[tuple[Carer, Shift]] = [
        (carer, shift) for carer in piece.carers for shift in carer.shifts_on(day)
    ]
    by_carer: dict[str, list[int]] = defaultdict(list)
    for k, (carer, _) in enumerate(vehicles):
        by_carer[carer.id].append(k)

    nodes: list[_Node] = []
    for package in piece.packages:
        for a in week[package.id]:
            if a.day == day:
                fixed = package.locked or a.locked
                nodes.extend(_Node(package, a, slot, fixed) for slot in range(len(a.carer_ids)))
    if not nodes:
        return 0.0, 0.0, None
    for package in waiting:
        for visit in package.visits:
            if day in visit.days:
                # Not a real assignment yet: a placeholder the pair's two stops share.
                call = Assignment.model_construct(
                    visit_id=visit.id,
                    day=day,
                    carer_ids=[""] * visit.carers_required,
                    start_min=visit.earliest_start_min,
                    locked=False,
                )
                nodes.extend(
                    _Node(package, call, slot, fixed=False, optional=True)
                    for slot in range(visit.carers_required)
                )
    visits = {(p.id, v.id): v for p in [*piece.packages, *waiting] for v in p.visits}

    def vehicle_of(carer_id: str, start: int, end: int) -> int | None:
        for k in by_carer.get(carer_id, []):
            shift = vehicles[k][1]
            if shift.start_min <= start and end <= shift.end_min:
                return k
        return None

    n, v = len(nodes), len(vehicles)
    location = np.zeros(n, dtype=np.int64)
    service = np.zeros(n, dtype=np.int64)
    earliest = np.zeros(n, dtype=np.int64)
    latest = np.zeros(n, dtype=np.int64)
    target = np.full(n, -1, dtype=np.int64)
    current_vehicle = np.zeros(n, dtype=np.int64)
    preferred: list[frozenset[int]] = []
    penalty = np.zeros(n, dtype=np.int64)
    allowed: list[list[int] | None] = []
    syncs: list[Sync] = []
    first_slot: dict[int, int] = {}
    cap_sets = _carers_elsewhere(piece, week, day)
    drop = np.full(n, -1, dtype=np.int64)
    value = round(piece.options.waiting_call_value_min * _COST_SCALE)

    for i, node in enumerate(nodes):
        visit = visits[(node.package.id, node.assignment.visit_id)]
        a = node.assignment
        location[i] = index[node.package.location]
        service[i] = visit.duration_min
        if node.optional:
            drop[i] = value
            earliest[i], latest[i] = visit.earliest_start_min, visit.latest_start_min
            allowed.append(
                [
                    kk
                    for kk, (carer, _) in enumerate(vehicles)
                    if _may_serve(carer, node.package, visit.required_skills)
                ]
            )
            preferred.append(frozenset())
        else:
            found = vehicle_of(
                a.carer_ids[node.slot], a.start_min, a.start_min + visit.duration_min
            )
            if found is None:  # today's run does not fit its own shifts: leave the day alone
                return 0.0, 0.0, None
            k = found
            current_vehicle[i] = k
            if node.fixed:
                earliest[i] = latest[i] = a.start_min
                allowed.append([k])
                preferred.append(frozenset())
            else:
                earliest[i], latest[i] = visit.earliest_start_min, visit.latest_start_min
                target[i] = a.start_min
                today = set(a.carer_ids)
                eligible = [
                    kk
                    for kk, (carer, _) in enumerate(vehicles)
                    if _may_serve(carer, node.package, visit.required_skills)
                    and (
                        piece.carer_cap is None
                        or carer.id in today
                        or carer.id in cap_sets[node.package.id]
                        or len(cap_sets[node.package.id] | today) < piece.carer_cap
                    )
                ]
                if k not in eligible:
                    eligible.append(k)
                allowed.append(eligible)
                preferred.append(frozenset(kk for c in today for kk in by_carer.get(c, [])))
                penalty[i] = round(piece.options.carer_change_cost_min * _COST_SCALE)
        if node.slot == 0:
            first_slot[id(a)] = i
        elif not node.fixed:
            syncs.append(Sync(first_slot[id(a)], i))

    starts = np.array([index[c.base] for c, _ in vehicles], dtype=np.int64)
    profile = np.array([modes.index(c.travel_mode) for c, _ in vehicles], dtype=np.int64)
    times, costs = [], []
    for mode in modes:
        minutes = piece.minutes[mode]
        finite = np.where(np.isfinite(minutes), minutes, UNREACHABLE)
        times.append(np.ceil(finite - 1e-9).astype(np.int64))
        costs.append(np.rint(finite * _COST_SCALE).astype(np.int64))

    # Working time in tenths of a minute, travel rounded up: safe, and close to exact.
    work = [
        np.ceil(np.where(np.isfinite(m), m, UNREACHABLE) * _WORK_SCALE - 1e-6).astype(np.int64)
        for m in (piece.minutes[mode] for mode in modes)
    ]
    routes: list[list[int]] = [[] for _ in range(v)]
    for i in sorted(range(n), key=lambda i: (nodes[i].assignment.start_min, i)):
        if not nodes[i].optional:
            routes[current_vehicle[i]].append(i)
    # Today's runs keep within the cap in exact minutes; rounding each leg up to a tenth can
    # put one a few tenths over, which would make today's runs infeasible to the model and
    # the whole day kept. So a carer's cap here is the larger of the cap and today's rounded
    # work; the exact check after solving (``_over_working_time``) keeps the real rule.
    today_work = [
        _route_work(work[int(profile[k])], starts[k], location, service * _WORK_SCALE, route)
        for k, route in enumerate(routes)
    ]
    max_work = np.array(
        [
            max(c.max_working_min_per_day * _WORK_SCALE, today_work[k])
            for k, (c, _) in enumerate(vehicles)
        ],
        dtype=np.int64,
    )
    groups = [
        (
            ks,
            max(
                vehicles[ks[0]][0].max_working_min_per_day * _WORK_SCALE,
                sum(today_work[k] for k in ks),
            ),
        )
        for ks in by_carer.values()
        if len(ks) > 1
    ]

    problem = RoutingProblem(
        time=times,
        cost=costs,
        visit_location=location,
        visit_service=service,
        visit_earliest=earliest,
        visit_latest=latest,
        vehicle_start_location=starts,
        vehicle_end_location=starts,
        vehicle_earliest=np.array([s.start_min for _, s in vehicles], dtype=np.int64),
        vehicle_latest=np.array([s.end_min for _, s in vehicles], dtype=np.int64),
        vehicle_profile=profile,
        vehicle_max_work=max_work,
        work_time=work,
        work_service=service * _WORK_SCALE,
        work_groups=groups,
        visit_allowed=allowed,
        visit_preferred=preferred,
        visit_change_penalty=penalty,
        visit_drop_penalty=drop if waiting else None,
        visit_target=target,
        target_cost=max(0, round(piece.options.time_change_cost_per_min * _COST_SCALE)),
        syncs=syncs,
        initial_routes=routes,
    )
    before = _travel(problem, piece, routes)
    solution = solve(
        problem,
        RoutingParams(time_limit_s=budget_s, solution_limit=piece.options.solution_limit),
    )
    if solution is None:
        return before, before, None
    without = [[i for i in route if not nodes[i].optional] for route in solution.routes]
    after = _travel(problem, piece, without)
    old_placed = _cost(
        problem, routes, {i: int(nodes[i].assignment.start_min) for i in range(n)}, dropped=False
    )
    old_cost = old_placed + _dropped(problem, routes)
    new_cost = _cost(problem, solution.routes, solution.starts)
    if new_cost >= old_cost:
        return before, before, None

    carer_of = {i: vehicles[k][0].id for k, route in enumerate(solution.routes) for i in route}
    new: dict[str, list[Assignment]] = defaultdict(list)
    for i, node in enumerate(nodes):
        if node.slot != 0 or i not in carer_of:
            continue
        a = node.assignment
        pair = [i] + [j for j in range(i + 1, n) if nodes[j].assignment is a]
        new[node.package.id].append(
            Assignment(
                visit_id=a.visit_id,
                day=a.day,
                carer_ids=[carer_of[j] for j in pair],
                start_min=solution.starts[i],
                locked=a.locked,
            )
        )
    placed = {p.id for p in piece.packages}
    if _over_cap(
        piece, week, day, {k: a for k, a in new.items() if k in placed}
    ) or _over_working_time(piece, vehicles, problem, routes, solution.routes):
        return before, before, None
    if waiting and _cost(problem, without, solution.starts, dropped=False) >= old_placed:
        # It pays only with the waiting calls in: say so, so the week can be put back when
        # none of them is placed in the end.
        new[_ONLY_WITH_WAITING] = []
    return before, after, dict(new)


def _route_work(
    work: np.ndarray, base: int, location: np.ndarray, service: np.ndarray, route: list[int]
) -> int:
    """Working time of a route in the model's units (travel from base and back plus visits)."""
    if not route:
        return 0
    places = [int(base), *(int(location[i]) for i in route), int(base)]
    legs = sum(int(work[a, b]) for a, b in itertools.pairwise(places))
    return legs + int(sum(int(service[i]) for i in route))


def _over_working_time(
    piece: Piece,
    vehicles: Sequence[tuple[Carer, Shift]],
    problem: RoutingProblem,
    before: list[list[int]],
    after: list[list[int]],
) -> bool:
    """True when, in exact minutes, a carer's new day works over the daily maximum and over
    what today's runs already worked."""

    def worked(routes: list[list[int]]) -> dict[str, float]:
        total: dict[str, float] = defaultdict(float)
        for k, route in enumerate(routes):
            if route:
                total[vehicles[k][0].id] += _route_travel(problem, piece, k, route) + float(
                    sum(int(problem.visit_service[i]) for i in route)
                )
        return total

    old, new = worked(before), worked(after)
    caps = {c.id: c.max_working_min_per_day for c, _ in vehicles}
    return any(
        minutes > max(caps[carer_id], old.get(carer_id, 0.0)) + 1e-6
        for carer_id, minutes in new.items()
    )


def _may_serve(carer: Carer, package: Package, skills: Sequence[str]) -> bool:
    prefs = package.preferences
    return (
        set(skills) <= set(carer.skills)
        and (prefs.carer_gender is None or carer.gender == prefs.carer_gender)
        and carer.id not in prefs.declined_carer_ids
    )


def _carers_elsewhere(
    piece: Piece, week: dict[str, list[Assignment]], day: str
) -> dict[str, set[str]]:
    return {
        p.id: {c for a in week[p.id] if a.day != day for c in a.carer_ids} for p in piece.packages
    }


def _over_cap(
    piece: Piece,
    week: dict[str, list[Assignment]],
    day: str,
    new: dict[str, list[Assignment]],
) -> bool:
    """True when the day's new runs give some client more distinct carers than allowed."""
    if piece.carer_cap is None:
        return False
    for package_id, assignments in new.items():
        before = {c for a in week[package_id] for c in a.carer_ids}
        after = {c for a in week[package_id] if a.day != day for c in a.carer_ids}
        after |= {c for a in assignments for c in a.carer_ids}
        if len(after) > max(piece.carer_cap, len(before)):
            return True
    return False


def _places(problem: RoutingProblem, k: int, route: list[int]) -> list[int]:
    """Vehicle ``k``'s places in order: its start, the route's visits, its end."""
    return [
        int(problem.vehicle_start_location[k]),
        *(int(problem.visit_location[i]) for i in route),
        int(problem.vehicle_end_location[k]),
    ]


def _route_travel(problem: RoutingProblem, piece: Piece, k: int, route: list[int]) -> float:
    """Travel minutes of vehicle ``k``'s route, in floating point from the piece's matrices."""
    if not route:
        return 0.0
    minutes = piece.minutes[sorted(piece.minutes)[problem.profile_of(k)]]
    places = _places(problem, k, route)
    return float(sum(minutes[a, b] for a, b in itertools.pairwise(places)))


def _travel(problem: RoutingProblem, piece: Piece, routes: list[list[int]]) -> float:
    """Travel minutes of ``routes``, in floating point from the piece's own matrices."""
    return sum(_route_travel(problem, piece, k, route) for k, route in enumerate(routes))


_ONLY_WITH_WAITING = ""
"""Key of a day's result whose re-plan pays only with waiting referrals' calls in it."""


def _dropped(problem: RoutingProblem, routes: list[list[int]]) -> int:
    """The cost of the optional visits ``routes`` leave out."""
    if problem.visit_drop_penalty is None:
        return 0
    served = {i for route in routes for i in route}
    return sum(
        int(p) for i, p in enumerate(problem.visit_drop_penalty) if p >= 0 and i not in served
    )


def _cost(
    problem: RoutingProblem,
    routes: list[list[int]],
    starts: dict[int, int],
    *,
    dropped: bool = True,
) -> int:
    """The routing objective of a solution, recomputed here (travel, carer and time changes,
    and with ``dropped`` the value of the optional visits left out)."""
    cost = problem.cost if problem.cost is not None else problem.time
    total = 0
    for k, route in enumerate(routes):
        if not route:
            continue
        matrix = cost[problem.profile_of(k)]
        places = _places(problem, k, route)
        total += int(sum(matrix[a, b] for a, b in itertools.pairwise(places)))
        for i in route:
            preferred, penalty = problem.visit_preferred, problem.visit_change_penalty
            if preferred is not None and penalty is not None and preferred[i]:
                total += int(penalty[i]) if k not in preferred[i] else 0
            if problem.visit_target is not None and problem.visit_target[i] >= 0:
                total += problem.target_cost * abs(starts[i] - int(problem.visit_target[i]))
    return total + (_dropped(problem, routes) if dropped else 0)


def _pieces(
    snapshot: Snapshot,
    travel: TravelMatrix,
    options: ReoptimiseOptions,
    budget_s: float,
    now: dt.datetime,
) -> list[Piece]:
    by_provider: dict[str, list[Package]] = defaultdict(list)
    for package in snapshot.packages:
        if package.provider_id is not None and package.assignments:
            by_provider[package.provider_id].append(package)
    carers_of: dict[str, list[Carer]] = defaultdict(list)
    for carer in snapshot.carers:
        carers_of[carer.provider_id].append(carer)
    modes = sorted({c.travel_mode for c in snapshot.carers})
    waiting = _waiting_by_provider(snapshot, travel, by_provider.keys(), carers_of, options, now)
    pieces = []
    for provider_id, packages in by_provider.items():
        carers = carers_of[provider_id]
        mine = tuple(waiting.get(provider_id, ()))
        points = tuple(
            dict.fromkeys([c.base for c in carers] + [p.location for p in [*packages, *mine]])
        )
        rows = travel.indices(points)
        minutes: dict[str, np.ndarray] = {
            mode: np.asarray(travel.minutes[mode][np.ix_(rows, rows)], dtype=float)
            for mode in modes
        }
        pieces.append(
            Piece(
                provider_id=provider_id,
                carers=carers,
                packages=packages,
                points=points,
                minutes=minutes,
                budget_s=0.0,
                options=options,
                carer_cap=snapshot.policy.max_distinct_carers_per_client,
                waiting=mine,
            )
        )
    # Share the budget by size; with w workers each worker-second is worth one piece-second.
    total = max(1, sum(p.occurrences for p in pieces))
    workers = min(options.workers, max(1, len(pieces)))
    shared = [_with_budget(p, max(0.5, budget_s * workers * p.occurrences / total)) for p in pieces]
    return sorted(shared, key=lambda p: -p.occurrences)


def _with_budget(piece: Piece, budget_s: float) -> Piece:
    return replace(piece, budget_s=budget_s)


def _waiting_by_provider(
    snapshot: Snapshot,
    travel: TravelMatrix,
    provider_ids: Iterable[str],
    carers_of: dict[str, list[Carer]],
    options: ReoptimiseOptions,
    now: dt.datetime,
) -> dict[str, list[Package]]:
    """Each waiting referral for the provider whose turn it is tonight to make room for it.

    Providers that may work its lot, with carers who could do all its calls, are ranked by
    how near their nearest such carer lives (the second nearest for a double-handed
    package); those within ``_TURN_SLACK_MIN`` of the best placed take turns, one a night,
    counted from the night the referral started waiting (``waiting_providers_in_turn`` of
    them at most). The client's preferred provider, when it is one of them, every night.
    Without turns a referral the best placed provider cannot fit would be offered to it, and
    only it, every night."""
    if not (options.place_waiting and options.fit_waiting_in_runs):
        return {}
    providers = [p for p in snapshot.providers if p.id in set(provider_ids)]
    chosen: dict[str, list[Package]] = defaultdict(list)
    for referral in snapshot.referrals:
        skills = sorted({s for v in referral.visits for s in v.required_skills})
        pair = max(v.carers_required for v in referral.visits)
        to = travel.index(referral.location)
        preferred = referral.preferences.preferred_provider_id
        ranked: list[tuple[float, str]] = []
        for provider in providers:
            if standing_in_lots(snapshot.lots, referral, provider) is None:
                continue
            able = [c for c in carers_of[provider.id] if _may_serve(c, referral, skills)]
            if len(able) < pair:
                continue
            near = sorted(
                float(travel.minutes[c.travel_mode][travel.index(c.base), to]) for c in able
            )
            ranked.append((near[pair - 1], provider.id))
        if not ranked:
            continue
        ranked.sort()
        if preferred in {provider_id for _, provider_id in ranked}:
            chosen[preferred].append(referral)
            continue
        in_turn = [r for r in ranked if r[0] <= ranked[0][0] + _TURN_SLACK_MIN]
        in_turn = in_turn[: options.waiting_providers_in_turn]
        nights = max(0, (now - referral.waiting_since).days)
        chosen[in_turn[nights % len(in_turn)][1]].append(referral)
    return chosen


# --- the whole night ------------------------------------------------------------------------


def reoptimise(
    snapshot: Snapshot,
    travel: TravelMatrix,
    options: ReoptimiseOptions | None = None,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """Re-plan ``snapshot``'s runs for the week (see the module docstring).

    Parameters
    ----------
    snapshot, travel
        Today's situation: placed packages with their runs, waiting referrals.
    options
        Time limit, move cap, costs of change, seed, workers.
    executor
        Where the providers' pieces run (default: serial for one worker, processes otherwise).
    progress
        Called with (fraction done, message, figures) as pieces finish.
    should_stop
        Polled between pieces; when it returns True the plan is finished from what is done.

    Returns
    -------
    Plan
        Every package's provider and runs, the referrals still waiting, and ``changes``.
    """
    options = options or ReoptimiseOptions()
    started = time.monotonic()
    deadline = started + options.time_limit_s
    stop = should_stop or (lambda: False)
    report = progress or (lambda fraction, message, figures: None)
    executor = executor or default_executor(options.workers)

    baseline = evaluate(snapshot, _as_plan(snapshot), travel)
    known = {_violation_key(v) for v in baseline.violations}
    has_waiting = options.place_waiting and bool(snapshot.referrals)
    handing = has_waiting and options.hand_over_visits
    runs_share = 0.5 if handing else 0.6 if has_waiting or options.max_moves else 0.85
    now = now or dt.datetime.now(dt.UTC)
    pieces = _pieces(snapshot, travel, options, options.time_limit_s * runs_share, now)

    week: dict[str, list[Assignment]] = {}
    fitted: dict[str, tuple[str, list[Assignment]]] = {}
    saved = 0.0
    improved_days = kept_days = 0
    for done, result in enumerate(executor.map_unordered(solve_piece, pieces, stop), start=1):
        week.update(result.assignments)
        fitted.update({k: (result.provider_id, a) for k, a in result.placed.items()})
        improved_days += result.days_improved
        kept_days += result.days_kept
        saved += result.travel_before_min - result.travel_after_min
        report(
            0.85 * done / max(1, len(pieces)),
            f"re-planned runs of {done} of {len(pieces)} providers",
            {
                "objective": round(baseline.kpis.travel_min_per_week - saved, 1),
                "travel_saved_min_per_week": round(saved, 1),
            },
        )
    improved = _with_fitted(_with_runs(snapshot, week), fitted)

    # The evaluator, not the solver, has the last word on every re-planned provider.
    check = evaluate(improved, _as_plan(improved), travel)
    broken = {_provider_of(improved, v) for v in check.violations if _violation_key(v) not in known}
    broken.discard(None)
    if broken:
        keep = {p.id: p.assignments for p in snapshot.packages if p.provider_id in broken}
        fitted = {k: f for k, f in fitted.items() if f[0] not in broken}
        improved = _with_fitted(_with_runs(snapshot, {**week, **keep}), fitted)

    moves: list[ProviderMove] = []
    if options.max_moves and not stop():
        report(0.87, "looking for clients another provider could serve with less travel", {})
        # Its share is kept even when the runs search overran the limit (it used to run only
        # until the deadline, which the runs search overruns at short limits).
        until = time.monotonic() + _MOVES_SHARE * options.time_limit_s
        improved, moves = _provider_moves(improved, travel, options, until, set(fitted))

    plan: Plan
    handed = None
    after: Evaluation | None = None
    if has_waiting and not stop():
        report(0.9, "placing waiting referrals into the re-planned runs", {})
        reserve = _HANDOVER_SHARE * options.time_limit_s if handing else 0.0
        remaining = max(1.0, deadline - reserve - time.monotonic())
        plan = place_batch(improved, travel, time_limit_s=remaining, seed=options.seed, now=now)
        if handing and plan.unplaced and not stop():
            report(0.95, "handing visits over between carers to fit referrals still waiting", {})
            # Its share is kept even when the runs search overran the limit.
            until = max(deadline, time.monotonic() + reserve)
            settings = HandoverSettings(
                max_travel_per_care_hour=options.handover_max_travel_per_care_hour
            )
            handed = fit_with_handovers(
                _with_plan(improved, plan), travel, settings=settings, deadline=until
            )
            still = [u for u in plan.unplaced if u.package_id not in handed.placed]
            candidate = build_plan(handed.snapshot, {}, still, plan.solver)
            # The evaluator has the last word here too: handovers that break a rule the
            # joint placement's plan kept are not made.
            after = _unless_worse(snapshot, plan, candidate, travel) if handed.placed else None
            if after is not None:
                improved, plan = handed.snapshot, candidate
            else:
                handed = None
        if options.start_part_packages and plan.unplaced and not stop():
            report(0.97, "starting part packages for referrals still waiting", {})
            until = max(deadline, time.monotonic() + _PART_SHARE * options.time_limit_s)
            parts = PartPackageSettings(min_share=options.part_package_min_share)
            current = _with_plan(improved, plan)
            parted = _part_packages(snapshot, current, plan, travel, parts, until)
            if parted is not None:
                plan, after = parted
    else:
        plan = _as_plan(improved)

    changes = _changes(snapshot, improved, plan, moves, travel)
    after = after or evaluate(snapshot, plan, travel)
    days = f"{improved_days} provider-days re-planned, {kept_days} kept as they were"
    if fitted:
        days += f"; {len(fitted)} waiting referrals placed by re-planning runs around them"
    if handed is not None and handed.placed:
        count = len(handed.handovers)
        days += (
            f"; {len(handed.placed)} waiting referrals placed by handing {count} "
            f"visit{'' if count == 1 else 's'} over between carers"
        )
    if plan.part_packages:
        count = len(plan.part_packages)
        days += f"; {count} waiting referral{'' if count == 1 else 's'} started as part packages"
    if broken:
        days += f"; {len(broken)} providers' re-planned weeks put back by the evaluator"
    status = f"stopped early: best plan so far ({days})" if stop() else f"ok ({days})"
    solver = SolverInfo(
        name="nightly-reoptimise",
        seed=options.seed,
        time_limit_s=options.time_limit_s,
        status=status,
        wall_time_s=round(time.monotonic() - started, 3),
        objective=round(after.kpis.travel_min_per_week, 1),
    )
    report(1.0, "done", {"travel_saved_min_per_week": changes.travel_min_per_week_saved})
    return plan.model_copy(update={"solver": solver, "kpis": after.kpis, "changes": changes})


def _part_packages(
    snapshot: Snapshot,
    current: Snapshot,
    plan: Plan,
    travel: TravelMatrix,
    settings: PartPackageSettings,
    until: float,
) -> tuple[Plan, Evaluation] | None:
    """``plan`` (for ``snapshot``; ``current`` has its placements made) with the referrals it
    leaves waiting started as part packages where their clients accept one, and its
    evaluation; None when none starts or the evaluator finds a rule the plan kept broken."""
    waiting = [u.package_id for u in plan.unplaced]
    started = start_part_packages(current, travel, waiting, settings, deadline=until)
    if not started.placements:
        return None
    split = current.with_part_packages(started.parts)
    still = [u for u in plan.unplaced if u.package_id not in started.placements]
    candidate = build_plan(split, started.placements, [*still, *started.unplaced], plan.solver)
    candidate = candidate.model_copy(update={"part_packages": started.parts})
    after = _unless_worse(snapshot, plan, candidate, travel)
    return None if after is None else (candidate, after)


def rules_broken_anew(
    snapshot: Snapshot, result: Evaluation, travel: TravelMatrix
) -> list[Violation]:
    """The violations in a plan's evaluation that today's runs of ``snapshot`` do not have."""
    if result.is_feasible:
        return []
    known = {_violation_key(v) for v in evaluate(snapshot, _as_plan(snapshot), travel).violations}
    return [v for v in result.violations if _violation_key(v) not in known]


def _unless_worse(
    snapshot: Snapshot, before: Plan, after: Plan, travel: TravelMatrix
) -> Evaluation | None:
    """``after``'s evaluation when it breaks no rule that ``before`` keeps (both plans for
    ``snapshot``), else None; the plan's KPIs reuse it."""
    kept = {_violation_key(v) for v in evaluate(snapshot, before, travel).violations}
    result = evaluate(snapshot, after, travel)
    return result if all(_violation_key(v) in kept for v in result.violations) else None


def _violation_key(v: Violation) -> tuple[str, str | None, str | None, str | None]:
    return (v.rule, v.carer_id, v.day, v.package_id)


def _provider_of(snapshot: Snapshot, v: Violation) -> str | None:
    if v.carer_id is not None:
        return next((c.provider_id for c in snapshot.carers if c.id == v.carer_id), None)
    if v.package_id is not None:
        return next((p.provider_id for p in snapshot.packages if p.id == v.package_id), None)
    return None


def _with_runs(snapshot: Snapshot, runs: dict[str, list[Assignment]]) -> Snapshot:
    packages = [
        p.model_copy(update={"assignments": runs[p.id]}) if p.id in runs else p
        for p in snapshot.packages
    ]
    return snapshot.model_copy(update={"packages": packages})


def _with_fitted(snapshot: Snapshot, fitted: dict[str, tuple[str, list[Assignment]]]) -> Snapshot:
    """``snapshot`` with the waiting referrals fitted into the runs placed (provider, runs)."""
    return with_placed(snapshot, fitted)


def _with_plan(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """``snapshot`` with the referrals ``plan`` places made packages (its placements of
    placed packages are ``snapshot``'s own)."""
    return with_placed(
        snapshot, {p.package_id: (p.provider_id, p.assignments) for p in plan.placements}
    )


def _as_plan(snapshot: Snapshot) -> Plan:
    """Today's runs (or ``snapshot``'s) as a plan, referrals waiting."""
    return build_plan(snapshot, {}, [], SolverInfo(name="today"))


# --- phase 2: provider moves ----------------------------------------------------------------


def _removal_saving(view: RunsView, package: Package) -> float:
    """Travel minutes a week the package's visits cost its carers' runs (what leaving saves)."""
    saving = 0.0
    for carer_id in sorted({c for a in package.assignments for c in a.carer_ids}):
        carer = view.carer_index[carer_id]
        for day in sorted({a.day for a in package.assignments if carer_id in a.carer_ids}):
            for run in view.day(carer, day).runs:
                if any(s.package_id == package.id for s in run):
                    rest = [s for s in run if s.package_id != package.id]
                    saving += _run_travel(view, carer, run) - _run_travel(view, carer, rest)
    return saving


def _occurrences(package: Package) -> int:
    """Carer-visits a week."""
    return sum(len(a.carer_ids) for a in package.assignments)


def _nearest_other_provider(
    snapshot: Snapshot, travel: TravelMatrix, packages: Sequence[Package]
) -> dict[str, float]:
    """For each package, driving minutes to the nearest carer base or placed client of a
    provider other than its own that may take it under the framework's lots (inf: none)."""
    places: dict[str, set[tuple[float, float]]] = defaultdict(set)
    for carer in snapshot.carers:
        places[carer.provider_id].add(carer.base)
    for package in snapshot.packages:
        if package.provider_id is not None:
            places[package.provider_id].add(package.location)
    drive = travel.minutes["drive"]
    rows = travel.indices([p.location for p in packages])
    nearest = np.full(len(packages), np.inf)
    for provider in snapshot.providers:
        if not places[provider.id]:
            continue
        columns = travel.indices(sorted(places[provider.id]))
        reach = np.asarray(drive[np.ix_(rows, columns)], dtype=float).min(axis=1)
        for k, package in enumerate(packages):
            if (
                package.provider_id != provider.id
                and standing_in_lots(snapshot.lots, package, provider) is not None
            ):
                nearest[k] = min(nearest[k], reach[k])
    return {p.id: float(nearest[k]) for k, p in enumerate(packages)}


def _run_travel(view: RunsView, carer: int, run: Sequence[Stop]) -> float:
    if not run:
        return 0.0
    base = int(view.base_point[carer])
    legs = [base, *(s.point for s in run), base]
    return sum(view.minutes(carer, a, b) for a, b in itertools.pairwise(legs))


def _provider_moves(
    snapshot: Snapshot,
    travel: TravelMatrix,
    options: ReoptimiseOptions,
    deadline: float,
    newly_placed: set[str],
) -> tuple[Snapshot, list[ProviderMove]]:
    """Phase 2. Referrals placed tonight (``newly_placed``) stay where they were placed: a
    move is a change for a client already receiving care."""
    view = RunsView(snapshot, travel)
    movable = [
        p
        for p in snapshot.packages
        if not p.locked
        and not any(a.locked for a in p.assignments)
        and p.provider_id
        and p.id not in newly_placed
    ]
    savings = {p.id: _removal_saving(view, p) for p in movable}
    nearest = _nearest_other_provider(snapshot, travel, movable)
    # Most likely gain first: what leaving saves less a cheap guess of what joining another
    # provider's runs costs (a detour to its nearest carer or client for every carer-visit).
    # Without the guess the remote clients nobody else reaches stay at the top night after
    # night, and the clients who could move are never tried. Clients no other provider may
    # take are not tried at all.
    ranked = sorted(
        (
            p
            for p in movable
            if savings[p.id] > options.provider_move_cost_min and nearest[p.id] < np.inf
        ),
        key=lambda p: -(savings[p.id] - nearest[p.id] * _occurrences(p)),
    )
    moves: list[ProviderMove] = []
    names = {p.id: p.name for p in snapshot.providers}
    for package in ranked:
        if len(moves) >= options.max_moves or time.monotonic() > deadline:
            break
        saving = _removal_saving(view, package)  # moves already made may have changed it
        if saving <= options.provider_move_cost_min:
            continue
        as_referral = package.model_copy(update={"provider_id": None, "assignments": []})
        without = snapshot.model_copy(
            update={
                "packages": [p for p in snapshot.packages if p.id != package.id],
                "referrals": [*snapshot.referrals, as_referral],
            }
        )
        trial = view.with_packages_changed(without, [package], [])
        # Only whether each other provider can take every call matters here: a draft stops
        # at its first call that does not fit, without working out why.
        drafts = [
            draft_offer(trial, as_referral, provider, max_failures=0)
            for provider in trial.snapshot.providers
            if provider.id != package.provider_id
        ]
        best = next(
            (d for d, _ in rank(trial, as_referral, [d for d in drafts if d.feasible])), None
        )
        if best is None:
            continue
        gain = saving - best.added_travel_min
        if gain <= options.provider_move_cost_min:
            continue
        placed = draft_placement(package.id, best)
        moved = package.model_copy(
            update={"provider_id": best.provider.id, "assignments": placed.assignments}
        )
        snapshot = without.model_copy(
            update={
                "packages": [*without.packages, moved],
                "referrals": snapshot.referrals,
            }
        )
        view = trial.with_packages_changed(snapshot, [], [moved])
        assert package.provider_id is not None
        moves.append(
            ProviderMove(
                package_id=package.id,
                from_provider_id=package.provider_id,
                to_provider_id=best.provider.id,
                travel_saved_min_per_week=round(gain, 1),
                reason=f"{names.get(best.provider.id, best.provider.id)}'s carers already pass "
                f"nearby: their runs absorb the visits with {best.added_travel_min:.0f} more "
                f"minutes of travel a week, where {names.get(package.provider_id, '')} spends "
                f"{saving:.0f} minutes reaching this client.",
            )
        )
    return snapshot, moves


# --- the diff -------------------------------------------------------------------------------


def _runs_by_carer_day(
    placements: Iterator[tuple[Package, list[Assignment]]],
) -> dict[tuple[str, str], list[tuple[int, tuple[float, float]]]]:
    runs: dict[tuple[str, str], list[tuple[int, tuple[float, float]]]] = defaultdict(list)
    for package, assignments in placements:
        for a in assignments:
            for c in a.carer_ids:
                runs[(c, a.day)].append((a.start_min, package.location))
    for stops in runs.values():
        stops.sort()
    return runs


def _changes(
    before: Snapshot,
    improved: Snapshot,
    plan: Plan,
    moves: list[ProviderMove],
    travel: TravelMatrix,
) -> PlanChanges:
    packages = {p.id: p for p in before.packages}
    carers = {c.id: c for c in before.carers}
    old_runs = _runs_by_carer_day((p, p.assignments) for p in before.packages)
    new_runs = _runs_by_carer_day(
        (packages[p.id], p.assignments) for p in improved.packages if p.id in packages
    )

    def run_travel(carer_id: str, day: str, stops: list[tuple[int, tuple[float, float]]]) -> float:
        carer = carers[carer_id]
        minutes = travel.minutes[carer.travel_mode]
        total = 0.0
        for shift in carer.shifts_on(day):
            inside = [pt for start, pt in stops if shift.start_min <= start < shift.end_min]
            if not inside:
                continue
            legs = [carer.base, *inside, carer.base]
            total += float(
                sum(minutes[travel.index(a), travel.index(b)] for a, b in itertools.pairwise(legs))
            )
        return total

    runs_changed = []
    total_before = total_after = 0.0
    for key in sorted(old_runs.keys() | new_runs.keys()):
        carer_id, day = key
        old, new = old_runs.get(key, []), new_runs.get(key, [])
        t_old = run_travel(carer_id, day, old) if old else 0.0
        t_new = run_travel(carer_id, day, new) if new else 0.0
        total_before += t_old
        total_after += t_new
        if old != new:
            runs_changed.append(
                RunChange(
                    carer_id=carer_id,
                    day=day,
                    visits_before=len(old),
                    visits_after=len(new),
                    travel_min_before=round(t_old, 1),
                    travel_min_after=round(t_new, 1),
                )
            )
    new_carer = new_time = 0
    clients = set()
    for p in improved.packages:
        old_p = packages.get(p.id)
        if old_p is None:
            continue
        was = {a.key: a for a in old_p.assignments}
        for a in p.assignments:
            o = was.get(a.key)
            if o is None:
                continue
            if sorted(o.carer_ids) != sorted(a.carer_ids):
                new_carer += 1
                clients.add(p.id)
            elif o.start_min != a.start_min:
                new_time += 1
    # A part package's placement covers the calls that start: count those hours only.
    waiting = {r.id: r for r in before.with_part_packages(plan.part_packages).referrals}
    newly = sorted(pl.package_id for pl in plan.placements if pl.package_id in waiting)
    return PlanChanges(
        travel_min_per_week_before=round(total_before, 1),
        travel_min_per_week_after=round(total_after, 1),
        travel_min_per_week_saved=round(total_before - total_after, 1),
        provider_moves=moves,
        visits_with_new_carer=new_carer,
        visits_with_new_time=new_time,
        clients_with_new_carer=len(clients),
        runs_changed=runs_changed,
        newly_placed_package_ids=newly,
        waiting_hours_newly_placed_per_week=round(sum(waiting[i].weekly_hours for i in newly), 2),
    )
