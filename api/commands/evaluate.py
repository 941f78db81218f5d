"""``carealloc evaluate SNAPSHOT.json PLAN.json``: check a plan with the independent evaluator."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from allocator.evaluate import evaluate
from allocator.io import read_plan, read_snapshot
from api.prepare import prepare

EXIT_VIOLATIONS = 1


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="re-check every hard rule of a plan and compute its KPIs",
        description="Re-check a plan against its snapshot with the independent evaluator, "
        "which shares no logic with the solvers. Exits 0 when the plan breaks no hard rule, "
        "1 when it breaks any, 2 on unusable input.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    parser.add_argument("plan", metavar="PLAN.json")
    parser.add_argument("--json", action="store_true", help="print violations and KPIs as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and report; non-zero exit when a hard rule is broken."""
    snapshot = read_snapshot(args.snapshot)
    plan = read_plan(args.plan)
    if plan.snapshot_name != snapshot.name:
        print(
            f"warning: the plan was made for snapshot {plan.snapshot_name!r}, "
            f"not {snapshot.name!r}",
            file=sys.stderr,
        )
    ready, travel = prepare(snapshot)
    result = evaluate(ready, plan, travel)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        print(result.summary())
        for violation in result.violations:
            print(f"  [{violation.rule}] {violation.message}")
    return 0 if result.is_feasible else EXIT_VIOLATIONS
