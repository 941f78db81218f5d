"""``carealloc offers SNAPSHOT.json PACKAGE_ID``: which providers can take a package, ranked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from allocator.io import read_snapshot
from allocator.offers import OfferEngine
from api.errors import UserError
from api.prepare import prepare


def register(subparsers: Any) -> None:
    """Add the ``offers`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "offers",
        help="rank the providers whose carers' runs can absorb a package",
        description="For one referral (or placed package) of a snapshot, test every provider: "
        "can its carers' existing runs absorb every visit of the week, at what added travel "
        "and cost, and if not, why not. Commits nothing.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    parser.add_argument("package_id", metavar="PACKAGE_ID")
    parser.add_argument("--json", action="store_true", help="print the offers as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the ranked offers."""
    snapshot = read_snapshot(args.snapshot)
    known = {p.id for p in snapshot.all_packages()}
    if args.package_id not in known:
        referrals = ", ".join(r.id for r in snapshot.referrals[:10]) or "none"
        msg = f"no package {args.package_id!r} in {args.snapshot}; its referrals: {referrals}"
        raise UserError(msg)
    ready, travel = prepare(snapshot)
    engine = OfferEngine()
    offers = engine.offers(engine.prepare(ready, travel), ready.package(args.package_id))
    if args.json:
        print(json.dumps([o.model_dump(mode="json") for o in offers], indent=2))
        return 0
    package = ready.package(args.package_id)
    print(
        f"Offers for {package.id} ({package.weekly_hours:.2f} carer hours a week, "
        f"{package.urgency.label}, lot {package.lot_id}, {package.locality}):"
    )
    header = f"{'rank':>4}  {'provider':28} {'can take it':11} {'+travel/wk':>10} {'+cost/wk':>9}"
    print(f"{header}  carers")
    for offer in offers:
        added = f"{offer.added_travel_min_per_week:.0f} min" if offer.feasible else "-"
        cost = f"£{offer.added_cost_gbp_per_week:.2f}" if offer.feasible else "-"
        carers = str(offer.distinct_carers) if offer.feasible else (offer.reason_code or "")
        answer = "yes" if offer.feasible else "no"
        print(
            f"{offer.rank:>4}  {offer.provider_name[:28]:28} {answer:11} "
            f"{added:>10} {cost:>9}  {carers}"
        )
        print(f"      {offer.explanation}")
    return 0
