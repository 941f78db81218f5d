"""Fitting waiting referrals by handing visits over between a provider's carers.

A referral often waits for want of a few calls: the carer who could reach the client at
lunchtime is across the water with another client, whose visit a colleague based there could
do as well. A provider's coordinator sorts that out on the phone; this module does it for the
nightly re-optimisation (:mod:`allocator.reoptimise`).

For each waiting referral, every call of its week is fitted into a provider's runs as the
offer engine fits it (:func:`allocator.offers.fit_occurrence`). When a call fits nowhere, one
visit of another client that is in the way (on the day, within an hour of the call's window,
in the run of a carer who may do the call) is **handed over**: taken out of that run and put
in the run of a carer of the same provider who may do it (skills, the client's gender
preference and declined carers), at a start within its own window (the same carer at another
time counts too). The handover is kept when the call then fits. A double-handed call may
need a visit handed over from each of the two carers it needs. Only single-carer visits of
unlocked packages and unlocked visits are handed over, each client keeps within the
council's continuity cap, and a visit of a referral placed tonight stays where it was put.

The referral is placed only when every call of its week fits (all or nothing), with at most
``max_handovers`` handovers; otherwise nothing changes. Referrals are taken most urgent first,
then longest waiting; each is tried with the client's preferred provider first (when it may
take them), then the providers whose runs as they stand miss fewest of its calls, at most
``providers_per_referral`` in all.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allocator.model import DAYS, Assignment, Package, Provider, Snapshot, Visit
from allocator.offers import (
    OfferSettings,
    draft_offer,
    eligible_carers,
    fit_occurrence,
    insert_call,
    lot_standing,
    placing_order,
)
from allocator.placement import placement_order, with_placed
from allocator.runs import Insertion, RunsView, Stop
from allocator.travel import TravelMatrix

_NEAR_WINDOW_MIN = 60
"""A visit is "in the way" of a call when it lies within this many minutes of the call's
window."""
_PARTNER_TRIES = 10
"""For a double-handed call, second carers tried for each first one freed."""


@dataclass(frozen=True)
class HandoverSettings:
    """How far the search goes."""

    max_handovers: int = 12
    """Visits of other clients that may be handed over to fit one referral."""
    tries_per_call: int = 200
    """Visits in the way tried for one call, nearest to the client first."""
    providers_per_referral: int = 4
    """Providers tried for each referral, the client's preferred provider first."""
    choices_per_call: int = 4
    """Ways of freeing room for one call compared before one is taken: the one adding least
    travel (the call's and the handed-over visits') wins."""
    max_travel_per_care_hour: float | None = None
    """Most minutes of carers' travel a referral placed this way may add per carer hour of
    care it receives (its calls' and the handed-over visits' travel, as the simulation's
    travel per contact hour counts them); None places it at any cost.
    The dial between placing remote clients and keeping travel down."""


@dataclass(frozen=True)
class Handover:
    """One visit occurrence of a placed client given to another carer (or time)."""

    package_id: str
    visit_id: str
    day: str
    from_carer_id: str
    to_carer_id: str
    from_start_min: int
    to_start_min: int
    for_referral_id: str


@dataclass
class HandoverResult:
    """What the handovers did: the snapshot after them and what changed."""

    snapshot: Snapshot
    placed: dict[str, str] = field(default_factory=dict)
    """Referral id to the provider that took it."""
    handovers: list[Handover] = field(default_factory=list)


@dataclass
class _Fit:
    """One referral's week being fitted into one provider's runs."""

    view: RunsView
    movable: set[tuple[str, str, str]]
    """(package, visit, day) occurrences that may still be handed over."""
    assignments: list[Assignment] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)


def fit_with_handovers(
    snapshot: Snapshot,
    travel: TravelMatrix,
    *,
    settings: HandoverSettings | None = None,
    deadline: float | None = None,
    offer_settings: OfferSettings | None = None,
) -> HandoverResult:
    """Place ``snapshot``'s waiting referrals, handing visits over where needed (see the
    module docstring).

    Parameters
    ----------
    snapshot, travel
        Placed packages with their runs, and the referrals waiting.
    deadline
        A :func:`time.monotonic` time after which no further referral is tried.

    Returns
    -------
    HandoverResult
        The snapshot with the referrals placed and the handed-over visits changed.
    """
    settings = settings or HandoverSettings()
    offer_settings = offer_settings or OfferSettings()
    view = RunsView(snapshot, travel)
    packages = {p.id: p for p in snapshot.packages if not p.locked and p.provider_id}
    movable: set[tuple[str, str, str]] = set()
    carers_of: dict[str, set[str]] = defaultdict(set)
    for package in packages.values():
        single = {v.id for v in package.visits if v.carers_required == 1}
        for a in package.assignments:
            carers_of[package.id].update(a.carer_ids)
            if a.visit_id in single and not a.locked:
                movable.add((package.id, a.visit_id, a.day))
    search = _Search(
        packages=packages,
        carers_of=carers_of,
        cap=snapshot.policy.max_distinct_carers_per_client,
        settings=settings,
        bonus=offer_settings.continuity_bonus_min,
    )
    result = HandoverResult(snapshot=snapshot)
    new_assignments: dict[str, list[Assignment]] = {}
    for referral in placement_order(snapshot.referrals):
        if deadline is not None and time.monotonic() > deadline:
            break
        for provider in _providers_to_try(view, referral, settings, offer_settings):
            fit = search.fit(_Fit(view=view.copy(), movable=set(movable)), referral, provider)
            if fit is None or _too_far(view, fit.view, referral, provider, settings):
                continue
            view, movable = fit.view, fit.movable
            for h in fit.handovers:
                carers_of[h.package_id].add(h.to_carer_id)
            result.placed[referral.id] = provider.id
            result.handovers.extend(fit.handovers)
            new_assignments[referral.id] = sorted(
                fit.assignments, key=lambda a: (DAYS.index(a.day), a.start_min, a.visit_id)
            )
            break
    result.snapshot = _applied(snapshot, result, new_assignments)
    return result


def _too_far(
    before: RunsView,
    after: RunsView,
    referral: Package,
    provider: Provider,
    settings: HandoverSettings,
) -> bool:
    """Whether placing ``referral`` adds more travel per hour of care than the settings allow
    (the provider's carers' travel on the referral's days, after against before)."""
    limit = settings.max_travel_per_care_hour
    if limit is None:
        return False
    days = {d for v in referral.visits for d in v.days}
    carers = before.provider_carers.get(provider.id, [])
    added = sum(after.travel_min(c, d) - before.travel_min(c, d) for c in carers for d in days)
    return added > limit * referral.weekly_carer_min / 60


def _providers_to_try(
    view: RunsView,
    referral: Package,
    settings: HandoverSettings,
    offer_settings: OfferSettings,
) -> list[Provider]:
    """Providers that may take the referral and whose runs as they stand miss at most
    ``max_handovers`` of its calls: the client's preferred provider first, then those that
    miss fewest, then those adding least travel."""
    ranked: list[tuple[bool, int, float, str, Provider]] = []
    preferred = referral.preferences.preferred_provider_id
    for provider in view.snapshot.providers:
        if lot_standing(view, referral, provider) is None:
            continue
        draft = draft_offer(
            view, referral, provider, offer_settings, max_failures=settings.max_handovers
        )
        missing = len(draft.failures)
        if missing > settings.max_handovers:
            continue
        key = (provider.id != preferred, missing, draft.added_travel_min, provider.id)
        ranked.append((*key, provider))
    ranked.sort(key=lambda r: r[:4])
    return [r[4] for r in ranked[: settings.providers_per_referral]]


@dataclass(frozen=True)
class _Search:
    packages: dict[str, Package]
    carers_of: dict[str, set[str]]
    """Carers each placed client has this week (continuity)."""
    cap: int | None
    settings: HandoverSettings
    bonus: float

    def fit(self, fit: _Fit, referral: Package, provider: Provider) -> _Fit | None:
        """Every call of ``referral``'s week in ``provider``'s runs, handing visits over
        where a call fits nowhere; None when some call cannot be fitted."""
        view = fit.view
        carers = view.provider_carers.get(provider.id, [])
        masks = {}
        for v in referral.visits:
            mask, failure = eligible_carers(view, referral, v, carers, provider)
            if failure is not None or mask is None:
                return None
            masks[v.id] = mask
        point = view.point_of(referral)
        used: set[int] = set()
        for visit, day in placing_order(referral):
            call = _Call(referral, visit, day, masks[visit.id], point)
            chosen, _, _ = fit_occurrence(
                fit.view, provider.id, visit, day, call.mask, point, used, self.bonus
            )
            if chosen is None:
                if len(fit.handovers) >= self.settings.max_handovers:
                    return None
                chosen = self._hand_over(fit, provider, call)
                if chosen is None:
                    return None
            start, insertions = chosen
            fit.assignments.append(insert_call(fit.view, day, call.stop(start), insertions, used))
        return fit

    def _hand_over(
        self, fit: _Fit, provider: Provider, call: _Call
    ) -> tuple[int, list[Insertion]] | None:
        """Hand visits in the way over so the call fits (one visit, or for a double-handed
        call one visit from each of two carers); on success ``fit`` holds the changed runs
        (without the call) and the call's start and gap(s) are returned."""
        view, day, visit = fit.view, call.day, call.visit
        candidates = _in_the_way(fit, call)[: self.settings.tries_per_call]
        best: tuple[float, RunsView, list[Handover], tuple[int, list[Insertion]]] | None = None
        found = 0
        for carer, stop in candidates:
            trial = view.copy()
            trial.remove(carer, day, stop)
            removed = [(carer, stop)]
            chosen, _, _ = fit_occurrence(
                trial, provider.id, visit, day, call.mask, call.point, set(), self.bonus
            )
            if chosen is None and visit.carers_required == 2:
                # Two carers must arrive together: free a second one the same way.
                partners = [c for c in candidates if c[0] != carer][:_PARTNER_TRIES]
                for partner, second in partners:
                    both = trial.copy()
                    both.remove(partner, day, second)
                    chosen, _, _ = fit_occurrence(
                        both, provider.id, visit, day, call.mask, call.point, set(), self.bonus
                    )
                    if chosen is not None:
                        trial = both
                        removed.append((partner, second))
                        break
            if chosen is None:
                continue
            rehomed = self._rehome(trial, fit, provider, call, chosen, removed)
            if rehomed is None:
                continue
            handovers, added = rehomed
            if best is None or added < best[0]:
                best = (added, trial, handovers, chosen)
            found += 1
            if found >= self.settings.choices_per_call:
                break
        if best is None:
            return None
        _, fit.view, handovers, chosen = best
        fit.handovers.extend(handovers)
        return chosen

    def _rehome(
        self,
        trial: RunsView,
        fit: _Fit,
        provider: Provider,
        call: _Call,
        chosen: tuple[int, list[Insertion]],
        removed: list[tuple[int, Stop]],
    ) -> tuple[list[Handover], float] | None:
        """Give each removed visit to a carer who may do it, within its own window, while
        the call holds its place; ``trial`` then has them (and not the call). Returns the
        handovers and the travel minutes they and the call add to the day; None when a
        removed visit finds no carer."""
        day = call.day
        touched = {carer for carer, _ in removed} | {ins.carer for ins in chosen[1]}
        before = sum(fit.view.travel_min(c, day) for c in touched)
        held = call.stop(chosen[0])
        for ins in chosen[1]:
            trial.insert(ins.carer, day, held)
        others = trial.provider_carers.get(provider.id, [])
        handovers = []
        for carer, stop in removed:
            package = self.packages[stop.package_id]
            visit = package.visit(stop.visit_id)
            mask = self._may_take(trial, package, visit, others, provider, fit)
            taken = None
            if mask is not None:
                taken, _, _ = fit_occurrence(
                    trial, provider.id, visit, day, mask, stop.point, set(), self.bonus
                )
            if taken is None:
                return None
            start, [gap] = taken
            moved = Stop(start, start + visit.duration_min, stop.point, package.id, visit.id)
            trial.insert(gap.carer, day, moved)
            if gap.carer not in touched:
                touched.add(gap.carer)
                before += fit.view.travel_min(gap.carer, day)
            handovers.append(
                Handover(
                    package_id=package.id,
                    visit_id=visit.id,
                    day=day,
                    from_carer_id=trial.carers[carer].id,
                    to_carer_id=trial.carers[gap.carer].id,
                    from_start_min=stop.start_min,
                    to_start_min=start,
                    for_referral_id=call.referral.id,
                )
            )
        added = sum(trial.travel_min(c, day) for c in touched) - before
        for ins in chosen[1]:
            trial.remove(ins.carer, day, held)
        return handovers, added

    def _may_take(
        self,
        view: RunsView,
        package: Package,
        visit: Visit,
        carers: list[int],
        provider: Provider,
        fit: _Fit,
    ) -> npt.NDArray[np.bool_] | None:
        """Carers who may take a visit handed over: eligible, and within the continuity cap
        (a client at the cap keeps to carers they already have)."""
        mask, failure = eligible_carers(view, package, visit, carers, provider)
        if failure is not None or mask is None:
            return None
        if self.cap is not None:
            known = self.carers_of[package.id] | {
                h.to_carer_id for h in fit.handovers if h.package_id == package.id
            }
            if len(known) >= self.cap:
                allowed = np.zeros_like(mask)
                allowed[[view.carer_index[c] for c in known if c in view.carer_index]] = True
                mask &= allowed
        return mask


def _in_the_way(fit: _Fit, call: _Call) -> list[tuple[int, Stop]]:
    """Visits that may be handed over (``fit.movable``) in the run of a carer who may do the
    call, on its day and within an hour of its window, whose removal leaves that carer time
    for the call; nearest the client first."""
    view, day, visit = fit.view, call.day, call.visit
    low = visit.earliest_start_min - _NEAR_WINDOW_MIN
    high = visit.latest_start_min + visit.duration_min + _NEAR_WINDOW_MIN
    found: list[tuple[float, int, int, Stop]] = []
    for carer in (int(c) for c in np.flatnonzero(call.mask)):
        for run in view.day(carer, day).runs:
            for stop in run:
                if stop.end_min < low or stop.start_min > high:
                    continue
                if (stop.package_id, stop.visit_id, day) not in fit.movable:
                    continue
                if _frees_room(view, carer, day, stop, call):
                    found.append(
                        (view.minutes(carer, stop.point, call.point), carer, stop.start_min, stop)
                    )
    found.sort(key=lambda x: x[:3])
    return [(carer, stop) for _, carer, _, stop in found]


def _frees_room(view: RunsView, carer: int, day: str, stop: Stop, call: _Call) -> bool:
    """Whether taking ``stop`` out of the carer's run leaves a gap the call fits in by time
    and travel (a quick test before the full one; the working maximum is not looked at)."""
    carer_day = view.day(carer, day)
    base = int(view.base_point[carer])
    for (start, end), run in zip(carer_day.shifts, carer_day.runs, strict=True):
        if stop not in run:
            continue
        k = run.index(stop)
        prev_min, prev_point = (start, base) if k == 0 else (run[k - 1].end_min, run[k - 1].point)
        next_min, next_point = (
            (end, base) if k == len(run) - 1 else (run[k + 1].start_min, run[k + 1].point)
        )
        visit = call.visit
        begin = max(
            visit.earliest_start_min, prev_min + view.minutes(carer, prev_point, call.point)
        )
        finish = begin + visit.duration_min + view.minutes(carer, call.point, next_point)
        return begin <= visit.latest_start_min and finish <= next_min
    return False


@dataclass(frozen=True)
class _Call:
    """One visit occurrence of the referral being fitted."""

    referral: Package
    visit: Visit
    day: str
    mask: npt.NDArray[np.bool_]
    point: int

    def stop(self, start: int) -> Stop:
        return Stop(
            start, start + self.visit.duration_min, self.point, self.referral.id, self.visit.id
        )


def _applied(
    snapshot: Snapshot, result: HandoverResult, new_assignments: dict[str, list[Assignment]]
) -> Snapshot:
    """``snapshot`` with the handovers made and the referrals placed."""
    # A visit handed over twice ends with its last carer.
    moved = {(h.package_id, h.visit_id, h.day): h for h in result.handovers}
    changed = {k[0] for k in moved}
    packages = []
    for package in snapshot.packages:
        if package.id not in changed:
            packages.append(package)
            continue
        assignments = []
        for a in package.assignments:
            last = moved.get((package.id, a.visit_id, a.day))
            update = (
                {}
                if last is None
                else {"carer_ids": [last.to_carer_id], "start_min": last.to_start_min}
            )
            assignments.append(a.model_copy(update=update))
        packages.append(package.model_copy(update={"assignments": assignments}))
    placed = {k: (provider_id, new_assignments[k]) for k, provider_id in result.placed.items()}
    return with_placed(snapshot.model_copy(update={"packages": packages}), placed)
