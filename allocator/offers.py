"""Offers: which providers' existing runs can absorb a package, at what added travel and cost.

For each provider, every visit occurrence of the package's week is inserted into a gap of one
of its carers' runs (two carers starting together for a double-handed call), respecting
windows, travel, shifts, daily working minutes, skills, the client's gender preference and
declined carers. Occurrences are placed one by one on a private copy of the runs, so visits of
the same package on the same day see each other. A provider that can take only some of the
visits makes no feasible offer: the failing visits are listed with the reason for each.

Among the gaps that fit, the one adding the least travel wins, with a bonus of
:attr:`OfferSettings.continuity_bonus_min` for a carer the client already has this week: a
client sees few different carers unless that costs real travel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from allocator.model import (
    DAY_NAMES,
    DAYS,
    Assignment,
    Lot,
    Offer,
    Package,
    Provider,
    ReasonCode,
    Snapshot,
    Visit,
    VisitFailure,
    format_time,
)
from allocator.runs import Insertion, RunsView, Stop
from allocator.travel import TravelMatrix


@dataclass(frozen=True)
class OfferSettings:
    """How offers trade travel against continuity."""

    continuity_bonus_min: float = 20.0
    """Extra weekly travel minutes worth accepting to keep a carer the client already has."""


@dataclass
class Draft:
    """One provider's attempt to absorb a package, before it becomes an :class:`Offer`."""

    provider: Provider
    in_own_lot: bool
    assignments: list[Assignment] = field(default_factory=list)
    stops: list[tuple[int, str, Stop]] = field(default_factory=list)
    """(carer index, day, stop) for every carer-visit the offer adds to the runs."""
    failures: list[VisitFailure] = field(default_factory=list)
    outside_lot: bool = False
    added_travel_min: float = 0.0
    added_km: float = 0.0

    @property
    def feasible(self) -> bool:
        """True when every occurrence found a place."""
        return not self.outside_lot and not self.failures


class OfferEngine:
    """The service's offer engine: compile a council's runs once, then answer offers fast."""

    def __init__(self, settings: OfferSettings | None = None) -> None:
        self.settings = settings or OfferSettings()

    def prepare(self, snapshot: Snapshot, travel: TravelMatrix) -> RunsView:
        """Compile the snapshot's runs for insertion."""
        return RunsView(snapshot, travel)

    def offers(self, prepared: Any, package: Package) -> list[Offer]:
        """Every provider ranked for ``package``."""
        return make_offers(prepared, package, self.settings)

    def update(
        self,
        prepared: Any,
        snapshot: Snapshot,
        removed: Sequence[Package],
        added: Sequence[Package],
    ) -> RunsView:
        """The view of ``snapshot`` derived from ``prepared`` when only placed packages (and
        referrals) changed: see :meth:`RunsView.with_packages_changed`."""
        view: RunsView = prepared
        return view.with_packages_changed(snapshot, removed, added)


def make_offers(
    view: RunsView, package: Package, settings: OfferSettings | None = None
) -> list[Offer]:
    """Every provider of the snapshot, ranked for ``package``: feasible offers first.

    Parameters
    ----------
    view
        The runs to insert into; it is not changed.
    package
        A referral (or a placed package being re-offered); its location must be in the
        view's travel matrix.

    Returns
    -------
    list of Offer
        Feasible offers first (the client's preferred provider first among them, then by added
        cost including any adjacent-lot penalty), then the others with their reasons.
    """
    return [offer for _, offer in ranked_drafts(view, package, settings)]


def ranked_drafts(
    view: RunsView, package: Package, settings: OfferSettings | None = None
) -> list[tuple[Draft, Offer]]:
    """Each provider's draft with its offer, best first (see :func:`make_offers`)."""
    settings = settings or OfferSettings()
    drafts = [draft_offer(view, package, p, settings) for p in view.snapshot.providers]
    return rank(view, package, drafts)


def lot_standing(view: RunsView, package: Package, provider: Provider) -> bool | None:
    """True when the provider holds the package's lot, False when it may work it as an
    adjacent lot, None when it may not take the package at all."""
    return standing_in_lots(view.snapshot.lots, package, provider)


def standing_in_lots(
    snapshot_lots: Sequence[Lot], package: Package, provider: Provider
) -> bool | None:
    """:func:`lot_standing` from the council's lots alone (no runs needed)."""
    if package.lot_id is None or package.lot_id in provider.lot_ids:
        return True
    if provider.works_adjacent_lots:
        lots = {lot.id: lot for lot in snapshot_lots}
        for lot_id in provider.lot_ids:
            if lot_id in lots and package.lot_id in lots[lot_id].adjacent_lot_ids:
                return False
    return None


def draft_offer(
    view: RunsView,
    package: Package,
    provider: Provider,
    settings: OfferSettings | None = None,
    *,
    excluded_carers: frozenset[int] = frozenset(),
    max_failures: int | None = None,
) -> Draft:
    """Try to absorb ``package`` into ``provider``'s runs (``view`` is left unchanged).

    ``excluded_carers`` (carer indices) are left out, which joint placement uses to find
    alternative ways for a provider to take a package. With ``max_failures`` the attempt
    stops once more than that many occurrences have failed (the rest are not tried).
    """
    settings = settings or OfferSettings()
    standing = lot_standing(view, package, provider)
    if standing is None:
        return Draft(provider=provider, in_own_lot=False, outside_lot=True)
    draft = Draft(provider=provider, in_own_lot=standing)
    carers = [c for c in view.provider_carers.get(provider.id, []) if c not in excluded_carers]
    eligible = {v.id: eligible_carers(view, package, v, carers, provider) for v in package.visits}
    local = view.copy()
    point = view.point_of(package)
    used: set[int] = set()
    for visit, day in placing_order(package):
        mask, failure = eligible[visit.id]
        if failure is not None:
            draft.failures.append(failure.model_copy(update={"day": day}))
            continue
        assert mask is not None
        chosen, found, within = fit_occurrence(
            local, provider.id, visit, day, mask, point, used, settings.continuity_bonus_min
        )
        if chosen is None:
            draft.failures.append(_why(local, provider, visit, day, mask, point, found, within))
            if max_failures is not None and len(draft.failures) > max_failures:
                break
            continue
        start, insertions = chosen
        stop = Stop(start, start + visit.duration_min, point, package.id, visit.id)
        draft.assignments.append(insert_call(local, day, stop, insertions, used))
        for ins in insertions:
            draft.stops.append((ins.carer, day, stop))
            draft.added_travel_min += ins.added_travel_min
            draft.added_km += ins.added_km
    draft.assignments.sort(key=lambda a: (DAYS.index(a.day), a.start_min, a.visit_id))
    return draft


def insert_call(
    view: RunsView, day: str, stop: Stop, insertions: Sequence[Insertion], used: set[int]
) -> Assignment:
    """Put a call into the runs at the gaps ``fit_occurrence`` chose (one per carer it
    needs), note its carers in ``used``, and return it as an assignment."""
    for ins in insertions:
        view.insert(ins.carer, day, stop)
        used.add(ins.carer)
    return Assignment(
        visit_id=stop.visit_id,
        day=day,
        carer_ids=[view.carers[ins.carer].id for ins in insertions],
        start_min=stop.start_min,
    )


def placing_order(package: Package) -> list[tuple[Visit, str]]:
    """A package's visit occurrences in the order they are fitted: day by day, double-handed
    calls first, then the tightest windows, then the earliest."""
    return sorted(
        package.occurrences(),
        key=lambda o: (
            DAYS.index(o[1]),
            -o[0].carers_required,
            o[0].latest_start_min - o[0].earliest_start_min,
            o[0].earliest_start_min,
        ),
    )


def fit_occurrence(
    view: RunsView,
    provider_id: str,
    visit: Visit,
    day: str,
    mask: npt.NDArray[np.bool_],
    point: int,
    used: set[int],
    continuity_bonus_min: float,
) -> tuple[tuple[int, list[Insertion]] | None, list[Insertion], list[Insertion]]:
    """The best start and gap(s) for one visit occurrence in the provider's runs as they
    stand (None when nothing fits), with every gap that fits the times (``found``) and those
    that also keep the carer within the working maximum (``within``), for :func:`_why`."""
    gaps = view.gaps(provider_id, day)
    found = view.insertions(
        gaps,
        mask[gaps.carer],
        point,
        visit.earliest_start_min,
        visit.latest_start_min,
        visit.duration_min,
    )
    within = [
        ins
        for ins in found
        if view.within_work_limit(ins, day, visit.duration_min)
        and not view.overlaps_orphans(
            ins.carer, day, ins.earliest_min, ins.latest_min + visit.duration_min
        )
    ]
    return _choose(within, visit.carers_required, used, continuity_bonus_min), found, within


def eligible_carers(
    view: RunsView, package: Package, visit: Visit, carers: list[int], provider: Provider
) -> tuple[npt.NDArray[np.bool_] | None, VisitFailure | None]:
    """Which of ``carers`` may do ``visit`` (a mask over all carers: skills, the client's
    gender preference, declined carers), or why none may."""
    label = _label(visit)

    def failure(code: ReasonCode, reason: str) -> tuple[None, VisitFailure]:
        return None, VisitFailure(
            visit_id=visit.id, day=visit.days[0], reason_code=code, reason=reason
        )

    if not carers:
        return failure(ReasonCode.NO_CARERS, f"{provider.name} has no carers on record")
    needed = set(visit.required_skills)
    skilled = [c for c in carers if needed <= set(view.carers[c].skills)]
    if not skilled:
        return failure(
            ReasonCode.NO_SKILL,
            f"No carer of {provider.name} has the {', '.join(sorted(needed))} skill needed for "
            f"the {label}",
        )
    gender = package.preferences.carer_gender
    matching = [c for c in skilled if gender is None or view.carers[c].gender == gender]
    if not matching:
        return failure(
            ReasonCode.GENDER_PREFERENCE,
            f"No {gender} carer of {provider.name} can do the {label}, and the client asked "
            f"for {gender} carers",
        )
    declined = set(package.preferences.declined_carer_ids)
    allowed = [c for c in matching if view.carers[c].id not in declined]
    if not allowed:
        return failure(
            ReasonCode.DECLINED_CARERS,
            f"Only carers the client declined ({', '.join(sorted(declined))}) could do the {label}",
        )
    if visit.carers_required == 2 and len(allowed) < 2:
        return failure(
            ReasonCode.NO_DOUBLE_UP,
            f"{provider.name} has only one carer who can do the double-handed {label}",
        )
    mask = np.zeros(len(view.carers), dtype=bool)
    mask[allowed] = True
    return mask, None


def _choose(
    options: list[Insertion], required: int, used: set[int], bonus: float
) -> tuple[int, list[Insertion]] | None:
    """The best start and gap(s): least added travel, carers the client has preferred."""
    if not options:
        return None

    def score(ins: Insertion) -> float:
        return ins.added_travel_min - (bonus if ins.carer in used else 0.0)

    if required == 1:
        best = min(options, key=lambda i: (score(i), i.earliest_min, i.carer))
        return best.earliest_min, [best]
    best_pair: tuple[float, int, int, int] | None = None
    pair: tuple[Insertion, Insertion] | None = None
    for i, a in enumerate(options):
        for b in options[i + 1 :]:
            if a.carer == b.carer:
                continue
            start = max(a.earliest_min, b.earliest_min)
            if start > min(a.latest_min, b.latest_min):
                continue
            key = (score(a) + score(b), start, min(a.carer, b.carer), max(a.carer, b.carer))
            if best_pair is None or key < best_pair:
                best_pair, pair = key, (a, b)
    if pair is None or best_pair is None:
        return None
    return best_pair[1], sorted(pair, key=lambda i: i.carer)


def _why(
    view: RunsView,
    provider: Provider,
    visit: Visit,
    day: str,
    mask: npt.NDArray[np.bool_],
    point: int,
    found: list[Insertion],
    within: list[Insertion],
) -> VisitFailure:
    """The precise reason a visit occurrence found no place."""
    window = (
        f"{DAY_NAMES[day]} {format_time(visit.earliest_start_min)}-"
        f"{format_time(visit.latest_start_min + visit.duration_min)}"
    )
    label = _label(visit)
    carers = np.flatnonzero(mask)

    def failure(code: ReasonCode, reason: str) -> VisitFailure:
        return VisitFailure(visit_id=visit.id, day=day, reason_code=code, reason=reason)

    working = [
        c
        for c in carers
        if any(
            start <= visit.latest_start_min and visit.earliest_start_min + visit.duration_min <= end
            for start, end in view.day(int(c), day).shifts
        )
    ]
    if not working:
        return failure(
            ReasonCode.NO_SHIFT,
            f"No carer of {provider.name} who could do the {label} works on {window}",
        )
    reachable = [
        c for c in working if np.isfinite(view.minutes(int(c), int(view.base_point[c]), point))
    ]
    if not reachable:
        return failure(
            ReasonCode.UNREACHABLE,
            f"No road or ferry route links {provider.name}'s carers to the client",
        )
    if found and not within:
        return failure(
            ReasonCode.MAX_WORKING_TIME,
            f"Carers of {provider.name} free on {window} would go over their daily working maximum",
        )
    gaps = view.gaps(provider.id, day)
    room = (
        mask[gaps.carer]
        & (gaps.prev_min <= visit.latest_start_min)
        & (
            gaps.next_min - visit.duration_min
            >= np.maximum(gaps.prev_min, visit.earliest_start_min)
        )
    )
    if not found and room.any():
        return failure(
            ReasonCode.NO_CAPACITY,
            f"{provider.name}'s carers have free time on {window} but cannot get to the client "
            "and back between their other visits in time",
        )
    if visit.carers_required == 2 and within:
        return failure(
            ReasonCode.NO_DOUBLE_UP,
            f"No two carers of {provider.name} can arrive together on {window} for the "
            f"double-handed {label}",
        )
    return failure(
        ReasonCode.NO_CAPACITY,
        f"No capacity on {window}: {provider.name}'s carers who could do the {label} are busy "
        "or too far away then",
    )


def _label(visit: Visit) -> str:
    return f"{visit.label or visit.id} visit"


def rank(view: RunsView, package: Package, drafts: Sequence[Draft]) -> list[tuple[Draft, Offer]]:
    """Drafts in rank order, each with its offer."""
    costs = view.snapshot.costs
    preferred = package.preferences.preferred_provider_id
    occurrences = sum(len(v.days) for v in package.visits)

    def order(d: Draft) -> tuple[Any, ...]:
        if d.feasible:
            penalty = 0.0 if d.in_own_lot else costs.adjacent_lot_penalty_gbp
            return (
                0,
                d.provider.id != preferred,
                _cost(view, package, d) + penalty,
                d.added_travel_min,
                d.provider.id,
            )
        return (1, d.outside_lot, len(d.failures), 0.0, 0.0, d.provider.id)

    return [
        (draft, _offer(view, package, draft, position, occurrences))
        for position, draft in enumerate(sorted(drafts, key=order), start=1)
    ]


def _cost(view: RunsView, package: Package, draft: Draft) -> float:
    costs = view.snapshot.costs
    return (
        package.weekly_hours * draft.provider.hourly_rate_gbp
        + draft.added_travel_min / 60 * costs.travel_gbp_per_hour
        + draft.added_km * costs.mileage_gbp_per_km
    )


def _offer(view: RunsView, package: Package, draft: Draft, rank: int, occurrences: int) -> Offer:
    provider = draft.provider
    common: dict[str, Any] = {
        "provider_id": provider.id,
        "provider_name": provider.name,
        "rank": rank,
        "in_own_lot": draft.in_own_lot,
        "care_hours_per_week": round(package.weekly_hours, 2),
    }
    if draft.outside_lot:
        return Offer(
            **common,
            feasible=False,
            reason_code=ReasonCode.OUTSIDE_LOT,
            explanation=f"{provider.name} does not hold the {_lot_name(view, package)} lot on the "
            "framework.",
        )
    if not draft.feasible:
        counts = Counter(f.reason_code for f in draft.failures)
        code = counts.most_common(1)[0][0]
        first = next(f for f in draft.failures if f.reason_code == code)
        others = [
            DAY_NAMES[f.day]
            for f in draft.failures
            if f.visit_id == first.visit_id and f.reason_code == code and f.day != first.day
        ]
        same = ""
        if DAY_NAMES[first.day] not in first.reason:
            same = ""
        elif len(others) == len(DAYS) - 1:
            same = "; the same every other day"
        elif others:
            same = f"; the same on {', '.join(others)}"
        reason = first.reason
        if not reason.startswith(provider.name):  # a name keeps its capital letter
            reason = reason[0].lower() + reason[1:]
        return Offer(
            **common,
            feasible=False,
            reason_code=code,
            explanation=f"{provider.name} cannot take it: {reason}{same} "
            f"({len(draft.failures)} of {occurrences} visits a week have no place).",
            failing_visits=draft.failures,
        )
    carer_ids = sorted({c for a in draft.assignments for c in a.carer_ids})
    where = (
        ""
        if draft.in_own_lot
        else (
            ", working outside its own lots (ranked with a "
            f"£{view.snapshot.costs.adjacent_lot_penalty_gbp:g} a week penalty)"
        )
    )
    return Offer(
        **common,
        feasible=True,
        explanation=f"{provider.name} can take all {occurrences} visits a week with "
        f"{len(carer_ids)} carer{'s' if len(carer_ids) != 1 else ''} "
        f"({', '.join(carer_ids)}), adding {draft.added_travel_min:.0f} minutes of travel a "
        f"week{where}.",
        added_travel_min_per_week=round(draft.added_travel_min, 1),
        added_travel_km_per_week=round(draft.added_km, 1) if view.has_km else None,
        added_cost_gbp_per_week=round(_cost(view, package, draft), 2),
        distinct_carers=len(carer_ids),
        assignments=draft.assignments,
    )


def _lot_name(view: RunsView, package: Package) -> str:
    for lot in view.snapshot.lots:
        if lot.id == package.lot_id:
            return lot.name
    return str(package.lot_id)
