"""``carealloc bench NAME [options]``: run one of the benchmark scripts by name.

Each benchmark is a module of ``benchmarks`` with a ``main(argv) -> int`` that writes its
results under ``benchmarks/results/``; ``carealloc bench NAME --help`` shows its options.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

BENCHMARKS = {
    "solomon": ("benchmarks.solomon", "routing core vs best known and PyVRP on Solomon VRPTW"),
    "hhc": ("benchmarks.hhc", "routing core on home care with synchronised visits (Mankowska)"),
    "nightly": ("benchmarks.nightly", "the nightly re-optimisation at Argyll scale"),
    "allocation": ("benchmarks.allocation", "offers and joint placement at Argyll scale"),
    "geodata": ("benchmarks.geodata_travel", "travel network realism and matrix speed"),
    "simulate": ("benchmarks.simulate", "weeks of brokerage under each policy, one stream"),
    "waiting": ("benchmarks.waiting", "why referrals wait on a generated world; capacity by hour"),
    "api": ("benchmarks.api_load", "REST API offers latency, soak and schemathesis on loopback"),
    "report": ("benchmarks.report", "REPORT.md and its plots from the results written"),
    "all": ("benchmarks.everything", "every benchmark at full size, then the report (hours)"),
}


def register_bench(subparsers: Any) -> None:
    """Add the ``bench`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="run a benchmark and write its results under benchmarks/results/",
        description="Run a benchmark: "
        + "; ".join(f"{name}: {text}" for name, (_, text) in BENCHMARKS.items())
        + ". Options after the name go to the benchmark (NAME --help lists them).",
    )
    parser.add_argument("name", choices=sorted(BENCHMARKS), metavar="NAME")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    parser.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    """Import the benchmark's module and run its ``main``."""
    module = importlib.import_module(BENCHMARKS[args.name][0])
    result: int = module.main(args.options)
    return result
