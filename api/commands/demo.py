"""``carealloc demo``: the main job on the embedded default, end to end.

While capabilities are still landing it runs what exists and says plainly what does not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from allocator.evaluate import evaluate
from allocator.io import read_plan, read_snapshot, write_text_atomic
from api.prepare import travel_matrix

_EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

NOT_BUILT_YET = ("the seeded Argyll and Bute generator (issue #7)",)


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the main job on the embedded Argyll and Bute default",
        description="Run the day's allocation on the embedded Argyll and Bute default and "
        "write a summary under --out.",
    )
    parser.add_argument("--out", default="out", help="folder for outputs (default: ./out)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the worked example end to end with what exists today."""
    print("carealloc demo")
    print("Not built yet: " + "; ".join(NOT_BUILT_YET) + ".")
    print(f"Running what exists: the worked example in {_EXAMPLES}.\n")
    snapshot = read_snapshot(_EXAMPLES / "snapshot.json")
    plan = read_plan(_EXAMPLES / "plan.json")
    result = evaluate(snapshot, plan, travel_matrix(snapshot))
    for notice in snapshot.notices():
        print(f"warning: {notice.message}")
    print(result.summary())
    out = Path(args.out)
    write_text_atomic(out / "example-evaluation.json", result.model_dump_json(indent=2) + "\n")
    print(f"\nWrote {out / 'example-evaluation.json'}")
    return 0 if result.is_feasible else 1
