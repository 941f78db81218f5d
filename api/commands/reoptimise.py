"""``carealloc reoptimise SNAPSHOT.json --out PLAN.json``: the nightly re-optimisation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from allocator.evaluate import evaluate
from allocator.io import read_snapshot, write_model
from allocator.reoptimise import reoptimise, rules_broken_anew
from api.commands.args import (
    add_plan_out,
    at_least_one,
    positive_seconds,
    travel_minutes_per_hour,
    whole_number,
)
from api.errors import UserError
from api.prepare import prepare
from api.reoptimise import core_options


def register(subparsers: Any) -> None:
    """Add the ``reoptimise`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reoptimise",
        help="re-plan every carer's runs for the week with as little change as pays",
        description="The nightly job: re-plan all carers' runs for the week (time windows, "
        "shifts, working-time caps, skills, preferences, double-handed calls arriving together, "
        "locked visits and packages unchanged), move at most --max-moves clients to another "
        "provider where that clearly saves travel, and place waiting referrals into the time "
        "freed. Never worse than today: the plan is checked by the independent evaluator. The "
        "plan's 'changes' list what a broker approves: moves and why, runs changed, travel "
        "saved, waiting hours newly placed.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    add_plan_out(parser)
    parser.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=600.0,
        metavar="S",
        help="seconds (default 600)",
    )
    parser.add_argument(
        "--max-moves",
        type=whole_number,
        default=0,
        metavar="K",
        help="most clients that may change provider (default 0: none)",
    )
    parser.add_argument("--seed", type=whole_number, default=0, metavar="N", help="random seed")
    parser.add_argument(
        "--workers",
        type=at_least_one,
        default=2,
        metavar="W",
        help="worker processes for the providers' pieces (default 2)",
    )
    parser.add_argument(
        "--keep-waiting",
        action="store_true",
        help="re-plan runs only; do not place waiting referrals",
    )
    parser.add_argument(
        "--no-make-room",
        action="store_true",
        help="place waiting referrals only into time the re-planned runs leave free; do not "
        "re-plan runs around them or hand other clients' visits over between carers",
    )
    parser.add_argument(
        "--handover-travel-cap",
        type=travel_minutes_per_hour,
        metavar="MIN",
        help="place a waiting referral by handing other clients' visits over only when that "
        "adds at most MIN minutes of carers' travel per carer hour of its care (default: no "
        "limit)",
    )
    parser.add_argument(
        "--no-part-packages",
        action="store_true",
        help="do not start waiting referrals that accept a part package with only the calls "
        "that fit (accepts_part_package)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar (for batch jobs)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Re-optimise, check, write, summarise."""
    snapshot = read_snapshot(args.snapshot)
    ready, travel = prepare(snapshot)
    options = core_options(
        time_limit_s=args.time_limit,
        max_moves=args.max_moves,
        seed=args.seed,
        workers=args.workers,
        place_waiting=not args.keep_waiting,
        make_room=not args.no_make_room,
        handover_travel_cap=args.handover_travel_cap,
        part_packages=not args.no_part_packages,
    )
    bar = tqdm(total=100, disable=args.quiet, file=sys.stderr, unit="%", desc="re-optimising")

    def progress(fraction: float, message: str, figures: dict[str, float]) -> None:
        bar.update(round(100 * fraction) - bar.n)
        travel = figures.get("objective")
        saved = figures.get("travel_saved_min_per_week")
        shown = message
        if travel is not None and saved is not None:
            shown += f"; travel {travel:.0f} min/week ({saved:.0f} saved)"
        bar.set_postfix_str(shown)

    try:
        plan = reoptimise(ready, travel, options, progress=progress)
    finally:
        bar.close()
    result = evaluate(ready, plan, travel)
    new = rules_broken_anew(ready, result, travel)
    if new:
        rules = ", ".join(sorted({v.rule for v in new}))
        msg = f"the plan breaks hard rules today's runs kept ({rules}); it was not written."
        raise UserError(msg)
    write_model(args.out, plan)
    changes = plan.changes
    assert changes is not None
    before_min = changes.travel_min_per_week_before
    pct = 100 * changes.travel_min_per_week_saved / before_min if before_min else 0.0
    print(
        f"Travel {before_min:.0f} -> {changes.travel_min_per_week_after:.0f} min/week "
        f"({pct:.1f}% saved) in {plan.solver.wall_time_s} s ({plan.solver.status})."
    )
    print(
        f"{changes.clients_with_new_carer} clients get a different carer for "
        f"{changes.visits_with_new_carer} visits; {changes.visits_with_new_time} visits change "
        f"time only; {len(changes.runs_changed)} carer-days change."
    )
    for move in changes.provider_moves:
        print(
            f"  move {move.package_id}: {move.from_provider_id} -> {move.to_provider_id}: "
            f"{move.reason}"
        )
    print(
        f"Newly placed from the waiting list: {len(changes.newly_placed_package_ids)} packages, "
        f"{changes.waiting_hours_newly_placed_per_week:g} carer hours a week."
    )
    if plan.part_packages:
        print(
            f"Started as part packages: {len(plan.part_packages)} referrals "
            f"({', '.join(p.package_id for p in plan.part_packages[:10])}"
            f"{', ...' if len(plan.part_packages) > 10 else ''}); their other calls wait as "
            f"new referrals ({', '.join(p.rest_id for p in plan.part_packages[:3])}"
            f"{', ...' if len(plan.part_packages) > 3 else ''})."
        )
    print(result.summary())
    print(f"Wrote {args.out}")
    return 0
