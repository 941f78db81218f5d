"""``carealloc validate SNAPSHOT.json``: check a snapshot against the format's rules."""

from __future__ import annotations

import argparse
from typing import Any

from allocator.io import read_snapshot


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check a snapshot file and list every problem with its field",
        description="Check a snapshot JSON file against docs/formats.md. Exits 0 when valid, "
        "2 with one line per problem otherwise. Policy warnings are printed but do not fail.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print a one-line summary plus any policy notices."""
    snapshot = read_snapshot(args.snapshot)
    print(
        f"{args.snapshot}: valid snapshot {snapshot.name!r}: {len(snapshot.lots)} lots, "
        f"{len(snapshot.providers)} providers, {len(snapshot.carers)} carers, "
        f"{len(snapshot.packages)} placed packages, {len(snapshot.referrals)} referrals."
    )
    for notice in snapshot.notices():
        print(f"warning: {notice.message}")
    return 0
