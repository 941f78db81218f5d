"""Sequential placement, one referral after another: today's practice and a fair baseline.

* ``best_offer``: referrals in urgency order (hospital discharges first, then longest
  waiting), each taking its best feasible offer, the runs updated before the next one.
* ``status_quo``: what brokerage does by phone today. Each referral, in the same order, is
  offered to the providers holding its lot in the snapshot's provider order; the first whose
  runs can fit it takes it, otherwise it waits. No provider outside the lot is asked.
* ``nearest_provider``: a simple geographic rule. Each referral, in the same order, goes to
  the provider whose nearest carer base is the fewest travel minutes away and whose runs can
  fit it, else the next nearest; any provider the framework allows is asked (its own lot, or
  an adjacent lot when it works adjacent lots).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from enum import StrEnum

from allocator.model import Package, Plan, Provider, Snapshot, SolverInfo, Unplaced
from allocator.offers import Draft, OfferSettings, draft_offer, lot_standing, ranked_drafts
from allocator.placement import (
    apply_draft,
    build_plan,
    draft_placement,
    placement_order,
    unplaced_reason,
)
from allocator.runs import RunsView
from allocator.travel import TravelMatrix


class SequentialPolicy(StrEnum):
    """How each referral chooses its provider."""

    BEST_OFFER = "best_offer"
    STATUS_QUO = "status_quo"
    NEAREST_PROVIDER = "nearest_provider"


def place_sequentially(
    snapshot: Snapshot,
    travel: TravelMatrix,
    *,
    policy: SequentialPolicy = SequentialPolicy.BEST_OFFER,
    referral_ids: Sequence[str] | None = None,
    settings: OfferSettings | None = None,
) -> Plan:
    """Place referrals one by one.

    Parameters
    ----------
    snapshot, travel
        The situation; existing runs stay as they are.
    policy
        ``best_offer``, ``status_quo`` or ``nearest_provider`` (see the module docstring).
    referral_ids
        Which referrals to place (all by default); the others are listed as not attempted.

    Returns
    -------
    Plan
        Every placed package (existing and new) and the referrals left waiting, with reasons.
    """
    started = time.perf_counter()
    view = RunsView(snapshot, travel)
    drafts, unplaced = place_into(view, snapshot, policy, referral_ids, settings)
    placed = {package_id: draft_placement(package_id, d) for package_id, d in drafts.items()}
    solver = SolverInfo(
        name=f"sequential-{policy.value}",
        status="ok",
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    return build_plan(snapshot, placed, unplaced, solver)


def nearest_first(view: RunsView, package: Package) -> list[Provider]:
    """The providers the framework lets take ``package``, nearest carer base first (travel
    minutes by each carer's own mode); framework order breaks ties, and providers with no
    carer who can reach the client come last."""
    point = view.point_of(package)
    found = []
    for order, provider in enumerate(view.snapshot.providers):
        if lot_standing(view, package, provider) is None:
            continue
        carers = view.provider_carers.get(provider.id, [])
        nearest = min(
            (view.minutes(c, int(view.base_point[c]), point) for c in carers), default=math.inf
        )
        found.append((nearest, order, provider))
    return [provider for _, _, provider in sorted(found, key=lambda f: (f[0], f[1]))]


def place_into(
    view: RunsView,
    snapshot: Snapshot,
    policy: SequentialPolicy,
    referral_ids: Sequence[str] | None = None,
    settings: OfferSettings | None = None,
) -> tuple[dict[str, Draft], list[Unplaced]]:
    """Place referrals into ``view`` (which changes), returning each placed referral's chosen
    draft and the unplaced."""
    wanted = set(referral_ids) if referral_ids is not None else None
    referrals = [r for r in snapshot.referrals if wanted is None or r.id in wanted]
    placed: dict[str, Draft] = {}
    unplaced: list[Unplaced] = []
    for package in placement_order(referrals):
        chosen: Draft | None = None
        ranked = None
        if policy is SequentialPolicy.BEST_OFFER:
            ranked = ranked_drafts(view, package, settings)
            chosen = next((d for d, _ in ranked if d.feasible), None)
        else:
            if policy is SequentialPolicy.STATUS_QUO:
                asked = [
                    p
                    for p in snapshot.providers
                    if package.lot_id is None or package.lot_id in p.lot_ids
                ]
            else:
                asked = nearest_first(view, package)
            for provider in asked:
                draft = draft_offer(view, package, provider, settings)
                if draft.feasible:
                    chosen = draft
                    break
        if chosen is None:
            ranked = ranked or ranked_drafts(view, package, settings)
            unplaced.append(unplaced_reason(package, [offer for _, offer in ranked]))
            continue
        apply_draft(view, chosen)
        placed[package.id] = chosen
    return placed, unplaced
