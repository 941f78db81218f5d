"""The nightly re-optimisation as a job, and the moves a broker approves from its plan.

The re-optimiser itself belongs to the optimisation core; the service runs it as a job on the
council's current data and travel, checks the plan it returns with the independent evaluator,
and turns it into **moves**: each package whose provider, carers or times would change, and
each waiting referral it would place. A broker accepts all of them or a selection
(``POST /v1/reoptimisations/{id}/apply``); each accepted move is re-checked against the data
as it is then, so a plan that went stale cannot break a hard rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from allocator.evaluate import evaluate
from allocator.model import Package, Placement, Plan, Snapshot
from allocator.reoptimise import ReoptimiseOptions, reoptimise
from allocator.travel import TravelMatrix
from api.jobs import JobContext, Work
from api.runs import travel_for
from api.tenants import TenantCache, TenantData


class ReoptimisationParams(BaseModel):
    """How long the re-optimisation may run and how much it may change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"time_limit_s": 600, "max_moves": 20, "seed": 0}]},
    )

    time_limit_s: float = Field(default=600, gt=0, le=3600, description="Wall-clock budget.")
    max_moves: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Most clients that may change provider (default 0: none).",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    place_waiting: bool = Field(
        default=True,
        description="Place waiting referrals into the re-planned runs (false: re-plan runs only).",
    )
    make_room: bool = Field(
        default=True,
        description="Re-plan runs around waiting referrals and hand other clients' visits over "
        "between carers to fit them (false: only into time the re-planned runs leave free).",
    )
    handover_travel_cap: float | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Place a waiting referral by handing other clients' visits over only when "
        "that adds at most this many minutes of carers' travel per carer hour of its care "
        "(default: no limit).",
    )
    part_packages: bool = Field(
        default=True,
        description="Start waiting referrals whose clients accept a part package "
        "(accepts_part_package) with the calls that fit; the others wait as a new referral.",
    )

    def options(self, workers: int) -> ReoptimiseOptions:
        """The optimisation core's options for these parameters."""
        return core_options(
            time_limit_s=self.time_limit_s,
            max_moves=self.max_moves,
            seed=self.seed,
            workers=workers,
            place_waiting=self.place_waiting,
            make_room=self.make_room,
            handover_travel_cap=self.handover_travel_cap,
            part_packages=self.part_packages,
        )


def core_options(
    *,
    time_limit_s: float,
    max_moves: int,
    seed: int,
    workers: int,
    place_waiting: bool,
    make_room: bool,
    handover_travel_cap: float | None,
    part_packages: bool,
) -> ReoptimiseOptions:
    """The core's options for the service's dials, as the API's parameters and the
    ``carealloc reoptimise`` options name them: one mapping, so the two cannot drift apart.
    Making room covers both ways the core fits a waiting referral into others' runs."""
    return ReoptimiseOptions(
        time_limit_s=time_limit_s,
        max_moves=max_moves,
        seed=seed,
        workers=workers,
        place_waiting=place_waiting,
        fit_waiting_in_runs=make_room,
        hand_over_visits=make_room,
        handover_max_travel_per_care_hour=handover_travel_cap,
        start_part_packages=part_packages,
    )


Reoptimiser = Callable[[Snapshot, TravelMatrix, ReoptimisationParams, JobContext], Plan]
"""Re-plans a snapshot's runs: reports progress on the context, stops early when it asks, and
returns the best plan found."""


def core_reoptimiser(workers: int) -> Reoptimiser:
    """The optimisation core's nightly re-optimisation, reporting to the job."""

    def run(
        snapshot: Snapshot,
        travel: TravelMatrix,
        params: ReoptimisationParams,
        context: JobContext,
    ) -> Plan:
        options = params.options(workers)

        def progress(fraction: float, message: str, figures: dict[str, float]) -> None:
            context.progress(fraction, message, **figures)

        return reoptimise(
            snapshot, travel, options, progress=progress, should_stop=context.should_stop
        )

    return run


class Move(BaseModel):
    """One change the plan proposes, for a broker to accept or not."""

    package_id: str
    kind: Literal[
        "newly_placed", "started_in_part", "provider_change", "carer_change", "time_change"
    ]
    from_provider_id: str | None
    to_provider_id: str
    visits_changed: int = Field(description="Visit occurrences whose carers or start change.")
    rest_id: str | None = Field(
        default=None,
        description="Only for started_in_part: the new referral holding the calls that wait.",
    )
    carers_before: list[str]
    carers_after: list[str]


def _changed(before: Package, placement: Placement) -> int:
    old = {a.key: (sorted(a.carer_ids), a.start_min) for a in before.assignments}
    new = {a.key: (sorted(a.carer_ids), a.start_min) for a in placement.assignments}
    return sum(1 for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def moves(data: TenantData, plan: Plan) -> list[Move]:
    """Every package the plan changes and every referral it places."""
    found = []
    parts = {p.package_id: p for p in plan.part_packages}
    for placement in plan.placements:
        package = data.packages.get(placement.package_id) or data.referrals.get(
            placement.package_id
        )
        if package is None:
            continue
        changed = _changed(package, placement)
        if package.provider_id is None:
            kind = "started_in_part" if package.id in parts else "newly_placed"
        elif package.provider_id != placement.provider_id:
            kind = "provider_change"
        elif changed == 0:
            continue
        else:
            same_carers = {c for a in package.assignments for c in a.carer_ids} == {
                c for a in placement.assignments for c in a.carer_ids
            }
            kind = "time_change" if same_carers else "carer_change"
        found.append(
            Move(
                package_id=package.id,
                kind=kind,
                from_provider_id=package.provider_id,
                to_provider_id=placement.provider_id,
                visits_changed=changed,
                rest_id=parts[package.id].rest_id if package.id in parts else None,
                carers_before=sorted({c for a in package.assignments for c in a.carer_ids}),
                carers_after=sorted({c for a in placement.assignments for c in a.carer_ids}),
            )
        )
    return sorted(found, key=lambda m: m.package_id)


def job_work(
    cache: TenantCache, db_read: Callable[[], Any], tenant_id: str, reoptimiser: Reoptimiser
) -> Work:
    """The job: re-optimise the council's data as it is when the job starts."""

    def work(context: JobContext) -> dict[str, Any]:
        params = ReoptimisationParams.model_validate(context.params)
        with db_read() as session:
            data = cache.data(session, tenant_id)
            snapshot = data.snapshot
            travel = travel_for(snapshot, lambda: cache.supplied_travel(session, data))
        context.progress(0.0, "re-optimising the council's runs")
        plan = reoptimiser(snapshot, travel, params, context)
        result = evaluate(snapshot, plan, travel)
        current = evaluate(snapshot, _current_plan(snapshot, plan), travel)
        proposed = moves(data, plan)
        return {
            "data_version": data.data_version,
            "feasible": result.is_feasible,
            "violations": [v.model_dump() for v in result.violations[:50]],
            "moves": [m.model_dump() for m in proposed],
            "kpis_before": current.kpis.model_dump(),
            "kpis_after": result.kpis.model_dump(),
            "plan": plan.model_dump(mode="json"),
        }

    return work


def _current_plan(snapshot: Snapshot, like: Plan) -> Plan:
    """Today's runs as a plan (referrals waiting), to compare the proposal with."""
    return like.model_copy(
        update={
            "placements": [
                Placement(
                    package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments
                )
                for p in snapshot.packages
            ],
            "unplaced": [],
            "part_packages": [],
        }
    )
