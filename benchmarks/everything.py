"""``carealloc bench all`` (``make bench``): every benchmark at its full size, then the report.

It takes hours (the routing suites give each instance a minute, with PyVRP beside it, and the
simulations run twelve weeks); each step writes its own results as it finishes, so an
interrupted run keeps what it has done, and ``carealloc bench report`` redraws the report.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Sequence

from tqdm import tqdm

from benchmarks import report
from benchmarks.simulate import CHOOSABLE_POLICIES

STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "simulation, Argyll and Bute",
        "benchmarks.simulate",
        # With the nightly without handovers beside it: what handovers gain and cost.
        ("--profile", "argyll", "--workers", "2", "--policies", ",".join(CHOOSABLE_POLICIES)),
    ),
    ("simulation, Torbay", "benchmarks.simulate", ("--profile", "torbay", "--workers", "2")),
    ("why referrals wait, Argyll and Bute", "benchmarks.waiting", ("--profile", "argyll")),
    ("offers and joint placement", "benchmarks.allocation", ()),
    ("nightly re-optimisation", "benchmarks.nightly", ()),
    ("Solomon VRPTW", "benchmarks.solomon", ()),
    ("home care with synchronised visits", "benchmarks.hhc", ()),
    ("travel network", "benchmarks.geodata_travel", ()),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every step in turn, then write the report."""
    parser = argparse.ArgumentParser(prog="carealloc bench all", description=__doc__)
    parser.parse_args(argv)
    for title, module_name, options in tqdm(STEPS, desc="benchmarks", unit="step"):
        started = time.monotonic()
        print(f"\n== {title}: carealloc bench ... {' '.join(options)}", flush=True)
        status: int = importlib.import_module(module_name).main(list(options))
        if status != 0:
            print(f"{title} failed with status {status}; stopping")
            return status
        print(f"== {title}: done in {time.monotonic() - started:.0f} s", flush=True)
    return report.main([])
