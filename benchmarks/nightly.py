"""The nightly re-optimisation at Argyll scale.

Usage: ``python -m benchmarks.nightly [--seed 1] [--clients 1000] [--time-limit 540]
[--workers 2] [--max-moves 20]`` (or ``carealloc bench nightly``). Writes
``benchmarks/results/nightly.json`` and ``nightly.md``.

The input is the generator's Argyll default, whose runs were built the way brokerage builds
them today (each referral to the first provider in its lot that can fit it, sequential greedy
insertion). The whole job (pieces, moves, placing waiting referrals) runs under the time limit;
travel is compared on the same clients before and after, and both plans are checked by the
independent evaluator.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from allocator.evaluate import evaluate
from allocator.io import write_text_atomic
from allocator.model import SolverInfo
from allocator.placement import build_plan
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from api.commands.args import at_least_one, output_folder, positive_seconds, whole_number
from api.prepare import travel_matrix
from benchmarks.generator import ArgyllSettings, generate_argyll
from benchmarks.paths import RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carealloc bench nightly", description=__doc__)
    parser.add_argument("--seed", type=whole_number, default=1)
    parser.add_argument("--clients", type=at_least_one, default=1000)
    parser.add_argument("--time-limit", type=positive_seconds, default=540.0)
    parser.add_argument("--workers", type=at_least_one, default=2)
    parser.add_argument("--max-moves", type=whole_number, default=20)
    parser.add_argument("--out", type=output_folder, default=RESULTS, metavar="DIR")
    args = parser.parse_args(argv)

    snapshot = generate_argyll(args.seed, ArgyllSettings(clients=args.clients))
    travel = travel_matrix(snapshot)
    today = build_plan(snapshot, {}, [], SolverInfo(name="today"))
    before = evaluate(snapshot, today, travel)
    occurrences = sum(len(a.carer_ids) for p in snapshot.packages for a in p.assignments)
    options = ReoptimiseOptions(
        time_limit_s=args.time_limit,
        max_moves=args.max_moves,
        seed=args.seed,
        workers=args.workers,
    )
    started = time.monotonic()
    last = [0.0]

    def progress(fraction: float, message: str, figures: dict[str, float]) -> None:
        if fraction - last[0] >= 0.1 or fraction >= 1:
            last[0] = fraction
            print(f"{100 * fraction:5.1f}% {message} {figures}", file=sys.stderr, flush=True)

    plan = reoptimise(snapshot, travel, options, progress=progress)
    wall = time.monotonic() - started
    after = evaluate(snapshot, plan, travel)
    changes = plan.changes
    assert changes is not None
    saved_pct = 100 * changes.travel_min_per_week_saved / changes.travel_min_per_week_before
    result = {
        "command": f"python -m benchmarks.nightly --seed {args.seed} --clients {args.clients} "
        f"--time-limit {args.time_limit:g} --workers {args.workers} --max-moves {args.max_moves}",
        "providers": len(snapshot.providers),
        "carers": len(snapshot.carers),
        "clients_placed": len(snapshot.packages),
        "referrals_waiting": len(snapshot.referrals),
        "carer_visit_occurrences_per_week": occurrences,
        "wall_s": round(wall, 1),
        "time_limit_s": args.time_limit,
        "feasible_before": before.is_feasible,
        "feasible_after": after.is_feasible,
        "travel_same_clients_before_min": changes.travel_min_per_week_before,
        "travel_same_clients_after_min": changes.travel_min_per_week_after,
        "travel_saved_pct": round(saved_pct, 2),
        "provider_moves": len(changes.provider_moves),
        "clients_with_new_carer": changes.clients_with_new_carer,
        "visits_with_new_carer": changes.visits_with_new_carer,
        "visits_with_new_time": changes.visits_with_new_time,
        "carer_days_changed": len(changes.runs_changed),
        "newly_placed_packages": len(changes.newly_placed_package_ids),
        "waiting_hours_newly_placed_per_week": changes.waiting_hours_newly_placed_per_week,
        "hours_waiting_before": before.kpis.hours_waiting_per_week,
        "hours_waiting_after": after.kpis.hours_waiting_per_week,
        "travel_min_per_contact_hour_before": before.kpis.travel_min_per_contact_hour,
        "travel_min_per_contact_hour_after": after.kpis.travel_min_per_contact_hour,
    }
    write_text_atomic(args.out / "nightly.json", json.dumps(result, indent=2) + "\n")
    lines = [
        "# Nightly re-optimisation at Argyll scale",
        "",
        f"Command: `{result['command']}`. 2 shared cores.",
        "",
        f"Instance (generator, Argyll default): {result['providers']} providers, "
        f"{result['carers']} carers, {result['clients_placed']} clients placed with "
        f"{occurrences} carer visit occurrences a week, {result['referrals_waiting']} referrals "
        "waiting. Its runs were built by sequential greedy placement (today's process).",
        "",
        f"- Wall time **{wall:.0f} s** (target <= 600 s).",
        f"- Travel of the same clients: {changes.travel_min_per_week_before:.0f} -> "
        f"{changes.travel_min_per_week_after:.0f} min/week, **{saved_pct:.1f}% less** "
        "(target >= 10%).",
        f"- Change for clients: {changes.clients_with_new_carer} clients get a different carer "
        f"on {changes.visits_with_new_carer} visits a week; {changes.visits_with_new_time} visits "
        f"keep their carer at another time; {len(changes.provider_moves)} clients change provider "
        f"(cap {args.max_moves}).",
        f"- Waiting list: {len(changes.newly_placed_package_ids)} packages "
        f"({changes.waiting_hours_newly_placed_per_week:g} carer hours a week) placed into the "
        f"freed time; hours waiting {before.kpis.hours_waiting_per_week:g} -> "
        f"{after.kpis.hours_waiting_per_week:g} a week.",
        f"- Travel per contact hour (whole plan): {before.kpis.travel_min_per_contact_hour} -> "
        f"{after.kpis.travel_min_per_contact_hour} min.",
        f"- Evaluator: today's plan feasible {before.is_feasible}; re-optimised plan feasible "
        f"{after.is_feasible}.",
    ]
    write_text_atomic(args.out / "nightly.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
