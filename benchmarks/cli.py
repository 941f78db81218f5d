"""``carealloc`` subcommands that live in ``benchmarks`` (plugged in through the
``carealloc.commands`` entry-point group, since ``api`` may not import ``benchmarks``)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from allocator.io import write_model
from api.commands.args import (
    output_file,
    output_folder,
    ratio,
    seconds_up_to_an_hour,
    whole_number,
)
from api.errors import UserError
from benchmarks.demo import DemoSettings, render_text, run_demo, write_outputs
from benchmarks.generator import ArgyllSettings, WorldSettings, generate_argyll, rota_option
from benchmarks.torbay import TorbaySettings, generate_torbay


def _world_options(parser: argparse.ArgumentParser) -> None:
    """The options that shape a generated world."""
    parser.add_argument("--seed", type=whole_number, default=1, metavar="N")
    parser.add_argument(
        "--clients",
        type=whole_number,
        metavar="N",
        help="clients receiving or waiting for care (default: Argyll 1000, Torbay 776)",
    )
    parser.add_argument(
        "--new-referrals",
        type=whole_number,
        metavar="N",
        help="today's new referrals (default: Argyll 40, Torbay 25)",
    )
    parser.add_argument(
        "--capacity-ratio",
        type=ratio,
        metavar="R",
        help="carer working hours over commissioned hours (default 2.0)",
    )
    rota_option(parser)


def register_generate(subparsers: Any) -> None:
    """Add the ``generate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate",
        help="make a seeded Argyll- or Torbay-style snapshot with today's runs and referrals",
        description="Generate a snapshot. argyll: on the embedded Argyll and Bute geography, "
        "clients placed by settlement population with a rural spread, 15 providers. torbay: a "
        "compact coastal town on synthetic geography (three lots, straight-line travel with a "
        "detour factor, carried in the snapshot), 7 providers. Both: a UK home-care package "
        "mix, carers living where the care is needed, and existing runs built the way "
        "brokerage builds them today (first provider that can fit each referral). The same "
        "seed gives the same snapshot. Distributions and assumptions: docs/generator.md.",
    )
    parser.add_argument(
        "--profile",
        choices=("argyll", "torbay"),
        default="argyll",
        help="which world (default argyll)",
    )
    _world_options(parser)
    parser.add_argument("--out", required=True, type=output_file, metavar="SNAPSHOT.json")
    parser.set_defaults(handler=run_generate)


def _settings(args: argparse.Namespace, profile: str = "argyll") -> WorldSettings:
    """The profile's settings with the options given on the command line."""
    default: WorldSettings = TorbaySettings() if profile == "torbay" else ArgyllSettings()
    given = {
        "clients": args.clients,
        "new_referrals": args.new_referrals,
        "capacity_ratio": args.capacity_ratio,
        "rota": args.rota,
    }
    if args.clients is not None and args.clients < 1:
        msg = "--clients must be at least 1"
        raise UserError(msg)
    return replace(default, **{k: v for k, v in given.items() if v is not None})


def run_generate(args: argparse.Namespace) -> int:
    """Generate and write the snapshot."""
    settings = _settings(args, args.profile)
    if args.profile == "torbay":
        snapshot = generate_torbay(args.seed, settings)
    else:
        snapshot = generate_argyll(args.seed, settings)
    write_model(args.out, snapshot)
    visits = sum(len(v.days) for p in snapshot.packages for v in p.visits)
    print(
        f"Wrote {args.out}: {len(snapshot.providers)} providers, {len(snapshot.carers)} carers, "
        f"{len(snapshot.packages)} clients placed ({visits} visits a week), "
        f"{len(snapshot.referrals)} referrals waiting ({settings.new_referrals} new today)."
    )
    return 0


def register_demo(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the main job on the generated Argyll and Bute default",
        description="Generate the seeded Argyll and Bute default (docs/generator.md), place "
        "today's new referrals jointly with carealloc and, on the same input, one at a time "
        "the status-quo way; check both plans with the independent evaluator; print what was "
        "placed, what still waits and the travel added, by lot and by provider; write the "
        "snapshot, both plans, summary.md and a self-contained map.html under --out.",
    )
    _world_options(parser)
    parser.add_argument(
        "--time-limit",
        type=seconds_up_to_an_hour,
        default=5.0,
        metavar="S",
        help="joint placement's solver time in seconds (default 5)",
    )
    parser.add_argument(
        "--out",
        type=output_folder,
        default="out",
        metavar="DIR",
        help="folder for outputs (default: ./out)",
    )
    parser.set_defaults(handler=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    """Run the demo, print the summary and write the outputs."""
    settings = DemoSettings(seed=args.seed, world=_settings(args), time_limit_s=args.time_limit)
    print(
        f"carealloc demo: generating the Argyll and Bute default (seed {settings.seed}, "
        f"{settings.world.clients} clients) and placing today's referrals ...",
        flush=True,
    )
    result = run_demo(settings)
    print(render_text(result))
    paths = write_outputs(result, Path(args.out))
    print("\nWrote " + ", ".join(str(p) for p in paths))
    return 0
