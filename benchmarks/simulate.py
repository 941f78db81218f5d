"""Weeks of brokerage, day by day, with every policy facing the same random stream.

A generated world (Argyll or Torbay, :mod:`benchmarks.generator`) is the start. A seeded
*stream*, drawn once and shared by every policy, says what happens on each day: which
referrals arrive (hospital discharges and community referrals, at their homes), which packages
end (whether placed or still waiting: people go into care homes, recover or die), which carers
leave and which replacements start. Each day:

1. packages due to end, end (their visits leave the runs);
2. carers due to leave, leave: their provider re-covers each of their clients with its other
   carers if it can, otherwise hands the package back to the waiting list;
3. replacement carers due to start, start; today's referrals join the waiting list;
4. the policy places waiting referrals (existing visits keep their carers and times);
5. the policy's nightly step, if it has one;
6. the day is measured.

Waiting referrals that could not be placed anywhere are retried only once a provider that may
take them has freed capacity (a package ended, a carer started, runs re-planned); adding
visits only ever removes room, so this skips no placement a policy would have made.

Rates are assumptions, listed in docs/simulation.md with the measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from tqdm import tqdm

from allocator.batch import place_batch
from allocator.executor import default_executor
from allocator.greedy import SequentialPolicy, place_sequentially
from allocator.io import write_text_atomic
from allocator.model import (
    DAYS,
    Carer,
    Package,
    Plan,
    ReasonCode,
    Snapshot,
    Urgency,
    split_package,
)
from allocator.offers import draft_offer, lot_standing
from allocator.placement import apply_draft
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from allocator.runs import RunsView
from allocator.travel import TravelMatrix
from api.commands.args import (
    at_least_one,
    output_folder,
    ratio,
    seconds_up_to_an_hour,
    share,
    travel_minutes_per_hour,
    whole_number,
)
from api.prepare import prepare_snapshot, travel_matrix
from benchmarks.generator import (
    ARGYLL,
    CARER_SKILL_SHARE,
    FEMALE_CARER_SHARE,
    NOW,
    SKILLS,
    URGENCY_NEW,
    ArgyllSettings,
    Home,
    Profile,
    WorldSettings,
    argyll_homes,
    generate_argyll,
    new_package,
    rota_option,
)
from benchmarks.paths import RESULTS
from benchmarks.tables import Table, markdown, text_table, write_csv
from benchmarks.torbay import TORBAY, TorbaySettings, TorbayTravel, generate_torbay, torbay_homes
from geodata.travel import TravelSource

# --- the stream's rates (assumptions, docs/simulation.md) ---------------------------------

LONG_PACKAGE_MEAN_DAYS = 365.0
"""Mean remaining length of a long-term package (exponential): about a year."""
DISCHARGE_PACKAGE_MEAN_DAYS = 42.0
"""Mean length of a hospital-discharge (pathway 1) package: about six weeks of reablement."""
CARER_TURNOVER_PER_YEAR = 0.28
"""Share of carers leaving in a year (care-at-home turnover is commonly quoted at 25-30%)."""
RECRUITMENT_DAYS = 28
"""Days from a carer leaving to their replacement starting, on the same rota and base."""


@dataclass(frozen=True)
class WorldKind:
    """How to make a profile's world and the homes of new referrals."""

    profile: Profile
    settings: WorldSettings
    generate: Callable[[int, WorldSettings], Snapshot]
    homes: Callable[[np.random.Generator, int], list[Home]]
    travel: TravelSource | None
    """None: the embedded Argyll and Bute network."""


def world_kind(
    profile: str,
    clients: int | None = None,
    capacity_ratio: float | None = None,
    rota: str | None = None,
) -> WorldKind:
    """The Argyll or Torbay world, optionally resized or on another rota (no new referrals on
    day 0: the stream brings them)."""
    if profile == "torbay":
        base: WorldSettings = TorbaySettings(new_referrals=0)
        kind = WorldKind(TORBAY, base, generate_torbay, torbay_homes, TorbayTravel())
    elif profile == "argyll":
        base = ArgyllSettings(new_referrals=0)
        kind = WorldKind(ARGYLL, base, generate_argyll, argyll_homes, None)
    else:
        msg = f"unknown profile {profile!r}; use argyll or torbay"
        raise ValueError(msg)
    update: dict[str, Any] = {}
    if clients is not None:
        update["clients"] = clients
    if capacity_ratio is not None:
        update["capacity_ratio"] = capacity_ratio
    if rota is not None:
        update["rota"] = rota
    return replace(kind, settings=replace(base, **update))


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate."""

    profile: str = "argyll"
    weeks: int = 12
    seed: int = 1
    clients: int | None = None
    """Clients of the starting world (the profile's default when None)."""
    capacity_ratio: float | None = None
    rota: str | None = None
    """The carers' shifts (:data:`benchmarks.generator.ROTAS`; the profile's default when
    None)."""
    referrals_per_day: float | None = None
    """Mean arrivals a day (Poisson); by default as many as are expected to end, so demand
    stays level."""
    joint_time_limit_s: float = 2.0
    nightly_time_limit_s: float = 20.0
    """Wall-clock budget of each night's re-optimisation (the service's default is 60 s)."""
    nightly_max_moves: int = 5
    """Clients the re-optimisation may move to another provider each night."""
    handover_travel_cap: float | None = None
    """Most travel minutes a referral placed by the nightly's handovers may add per carer hour
    of its care (None: no limit)."""
    nightly_solution_limit: int | None = None
    """Stop each day's routing search after this many solutions (repeatable runs in tests)."""
    part_packages: float = 0.0
    """Share of referrals (the starting world's waiting and every new one) whose clients agree
    to start with the calls a provider can fit while the rest wait (an assumption; 0: none).
    Drawn from its own random stream, so the rest of the stream is the same at any share; only
    the nightly re-optimisation starts part packages."""
    progress: bool = True
    """Show progress on stderr: a bar on a terminal with one worker, otherwise (a log, worker
    processes) a line as each policy finishes each simulated week."""
    workers: int = 1
    """Policies run side by side in this many worker processes."""


@dataclass(frozen=True)
class Stream:
    """Everything that happens, drawn once from the seed and shared by every policy."""

    start: Snapshot
    travel: TravelMatrix
    days: int
    arrivals: dict[int, list[Package]]
    ends: dict[str, int]
    """Package id to the day its care ends (beyond the horizon when it outlasts it)."""
    leavers: dict[int, list[str]]
    joiners: dict[int, list[Carer]]

    @property
    def start_total(self) -> int:
        """Packages in the starting world, placed or waiting."""
        return len(self.start.packages) + len(self.start.referrals)


def _end_day(rng: np.random.Generator, package: Package, arrival_day: int) -> int:
    mean = (
        DISCHARGE_PACKAGE_MEAN_DAYS
        if package.urgency is Urgency.DISCHARGE_PATHWAY_1
        else LONG_PACKAGE_MEAN_DAYS
    )
    return arrival_day + max(1, math.ceil(rng.exponential(mean)))


def make_stream(settings: SimulationSettings) -> Stream:
    """Generate the starting world and draw the stream (deterministic per seed)."""
    kind = world_kind(settings.profile, settings.clients, settings.capacity_ratio, settings.rota)
    start = kind.generate(settings.seed, kind.settings)
    rng = np.random.default_rng([settings.seed, 2026])
    days = 7 * settings.weeks
    total = len(start.packages) + len(start.referrals)
    discharge_share = URGENCY_NEW["discharge_pathway_1"] / sum(URGENCY_NEW.values())
    rate = settings.referrals_per_day
    if rate is None:
        rate = total / LONG_PACKAGE_MEAN_DAYS / (1 - discharge_share)
    counts = rng.poisson(rate, size=days)
    homes = kind.homes(rng, int(counts.sum()))
    urgencies = list(URGENCY_NEW)
    weights = np.array([URGENCY_NEW[u] for u in urgencies])
    raw: list[tuple[int, dict[str, Any]]] = []
    k = 0
    for day, count in enumerate(counts, start=1):
        now = NOW + dt.timedelta(days=day)
        for _ in range(int(count)):
            urgency = urgencies[int(rng.choice(len(urgencies), p=weights / weights.sum()))]
            package = new_package(
                rng,
                kind.profile,
                f"S-{k + 1:05d}",
                homes[k],
                now,
                urgency,
                now.date() + dt.timedelta(days=1),
            )
            raw.append((day, package))
            k += 1
    referrals = prepare_snapshot(
        start.model_copy(
            update={"packages": [], "referrals": [Package.model_validate(p) for _, p in raw]}
        )
    ).referrals
    arrivals: dict[int, list[Package]] = defaultdict(list)
    for (day, _), referral in zip(raw, referrals, strict=True):
        arrivals[day].append(referral)

    ends = {p.id: _end_day(rng, p, 0) for p in start.all_packages()}
    for day, packages in arrivals.items():
        ends.update({p.id: _end_day(rng, p, day) for p in packages})

    leavers: dict[int, list[str]] = defaultdict(list)
    joiners: dict[int, list[Carer]] = defaultdict(list)
    daily = CARER_TURNOVER_PER_YEAR / 365
    for carer in start.carers:
        leaves = int(rng.geometric(daily))
        if leaves > days:
            continue
        leavers[leaves].append(carer.id)
        if leaves + RECRUITMENT_DAYS <= days:
            joiners[leaves + RECRUITMENT_DAYS].append(_replacement(rng, carer))

    # Travel over every point that will ever appear, from the profile's source (a snapshot's
    # own supplied matrix covers only its starting points).
    universe = start.model_copy(
        update={
            "carers": [*start.carers, *(c for cs in joiners.values() for c in cs)],
            "referrals": [*start.referrals, *referrals],
            "travel": None,
        }
    )
    travel = travel_matrix(universe, kind.travel)
    if settings.part_packages:
        start, arrivals = _agree_to_part_packages(settings, start, arrivals)
    return Stream(start, travel, days, dict(arrivals), ends, dict(leavers), dict(joiners))


def _agree_to_part_packages(
    settings: SimulationSettings, start: Snapshot, arrivals: dict[int, list[Package]]
) -> tuple[Snapshot, dict[int, list[Package]]]:
    """Mark a share of the referrals as agreeing to part packages, from a random stream of its
    own (so arrivals, endings and carers are the same at any share)."""
    rng = np.random.default_rng([settings.seed, 2027])

    def mark(packages: list[Package]) -> list[Package]:
        agree = rng.random(len(packages)) < settings.part_packages
        return [
            p.model_copy(update={"accepts_part_package": bool(a)})
            for p, a in zip(packages, agree, strict=True)
        ]

    marked = start.model_copy(update={"referrals": mark(start.referrals)})
    return marked, {day: mark(arrivals[day]) for day in sorted(arrivals)}


def _replacement(rng: np.random.Generator, leaver: Carer) -> Carer:
    """A new carer on the leaver's rota and base, with skills and gender drawn afresh."""
    return leaver.model_copy(
        update={
            "id": f"{leaver.id}-r",
            "skills": [s for s in SKILLS if rng.random() < CARER_SKILL_SHARE[s]],
            "gender": "female" if rng.random() < FEMALE_CARER_SHARE else "male",
        }
    )


# --- policies -------------------------------------------------------------------------------


class Policy(Protocol):
    """How a council places waiting referrals each day, and what it does each night."""

    @property
    def name(self) -> str:
        """Short name for tables and files."""
        ...

    @property
    def label(self) -> str:
        """What it does, for people."""
        ...

    def place(
        self,
        snapshot: Snapshot,
        travel: TravelMatrix,
        referral_ids: Sequence[str],
        now: dt.datetime,
    ) -> Plan:
        """Place some of ``referral_ids``; the plan lists every placed package."""
        ...

    def nightly(self, snapshot: Snapshot, travel: TravelMatrix, day: int) -> Plan | None:
        """A re-plan of every run overnight, or None to leave the runs as they are."""
        ...


class _DaytimeOnly:
    """A policy that never re-plans: runs change only when referrals are placed."""

    def nightly(self, snapshot: Snapshot, travel: TravelMatrix, day: int) -> Plan | None:
        """No re-planning."""
        return None


@dataclass(frozen=True)
class Sequential(_DaytimeOnly):
    """Today's practice (status quo) or the nearest-provider rule, one referral at a time."""

    policy: SequentialPolicy

    @property
    def name(self) -> str:
        """Short name for tables and files."""
        return self.policy.value

    @property
    def label(self) -> str:
        """What it does, for people."""
        return {
            SequentialPolicy.STATUS_QUO: "status quo (first provider in the lot that can fit it)",
            SequentialPolicy.NEAREST_PROVIDER: "nearest provider that can fit it",
            SequentialPolicy.BEST_OFFER: "best offer, one at a time",
        }[self.policy]

    def place(
        self,
        snapshot: Snapshot,
        travel: TravelMatrix,
        referral_ids: Sequence[str],
        now: dt.datetime,
    ) -> Plan:
        """One at a time, most urgent first."""
        return place_sequentially(snapshot, travel, policy=self.policy, referral_ids=referral_ids)


@dataclass(frozen=True)
class Offers(_DaytimeOnly):
    """carealloc's route-aware offers: each day's waiting referrals placed jointly."""

    time_limit_s: float = 2.0
    seed: int = 0
    name: str = "carealloc_offers"
    label: str = "carealloc offers (joint placement each day)"

    def place(
        self,
        snapshot: Snapshot,
        travel: TravelMatrix,
        referral_ids: Sequence[str],
        now: dt.datetime,
    ) -> Plan:
        """Jointly, CP-SAT with a deterministic time limit."""
        return place_batch(
            snapshot,
            travel,
            referral_ids,
            time_limit_s=self.time_limit_s,
            seed=self.seed,
            now=now,
        )


@dataclass(frozen=True)
class OffersNightly:
    """carealloc's offers by day, and every night the re-optimisation of all runs
    (:func:`allocator.reoptimise.reoptimise`), which also places waiting referrals into the
    time it frees."""

    offers: Offers
    time_limit_s: float = 20.0
    max_moves: int = 5
    solution_limit: int | None = None
    hand_over_visits: bool = True
    """Whether the night may hand visits over between carers to fit waiting referrals."""
    handover_travel_cap: float | None = None
    """Most travel minutes a referral placed by handovers may add per carer hour of care."""
    name: str = "carealloc_nightly"
    label: str = "carealloc offers + nightly re-optimisation"

    def place(
        self,
        snapshot: Snapshot,
        travel: TravelMatrix,
        referral_ids: Sequence[str],
        now: dt.datetime,
    ) -> Plan:
        """As :class:`Offers`."""
        return self.offers.place(snapshot, travel, referral_ids, now)

    def nightly(self, snapshot: Snapshot, travel: TravelMatrix, day: int) -> Plan | None:
        """Re-plan every provider's week, move up to ``max_moves`` clients, place waiting."""
        options = ReoptimiseOptions(
            time_limit_s=self.time_limit_s,
            max_moves=self.max_moves,
            seed=self.offers.seed,
            solution_limit=self.solution_limit,
            hand_over_visits=self.hand_over_visits,
            handover_max_travel_per_care_hour=self.handover_travel_cap,
        )
        now = NOW + dt.timedelta(days=day, hours=14)
        return reoptimise(snapshot, travel, options, now=now)


def default_policies(settings: SimulationSettings) -> list[Policy]:
    """The policies compared: status quo, nearest provider, carealloc offers, and carealloc
    offers with nightly re-optimisation."""
    return [p for p in all_policies(settings) if p.name in POLICY_NAMES]


def all_policies(settings: SimulationSettings) -> list[Policy]:
    """The default policies, and carealloc's nightly without handovers (chosen by name), which
    shows what handing visits over between carers costs in travel and gains in placements."""
    offers = Offers(time_limit_s=settings.joint_time_limit_s, seed=settings.seed)
    nightly = OffersNightly(
        offers,
        time_limit_s=settings.nightly_time_limit_s,
        max_moves=settings.nightly_max_moves,
        solution_limit=settings.nightly_solution_limit,
        handover_travel_cap=settings.handover_travel_cap,
    )
    return [
        Sequential(SequentialPolicy.STATUS_QUO),
        Sequential(SequentialPolicy.NEAREST_PROVIDER),
        offers,
        nightly,
        replace(
            nightly,
            hand_over_visits=False,
            name=NIGHTLY_WITHOUT_HANDOVERS,
            label="carealloc offers + nightly re-optimisation, no handovers between carers",
        ),
    ]


# --- the day loop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRecord:
    """The state at the end of one simulated day under one policy."""

    policy: str
    day: int
    date: str
    arrived: int
    """Packages so far: the starting world's and every referral since."""
    placed: int
    """Clients with care, even if only some of their calls (a part package)."""
    waiting: int
    """Clients waiting with no care yet."""
    ended: int
    hours_waiting: float
    """Commissioned carer hours a week of the referrals waiting (the calls still waiting of
    clients whose care started in part included)."""
    mean_days_waiting: float | None
    waiting_no_room: int
    """Waiting referrals no provider could fit at their last daytime try (and none has freed
    room since): only re-planning existing runs or more carers can place them."""
    started_in_part: int
    """Clients whose care started with some of their calls while the others wait."""
    placed_today: int
    mean_days_waited_placed_today: float | None
    handed_back_today: int
    moved_today: int
    """Clients the night moved to another provider (a change of carers for each)."""
    carers: int
    travel_min_per_contact_hour: float | None
    providers_per_locality_mean: float | None
    carer_utilisation: float | None


@dataclass
class _State:
    carers: dict[str, Carer]
    placed: dict[str, Package]
    waiting: dict[str, Package]
    arrived: int
    ended: int = 0
    tick: int = 0
    freed: dict[str, int] = field(default_factory=dict)
    """Provider id to the tick at which it last gained room."""
    blocked: dict[str, int] = field(default_factory=dict)
    """Referral id to the tick at which no provider could take it."""
    roots: dict[str, str] = field(default_factory=dict)
    """The rest of a part package (its id) to the referral it came from (the client's)."""

    def root(self, package_id: str) -> str:
        """The referral a package or referral came from: itself, unless it is a rest."""
        return self.roots.get(package_id, package_id)

    def cared(self) -> set[str]:
        """Clients with care (placed, if only in part)."""
        return {self.root(i) for i in self.placed}

    def blocked_clients(self) -> set[str]:
        """Clients with no care yet and a waiting referral no provider could take."""
        return {self.root(i) for i in self.waiting if i in self.blocked} - self.cared()

    def clients(self) -> tuple[int, int, int]:
        """Clients with care (placed, if only in part), waiting with none, and with care
        started in part while other calls wait."""
        cared = self.cared()
        waiting = {self.root(i) for i in self.waiting}
        return len(cared), len(waiting - cared), len(waiting & cared)

    def snapshot(self, base: Snapshot) -> Snapshot:
        return base.model_copy(
            update={
                "carers": list(self.carers.values()),
                "packages": list(self.placed.values()),
                "referrals": list(self.waiting.values()),
                "travel": None,
            }
        )

    def free(self, provider_ids: Iterable[str]) -> None:
        self.tick += 1
        for provider_id in provider_ids:
            self.freed[provider_id] = self.tick


def simulate(
    stream: Stream,
    policy: Policy,
    *,
    progress: bool = False,
    check: Callable[[DayRecord, Snapshot], None] | None = None,
    week_done: Callable[[DayRecord], None] | None = None,
) -> list[DayRecord]:
    """Run ``policy`` through the stream; one record per day (day 0 is the start).

    ``check``, when given, sees each day's record and the state as a snapshot (for tests);
    ``week_done`` the record of the last day of each simulated week."""
    start = stream.start
    state = _State(
        carers={c.id: c for c in start.carers},
        placed={p.id: p for p in start.packages},
        waiting={p.id: p for p in start.referrals},
        arrived=stream.start_total,
    )
    records = [_measure(stream, policy, state, 0, placed_today=[], handed_back=0, moved=0)]
    for day in tqdm(range(1, stream.days + 1), desc=policy.name, disable=not progress, leave=False):
        now = NOW + dt.timedelta(days=day)
        _end_packages(stream, state, day)
        handed_back = _carers_leave(stream, state, day)
        joined = stream.joiners.get(day, [])
        state.carers.update({c.id: c for c in joined})
        state.free(c.provider_id for c in joined)
        for package in stream.arrivals.get(day, []):
            state.waiting[package.id] = package
        state.arrived += len(stream.arrivals.get(day, []))
        placed_today = _place(stream, policy, state, now)
        plan = policy.nightly(state.snapshot(start), stream.travel, day)
        moved = 0
        if plan is not None:
            placed_today += _apply(state, plan, now)
            state.free(p.id for p in start.providers)
            _block(state, plan, set(state.waiting))
            moved = len(plan.changes.provider_moves) if plan.changes is not None else 0
        record = _measure(stream, policy, state, day, placed_today, handed_back, moved)
        if check is not None:
            check(record, state.snapshot(start))
        records.append(record)
        if week_done is not None and day % 7 == 0:
            week_done(record)
    return records


def _end_packages(stream: Stream, state: _State, day: int) -> None:
    """End today's packages, with every part of a part package (one client)."""
    freed = set()
    ended = set()
    for pool in (state.placed, state.waiting):
        for package_id in [i for i in pool if stream.ends.get(state.root(i)) == day]:
            package = pool.pop(package_id)
            state.blocked.pop(package_id, None)
            ended.add(state.root(package_id))
            if package.provider_id is not None:
                freed.add(package.provider_id)
    state.ended += len(ended)
    state.free(freed)


def _carers_leave(stream: Stream, state: _State, day: int) -> int:
    """Remove today's leavers; their providers re-cover or hand back their clients."""
    leaving = {i for i in stream.leavers.get(day, []) if i in state.carers}
    if not leaving:
        return 0
    affected = [
        p
        for p in state.placed.values()
        if any(c in leaving for a in p.assignments for c in a.carer_ids)
    ]
    providers = {state.carers[i].provider_id for i in leaving}
    for carer_id in leaving:
        del state.carers[carer_id]
    for package in affected:
        del state.placed[package.id]
    view = RunsView(state.snapshot(stream.start), stream.travel)
    handed_back = 0
    for package in affected:
        provider = view.snapshot.provider(package.provider_id or "")
        referral = package.model_copy(update={"provider_id": None, "assignments": []})
        draft = draft_offer(view, referral, provider)
        if draft.feasible:
            apply_draft(view, draft)
            state.placed[package.id] = package.model_copy(update={"assignments": draft.assignments})
        else:
            now = NOW + dt.timedelta(days=day)
            state.waiting[package.id] = referral.model_copy(update={"waiting_since": now})
            handed_back += 1
    state.free(providers)
    return handed_back


_RETRY = (ReasonCode.LOWER_PRIORITY, ReasonCode.NOT_SOLVED_IN_TIME)


def _candidates(view: RunsView, package: Package) -> list[str]:
    return [p.id for p in view.snapshot.providers if lot_standing(view, package, p) is not None]


def _place(stream: Stream, policy: Policy, state: _State, now: dt.datetime) -> list[Package]:
    """Offer the waiting referrals that might fit somewhere to the policy; apply its plan."""
    snapshot = state.snapshot(stream.start)
    view = RunsView(snapshot, stream.travel)
    tried = []
    for package in snapshot.referrals:
        since = state.blocked.get(package.id)
        if since is None or any(state.freed.get(p, -1) > since for p in _candidates(view, package)):
            tried.append(package.id)
    if not tried:
        return []
    plan = policy.place(snapshot, stream.travel, tried, now)
    placed = _apply(state, plan, now)
    _block(state, plan, set(tried))
    return placed


def _block(state: _State, plan: Plan, tried: set[str]) -> None:
    """Mark the tried referrals the plan could not fit anywhere (not those that only lost
    to others in the batch, nor those it had no time for)."""
    state.tick += 1
    for unplaced in plan.unplaced:
        if unplaced.package_id in tried and unplaced.reason_code not in _RETRY:
            state.blocked[unplaced.package_id] = state.tick


def _apply(state: _State, plan: Plan, now: dt.datetime) -> list[Package]:
    """Make the plan the state: its placements are every placed package (a placed package it
    leaves out goes back to the waiting list). Returns the referrals it placed."""
    placed = []
    for part in plan.part_packages:
        started, rest = split_package(state.waiting[part.package_id], part)
        state.waiting[started.id] = started
        state.waiting[rest.id] = rest
        state.roots[rest.id] = state.root(part.package_id)
    listed = {p.package_id for p in plan.placements}
    for package_id in [i for i in state.placed if i not in listed]:
        package = state.placed.pop(package_id)
        state.waiting[package_id] = package.model_copy(
            update={"provider_id": None, "assignments": [], "waiting_since": now}
        )
    for placement in plan.placements:
        waiting = state.waiting.pop(placement.package_id, None)
        if waiting is not None:
            state.blocked.pop(waiting.id, None)
            placed.append(waiting)
        package = waiting or state.placed[placement.package_id]
        state.placed[package.id] = package.model_copy(
            update={"provider_id": placement.provider_id, "assignments": placement.assignments}
        )
    return placed


def _measure(
    stream: Stream,
    policy: Policy,
    state: _State,
    day: int,
    placed_today: list[Package],
    handed_back: int,
    moved: int,
) -> DayRecord:
    now = NOW + dt.timedelta(days=day)
    snapshot = state.snapshot(stream.start)
    view = RunsView(snapshot, stream.travel)
    travel = visits = 0.0
    for carer in range(len(view.carers)):
        for weekday in DAYS:
            carer_day = view.day(carer, weekday)
            travel += view.travel_min(carer, weekday)
            visits += sum(s.end_min - s.start_min for run in carer_day.runs for s in run)
    shifts = sum(s.length_min for c in snapshot.carers for s in c.shifts)
    by_locality: dict[str, set[str]] = defaultdict(set)
    for package in state.placed.values():
        by_locality[package.locality or ""].add(package.provider_id or "")
    waits = [(now - p.waiting_since).total_seconds() / 86400 for p in state.waiting.values()]
    # A part package's rest placed later is not another client placed.
    placed_today = [p for p in placed_today if p.id not in state.roots]
    placed_waits = [(now - p.waiting_since).total_seconds() / 86400 for p in placed_today]
    cared, waiting, in_part = state.clients()
    return DayRecord(
        policy=policy.name,
        day=day,
        date=now.date().isoformat(),
        arrived=state.arrived,
        placed=cared,
        waiting=waiting,
        started_in_part=in_part,
        ended=state.ended,
        hours_waiting=round(sum(p.weekly_hours for p in state.waiting.values()), 2),
        mean_days_waiting=_mean(waits),
        waiting_no_room=len(state.blocked_clients()),
        placed_today=len(placed_today),
        mean_days_waited_placed_today=_mean(placed_waits),
        handed_back_today=handed_back,
        moved_today=moved,
        carers=len(state.carers),
        travel_min_per_contact_hour=round(travel / (visits / 60), 3) if visits else None,
        providers_per_locality_mean=_mean([len(v) for v in by_locality.values()], 3),
        carer_utilisation=round((travel + visits) / shifts, 4) if shifts else None,
    )


def _mean(values: Sequence[float], digits: int = 1) -> float | None:
    return round(float(np.mean(values)), digits) if values else None


def summary(records: Sequence[DayRecord]) -> dict[str, Any]:
    """One policy's run in a few figures: averages over the simulated days (day 0 excluded)
    and the state at the end."""
    days = [r for r in records if r.day > 0] or list(records)
    last = records[-1]

    def mean(name: str) -> float | None:
        values = [getattr(r, name) for r in days if getattr(r, name) is not None]
        return round(float(np.mean(values)), 2) if values else None

    placed = [r for r in days if r.placed_today]
    waited = sum((r.mean_days_waited_placed_today or 0.0) * r.placed_today for r in placed) / max(
        1, sum(r.placed_today for r in placed)
    )
    return {
        "policy": last.policy,
        "hours_waiting_mean": mean("hours_waiting"),
        "hours_waiting_end": last.hours_waiting,
        "waiting_mean": mean("waiting"),
        "waiting_end": last.waiting,
        "waiting_no_room_end": last.waiting_no_room,
        "started_in_part_end": last.started_in_part,
        "mean_days_waiting_end": last.mean_days_waiting,
        "placed_total": sum(r.placed_today for r in days),
        "mean_days_waited_when_placed": round(waited, 1),
        "handed_back_total": sum(r.handed_back_today for r in days),
        "moved_total": sum(r.moved_today for r in days),
        "travel_min_per_contact_hour_mean": mean("travel_min_per_contact_hour"),
        "providers_per_locality_mean": mean("providers_per_locality_mean"),
        "carer_utilisation_mean": mean("carer_utilisation"),
    }


# --- results --------------------------------------------------------------------------------

_COLUMNS = (
    ("hours_waiting_mean", "hours of care waiting/week (mean)"),
    ("hours_waiting_end", "hours waiting at end"),
    ("waiting_mean", "packages waiting (mean)"),
    ("waiting_end", "waiting at end"),
    ("waiting_no_room_end", "of which no room anywhere"),
    ("started_in_part_end", "care started in part at end"),
    ("mean_days_waiting_end", "days waited by those waiting at end"),
    ("placed_total", "placed"),
    ("mean_days_waited_when_placed", "days waited when placed"),
    ("handed_back_total", "handed back"),
    ("moved_total", "moved to another provider"),
    ("travel_min_per_contact_hour_mean", "travel min per contact hour"),
    ("providers_per_locality_mean", "providers per locality"),
    ("carer_utilisation_mean", "carer utilisation"),
)


def describe_stream(stream: Stream) -> str:
    """The starting world and what the stream brings, in one sentence."""
    start = stream.start
    return (
        f"Start: {len(start.packages)} clients receiving care and {len(start.referrals)} "
        f"waiting, {len(start.carers)} carers of {len(start.providers)} providers. Over "
        f"{stream.days} days: {sum(len(a) for a in stream.arrivals.values())} referrals arrive, "
        f"{sum(1 for d in stream.ends.values() if d <= stream.days)} packages end, "
        f"{sum(len(c) for c in stream.leavers.values())} carers leave and "
        f"{sum(len(c) for c in stream.joiners.values())} replacements start."
    )


def summary_table(summaries: Sequence[dict[str, Any]]) -> Table:
    """One row per policy."""
    header = ["policy", *(label for _, label in _COLUMNS)]
    rows = [
        [row["policy"], *("-" if row[key] is None else f"{row[key]:g}" for key, _ in _COLUMNS)]
        for row in summaries
    ]
    return header, rows


def targets(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """Issue #7's targets, said plainly for what was measured."""
    by = {s["policy"]: s for s in summaries}
    quo = by.get(SequentialPolicy.STATUS_QUO.value)
    lines = [
        "Issue #7's targets, for carealloc with nightly re-optimisation against the status quo "
        "on the same stream: hours waiting at most 25% of the status quo's average, travel per "
        "contact hour at least 15% lower."
    ]
    if quo is None or not quo["hours_waiting_mean"]:
        return lines
    for name, row in by.items():
        if name == quo["policy"]:
            continue
        share = 100 * row["hours_waiting_mean"] / quo["hours_waiting_mean"]
        before = quo["travel_min_per_contact_hour_mean"]
        after = row["travel_min_per_contact_hour_mean"]
        change = 100 * (after / before - 1) if before and after else 0.0
        verdict = ""
        if name == "carealloc_nightly":  # the policy; the others for comparison
            met = [share <= 25, change <= -15]
            verdict = (
                " Both targets met."
                if all(met)
                else " Not met: "
                + " and ".join(
                    what
                    for what, ok in zip(
                        ("hours waiting", "travel per contact hour"), met, strict=True
                    )
                    if not ok
                )
                + "."
            )
        lines.append(
            f"{name}: hours waiting {share:.0f}% of the status quo's average; travel per "
            f"contact hour {abs(change):.1f}% {'lower' if change <= 0 else 'higher'}.{verdict}"
        )
    for row in summaries:
        lines.append(
            f"{row['policy']}: at the end {row['waiting_no_room_end']} of the "
            f"{row['waiting_end']} waiting could not be fitted, at their last try, into the "
            "runs of any provider the policy asks without moving visits already there."
        )
    return lines


def run(
    settings: SimulationSettings,
    policies: Sequence[Policy] | None = None,
    log: Callable[[str], None] | None = None,
) -> SimulationRun:
    """Draw the stream and run every policy through it; ``log`` hears as each one finishes.

    With ``settings.workers`` above 1 the policies run side by side in worker processes,
    longest (the nightly one) first; each policy's figures are the same as run alone, except
    that the nightly re-optimisation, which stops on wall-clock time, shares the machine."""
    stream = make_stream(settings)
    chosen = list(policies or default_policies(settings))
    jobs = sorted(chosen, key=lambda p: not isinstance(p, OffersNightly))
    show: _Show = "none"
    if settings.progress:
        show = "bar" if settings.workers <= 1 and sys.stderr.isatty() else "lines"
    records = {}
    executor = default_executor(min(settings.workers, len(jobs)))
    for name, days, wall_s in executor.map_unordered(
        _run_policy, [(stream, policy, show) for policy in jobs]
    ):
        records[name] = days
        if log is not None:
            log(f"{name}: {stream.days} days in {wall_s:.0f} s")
    return SimulationRun(
        settings,
        stream,
        {p.name: records[p.name] for p in chosen},
        {p.name: p.label for p in chosen},
    )


_Show = Literal["bar", "lines", "none"]


def _run_policy(job: tuple[Stream, Policy, _Show]) -> tuple[str, list[DayRecord], float]:
    """One policy through the stream (a worker process's unit of work)."""
    stream, policy, show = job
    started = time.monotonic()
    weeks = stream.days // 7

    def week_done(record: DayRecord) -> None:
        elapsed, week = time.monotonic() - started, record.day // 7
        to_go = time_to_go(elapsed, week, weeks)
        print(
            f"{policy.name}: week {week} of {weeks} simulated "
            f"({elapsed:.0f} s{', ' + to_go if to_go else ''}): {record.waiting} waiting, "
            f"{record.hours_waiting:.0f} hours of care a week",
            file=sys.stderr,
            flush=True,
        )

    days = simulate(
        stream,
        policy,
        progress=show == "bar",
        week_done=week_done if show == "lines" else None,
    )
    return policy.name, days, time.monotonic() - started


def time_to_go(elapsed_s: float, done: int, total: int) -> str:
    """What is left of a run at the pace so far, as a log line says it ('' once done). The
    nightly's weeks grow longer as the world fills, so it errs on the short side."""
    if done <= 0 or done >= total:
        return ""
    minutes = round(elapsed_s / done * (total - done) / 60)
    if minutes < 1:
        return "under a minute to go"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min to go" if hours else f"about {minutes} min to go"


@dataclass(frozen=True)
class SimulationRun:
    """A finished simulation: its settings, stream and each policy's day records."""

    settings: SimulationSettings
    stream: Stream
    records: dict[str, list[DayRecord]]
    labels: dict[str, str]
    """Policy name to what it does."""

    def summaries(self) -> list[dict[str, Any]]:
        """One summary per policy, in the order run."""
        return [summary(r) for r in self.records.values()]


def write_results(result: SimulationRun, out: Path, command: str, stem: str) -> list[Path]:
    """``{stem}.csv`` (every day of every policy) and ``{stem}.md`` (summary) under ``out``."""
    csv_path, md_path = out / f"{stem}.csv", out / f"{stem}.md"
    write_csv(csv_path, [asdict(r) for records in result.records.values() for r in records])
    settings = result.settings
    lines = [
        f"# Simulation: {settings.profile}, {settings.weeks} weeks, seed {settings.seed}",
        "",
        f"Command: `{command}`. Every policy faces the same random stream (arrivals, endings, "
        "carers leaving and starting); rates and measures are described in docs/simulation.md. "
        f"Day by day figures: `{csv_path.name}`.",
        "",
        describe_stream(result.stream),
        "",
        "Policies: "
        + "; ".join(f"`{name}`: {label}" for name, label in result.labels.items())
        + ".",
        "",
        markdown(summary_table(result.summaries())),
        "",
        *[f"- {line}" for line in targets(result.summaries())],
        f"- Why the starting world's referrals wait (the calls no provider's runs can fit, and "
        f"carers on shift by hour): `carealloc bench waiting --profile {settings.profile}`, "
        f"written to `waiting_{settings.profile}.md`.",
    ]
    write_text_atomic(md_path, "\n".join(lines) + "\n")
    return [csv_path, md_path]


# --- command line (carealloc bench simulate) -------------------------------------------------

QUICK_CLIENTS = 250
QUICK_WEEKS = 2
QUICK_NIGHTLY_S = 5.0
DEFAULT_WEEKS = 12


def _weeks(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 104:
        msg = f"{text!r} is not a whole number of weeks from 1 to 104"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        msg = f"{text!r} is not a whole number of 1 or more"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


POLICY_NAMES = ("status_quo", "nearest_provider", "carealloc_offers", "carealloc_nightly")
"""The policies simulated unless ``--policies`` says otherwise."""
NIGHTLY_WITHOUT_HANDOVERS = "carealloc_nightly_no_handovers"
CHOOSABLE_POLICIES = (*POLICY_NAMES, NIGHTLY_WITHOUT_HANDOVERS)


def _policy_names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CHOOSABLE_POLICIES]
    if unknown or not names:
        msg = f"unknown policy {', '.join(unknown) or text!r}; choose from " + ", ".join(
            CHOOSABLE_POLICIES
        )
        raise argparse.ArgumentTypeError(msg)
    return tuple(n for n in CHOOSABLE_POLICIES if n in names)


def results_stem(args: argparse.Namespace) -> str:
    """The results files' name: the profile, then each setting that changes what is measured,
    so a run with other settings never overwrites the committed 12-week, 20 s files."""
    stem = f"simulation_{args.profile}" + ("_quick" if args.quick else "")
    if args.rota not in (None, "standard"):
        stem += f"_{args.rota}"
    if args.handover_travel_cap is not None:
        stem += f"_cap{args.handover_travel_cap:g}"
    if args.part_packages:
        stem += f"_part{args.part_packages:g}"
    if args.max_moves not in (None, SimulationSettings.nightly_max_moves):
        stem += f"_moves{args.max_moves}"
    if args.nightly_time_limit not in (None, SimulationSettings.nightly_time_limit_s):
        stem += f"_night{args.nightly_time_limit:g}s"
    if not args.quick and args.weeks != DEFAULT_WEEKS:
        stem += f"_{args.weeks}weeks"
    return stem


def command_line() -> argparse.ArgumentParser:
    """The options of ``carealloc bench simulate``."""
    parser = argparse.ArgumentParser(
        prog="carealloc bench simulate",
        description="Simulate brokerage day by day on a generated world: referrals arrive, "
        "packages end, carers leave and are replaced, all drawn once from the seed so every "
        "policy faces the same stream. Policies: status quo, nearest provider, carealloc "
        "offers (joint placement each day) and carealloc offers with nightly "
        "re-optimisation. Measures each day: packages and hours of care waiting, days "
        "waited, travel minutes per contact hour, providers per locality, carer utilisation. "
        "See docs/simulation.md.",
    )
    parser.add_argument("--profile", choices=("argyll", "torbay"), default="argyll")
    parser.add_argument(
        "--weeks", type=_weeks, default=DEFAULT_WEEKS, metavar="N", help=f"default {DEFAULT_WEEKS}"
    )
    parser.add_argument("--seed", type=_count, default=1, metavar="N", help="default 1")
    parser.add_argument("--clients", type=_count, metavar="N", help="clients of the start")
    parser.add_argument("--capacity-ratio", type=ratio, metavar="R")
    rota_option(parser)
    parser.add_argument(
        "--policies",
        type=_policy_names,
        default=POLICY_NAMES,
        metavar="A,B",
        help="which policies, comma-separated (default: "
        + ",".join(POLICY_NAMES)
        + f"; also {NIGHTLY_WITHOUT_HANDOVERS}, the nightly without handing visits over)",
    )
    parser.add_argument(
        "--nightly-time-limit",
        type=seconds_up_to_an_hour,
        metavar="S",
        help="seconds for each night's re-optimisation (default 20; 5 with --quick)",
    )
    parser.add_argument(
        "--handover-travel-cap",
        type=travel_minutes_per_hour,
        metavar="MIN",
        help="the nightly places a waiting referral by handing visits over only when it adds "
        "at most MIN minutes of travel per carer hour of its care (default: no limit)",
    )
    parser.add_argument(
        "--part-packages",
        type=share,
        metavar="SHARE",
        help="share of referrals whose clients agree to start with the calls that fit while "
        "the others wait (an assumption; the nightly starts such part packages; default 0)",
    )
    parser.add_argument(
        "--max-moves",
        type=whole_number,
        metavar="K",
        help="most clients each night may move to another provider where that saves more "
        f"than two hours of travel a week (default {SimulationSettings.nightly_max_moves}; "
        "0: none)",
    )
    parser.add_argument(
        "--workers",
        type=at_least_one,
        default=1,
        metavar="W",
        help="run the policies side by side in W worker processes (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a {QUICK_CLIENTS}-client world for at most {QUICK_WEEKS} weeks, to try it out",
    )
    parser.add_argument(
        "--out",
        type=output_folder,
        default=RESULTS,
        metavar="DIR",
        help="where to write simulation_<profile>[_<settings>].csv and .md (default "
        "benchmarks/results)",
    )
    return parser


def settings_of(args: argparse.Namespace) -> SimulationSettings:
    """The simulation the parsed options ask for (``--quick`` shrinks the world)."""
    clients, weeks, nightly_s = args.clients, args.weeks, args.nightly_time_limit
    if args.quick:
        clients = clients or QUICK_CLIENTS
        weeks = min(weeks, QUICK_WEEKS)
        nightly_s = nightly_s or QUICK_NIGHTLY_S
    return SimulationSettings(
        profile=args.profile,
        weeks=weeks,
        seed=args.seed,
        clients=clients,
        capacity_ratio=args.capacity_ratio,
        rota=args.rota,
        nightly_time_limit_s=nightly_s or SimulationSettings.nightly_time_limit_s,
        workers=args.workers,
        handover_travel_cap=args.handover_travel_cap,
        part_packages=args.part_packages or 0.0,
        nightly_max_moves=(
            SimulationSettings.nightly_max_moves if args.max_moves is None else args.max_moves
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``carealloc bench simulate``: simulate, print the summary, write the results."""
    args = command_line().parse_args(argv)
    settings = settings_of(args)
    print(f"Simulating {settings.weeks} weeks on the {args.profile} profile (seed {args.seed}) ...")
    policies = [p for p in all_policies(settings) if p.name in args.policies]
    result = run(settings, policies, log=lambda line: print(line, flush=True))
    print(describe_stream(result.stream))
    print(text_table(summary_table(result.summaries())))
    for line in targets(result.summaries()):
        print(line)
    command = f"carealloc bench simulate --profile {args.profile} --weeks {args.weeks} --seed "
    command += str(args.seed)
    if args.clients is not None:
        command += f" --clients {args.clients}"
    if args.capacity_ratio is not None:
        command += f" --capacity-ratio {args.capacity_ratio:g}"
    if args.rota is not None:
        command += f" --rota {args.rota}"
    if args.nightly_time_limit is not None:
        command += f" --nightly-time-limit {args.nightly_time_limit:g}"
    if args.handover_travel_cap is not None:
        command += f" --handover-travel-cap {args.handover_travel_cap:g}"
    if args.part_packages is not None:
        command += f" --part-packages {args.part_packages:g}"
    if args.max_moves is not None:
        command += f" --max-moves {args.max_moves}"
    if args.policies != POLICY_NAMES:
        command += " --policies " + ",".join(args.policies)
    if args.workers > 1:
        command += f" --workers {args.workers}"
    if args.quick:
        command += " --quick"
    paths = write_results(result, args.out, command, results_stem(args))
    print("Wrote " + ", ".join(str(p) for p in paths))
    return 0
