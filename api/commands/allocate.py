"""``carealloc allocate SNAPSHOT.json --out PLAN.json``: place the referrals jointly."""

from __future__ import annotations

import argparse
from typing import Any

from allocator.batch import place_batch
from allocator.evaluate import evaluate
from allocator.greedy import SequentialPolicy, place_sequentially
from allocator.io import read_snapshot, write_model
from api.commands.args import add_plan_out, positive_seconds, whole_number
from api.errors import UserError
from api.prepare import prepare


def register(subparsers: Any) -> None:
    """Add the ``allocate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "allocate",
        help="place the snapshot's referrals jointly and write the plan",
        description="Place every waiting referral of a snapshot with a provider, jointly so "
        "that two referrals never claim the same gap in a carer's run: most urgent hours "
        "first, then least added travel and cost, keeping each locality with few providers. "
        "Existing visits keep their carers and times. Writes the complete plan (checked by "
        "the independent evaluator, KPIs filled in).",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    add_plan_out(parser)
    parser.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=10.0,
        metavar="S",
        help="solver time in seconds (default 10)",
    )
    parser.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        metavar="N",
        help="random seed; the same seed gives the same plan (default 0)",
    )
    parser.add_argument(
        "--sequential",
        choices=[p.value for p in SequentialPolicy],
        help="place one referral at a time instead: best_offer, status_quo (today's practice) "
        "or nearest_provider",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Place, evaluate, write, summarise."""
    snapshot = read_snapshot(args.snapshot)
    ready, travel = prepare(snapshot)
    if args.sequential:
        plan = place_sequentially(ready, travel, policy=SequentialPolicy(args.sequential))
    else:
        plan = place_batch(ready, travel, time_limit_s=args.time_limit, seed=args.seed)
    result = evaluate(ready, plan, travel)
    if not result.is_feasible:
        rules = ", ".join(sorted({v.rule for v in result.violations}))
        msg = f"the plan breaks hard rules ({rules}); it was not written. Please report this."
        raise UserError(msg)
    plan = plan.model_copy(update={"kpis": result.kpis})
    write_model(args.out, plan)
    new = {p.package_id for p in plan.placements} - {p.id for p in ready.packages}
    hours = sum(ready.package(pid).weekly_hours for pid in new)
    print(
        f"Placed {len(new)} of {len(ready.referrals)} referrals ({hours:.1f} carer hours a week) "
        f"with {plan.solver.name} ({plan.solver.status}, {plan.solver.wall_time_s} s)."
    )
    for unplaced in plan.unplaced:
        waiting = f"{unplaced.weekly_hours:g} h/week"
        print(f"  waiting: {unplaced.package_id} ({waiting}): {unplaced.reason}")
    print(result.summary())
    print(f"Wrote {args.out}")
    return 0
