"""The benchmark report: ``benchmarks/results/REPORT.md`` with PNG plots, from the results the
benchmarks wrote (``carealloc bench report``; ``carealloc bench all`` runs everything first).

Plots, under ``benchmarks/results/plots/``: hours of care waiting and travel minutes per
contact hour over the simulated weeks, one line per policy (from ``simulation_<profile>.csv``),
and a map of one day's carer runs on the generated Argyll and Bute default (straight lines
between stops: the order of visits, not the roads driven).

The trade-off section sets every measured setting of the Argyll simulation side by side
(``simulation_argyll*.csv``: the default and its variants, such as a handover travel cap or
part packages): hours of care waiting as a share of the status quo's, against how much lower
travel per contact hour is, each against the status quo of the same run, with issue #7's
target corner drawn in.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from allocator.io import write_text_atomic
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
STATUS_QUO = "status_quo"
# Issue #7's targets: hours waiting at most this share of the status quo's average, travel per
# contact hour at least this much lower.
TARGET_HOURS_SHARE = 25.0
TARGET_TRAVEL_LOWER = 15.0


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


@dataclass(frozen=True)
class Setting:
    """One policy of one simulation run, against that run's status quo."""

    run: str
    """The results file's stem, e.g. ``simulation_argyll_cap30``."""
    command: str
    policy: str
    hours_share: float
    """Mean hours of care waiting as a percentage of the status quo's (days after day 0)."""
    travel_lower: float
    """How much lower mean travel per contact hour is than the status quo's, in percent."""
    placed: int
    placed_status_quo: int
    days: int = 0
    """Days simulated after day 0 (84 for the default 12 weeks)."""
    moved: int | None = None
    """Clients the policy moved to another provider (None: the run did not count them)."""

    @property
    def meets_targets(self) -> bool:
        """Both of issue #7's targets."""
        return self.hours_share <= TARGET_HOURS_SHARE and self.travel_lower >= TARGET_TRAVEL_LOWER


def _mean_after_day0(rows: list[dict[str, str]], column: str) -> float:
    values = [float(r[column]) for r in rows if int(r["day"]) > 0 and r[column] not in ("", "None")]
    return round(statistics.fmean(values), 2)  # as the run's own summary rounds them


def _command(summary: Path) -> str:
    if summary.exists():
        for line in summary.read_text(encoding="utf-8").splitlines():
            if line.startswith("Command: `"):
                return line.split("`")[1]
    return "(command not recorded)"


def measured_settings(results: Path, profile: str = "argyll") -> list[Setting]:
    """Every policy other than the status quo in every ``simulation_<profile>*.csv`` that has
    the status quo beside it (quick runs left out)."""
    settings = []
    for source in sorted(results.glob(f"simulation_{profile}*.csv")):
        if "_quick" in source.stem:
            continue
        days = read_days(source)
        quo = days.get(STATUS_QUO)
        if not quo:
            continue
        quo_hours = _mean_after_day0(quo, "hours_waiting")
        quo_travel = _mean_after_day0(quo, "travel_min_per_contact_hour")
        quo_placed = sum(int(r["placed_today"]) for r in quo if int(r["day"]) > 0)
        for policy, rows in days.items():
            if policy == STATUS_QUO:
                continue
            travel = _mean_after_day0(rows, "travel_min_per_contact_hour")
            counted = "moved_today" in rows[0]
            settings.append(
                Setting(
                    run=source.stem,
                    command=_command(source.with_suffix(".md")),
                    policy=policy,
                    hours_share=100 * _mean_after_day0(rows, "hours_waiting") / quo_hours,
                    travel_lower=100 * (1 - travel / quo_travel),
                    placed=sum(int(r["placed_today"]) for r in rows if int(r["day"]) > 0),
                    placed_status_quo=quo_placed,
                    days=sum(1 for r in rows if int(r["day"]) > 0),
                    moved=sum(int(r["moved_today"]) for r in rows) if counted else None,
                )
            )
    return settings


def trade_off_lines(settings: Sequence[Setting]) -> list[str]:
    """The trade-off table, and what it says, as markdown lines."""
    lines = [
        "| run | policy | days | hours waiting, % of status quo | travel per contact hour, "
        "% lower | clients placed (status quo) | clients moved to another provider "
        "| both targets |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in sorted(settings, key=lambda s: (s.hours_share, -s.travel_lower)):
        moved = "not counted" if s.moved is None else str(s.moved)
        lines.append(
            f"| `{s.run}` | {s.policy} | {s.days} | {s.hours_share:.1f} | {s.travel_lower:.1f} "
            f"| {s.placed} ({s.placed_status_quo}) | {moved} "
            f"| {'yes' if s.meets_targets else 'no'} |"
        )
    met = [s for s in settings if s.meets_targets]
    lines += ["", "Commands:", ""]
    lines += sorted({f"- `{s.run}`: `{s.command}`" for s in settings})
    lines.append("")
    if met:
        lines.append(
            f"{len(met)} of {len(settings)} measured settings meet both targets: "
            + ", ".join(f"{s.policy} in `{s.run}`" for s in met)
            + "."
        )
    else:
        fewest = min(settings, key=lambda s: s.hours_share)
        lowest = max(settings, key=lambda s: s.travel_lower)
        lines.append(
            f"None of the {len(settings)} measured settings meets both targets. The fewest "
            f"hours waiting ({fewest.hours_share:.0f}% of the status quo's, {fewest.policy} in "
            f"`{fewest.run}`) come with travel per contact hour only "
            f"{fewest.travel_lower:.1f}% lower; the lowest travel ({lowest.travel_lower:.1f}% "
            f"lower, {lowest.policy} in `{lowest.run}`) leaves {lowest.hours_share:.0f}% of "
            "the hours waiting."
        )
    # Clients placed grow with the days simulated, so only runs of one length are compared:
    # the length most nightly settings share (the longer on a tie).
    by_days: dict[int, list[Setting]] = {}
    for s in settings:
        if s.policy.startswith("carealloc_nightly"):
            by_days.setdefault(s.days, []).append(s)
    days, nightly = max(by_days.items(), key=lambda kv: (len(kv[1]), kv[0]), default=(0, []))
    extra = [float(s.placed - s.placed_status_quo) for s in nightly]
    if len(nightly) > 2 and len(set(extra)) > 1:
        r = statistics.correlation(extra, [s.travel_lower for s in nightly])
        lines.append(
            f"Across the {len(nightly)} nightly re-optimisation settings of {days} days, the "
            "correlation "
            "between how many more clients a setting places than its status quo and how much "
            f"it lowers travel per contact hour is r = {r:.2f}"
            + (
                ": the more of the waiting clients it reaches, the less travel it saves. Those "
                "the status quo leaves waiting are the ones its runs cannot reach, and reaching "
                "them costs travel."
                if r <= -0.5
                else "."
            )
        )
    return lines


def plot_trade_off(settings: Sequence[Setting], out: Path) -> Path:
    """Hours waiting share against travel reduction, one point per setting, with the target
    corner shaded."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    right = max(TARGET_TRAVEL_LOWER * 1.5, *(s.travel_lower + 2 for s in settings))
    ax.fill_between(
        [TARGET_TRAVEL_LOWER, right],
        0,
        TARGET_HOURS_SHARE,
        color="#2a9d8f",
        alpha=0.15,
        label="issue #7's targets",
    )
    longest = max((s.days for s in settings), default=0)
    for k, s in enumerate(settings):
        full = s.days == longest
        ax.scatter(
            s.travel_lower,
            s.hours_share,
            color=PALETTE[k % len(PALETTE)],
            marker="o" if full else "^",
            s=40,
        )
        label = s.run.removeprefix("simulation_argyll").lstrip("_") or "default"
        if s.policy != "carealloc_nightly":
            label += f" ({s.policy.removeprefix('carealloc_')})"
        ax.annotate(
            label,
            (s.travel_lower, s.hours_share),
            textcoords="offset points",
            xytext=(5, 3),
            fontsize=7,
        )
    ax.scatter([], [], color="grey", marker="o", s=40, label=f"runs of {longest} days")
    if any(s.days != longest for s in settings):
        ax.scatter([], [], color="grey", marker="^", s=40, label="shorter runs")
    ax.scatter([0], [100], color="black", marker="s", s=40, label="status quo")
    ax.set_xlim(min(-2.0, *(s.travel_lower - 2 for s in settings)), right)
    ax.set_ylim(0, 110)
    ax.set_xlabel("travel per contact hour, % lower than the status quo")
    ax.set_ylabel("hours of care waiting, % of the status quo")
    ax.set_title("Hours waiting against travel: carealloc nightly unless named (Argyll)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
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
    settings = measured_settings(results)
    if settings:
        trade = plot_trade_off(settings, plots / "trade_off_argyll.png")
        lines += [
            "",
            "## Hours waiting against travel: every measured setting (argyll)",
            "",
            "Each simulation run of the Argyll world (seed 1; runs of the same length face "
            "the same random stream, a shorter run draws its own), each policy against the "
            "status quo of its own run; means over the simulated days, so compare runs of "
            "the same length. Issue #7 asks for both: hours waiting at most "
            f"{TARGET_HOURS_SHARE:g}% of the status quo's and travel per contact hour at "
            f"least {TARGET_TRAVEL_LOWER:g}% lower.",
            "",
            *trade_off_lines(settings),
            "",
            f"![hours waiting against travel]({trade.relative_to(results).as_posix()})",
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
    write_text_atomic(report, "\n".join(lines) + "\n")
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
