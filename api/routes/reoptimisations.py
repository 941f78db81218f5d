"""``/v1/reoptimisations``: the nightly re-optimisation as a job (start, watch, stop, apply).

``POST`` stores the job and answers 202 at once; the work runs in the server, so the client
may disconnect and poll ``GET /v1/reoptimisations/{id}``. ``DELETE`` asks it to stop (it keeps
the best plan found). ``POST .../apply`` accepts all its moves or the selected ones, each
re-checked by the evaluator against the data as it is then, in one transaction.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.model import Package, Placement, Plan, Problem, split_package
from api.deps import ServicesDep, SessionDep, Staff, Tx, WriteTx
from api.errors import NotBuiltYetError
from api.jobs import ACTIVE, JobState, worker_name
from api.packages import get_row, move, received_row, to_public
from api.problems import ConflictError, NotFoundError, UnprocessableError
from api.reoptimise import ReoptimisationParams, job_work
from api.routes._common import Responses
from api.runs import new_violations, raise_for_violations
from api.schemas import ApplyRequest, ApplyResult, JobPublic
from api.security import Principal
from api.states import State
from api.tables import JobRow, utcnow
from api.tenants import TenantData

router = APIRouter(prefix="/v1/reoptimisations", tags=["re-optimisation"])

KIND = "reoptimisation"
_NOT_BUILT = (
    "this server was started without a re-optimiser (the nightly re-planning of every run), "
    "so re-optimisation jobs are not available here"
)
_NOT_FOUND: Responses = {404: {"description": "No such job for this council."}}


def _public(row: JobRow) -> JobPublic:
    result = row.result or {}
    return JobPublic(
        id=row.id,
        state=row.state,
        params=row.params,
        progress=row.progress,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        applied_at=row.applied_at,
        error=row.error,
        feasible=result.get("feasible"),
        moves=result.get("moves", []),
        kpis_before=result.get("kpis_before"),
        kpis_after=result.get("kpis_after"),
    )


def _row(session: Session, principal: Principal, job_id: str, *, lock: bool = False) -> JobRow:
    stmt = select(JobRow).where(JobRow.id == job_id, JobRow.tenant_id == principal.tenant_id)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        msg = f"no re-optimisation job {job_id!r}"
        raise NotFoundError(msg)
    return row


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses={
        409: {"description": "A re-optimisation is already running for this council."},
        501: {"description": "This server has no re-optimiser."},
    },
)
def start(body: ReoptimisationParams, principal: Staff, tx: WriteTx) -> Response:
    """Start the re-optimisation; answers 202 with the job at once (poll its ``GET``)."""
    reoptimiser = tx.services.solvers.reoptimiser
    if reoptimiser is None:
        raise NotBuiltYetError(_NOT_BUILT)
    active = tx.session.scalar(
        select(JobRow.id).where(
            JobRow.tenant_id == principal.tenant_id,
            JobRow.kind == KIND,
            JobRow.state.in_([s.value for s in ACTIVE]),
        )
    )
    if active is not None:
        msg = f"re-optimisation {active} is still running; wait for it or stop it first"
        raise ConflictError(msg)
    now = utcnow()
    row = JobRow(
        id=uuid.uuid4().hex,
        tenant_id=principal.tenant_id,
        kind=KIND,
        state=JobState.QUEUED.value,
        params=body.model_dump(),
        progress={"fraction": 0.0, "message": "queued"},
        cancel_requested=False,
        worker=worker_name(),
        data_version=tx.tenant.data_version,
        created_by=principal.key_id,
        created_at=now,
    )
    tx.session.add(row)
    tx.audit("reoptimisation.start", row.id, inputs=body)
    response = tx.commit(_public(row), status_code=202)
    response.headers["Location"] = f"/v1/reoptimisations/{row.id}"
    services = tx.services
    work = job_work(services.cache, services.db.read_session, principal.tenant_id, reoptimiser)
    services.jobs.submit(row.id, work)
    return response


@router.get("", response_model=list[JobPublic])
def recent(
    principal: Staff, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[JobPublic]:
    """The council's latest re-optimisations, newest first."""
    rows = session.scalars(
        select(JobRow)
        .where(JobRow.tenant_id == principal.tenant_id, JobRow.kind == KIND)
        .order_by(JobRow.created_at.desc())
        .limit(limit)
    )
    return [_public(r) for r in rows]


@router.get("/{job_id}", response_model=JobPublic, responses=_NOT_FOUND)
def status(job_id: str, principal: Staff, session: SessionDep) -> JobPublic:
    """The job's state and progress and, once finished, the moves it proposes and the KPIs
    before and after."""
    return _public(_row(session, principal, job_id))


@router.get("/{job_id}/plan", response_model=Plan, responses=_NOT_FOUND)
def plan(job_id: str, principal: Staff, session: SessionDep) -> Plan:
    """The whole proposed plan (docs/formats.md), once the job has one."""
    row = _row(session, principal, job_id)
    if not row.result or "plan" not in row.result:
        msg = f"job {job_id} has no plan yet (it is {row.state})"
        raise ConflictError(msg)
    return Plan.model_validate(row.result["plan"])


@router.delete(
    "/{job_id}",
    status_code=202,
    response_model=JobPublic,
    responses={**_NOT_FOUND, 409: {"description": "The job has already finished."}},
)
def stop(job_id: str, principal: Staff, tx: WriteTx, services: ServicesDep) -> Response:
    """Ask the job to stop; it keeps the best plan found so far."""
    row = _row(tx.session, principal, job_id, lock=True)
    if JobState(row.state) not in ACTIVE:
        msg = f"job {job_id} has already finished ({row.state})"
        raise ConflictError(msg)
    row.cancel_requested = True
    tx.audit("reoptimisation.stop", job_id, inputs={})
    response = tx.commit(_public(row), status_code=202)
    services.jobs.stop(job_id)
    return response


def _split_part_packages(
    data: TenantData, proposal: Plan, placing: frozenset[str]
) -> tuple[TenantData, dict[str, Package]]:
    """``data`` with each referral being placed as a part package split into the calls that
    start (still a referral here) and its rest (a new referral); the rests by referral id."""
    rests: dict[str, Package] = {}
    for part in proposal.part_packages:
        if part.package_id not in placing:
            continue
        if part.rest_id in data.referrals or part.rest_id in data.packages:
            msg = f"the part package's rest id {part.rest_id!r} is taken; re-run the job"
            raise ConflictError(msg)
        try:
            started, rest = split_package(data.referrals[part.package_id], part)
        except ValueError as error:
            msg = f"referral {part.package_id} changed since the job ran: {error}; re-run the job"
            raise ConflictError(msg) from None
        data = data.with_item("referrals", started).with_item("referrals", rest)
        rests[part.package_id] = rest
    return data, rests


def _add_rest(tx: Tx, principal: Principal, job_id: str, package_id: str, rest: Package) -> None:
    """Store a part package's rest as a new waiting referral, with its history and audit."""
    tx.session.add(received_row(principal.tenant_id, rest))
    note = f"re-optimisation {job_id}: the calls of {package_id} that still wait"
    tx.event(rest.id, None, State.RECEIVED.value, note=note)
    tx.audit(
        "reoptimisation.apply",
        rest.id,
        inputs={"job_id": job_id, "part_of": package_id},
        why={"job_id": job_id, "part_package_of": package_id},
        outcome={"state": State.RECEIVED.value},
    )


@router.post(
    "/{job_id}/apply",
    response_model=ApplyResult,
    responses={
        **_NOT_FOUND,
        409: {
            "description": "No plan to apply, already applied, a package changed state, or "
            "an import replaced the framework since the job ran."
        },
        422: {"description": "A move would break a hard rule with today's data."},
    },
)
def apply(job_id: str, body: ApplyRequest, principal: Staff, tx: WriteTx) -> Response:
    """Accept the plan's moves (all, or those of ``package_ids``), in one transaction."""
    row = _row(tx.session, principal, job_id, lock=True)
    if row.applied_at is not None:
        msg = f"job {job_id}'s plan was already applied at {row.applied_at:%Y-%m-%d %H:%M}"
        raise ConflictError(msg)
    if not row.result or "plan" not in row.result:
        msg = f"job {job_id} has no plan to apply (it is {row.state})"
        raise ConflictError(msg)
    data = tx.data()
    if data.framework_version > row.result.get("data_version", 0):
        msg = (
            f"an import replaced the council's lots, providers and carers after job {job_id} "
            "made its plan; re-run the job"
        )
        raise ConflictError(msg)
    proposed = {m["package_id"]: m for m in row.result["moves"]}
    chosen = list(proposed) if body.package_ids is None else body.package_ids
    unknown = [p for p in chosen if p not in proposed]
    if unknown:
        msg = "the plan proposes no move for some of these packages"
        raise UnprocessableError(
            msg, [Problem(path="package_ids", message=f"no move for {p!r}") for p in unknown]
        )
    proposal = Plan.model_validate(row.result["plan"])
    changes: dict[str, Placement] = {}
    for package_id in chosen:
        placement = proposal.placement(package_id)
        assert placement is not None  # every move comes from a placement of the plan
        changes[package_id] = placement
    placing = frozenset(p for p in chosen if p in data.referrals)
    stale = [p for p in chosen if p not in data.referrals and p not in data.packages]
    if stale:
        msg = f"these packages are no longer waiting or placed: {', '.join(stale)}"
        raise ConflictError(msg)
    split, rests = _split_part_packages(data, proposal, placing)
    raise_for_violations(
        new_violations(data, split, tx.supplied_travel, changes=changes, placing=placing)
    )
    after = split
    for package_id, placement in changes.items():
        package_row = get_row(tx.session, principal, package_id, lock=True)
        source: Package = split.referrals.get(package_id) or data.packages[package_id]
        package = source.model_copy(
            update={"provider_id": placement.provider_id, "assignments": placement.assignments}
        )
        body_json = package.model_dump(mode="json")
        if package_id in placing:
            previous = move(
                package_row, State.PLACED, body=body_json, provider_id=placement.provider_id
            )
            after = after.without_item("referrals", package_id)
        else:
            previous = package_row.state
            package_row.body = body_json
            package_row.provider_id = placement.provider_id
            package_row.version += 1
            package_row.updated_at = utcnow()
        after = after.with_item("packages", package)
        tx.event(
            package_id,
            previous,
            State.PLACED.value,
            provider_id=placement.provider_id,
            note=f"re-optimisation {job_id}: {proposed[package_id]['kind'].replace('_', ' ')}",
        )
        tx.audit(
            "reoptimisation.apply",
            package_id,
            inputs={"job_id": job_id, "placement": placement.model_dump(mode="json")},
            why={"move": proposed[package_id], "job_id": job_id},
            outcome=to_public(package_row).model_dump(
                mode="json", include={"provider_id", "state"}
            ),
        )
    for package_id, rest in rests.items():
        _add_rest(tx, principal, job_id, package_id, rest)
    after.check(set(changes) | {r.id for r in rests.values()})
    row.applied_at = utcnow()
    return tx.commit(ApplyResult(job_id=job_id, applied=sorted(changes)), data=after)
