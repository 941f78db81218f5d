"""Why referrals wait: what stops each waiting referral of a generated world being placed.

Run: ``carealloc bench waiting [--profile argyll|torbay] [--seed 1] [--clients N]
[--capacity-ratio R]``.

For every waiting referral, every provider that may take it (its lot, or an adjacent lot the
provider works) is asked, as an offer would ask, to fit each visit occurrence into its carers'
runs as they are. The provider that comes closest (fewest occurrences it cannot fit) names what
is missing: which calls of the day, whether double-handed, and why (the offer engine's reason
codes), and whether handing other clients' visits over between the provider's carers (what
the nightly re-optimisation does, :mod:`allocator.handover`) would place it. Beside it, the
capacity by hour: carers on shift against carers in a client's home on a
Monday. Together they say whether a waiting list comes from too few carer hours overall, or from
the particular times, skills and places the runs cannot stretch to. Writes
``benchmarks/results/waiting_<profile>.csv`` (one row per waiting referral) and ``.md``.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from allocator.handover import fit_with_handovers
from allocator.io import write_text_atomic
from allocator.model import Package, Snapshot, Visit, format_time
from allocator.offers import draft_offer, lot_standing
from allocator.part_packages import start_part_packages
from allocator.runs import RunsView
from allocator.travel import TravelMatrix
from api.commands.args import at_least_one, output_folder, ratio
from api.prepare import prepare_snapshot, travel_matrix
from benchmarks.generator import rota_option
from benchmarks.paths import RESULTS
from benchmarks.simulate import world_kind
from benchmarks.tables import Table, markdown, text_table, write_csv

SLOTS = (("morning", 0), ("lunch", 11 * 60), ("tea", 14 * 60), ("bed", 18 * 60 + 30))
"""Calls named by the earliest start of their window (as the generator's slots)."""


def slot_of(visit: Visit) -> str:
    """Morning, lunch, tea or bed, by the visit's earliest start."""
    name = SLOTS[0][0]
    for label, start in SLOTS:
        if visit.earliest_start_min >= start:
            name = label
    return name


@dataclass(frozen=True)
class WaitingRow:
    """One waiting referral and what the provider that came closest could not fit."""

    referral_id: str
    locality: str
    lot_id: str
    weekly_hours: float
    double_handed: bool
    providers_asked: int
    closest_provider: str
    occurrences: int
    occurrences_not_fitted: int
    not_fitted_calls: str
    """Slot counts of the occurrences the closest provider could not fit, e.g. ``morning x2``."""
    reasons: str
    placed_by_handovers: bool = False
    """Whether handing other clients' visits over between a provider's carers, as the nightly
    re-optimisation does (:mod:`allocator.handover`), places it."""
    hours_started_as_part_package: float = 0.0
    """Carer hours a week that would start tonight if the client agreed to a part package
    (:mod:`allocator.part_packages`, referrals taken most urgent first), 0 if none."""


def why_waiting(snapshot: Snapshot, travel: TravelMatrix) -> list[WaitingRow]:
    """One row per waiting referral (see the module docstring)."""
    view = RunsView(snapshot, travel)
    handed = fit_with_handovers(snapshot, travel).placed
    rows = []
    for referral in snapshot.referrals:
        asked = [p for p in snapshot.providers if lot_standing(view, referral, p) is not None]
        drafts = [draft_offer(view, referral, p) for p in asked]
        occurrences = sum(1 for _ in referral.occurrences())
        if not drafts:
            rows.append(_row(referral, 0, "-", occurrences, occurrences, Counter(), Counter()))
            continue
        closest = min(drafts, key=lambda d: len(d.failures) + d.outside_lot * occurrences)
        visits = {v.id: v for v in referral.visits}
        calls = Counter(_call(visits[f.visit_id]) for f in closest.failures)
        reasons = Counter(f.reason_code.value for f in closest.failures)
        rows.append(
            _row(
                referral,
                len(asked),
                closest.provider.id,
                occurrences,
                len(closest.failures),
                calls,
                reasons,
            )
        )
    started = _part_package_hours(snapshot, travel)
    return [
        replace(
            r,
            placed_by_handovers=r.referral_id in handed,
            hours_started_as_part_package=started.get(r.referral_id, 0.0),
        )
        for r in rows
    ]


def _part_package_hours(snapshot: Snapshot, travel: TravelMatrix) -> dict[str, float]:
    """Referral id to the carer hours a week a part package would start, were every client
    to agree (as the runs stand, without handovers)."""
    agreeing = snapshot.model_copy(
        update={
            "referrals": [
                r.model_copy(update={"accepts_part_package": True}) for r in snapshot.referrals
            ]
        }
    )
    ids = [r.id for r in snapshot.referrals]
    started = start_part_packages(agreeing, travel, ids)
    still = {
        p.package_id: u.weekly_hours for p, u in zip(started.parts, started.unplaced, strict=True)
    }
    hours = {r.id: r.weekly_hours for r in snapshot.referrals}
    return {i: round(hours[i] - still.get(i, 0.0), 2) for i in started.placements}


def _call(visit: Visit) -> str:
    return slot_of(visit) + (" double-handed" if visit.carers_required > 1 else "")


def _row(
    referral: Package,
    asked: int,
    closest: str,
    occurrences: int,
    missing: int,
    calls: Counter[str],
    reasons: Counter[str],
) -> WaitingRow:
    return WaitingRow(
        referral_id=referral.id,
        locality=referral.locality or "",
        lot_id=referral.lot_id or "",
        weekly_hours=round(referral.weekly_hours, 2),
        double_handed=any(v.carers_required > 1 for v in referral.visits),
        providers_asked=asked,
        closest_provider=closest,
        occurrences=occurrences,
        occurrences_not_fitted=missing,
        not_fitted_calls=", ".join(f"{k} x{n}" for k, n in calls.most_common()),
        reasons=", ".join(f"{k} x{n}" for k, n in reasons.most_common()),
    )


def capacity_by_hour(snapshot: Snapshot, day: str = "mon") -> Table:
    """Carers on shift and carers in a client's home, hour by hour on ``day`` (means over the
    hour's minutes)."""
    on_shift = np.zeros(24 * 60)
    visiting = np.zeros(24 * 60)
    for carer in snapshot.carers:
        for shift in carer.shifts_on(day):
            on_shift[shift.start_min : shift.end_min] += 1
    for package in snapshot.packages:
        for a in package.assignments:
            if a.day == day:
                end = a.start_min + package.visit(a.visit_id).duration_min
                visiting[a.start_min : end] += len(a.carer_ids)
    rows = []
    for hour in range(24):
        working = float(on_shift[hour * 60 : (hour + 1) * 60].mean())
        busy = float(visiting[hour * 60 : (hour + 1) * 60].mean())
        if working or busy:
            share = f"{100 * busy / working:.0f}%" if working else "-"
            rows.append([format_time(hour * 60), f"{working:.0f}", f"{busy:.0f}", share])
    return ["hour", "carers on shift", "carers in a home", "share in a home"], rows


def summary_lines(rows: Sequence[WaitingRow]) -> list[str]:
    """The waiting list in a few plain sentences."""
    if not rows:
        return ["Nobody is waiting."]
    n = len(rows)
    fits = [r for r in rows if r.occurrences_not_fitted == 0]
    stuck = [r for r in rows if r.occurrences_not_fitted > 0]
    shares = [r.occurrences_not_fitted / r.occurrences for r in stuck if r.occurrences]
    calls: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for r in stuck:
        calls.update(_parse(r.not_fitted_calls))
        reasons.update(_parse(r.reasons))
    total_calls = max(1, sum(calls.values()))
    lines = [
        f"{n} referrals waiting ({sum(r.weekly_hours for r in rows):.0f} carer hours a week); "
        f"{len(fits)} could be placed as the runs stand; the other {len(stuck)} could not be "
        "placed by any provider that may take them.",
    ]
    if stuck:
        near = sum(1 for s in shares if s <= 0.25)
        lines.append(
            f"Of those {len(stuck)}, the provider that comes closest could fit all but "
            f"{statistics.median(shares) * 100:.0f}% of the week's visits (median); {near} miss "
            "at most a quarter of their visits: they wait for a few particular calls, not for "
            "a whole package's worth of hours."
        )
        lines.append(
            "The calls that do not fit: "
            + ", ".join(f"{k} {100 * v / total_calls:.0f}%" for k, v in calls.most_common())
            + ". Why: "
            + ", ".join(f"{k} {v}" for k, v in reasons.most_common())
            + " (occurrences; the offer engine's reason codes)."
        )
        doubles = sum(1 for r in stuck if r.double_handed)
        lines.append(
            f"{doubles} of the {len(stuck)} ({100 * doubles / len(stuck):.0f}%) have a "
            "double-handed call, against about 12% of all packages."
        )
        handed = [r for r in stuck if r.placed_by_handovers]
        lines.append(
            f"Handing other clients' visits over between a provider's carers, as the nightly "
            f"re-optimisation does, places {len(handed)} of the {len(stuck)} "
            f"({sum(r.weekly_hours for r in handed):.0f} carer hours a week), taken most "
            "urgent first; the others need more than the runs can give by handovers: carers "
            "on shift at those times and places, or a re-plan of whole runs."
        )
        parts = [r for r in stuck if r.hours_started_as_part_package > 0]
        stuck_hours = sum(r.weekly_hours for r in stuck)
        started = sum(r.hours_started_as_part_package for r in parts)
        lines.append(
            f"Were every client to agree to a part package (start with the calls that fit, "
            f"the others waiting; at least half the hours), {len(parts)} of the {len(stuck)} "
            f"could start tonight as the runs stand, with {started:.1f} of their "
            f"{stuck_hours:.1f} carer hours a week, without handovers."
        )
    return lines


def _parse(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, times = part.rpartition(" x")
        counts[name] += int(times)
    return counts


def write_results(
    rows: Sequence[WaitingRow], capacity: Table, out: Path, stem: str, command: str
) -> list[Path]:
    """``{stem}.csv`` (one row per waiting referral) and ``{stem}.md`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{stem}.csv", out / f"{stem}.md"
    write_csv(csv_path, [asdict(r) for r in rows])
    lines = [
        "# Why referrals wait",
        "",
        f"Command: `{command}`. Per referral: `{csv_path.name}`.",
        "",
        *[f"- {line}" for line in summary_lines(rows)],
        "",
        "## Capacity by hour, Monday",
        "",
        "Carers on shift against carers in a client's home (minutes averaged over the hour). "
        "Free carers at the peak are not where, or not skilled as, the waiting calls need.",
        "",
        markdown(capacity),
        "",
    ]
    write_text_atomic(md_path, "\n".join(lines))
    return [csv_path, md_path]


def main(argv: Sequence[str] | None = None) -> int:
    """``carealloc bench waiting``: analyse a generated world's waiting list."""
    parser = argparse.ArgumentParser(
        prog="carealloc bench waiting",
        description="Why referrals wait on a generated world: for each waiting referral, the "
        "calls that the closest provider's runs cannot fit and why, and carers on shift "
        "against carers in a home by hour.",
    )
    parser.add_argument("--profile", choices=("argyll", "torbay"), default="argyll")
    parser.add_argument("--seed", type=at_least_one, default=1, metavar="N", help="default 1")
    parser.add_argument("--clients", type=at_least_one, metavar="N", help="clients of the world")
    parser.add_argument("--capacity-ratio", type=ratio, metavar="R")
    rota_option(parser)
    parser.add_argument("--out", type=output_folder, default=RESULTS, metavar="DIR")
    args = parser.parse_args(argv)
    kind = world_kind(args.profile, args.clients, args.capacity_ratio, args.rota)
    settings = kind.settings
    snapshot = prepare_snapshot(kind.generate(args.seed, settings))
    travel = travel_matrix(snapshot, kind.travel)
    rows = why_waiting(snapshot, travel)
    capacity = capacity_by_hour(snapshot)
    for line in summary_lines(rows):
        print(line)
    print(text_table(capacity))
    command = f"carealloc bench waiting --profile {args.profile} --seed {args.seed}"
    if args.clients is not None:
        command += f" --clients {args.clients}"
    if args.capacity_ratio is not None:
        command += f" --capacity-ratio {args.capacity_ratio:g}"
    stem = f"waiting_{args.profile}"
    if args.rota not in (None, "standard"):
        command += f" --rota {args.rota}"
        stem += f"_{args.rota}"
    paths = write_results(rows, capacity, args.out, stem, command)
    print("Wrote " + ", ".join(str(p) for p in paths))
    return 0
