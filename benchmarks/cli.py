"""``carealloc`` subcommands that live in ``benchmarks`` (plugged in through the
``carealloc.commands`` entry-point group, since ``api`` may not import ``benchmarks``)."""

from __future__ import annotations

import argparse
from typing import Any

from allocator.io import write_model
from api.errors import NotBuiltYetError, UserError
from benchmarks.generator import ArgyllSettings, generate_argyll


def _count(text: str) -> int:
    if not text.isdigit():
        msg = f"{text!r} is not a whole number of 0 or more"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        msg = f"{text!r} is not a number"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0.1 <= value <= 10:
        msg = "must be between 0.1 and 10"
        raise argparse.ArgumentTypeError(msg)
    return value


def register_generate(subparsers: Any) -> None:
    """Add the ``generate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate",
        help="make a seeded Argyll-style snapshot with today's runs and referrals",
        description="Generate a snapshot on the embedded Argyll and Bute geography: clients "
        "placed by settlement population with a rural spread, a UK home-care package mix, 15 "
        "providers, carers living where the care is needed, and existing runs built the way "
        "brokerage builds them today (first provider that can fit each referral). The same "
        "seed gives the same snapshot. Distributions: docs/generator.md.",
    )
    parser.add_argument("--profile", choices=("argyll", "torbay"), default="argyll")
    parser.add_argument("--seed", type=_count, default=1, metavar="N")
    parser.add_argument(
        "--clients",
        type=_count,
        default=1000,
        metavar="N",
        help="clients receiving or waiting for care (default 1000)",
    )
    parser.add_argument(
        "--new-referrals",
        type=_count,
        default=40,
        metavar="N",
        help="today's new referrals (default 40)",
    )
    parser.add_argument(
        "--capacity-ratio",
        type=_ratio,
        default=2.0,
        metavar="R",
        help="carer working hours over commissioned hours (default 2.0)",
    )
    parser.add_argument("--out", required=True, metavar="SNAPSHOT.json")
    parser.set_defaults(handler=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Generate and write the snapshot."""
    if args.profile == "torbay":
        msg = "the Torbay profile is not built yet (issue #7); use --profile argyll"
        raise NotBuiltYetError(msg)
    if args.clients < 1:
        msg = "--clients must be at least 1"
        raise UserError(msg)
    settings = ArgyllSettings(
        clients=args.clients, new_referrals=args.new_referrals, capacity_ratio=args.capacity_ratio
    )
    snapshot = generate_argyll(args.seed, settings)
    write_model(args.out, snapshot)
    visits = sum(len(v.days) for p in snapshot.packages for v in p.visits)
    print(
        f"Wrote {args.out}: {len(snapshot.providers)} providers, {len(snapshot.carers)} carers, "
        f"{len(snapshot.packages)} clients placed ({visits} visits a week), "
        f"{len(snapshot.referrals)} referrals waiting ({args.new_referrals} new today)."
    )
    return 0
