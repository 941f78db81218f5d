"""``carealloc demo``: the day's brokerage on the generated Argyll and Bute default, end to end.

A seeded Argyll-style world (:mod:`benchmarks.generator`: today's runs built the way brokerage
builds them now, a waiting list, and today's new referrals) is the input. Today's new referrals
are placed twice on the same input: jointly by carealloc (:func:`allocator.batch.place_batch`)
and one at a time the status-quo way (each offered to its lot's providers in framework order,
the first that can fit it takes it). Both plans are re-checked by the independent evaluator.
The summary says, per lot and per provider, what was placed, what still waits, how many hours
of care a week are waiting and how much travel the new packages add.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from allocator.batch import place_batch
from allocator.evaluate import evaluate
from allocator.greedy import SequentialPolicy, place_sequentially
from allocator.io import write_model, write_text_atomic
from allocator.model import Plan, Snapshot
from allocator.runs import RunsView
from allocator.travel import TravelMatrix
from api.errors import UserError
from api.prepare import travel_matrix
from benchmarks.demo_map import render_map
from benchmarks.generator import (
    NOW,
    ArgyllSettings,
    WorldSettings,
    generate_argyll,
    new_referral_ids,
)
from benchmarks.measures import added_travel_by_carer_day
from benchmarks.tables import Table, html_table, markdown, text_table

CAREALLOC = "carealloc"
STATUS_QUO = "status quo"


@dataclass(frozen=True)
class DemoSettings:
    """What the demo generates and how long joint placement may search."""

    seed: int = 1
    world: WorldSettings = field(default_factory=ArgyllSettings)
    time_limit_s: float = 5.0
    """CP-SAT's budget for the joint placement (deterministic time, about seconds)."""


@dataclass(frozen=True)
class Method:
    """One way of placing today's referrals, and what it did."""

    name: str
    plan: Plan
    """The complete plan, KPIs filled in by the evaluator."""
    added_travel: dict[tuple[int, str], float]
    """Added travel minutes per (carer index, day of the week)."""

    def placed(self, new_ids: set[str]) -> dict[str, str]:
        """New package id to the provider that took it."""
        placements = self.plan.placements
        return {p.package_id: p.provider_id for p in placements if p.package_id in new_ids}


@dataclass(frozen=True)
class DemoResult:
    """The generated world and each method's placement of today's referrals."""

    settings: DemoSettings
    snapshot: Snapshot
    travel: TravelMatrix
    new_ids: list[str]
    methods: list[Method]

    def method(self, name: str) -> Method:
        """The method called ``name``."""
        return next(m for m in self.methods if m.name == name)


def run_demo(settings: DemoSettings) -> DemoResult:
    """Generate the world, place today's referrals both ways and check both plans."""
    snapshot = generate_argyll(settings.seed, settings.world)
    travel = travel_matrix(snapshot)
    new_ids = new_referral_ids(snapshot)
    view = RunsView(snapshot, travel)
    plans = {
        CAREALLOC: place_batch(
            snapshot,
            travel,
            new_ids,
            time_limit_s=settings.time_limit_s,
            seed=settings.seed,
            now=NOW,
        ),
        STATUS_QUO: place_sequentially(
            snapshot, travel, policy=SequentialPolicy.STATUS_QUO, referral_ids=new_ids
        ),
    }
    methods = []
    for name, plan in plans.items():
        result = evaluate(snapshot, plan, travel)
        if not result.is_feasible:
            rules = ", ".join(sorted({v.rule for v in result.violations}))
            msg = f"the {name} plan breaks hard rules ({rules}); please report this"
            raise UserError(msg)
        methods.append(
            Method(
                name=name,
                plan=plan.model_copy(update={"kpis": result.kpis}),
                added_travel=added_travel_by_carer_day(view, plan, set(new_ids)),
            )
        )
    return DemoResult(settings, snapshot, travel, new_ids, methods)


# --- tables ---------------------------------------------------------------------------------


def _pair(values: Sequence[float | None], digits: int = 0) -> str:
    return " / ".join("-" if v is None else f"{v:,.{digits}f}" for v in values)


def _new_stops_by_carer_day(
    result: DemoResult, method: Method
) -> dict[tuple[int, str], Counter[str]]:
    """Per carer day, how many of its new visits belong to each new package."""
    index = {c.id: i for i, c in enumerate(result.snapshot.carers)}
    new = set(result.new_ids)
    found: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for placement in method.plan.placements:
        if placement.package_id in new:
            for a in placement.assignments:
                for carer_id in a.carer_ids:
                    found[(index[carer_id], a.day)][placement.package_id] += 1
    return found


def _travel_by_package(result: DemoResult, method: Method) -> dict[str, float]:
    """Each new package's share of the travel it adds (a carer day's added travel split by its
    new visits; exact whenever a carer day takes visits of only one new package)."""
    shares: dict[str, float] = defaultdict(float)
    for key, counts in _new_stops_by_carer_day(result, method).items():
        total = sum(counts.values())
        for package_id, n in counts.items():
            shares[package_id] += method.added_travel.get(key, 0.0) * n / total
    return shares


def lot_table(result: DemoResult) -> Table:
    """Per lot: today's referrals, placed, still waiting, hours waiting, added travel; each
    cell carealloc / status quo."""
    snap = result.snapshot
    header = [
        "lot",
        "new today",
        "placed",
        "waiting after",
        "hours waiting/week",
        "added travel min/week",
    ]
    new = set(result.new_ids)
    lots = [(lot.id, lot.name) for lot in snap.lots]
    rows = []
    per_method = []
    for method in result.methods:
        travel = _travel_by_package(result, method)
        placed = method.placed(new)
        unplaced = {u.package_id for u in method.plan.unplaced}
        per_method.append((placed, unplaced, travel))
    for lot_id, name in [*lots, ("", "all lots")]:
        in_lot = {p.id for p in snap.referrals if not lot_id or p.lot_id == lot_id}
        arriving = len(in_lot & new)
        placed_n, waiting_n, hours, added = [], [], [], []
        for placed, unplaced, travel in per_method:
            placed_n.append(len(in_lot & set(placed)))
            waiting = in_lot & unplaced
            waiting_n.append(len(waiting))
            hours.append(sum(snap.package(i).weekly_hours for i in waiting))
            added.append(sum(travel[i] for i in in_lot & set(placed)))
        rows.append(
            [
                name,
                str(arriving),
                _pair(placed_n),
                _pair(waiting_n),
                _pair(hours, 1),
                _pair(added),
            ]
        )
    return header, rows


def provider_table(result: DemoResult) -> Table:
    """Per provider taking any new package: packages, carer hours, added travel and travel per
    added contact hour; each cell carealloc / status quo."""
    snap = result.snapshot
    header = [
        "provider",
        "new packages",
        "carer hours/week",
        "added travel min/week",
        "travel min per contact hour",
    ]
    new = set(result.new_ids)
    provider_of = [c.provider_id for c in snap.carers]
    stats = []
    for method in result.methods:
        placed = method.placed(new)
        travel: dict[str, float] = defaultdict(float)
        for (carer, _), minutes in method.added_travel.items():
            travel[provider_of[carer]] += minutes
        counts: Counter[str] = Counter(placed.values())
        hours: dict[str, float] = defaultdict(float)
        contact: dict[str, float] = defaultdict(float)
        for package_id, provider_id in placed.items():
            package = snap.package(package_id)
            hours[provider_id] += package.weekly_hours
            contact[provider_id] += package.weekly_carer_min / 60
        stats.append((counts, hours, travel, contact))
    rows = []
    for provider in snap.providers:
        if not any(counts[provider.id] for counts, *_ in stats):
            continue
        per_hour = [
            travel[provider.id] / contact[provider.id] if contact[provider.id] else None
            for _, _, travel, contact in stats
        ]
        rows.append(
            [
                provider.name,
                _pair([counts[provider.id] for counts, *_ in stats]),
                _pair([hours[provider.id] for _, hours, *_ in stats], 1),
                _pair([travel[provider.id] for *_, travel, _ in stats]),
                _pair(per_hour, 1),
            ]
        )
    return header, rows


# --- the summary ----------------------------------------------------------------------------


def headline(result: DemoResult) -> list[str]:
    """A few sentences a care manager can read first."""
    snap = result.snapshot
    world = result.settings.world
    new = set(result.new_ids)
    visits = sum(len(v.days) for p in snap.packages for v in p.visits)
    lines = [
        f"Argyll and Bute, generated world seed {result.settings.seed} ({world.clients} clients "
        f"ever referred, capacity ratio {world.capacity_ratio:g}, {world.rota} rota): "
        f"{len(snap.providers)} "
        f"providers, {len(snap.carers)} carers, {len(snap.packages)} clients receiving care "
        f"({visits:,} visits a week), {len(snap.referrals) - len(new)} on the waiting list and "
        f"{len(new)} new referrals today.",
    ]
    by_urgency = Counter(snap.package(i).urgency.label for i in result.new_ids)
    lines.append(
        "Today's referrals: " + ", ".join(f"{n} {label}" for label, n in by_urgency.items()) + "."
    )
    for method in result.methods:
        placed = method.placed(new)
        kpis = method.plan.kpis
        assert kpis is not None
        hours = sum(snap.package(i).weekly_hours for i in placed)
        how = (
            "jointly (carealloc)"
            if method.name == CAREALLOC
            else "one at a time, first provider in the lot that can fit it (status quo)"
        )
        lines.append(
            f"Placed {how}: {len(placed)} of {len(new)} ({hours:.1f} carer hours a week), adding "
            f"{sum(method.added_travel.values()):,.0f} minutes of travel a week; "
            f"{kpis.packages_unplaced} packages still wait, {kpis.hours_waiting_per_week:,.1f} "
            "hours of care a week."
        )
    joint, quo = result.method(CAREALLOC), result.method(STATUS_QUO)
    quo_travel = sum(quo.added_travel.values())
    if quo_travel > 0 and len(joint.placed(new)) == len(quo.placed(new)):
        change = 100 * (sum(joint.added_travel.values()) / quo_travel - 1)
        lines.append(
            f"Same number placed; carealloc's placements add {abs(change):.0f}% "
            f"{'less' if change <= 0 else 'more'} travel than the status quo's."
        )
    return lines


def reasons(result: DemoResult) -> list[str]:
    """Why today's referrals that carealloc could not place still wait, one line each."""
    new = set(result.new_ids)
    return [
        f"{u.package_id} ({u.weekly_hours:g} h/week): {u.reason}"
        for u in result.method(CAREALLOC).plan.unplaced
        if u.package_id in new
    ]


def render_text(result: DemoResult) -> str:
    """The summary for the terminal."""
    parts = [
        "carealloc demo",
        "",
        *headline(result),
        "",
        "By lot (carealloc / status quo):",
        text_table(lot_table(result)),
        "",
        "By provider (carealloc / status quo):",
        text_table(provider_table(result)),
    ]
    waiting = reasons(result)
    if waiting:
        parts += ["", f"Still waiting from today ({len(waiting)}), with carealloc's reasons:"]
        parts += [f"  {line}" for line in waiting]
    return "\n".join(parts)


def render_markdown(result: DemoResult) -> str:
    """The summary as markdown."""
    world = result.settings.world
    parts = [
        "# carealloc demo: today's referrals in Argyll and Bute",
        "",
        f"Command: `carealloc demo --seed {result.settings.seed} --clients {world.clients} "
        f"--new-referrals {world.new_referrals}"
        + (f" --rota {world.rota}" if world.rota != "standard" else "")
        + "`. Generated data (docs/generator.md); both plans "
        "re-checked by the independent evaluator.",
        "",
        *[f"- {line}" for line in headline(result)],
        "",
        "## By lot (carealloc / status quo)",
        "",
        markdown(lot_table(result)),
        "",
        "## By provider (carealloc / status quo)",
        "",
        markdown(provider_table(result)),
    ]
    waiting = reasons(result)
    if waiting:
        parts += ["", "## Today's referrals still waiting, with reasons", ""]
        parts += [f"- {line}" for line in waiting]
    return "\n".join(parts) + "\n"


def write_outputs(result: DemoResult, out: Path) -> list[Path]:
    """Write the snapshot, both plans, the markdown summary and the HTML map under ``out``."""
    paths = {
        "snapshot": out / "snapshot.json",
        "plan": out / "plan.json",
        "status_quo": out / "plan-status-quo.json",
        "summary": out / "summary.md",
        "map": out / "map.html",
    }
    write_model(paths["snapshot"], result.snapshot)
    write_model(paths["plan"], result.method(CAREALLOC).plan)
    write_model(paths["status_quo"], result.method(STATUS_QUO).plan)
    write_text_atomic(paths["summary"], render_markdown(result))
    tables = [
        ("By lot (carealloc / status quo)", html_table(lot_table(result))),
        ("By provider (carealloc / status quo)", html_table(provider_table(result))),
    ]
    page = render_map(
        result.snapshot,
        result.method(CAREALLOC).plan,
        result.new_ids,
        title="carealloc demo: today's referrals in Argyll and Bute",
        intro=headline(result),
        tables=tables,
    )
    write_text_atomic(paths["map"], page)
    return list(paths.values())
