"""Part packages: start a waiting referral with the calls a provider can fit now.

Most referrals that wait do so for a call or two: the lunch call on an island, the morning
double-up. When the client (or family) has agreed to it (``Package.accepts_part_package``),
the referral starts with the provider whose runs fit most of its week, as they stand, and the
calls that do not fit wait as a new referral for the same client, keeping the referral's place
in the queue (``waiting_since``). Councils count the hours of care still waiting (Public Health
Scotland's unmet need, Torbay's "hours of care waiting"); a part package cuts them and gets the
client home with care at the times that can be covered.

A part package starts only when at least :attr:`PartPackageSettings.min_share` of the weekly
carer hours fit; among providers that fit the most, the client's preferred provider first,
then one holding the lot, then the least added travel. The split is written into the plan
(:class:`allocator.model.PartPackage`) so the evaluator checks it like any placement.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from allocator.model import (
    Package,
    PartPackage,
    Placement,
    ReasonCode,
    Snapshot,
    Unplaced,
    WaitingCalls,
    split_package,
)
from allocator.offers import Draft, draft_offer, lot_standing
from allocator.placement import NEXT_STEP, apply_draft, draft_placement, placement_order
from allocator.runs import RunsView
from allocator.travel import TravelMatrix


@dataclass(frozen=True)
class PartPackageSettings:
    """When a part package is worth starting."""

    min_share: float = 0.5
    """Start only when at least this share of the referral's weekly carer hours fit."""

    def __post_init__(self) -> None:
        if not 0 < self.min_share <= 1:
            msg = f"min_share must be more than 0 and at most 1, not {self.min_share}"
            raise ValueError(msg)


@dataclass
class PartStarts:
    """What :func:`start_part_packages` did, against the snapshot it was given."""

    parts: list[PartPackage]
    """The referrals split; each one's ``package_id`` is placed with the calls that fit."""
    placements: dict[str, Placement]
    """Referral id (the started part) to its placement."""
    unplaced: list[Unplaced]
    """Why each part package's rest still waits."""


def rest_id(package_id: str, taken: Collection[str]) -> str:
    """A free id for the calls of ``package_id`` that still wait: ``R1`` -> ``R1.rest``, and
    the rest of a rest counts on (``R1.rest`` -> ``R1.rest2``)."""
    match = re.fullmatch(r"(.*)\.rest(\d*)", package_id)
    root = match.group(1) if match else package_id
    count = (int(match.group(2) or 1) + 1) if match else 1
    while True:
        candidate = f"{root}.rest" if count == 1 else f"{root}.rest{count}"
        if candidate not in taken:
            return candidate
        count += 1


def _fitted_min(package: Package, draft: Draft) -> int:
    return sum(package.visit(a.visit_id).duration_min * len(a.carer_ids) for a in draft.assignments)


def _best_draft(
    view: RunsView, referral: Package, settings: PartPackageSettings
) -> tuple[Draft, int] | None:
    """The provider's draft fitting the most of the referral's week (ties: preferred provider,
    in its own lot, least added travel), when it fits enough to start."""
    best: tuple[tuple[float, bool, bool, float, str], Draft, int] | None = None
    preferred = referral.preferences.preferred_provider_id
    for provider in view.snapshot.providers:
        if lot_standing(view, referral, provider) is None:
            continue
        draft = draft_offer(view, referral, provider)
        if not draft.assignments:
            continue
        fitted = _fitted_min(referral, draft)
        key = (
            -fitted,
            provider.id != preferred,
            not draft.in_own_lot,
            draft.added_travel_min,
            provider.id,
        )
        if best is None or key < best[0]:
            best = (key, draft, fitted)
    if best is None or best[2] < settings.min_share * referral.weekly_carer_min:
        return None
    return best[1], best[2]


def _rest_reason(referral: Package, rest: Package, draft: Draft, fitted_min: int) -> Unplaced:
    codes = Counter(f.reason_code for f in draft.failures)
    code = codes.most_common(1)[0][0] if codes else ReasonCode.NO_CAPACITY
    calls = ", ".join(f"{f.visit_id} on {f.day}" for f in draft.failures[:6])
    more = f" and {len(draft.failures) - 6} more" if len(draft.failures) > 6 else ""
    return Unplaced(
        package_id=rest.id,
        reason_code=code,
        reason=(
            f"Part package: {referral.id} started with {draft.provider.name} "
            f"({fitted_min / 60:.1f} of {referral.weekly_hours:.1f} carer hours a week); "
            f"these calls still wait: {calls}{more}. Next step: {NEXT_STEP[code]}."
        ),
        weekly_hours=round(rest.weekly_hours, 2),
    )


def start_part_packages(
    snapshot: Snapshot,
    travel: TravelMatrix,
    referral_ids: Collection[str],
    settings: PartPackageSettings | None = None,
    *,
    deadline: float | None = None,
) -> PartStarts:
    """Start the listed referrals that accept a part package, most urgent first, each with
    the provider whose runs (as ``snapshot`` has them, plus the parts started before it) fit
    most of its week. A referral that now fits whole is placed whole, not split.

    ``deadline`` is a :func:`time.monotonic` time after which no further referral is tried.
    """
    settings = settings or PartPackageSettings()
    view = RunsView(snapshot, travel)
    taken = {p.id for p in snapshot.all_packages()}
    result = PartStarts(parts=[], placements={}, unplaced=[])
    wanted = set(referral_ids)
    candidates = [r for r in snapshot.referrals if r.id in wanted and r.accepts_part_package]
    for referral in placement_order(candidates):
        if deadline is not None and time.monotonic() > deadline:
            break
        found = _best_draft(view, referral, settings)
        if found is None:
            continue
        draft, fitted = found
        apply_draft(view, draft)
        result.placements[referral.id] = draft_placement(referral.id, draft)
        if draft.feasible:
            continue
        days: dict[str, list[str]] = defaultdict(list)
        for failure in draft.failures:
            days[failure.visit_id].append(failure.day)
        part = PartPackage(
            package_id=referral.id,
            rest_id=rest_id(referral.id, taken),
            waiting_calls=[WaitingCalls(visit_id=v, days=d) for v, d in days.items()],
        )
        taken.add(part.rest_id)
        _, rest = split_package(referral, part)
        result.parts.append(part)
        result.unplaced.append(_rest_reason(referral, rest, draft, fitted))
    return result
