"""Joint placement of a batch of referrals (a morning's hospital discharges) with CP-SAT.

Placing referrals one by one lets the first claim a gap a later, harder one needed. Here every
referral's ways of being placed are generated first, then chosen together:

1. **Options.** For each referral and each provider that may take it, the best insertion into
   the current runs (an offer), and alternatives found by leaving out, one at a time, each
   carer that offer used. The sequential best-offer placement's choices are options too.
2. **Conflicts.** Two options of different referrals that share a carer's day conflict when
   their visits cannot all fit that day together (the exact run check of
   :meth:`allocator.runs.RunsView.run_fits`). Three or more options that fit pairwise but not
   together are caught after solving and forbidden by a cut, and the model is solved again.
3. **Objective**, lexicographic in effect: carer hours placed, weighted by urgency (hospital
   discharges x3, urgent x2, routine x1, each +1/28 per day waited, up to double), first; then
   the added cost (care, paid travel time and mileage, any adjacent-lot penalty) plus
   :attr:`BatchSettings.locality_penalty_gbp` for every provider newly serving a locality,
   which keeps each place served by few providers.

Existing visits keep their carers and times. The sequential placement is a feasible solution of
the model and is given as a hint, and the model requires at least its hours, so the joint
result places at least as many hours; if it then adds more travel for the same hours, the
sequential result is returned instead. Runs are deterministic for a given seed: one search
worker, stopped on CP-SAT's deterministic time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.greedy import SequentialPolicy, place_into
from allocator.model import (
    Offer,
    Package,
    Plan,
    ReasonCode,
    Snapshot,
    SolverInfo,
    Unplaced,
    Urgency,
)
from allocator.offers import Draft, OfferSettings, draft_offer, lot_standing, ranked_drafts
from allocator.placement import (
    NEXT_STEP,
    build_plan,
    draft_placement,
    placement_order,
    unplaced_reason,
)
from allocator.runs import RunsView, Stop
from allocator.travel import TravelMatrix

URGENCY_WEIGHT = {Urgency.DISCHARGE_PATHWAY_1: 3.0, Urgency.URGENT: 2.0, Urgency.ROUTINE: 1.0}
_HOURS_SCALE = 100  # weighted hours to 1/100
_PRIMARY = 10**7  # one 1/100 weighted hour outweighs any difference in pence of cost
_PENCE = 100


@dataclass(frozen=True)
class BatchSettings:
    """Tuning of joint placement."""

    alternatives: int = 3
    """Extra options per referral and provider, each leaving out one carer of the best."""
    locality_penalty_gbp: float = 40.0
    """Weekly cost-equivalent of one more provider serving a locality."""
    max_cut_rounds: int = 25
    offer_settings: OfferSettings = field(default_factory=OfferSettings)


@dataclass
class _Option:
    referral: Package
    draft: Draft
    cost_gbp: float
    by_day: dict[tuple[int, str], list[Stop]]

    @property
    def provider_id(self) -> str:
        return self.draft.provider.id


def urgency_weight(package: Package, now: dt.datetime) -> float:
    """How much one carer hour of this package counts: urgency, then days waited."""
    waited_days = max(0.0, (now - package.waiting_since).total_seconds() / 86400)
    return URGENCY_WEIGHT[package.urgency] * min(2.0, 1.0 + waited_days / 28)


def place_batch(
    snapshot: Snapshot,
    travel: TravelMatrix,
    referral_ids: Sequence[str] | None = None,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    settings: BatchSettings | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """Place referrals jointly.

    Parameters
    ----------
    snapshot, travel
        The situation; existing visits keep their carers and times.
    referral_ids
        The batch (every referral by default); others are listed as not attempted.
    time_limit_s
        CP-SAT's budget in deterministic time (roughly seconds on one core).
    seed
        CP-SAT's random seed; the same seed and input give the same plan.
    now
        The time waiting is measured to (defaults to now; pass it for reproducible weights).
    """
    started = time.perf_counter()
    settings = settings or BatchSettings()
    now = now or dt.datetime.now(dt.UTC)
    wanted = set(referral_ids) if referral_ids is not None else {r.id for r in snapshot.referrals}
    batch = placement_order(r for r in snapshot.referrals if r.id in wanted)
    view = RunsView(snapshot, travel)

    greedy_view = view.copy()
    greedy_drafts, greedy_unplaced = place_into(
        greedy_view,
        snapshot,
        SequentialPolicy.BEST_OFFER,
        [r.id for r in batch],
        settings.offer_settings,
    )
    options, alone_offers = _options(view, batch, greedy_drafts, settings)
    chosen, status, objective = _solve(
        view, snapshot, batch, options, greedy_drafts, time_limit_s, seed, settings, now
    )
    if chosen is None or not _better_or_equal(view, batch, chosen, greedy_drafts):
        placed = {pid: draft_placement(pid, d) for pid, d in greedy_drafts.items()}
        solver = SolverInfo(
            name="joint-cpsat",
            seed=seed,
            time_limit_s=time_limit_s,
            status="sequential result kept: the joint search found nothing better",
            wall_time_s=round(time.perf_counter() - started, 3),
        )
        return build_plan(snapshot, placed, greedy_unplaced, solver)

    placed = {o.referral.id: draft_placement(o.referral.id, o.draft) for o in chosen}
    unplaced = []
    winners = {o.referral.id for o in chosen}
    for referral in batch:
        if referral.id in winners:
            continue
        if any(o.referral.id == referral.id for o in options):
            rivals = sorted(
                {o.referral.id for o in chosen if _shares_carers(o, options, referral.id)}
            )
            who = f" ({', '.join(rivals[:5])})" if rivals else ""
            unplaced.append(
                Unplaced(
                    package_id=referral.id,
                    reason_code=ReasonCode.LOWER_PRIORITY,
                    reason="The carers' free time that could take it went to more urgent or "
                    f"better-fitting referrals in this batch{who}; "
                    f"{NEXT_STEP[ReasonCode.LOWER_PRIORITY]}.",
                    weekly_hours=round(referral.weekly_hours, 2),
                )
            )
        else:
            unplaced.append(unplaced_reason(referral, alone_offers[referral.id]))
    solver = SolverInfo(
        name="joint-cpsat",
        seed=seed,
        time_limit_s=time_limit_s,
        status=status,
        objective=objective,
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    return build_plan(snapshot, placed, unplaced, solver)


def _better_or_equal(
    view: RunsView, batch: list[Package], chosen: list[_Option], greedy: dict[str, Draft]
) -> bool:
    """At least the sequential hours, and no more travel when the hours are the same."""
    greedy_hours = sum(r.weekly_hours for r in batch if r.id in greedy)
    joint_hours = sum(o.referral.weekly_hours for o in chosen)
    if joint_hours + 1e-9 < greedy_hours:
        return False
    if joint_hours > greedy_hours + 1e-9:
        return True
    joint_travel = added_travel(view, [o.draft for o in chosen])
    return joint_travel <= added_travel(view, list(greedy.values())) + 1e-6


def _shares_carers(option: _Option, options: list[_Option], referral_id: str) -> bool:
    keys = set(option.by_day)
    return any(o.referral.id == referral_id and keys & set(o.by_day) for o in options)


def _by_day(draft: Draft) -> dict[tuple[int, str], list[Stop]]:
    grouped: dict[tuple[int, str], list[Stop]] = defaultdict(list)
    for carer, day, stop in draft.stops:
        grouped[(carer, day)].append(stop)
    return dict(grouped)


def _options(
    view: RunsView,
    batch: list[Package],
    greedy: dict[str, Draft],
    settings: BatchSettings,
) -> tuple[list[_Option], dict[str, list[Offer]]]:
    options: list[_Option] = []
    offers: dict[str, list[Offer]] = {}
    costs = view.snapshot.costs
    for referral in batch:
        ranked = ranked_drafts(view, referral, settings.offer_settings)
        offers[referral.id] = [offer for _, offer in ranked]
        seen: set[tuple[tuple[int, str, Stop], ...]] = set()
        candidates = [d for d, _ in ranked if d.feasible]
        for best in list(candidates):
            used = sorted({c for c, _, _ in best.stops})
            for carer in used[: settings.alternatives]:
                alt = draft_offer(
                    view,
                    referral,
                    best.provider,
                    settings.offer_settings,
                    excluded_carers=frozenset({carer}),
                )
                if alt.feasible:
                    candidates.append(alt)
        if referral.id in greedy:
            candidates.append(greedy[referral.id])
        for draft in candidates:
            key = tuple(sorted(draft.stops, key=lambda s: (s[0], s[1], s[2].start_min)))
            if key in seen:
                continue
            seen.add(key)
            standing = lot_standing(view, referral, draft.provider)
            penalty = 0.0 if standing else costs.adjacent_lot_penalty_gbp
            cost = (
                referral.weekly_hours * draft.provider.hourly_rate_gbp
                + draft.added_travel_min / 60 * costs.travel_gbp_per_hour
                + draft.added_km * costs.mileage_gbp_per_km
                + penalty
            )
            options.append(_Option(referral, draft, cost, _by_day(draft)))
    return options, offers


def _conflicts(view: RunsView, options: list[_Option]) -> list[tuple[int, int]]:
    """Pairs of options of different referrals that cannot share a carer's day."""
    users: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        for key in option.by_day:
            users[key].append(i)
    checked: dict[tuple[int, int], bool] = {}
    for (carer, day), members in users.items():
        for a, b in itertools.combinations(members, 2):
            if options[a].referral.id == options[b].referral.id:
                continue
            pair = (min(a, b), max(a, b))
            if checked.get(pair) is False:
                continue
            stops = options[a].by_day[(carer, day)] + options[b].by_day[(carer, day)]
            checked[pair] = view.run_fits(carer, day, stops) and checked.get(pair, True)
    return [pair for pair, fits in checked.items() if not fits]


def _solve(
    view: RunsView,
    snapshot: Snapshot,
    batch: list[Package],
    options: list[_Option],
    greedy: dict[str, Draft],
    time_limit_s: float,
    seed: int,
    settings: BatchSettings,
    now: dt.datetime,
) -> tuple[list[_Option] | None, str, float | None]:
    if not options:
        return [], "nothing to place", 0.0
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"option_{i}") for i in range(len(options))]
    by_referral: dict[str, list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        by_referral[option.referral.id].append(i)
    for members in by_referral.values():
        model.add_at_most_one(x[i] for i in members)
    for a, b in _conflicts(view, options):
        model.add_bool_or([x[a].Not(), x[b].Not()])

    hours = {r.id: round(r.weekly_hours * _HOURS_SCALE) for r in batch}
    greedy_hours = sum(hours[r] for r in greedy)
    model.add(sum(hours[o.referral.id] * x[i] for i, o in enumerate(options)) >= greedy_hours)

    served = {
        (p.locality or "", p.provider_id) for p in snapshot.packages if p.provider_id is not None
    }
    locality_terms = []
    newcomers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        key = (option.referral.locality or "", option.provider_id)
        if key not in served:
            newcomers[key].append(i)
    for members in newcomers.values():
        y = model.new_bool_var("")
        for i in members:
            model.add_implication(x[i], y)
        locality_terms.append(y)

    gain = [
        round(urgency_weight(o.referral, now) * o.referral.weekly_hours * _HOURS_SCALE) * _PRIMARY
        - round(o.cost_gbp * _PENCE)
        for o in options
    ]
    penalty = round(settings.locality_penalty_gbp * _PENCE)
    model.maximize(
        sum(g * xi for g, xi in zip(gain, x, strict=True)) - penalty * sum(locality_terms)
    )

    greedy_keys = {id(d) for d in greedy.values()}
    for i, option in enumerate(options):
        model.add_hint(x[i], id(option.draft) in greedy_keys)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = max(1.0, 3 * time_limit_s)
    for _ in range(settings.max_cut_rounds):
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, solver.status_name(status), None
        chosen = [i for i in range(len(options)) if solver.boolean_value(x[i])]
        broken = _broken_days(view, [options[i] for i in chosen])
        if not broken:
            return [options[i] for i in chosen], solver.status_name(status), solver.objective_value
        for carer_day in broken:
            members = [i for i in chosen if carer_day in options[i].by_day]
            model.add(sum(x[i] for i in members) <= len(members) - 1)
    return None, "cut rounds exhausted", None


def _broken_days(view: RunsView, chosen: list[_Option]) -> list[tuple[int, str]]:
    """Carer days where the chosen options' visits cannot all fit together."""
    together: dict[tuple[int, str], list[Stop]] = defaultdict(list)
    for option in chosen:
        for key, stops in option.by_day.items():
            together[key].extend(stops)
    return [key for key, stops in together.items() if not view.run_fits(key[0], key[1], stops)]


def added_travel(view: RunsView, drafts: list[Draft]) -> float:
    """True added travel minutes of a set of drafts placed together (not the sum of each alone)."""
    after = view.copy()
    touched: set[tuple[int, str]] = set()
    for draft in drafts:
        for carer, day, stop in draft.stops:
            after.insert(carer, day, stop)
            touched.add((carer, day))
    return sum(after.travel_min(c, d) - view.travel_min(c, d) for c, d in touched)
