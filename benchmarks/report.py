"""The benchmark report: ``benchmarks/results/REPORT.md`` with PNG plots, from the results the
benchmarks wrote (``carealloc bench report``; ``carealloc bench all`` runs everything first).

Plots, under ``benchmarks/results/plots/``: hours of care waiting and travel minutes per
contact hour over the simulated weeks, one line per policy (from ``simulation_<profile>.csv``),
and a map of one day's carer runs on the generated Argyll and Bute default (straight lines
between stops: the order of visits, not the roads driven).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from allocator.model import Snapshot
from benchmarks.demo_map import PALETTE
from benchmarks.generator import ArgyllSettings, generate_argyll
from benchmarks.paths import RESULTS

PROFILES = ("argyll", "torbay")
# Results written by the other benchmarks, linked from the report when present.
OTHER_RESULTS = (
    ("waiting_argyll.md", "Why referrals wait on the Argyll world, and capacity by hour"),
    (
        "waiting_argyll_late-finish.md",
        "The same on the late-finish rota scenario (shifts to 14:30 and 23:00)",
    ),
    ("waiting_torbay.md", "Why referrals wait on the Torbay world, and capacity by hour"),
    ("allocation.md", "Offers and joint placement at Argyll scale"),
    ("nightly.md", "The nightly re-optimisation at Argyll scale"),
    ("solomon.md", "Routing core on Solomon VRPTW, beside PyVRP"),
    ("hhc.md", "Routing core on home care with synchronised visits (Mankowska)"),
    ("geodata_travel.md", "Travel network realism and matrix speed"),
    ("api_load.md", "REST API under load"),
)
MAP_DAY = "mon"


def read_days(path: Path) -> dict[str, list[dict[str, str]]]:
    """A simulation CSV's rows, grouped by policy, in day order."""
    by_policy: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_policy[row["policy"]].append(row)
    for rows in by_policy.values():
        rows.sort(key=lambda r: int(r["day"]))
    return dict(by_policy)


def plot_series(
    by_policy: dict[str, list[dict[str, str]]], column: str, ylabel: str, title: str, out: Path
) -> Path:
    """One line per policy of ``column`` against the day."""
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for k, (policy, rows) in enumerate(by_policy.items()):
        points = [(int(r["day"]), float(r[column])) for r in rows if r[column] not in ("", "None")]
        if points:
            days, values = zip(*points, strict=True)
            ax.plot(days, values, label=policy, color=PALETTE[k % len(PALETTE)], linewidth=1.8)
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_runs_map(snapshot: Snapshot, day: str, out: Path) -> Path:
    """Every carer's runs on ``day``: base, visits in order, base; coloured by provider."""
    colours = {p.id: PALETTE[k % len(PALETTE)] for k, p in enumerate(snapshot.providers)}
    fig, ax = plt.subplots(figsize=(8, 9.5), dpi=110)
    for lot in snapshot.lots:
        if lot.polygon is None:
            continue
        parts = lot.polygon["coordinates"]
        rings = parts if lot.polygon["type"] == "Polygon" else [r for p in parts for r in p]
        for ring in rings:
            ax.fill(
                [p[0] for p in ring],
                [p[1] for p in ring],
                facecolor="#f6f6ef",
                edgecolor="#777",
                linewidth=0.6,
            )
    visits: dict[str, list[tuple[int, tuple[float, float]]]] = defaultdict(list)
    for package in snapshot.packages:
        for a in package.assignments:
            if a.day == day:
                for carer_id in a.carer_ids:
                    visits[carer_id].append((a.start_min, package.location))
    for carer in snapshot.carers:
        stops = sorted(visits.get(carer.id, []))
        if not stops:
            continue
        shifts = carer.shifts_on(day)
        xs: list[float] = []
        ys: list[float] = []
        for shift in shifts:
            run = [p for start, p in stops if shift.start_min <= start < shift.end_min]
            if run:
                path = [carer.base, *run, carer.base]
                xs += [p[0] for p in path] + [float("nan")]
                ys += [p[1] for p in path] + [float("nan")]
        ax.plot(xs, ys, color=colours[carer.provider_id], linewidth=0.7, alpha=0.8)
    ax.set_aspect(1 / 0.56)  # degrees of longitude are about 0.56 of latitude's at 56 N
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"Carers' runs on {day.capitalize()}day, coloured by provider")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _body(markdown: str) -> list[str]:
    """A result file's markdown below its title, headings moved down a level."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return ["#" + line if line.startswith("#") else line for line in lines]


def write_report(results: Path, with_map: bool = True) -> Path:
    """Draw the plots from what ``results`` holds and write ``REPORT.md`` there."""
    plots = results / "plots"
    lines = [
        "# carealloc benchmark report",
        "",
        f"Written by `carealloc bench report` on {dt.date.today().isoformat()} from the results "
        "in this folder; each section names the command that produced it.",
    ]
    for profile in PROFILES:
        source = results / f"simulation_{profile}.csv"
        if not source.exists():
            continue
        days = read_days(source)
        waiting = plot_series(
            days,
            "hours_waiting",
            "carer hours a week waiting",
            f"Hours of care waiting ({profile})",
            plots / f"waiting_hours_{profile}.png",
        )
        travel = plot_series(
            days,
            "travel_min_per_contact_hour",
            "travel minutes per contact hour",
            f"Travel per contact hour ({profile})",
            plots / f"travel_{profile}.png",
        )
        summary = results / f"simulation_{profile}.md"
        lines += ["", f"## Simulation: {profile}", ""]
        if summary.exists():
            lines += _body(summary.read_text(encoding="utf-8"))
        lines += [
            "",
            f"![hours of care waiting]({waiting.relative_to(results).as_posix()})",
            "",
            f"![travel per contact hour]({travel.relative_to(results).as_posix()})",
        ]
    if with_map:
        snapshot = generate_argyll(1, ArgyllSettings())
        runs = plot_runs_map(snapshot, MAP_DAY, plots / "runs_argyll.png")
        lines += [
            "",
            "## One day's runs",
            "",
            "The generated Argyll and Bute default (seed 1, built the status-quo way): every "
            "carer's Monday runs from base through their visits and back, as straight lines.",
            "",
            f"![Monday's runs]({runs.relative_to(results).as_posix()})",
        ]
    present = [(name, title) for name, title in OTHER_RESULTS if (results / name).exists()]
    if present:
        lines += ["", "## Other benchmarks", ""]
        lines += [f"- [{title}]({name})" for name, title in present]
    report = results / "REPORT.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``carealloc bench report``."""
    parser = argparse.ArgumentParser(
        prog="carealloc bench report",
        description="Draw the plots and write REPORT.md from the results already written.",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, metavar="DIR")
    parser.add_argument("--no-map", action="store_true", help="skip the map of one day's runs")
    args = parser.parse_args(argv)
    report = write_report(args.results, with_map=not args.no_map)
    print(f"Wrote {report}")
    return 0
