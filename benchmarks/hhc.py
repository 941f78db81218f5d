"""The routing core on home-care routing with synchronised visits (Mankowska et al. 2014).

Usage: ``python -m benchmarks.hhc [--time-limit 60] [--max-patients 25] [--quick]`` (or
``carealloc bench hhc``). Writes ``benchmarks/results/hhc.csv`` and ``hhc.md``.

Each patient needs one or two services; a caregiver may give only the services they are
qualified for; two services of one patient are either simultaneous (two caregivers arriving
together, as a double-handed care call) or sequential with a minimum and maximum delay. A
service may start after its window closes, at a cost: the objective is (total distance + total
tardiness + maximum tardiness) / 3, travel time equal to distance. The instances are the
Ceschia et al. (2024) JSON edition in ``benchmarks/data/hhc`` (MIT); best-known values from
``best_known_merged.csv``.

The routing core minimises distance plus twice the total tardiness (it has no term for the
maximum tardiness, and with one late visit total + maximum is twice its lateness); the
objective reported is the suite's own, recomputed here. Every solution
is re-checked by this script, independently of the solver: each service once by a qualified
caregiver, start times reachable, synchronisation kept; then its objective is recomputed in
floating point.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from allocator.io import write_text_atomic
from allocator.routing import RoutingParams, RoutingProblem, RoutingSolution, Sync, solve
from api.commands.args import at_least_one, output_folder, positive_seconds
from benchmarks.paths import DATA, RESULTS
from benchmarks.tables import markdown_table, write_csv

SCALE = 100
FOLDER = DATA / "hhc" / "mankowska_json"
QUICK = ("InstanzCPLEX_HCSRP_10_1", "InstanzCPLEX_HCSRP_10_2", "InstanzCPLEX_HCSRP_25_1")


@dataclass(frozen=True)
class Service:
    patient: int  # 1..n, the row of the distance matrix
    service: str
    duration: float
    earliest: float
    due: float


@dataclass(frozen=True)
class Instance:
    name: str
    distance: np.ndarray
    services: list[Service]
    caregivers: list[tuple[str, frozenset[str]]]
    syncs: list[tuple[int, int, float, float, bool]]  # first, second, min, max, different

    @property
    def patients(self) -> int:
        return len(self.distance) - 1


def read_instance(path: Path) -> Instance:
    data = json.loads(path.read_text())
    services: list[Service] = []
    syncs: list[tuple[int, int, float, float, bool]] = []
    for p, patient in enumerate(data["patients"], start=1):
        earliest, due = patient["time_window"]
        first = len(services)
        for need in patient["required_caregivers"]:
            services.append(Service(p, need["service"], float(need["duration"]), earliest, due))
        sync = patient.get("synchronization")
        if sync and len(patient["required_caregivers"]) == 2:
            if sync["type"] == "simultaneous":
                syncs.append((first, first + 1, 0.0, 0.0, True))
            else:
                low, high = sync["distance"]
                syncs.append((first, first + 1, float(low), float(high), False))
    return Instance(
        name=path.stem,
        distance=np.array(data["distances"], dtype=float),
        services=services,
        caregivers=[(c["id"], frozenset(c["abilities"])) for c in data["caregivers"]],
        syncs=syncs,
    )


def to_problem(inst: Instance) -> RoutingProblem:
    n, v = len(inst.services), len(inst.caregivers)
    horizon = int(SCALE * (max(s.due for s in inst.services) * 3 + inst.distance.max() * 4))
    return RoutingProblem(
        time=[np.ceil(inst.distance * SCALE - 1e-6).astype(np.int64)],
        cost=[np.rint(inst.distance * SCALE).astype(np.int64)],
        visit_location=np.array([s.patient for s in inst.services], dtype=np.int64),
        visit_service=np.array([math.ceil(s.duration * SCALE) for s in inst.services]),
        visit_earliest=np.array([round(s.earliest * SCALE) for s in inst.services]),
        visit_latest=np.full(n, horizon, dtype=np.int64),
        visit_due=np.array([round(s.due * SCALE) for s in inst.services]),
        # The objective counts lateness twice over when one visit is late (total + maximum);
        # the core has no maximum term, so each unit late costs 2, exact in that case.
        tardiness_cost=2,
        vehicle_start_location=np.zeros(v, dtype=np.int64),
        vehicle_end_location=np.zeros(v, dtype=np.int64),
        vehicle_earliest=np.zeros(v, dtype=np.int64),
        vehicle_latest=np.full(v, horizon, dtype=np.int64),
        visit_allowed=[
            [k for k, (_, skills) in enumerate(inst.caregivers) if s.service in skills]
            for s in inst.services
        ],
        syncs=[
            Sync(a, b, round(lo * SCALE), round(hi * SCALE), different)
            for a, b, lo, hi, different in inst.syncs
        ],
    )


def check(inst: Instance, solution: RoutingSolution) -> tuple[dict[str, float], list[str]]:
    """Distance, tardiness and objective of a solution, and the rules it breaks."""
    problems: list[str] = []
    served = sorted(i for route in solution.routes for i in route)
    if served != list(range(len(inst.services))):
        problems.append("not every service given exactly once")
    start = {i: solution.starts[i] / SCALE for i in served}
    distance = 0.0
    for k, route in enumerate(solution.routes):
        skills = inst.caregivers[k][1]
        clock, here = 0.0, 0
        for i in route:
            s = inst.services[i]
            if s.service not in skills:
                problems.append(f"caregiver {inst.caregivers[k][0]} not qualified for {s.service}")
            leg = inst.distance[here, s.patient]
            distance += leg
            if start[i] + 1e-6 < max(clock + leg, s.earliest):
                problems.append(f"service {i} starts before it can")
            clock, here = start[i] + s.duration, s.patient
        distance += inst.distance[here, 0]
    for a, b, lo, hi, different in inst.syncs:
        delay = start[b] - start[a]
        if not (lo - 1e-6 <= delay <= hi + 1e-6):
            problems.append(f"services {a} and {b} out of sync ({delay:g})")
        if different:
            owner = {i: k for k, route in enumerate(solution.routes) for i in route}
            if owner[a] == owner[b]:
                problems.append(f"simultaneous services {a} and {b} by one caregiver")
    tardiness = [max(0.0, start[i] - inst.services[i].due) for i in served]
    total, worst = sum(tardiness), max(tardiness, default=0.0)
    figures = {
        "distance": distance,
        "total_tardiness": total,
        "max_tardiness": worst,
        "objective": (distance + total + worst) / 3,
    }
    return figures, problems


def run(inst: Instance, seconds: float) -> tuple[dict[str, float], list[str], float]:
    started = time.monotonic()
    solution = solve(to_problem(inst), RoutingParams(time_limit_s=seconds))
    wall = time.monotonic() - started
    if solution is None:
        return {"objective": math.nan}, ["no solution"], wall
    figures, problems = check(inst, solution)
    return figures, problems, wall


def load_best() -> dict[str, float]:
    with (DATA / "hhc" / "best_known_merged.csv").open() as f:
        return {
            r["instance_file"].removesuffix(".txt"): float(r["best_known_cost"])
            for r in csv.DictReader(f)
        }


def _order(name: str) -> tuple[int, int]:
    size, number = name.rsplit("_", 2)[-2:]
    return int(size), int(number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carealloc bench hhc", description=__doc__)
    parser.add_argument(
        "--time-limit", type=positive_seconds, default=60.0, help="seconds per instance"
    )
    parser.add_argument(
        "--max-patients", type=at_least_one, default=100, help="largest instances run"
    )
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--out", type=output_folder, default=RESULTS, metavar="DIR")
    args = parser.parse_args(argv)

    names = sorted((p.stem for p in FOLDER.glob("*.json")), key=_order)
    names = list(QUICK) if args.quick else [n for n in names if _order(n)[0] <= args.max_patients]
    best = load_best()
    rows: list[dict[str, Any]] = []
    for name in names:
        inst = read_instance(FOLDER / f"{name}.json")
        figures, problems, wall = run(inst, args.time_limit)
        bk = best[name]
        row = {
            "instance": name,
            "patients": inst.patients,
            "best_known": bk,
            "objective": round(figures["objective"], 3),
            "gap_pct": round(100 * (figures["objective"] - bk) / bk, 2),
            "distance": round(figures.get("distance", math.nan), 3),
            "total_tardiness": round(figures.get("total_tardiness", math.nan), 3),
            "max_tardiness": round(figures.get("max_tardiness", math.nan), 3),
            "feasible": not problems,
            "wall_s": round(wall, 1),
        }
        rows.append(row)
        print(
            f"{name}: {row['objective']} vs {bk} ({row['gap_pct']:+.2f}%)"
            + (f" PROBLEMS {problems[:2]}" if problems else ""),
            flush=True,
        )
        write(rows, args)
    return 0


def write(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    write_csv(args.out / "hhc.csv", rows)
    lines = [
        "# Routing core on home-care routing with synchronised visits (Mankowska 2014)",
        "",
        f"Command: `python -m benchmarks.hhc --time-limit {args.time_limit:g} "
        f"--max-patients {args.max_patients}`. 2 shared cores, one thread per instance. "
        "Objective (distance + total tardiness + max tardiness) / 3, recomputed and every "
        "solution re-checked by this script. No peer library supports synchronised visits "
        "natively, so there is no side-by-side run here.",
        "",
    ]
    for size in sorted({r["patients"] for r in rows}):
        group = [r for r in rows if r["patients"] == size]
        gaps = [r["gap_pct"] for r in group]
        lines.append(
            f"- {size} patients ({len(group)} instances): mean gap to best known "
            f"**{statistics.mean(gaps):+.2f}%**, worst {max(gaps):+.2f}%, "
            f"all feasible: {all(r['feasible'] for r in group)}."
        )
    small = [r["gap_pct"] for r in rows if r["patients"] <= 25]
    if small:
        lines.append(
            f"\nUp to 25 patients: mean gap **{statistics.mean(small):+.2f}%**, worst "
            f"{max(small):+.2f}% (target: within 5% of best known)."
        )
    lines += [
        "",
        *markdown_table(rows),
    ]
    write_text_atomic(args.out / "hhc.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
