"""``carealloc validate SNAPSHOT.json``: check a snapshot against the format's rules."""

from __future__ import annotations

import argparse
from typing import Any

from allocator.io import read_snapshot
from api.prepare import prepare_snapshot


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check a snapshot file and list every problem with its field",
        description="Check a snapshot JSON file against docs/formats.md. Exits 0 when valid, "
        "2 with one line per problem otherwise. Policy warnings are printed but do not fail. "
        "It also checks what the other commands add: a package's lot from its location, and, "
        "for a snapshot without lots, that it names only the six Argyll and Bute lots.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print a one-line summary plus any policy notices."""
    snapshot = read_snapshot(args.snapshot)
    prepare_snapshot(snapshot)  # what allocate, offers and reoptimise would refuse, refused here
    print(
        f"{args.snapshot}: valid snapshot {snapshot.name!r}: {len(snapshot.lots)} lots, "
        f"{len(snapshot.providers)} providers, {len(snapshot.carers)} carers, "
        f"{len(snapshot.packages)} placed packages, {len(snapshot.referrals)} referrals."
    )
    if not snapshot.lots:
        print("No lots: the six Argyll and Bute framework lots apply.")
    for notice in snapshot.notices():
        print(f"warning: {notice.message}")
    return 0
