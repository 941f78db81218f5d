"""``POST /v1/imports``: load a council's whole snapshot (docs/formats.md) in one go.

The snapshot replaces the council's lots, providers, carers, skills, costs, policy and travel.
Its placed packages and referrals are stored as placed and waiting; a package placed or
waiting before but missing from the snapshot is ended or withdrawn (with a history entry), so
the service's picture is the snapshot's. A referral already waiting keeps its state (an offer
out with a provider stays out). All of it is one transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import delete, select

from allocator.model import Package, Problem, Snapshot
from api.deps import Admin, Tx, WriteTx
from api.prepare import FrameworkLotsError, prepare_snapshot
from api.problems import UnprocessableError
from api.schemas import ImportResult
from api.states import WAITING, State
from api.tables import CarerRow, LotRow, PackageRow, ProviderRow, TravelRow, utcnow
from api.tenants import TenantData
from geodata.errors import GeodataError

router = APIRouter(prefix="/v1/imports", tags=["import"])


@router.post("", status_code=201, response_model=ImportResult)
def import_snapshot(snapshot: Snapshot, principal: Admin, tx: WriteTx) -> Response:
    """Replace the council's data with a snapshot (admin keys only).

    Packages without a lot get it from their location, and a locality when inside Argyll and
    Bute; a snapshot without lots gets the six Argyll and Bute framework lots.
    """
    try:
        body = prepare_snapshot(snapshot)
    except FrameworkLotsError as error:
        raise UnprocessableError(str(error), error.problems) from None
    except GeodataError as error:
        msg = "a package's location is outside every lot"
        raise UnprocessableError(
            msg, [Problem(path="packages/referrals", message=str(error))]
        ) from None
    session, tenant = tx.session, tx.tenant
    for table in (LotRow, ProviderRow, CarerRow, TravelRow):
        session.execute(delete(table).where(table.tenant_id == tenant.id))
    session.add_all(
        LotRow(tenant_id=tenant.id, id=x.id, body=x.model_dump(mode="json")) for x in body.lots
    )
    session.add_all(
        ProviderRow(tenant_id=tenant.id, id=x.id, body=x.model_dump(mode="json"))
        for x in body.providers
    )
    session.add_all(
        CarerRow(
            tenant_id=tenant.id, id=x.id, provider_id=x.provider_id, body=x.model_dump(mode="json")
        )
        for x in body.carers
    )
    if body.travel is not None:
        session.add(TravelRow(tenant_id=tenant.id, body=body.travel.model_dump_json()))
    tenant.travel_version += 1
    tenant.framework_version = tenant.data_version + 1  # the version this import commits
    tenant.snapshot_name = body.name
    tenant.week_commencing = body.week_commencing.isoformat() if body.week_commencing else None
    tenant.skills = list(body.skills)
    tenant.costs = body.costs.model_dump(mode="json")
    tenant.policy = body.policy.model_dump(mode="json")

    _store_packages(tx, body)
    after = TenantData(
        tenant_id=tenant.id,
        data_version=tenant.data_version,
        travel_version=tenant.travel_version,
        framework_version=tenant.framework_version,
        name=body.name,
        week_commencing=tenant.week_commencing,
        skills=tuple(body.skills),
        costs=body.costs,
        policy=body.policy,
        lots={x.id: x for x in body.lots},
        providers={x.id: x for x in body.providers},
        carers={x.id: x for x in body.carers},
        packages={x.id: x for x in body.packages},
        referrals={x.id: x for x in body.referrals},
    )
    result = ImportResult(
        lots=len(body.lots),
        providers=len(body.providers),
        carers=len(body.carers),
        packages=len(body.packages),
        referrals=len(body.referrals),
        travel_points=len(body.travel.points) if body.travel else None,
        notices=[n.message for n in body.notices()],
    )
    tx.audit(
        "snapshot.import",
        body.name,
        inputs={"name": body.name, **result.model_dump(exclude={"notices"})},
    )
    response = tx.commit(result, status_code=201, data=after)
    # Parse the new travel matrix now rather than in the first placement after the import.
    with tx.services.db.read_session() as session:
        tx.services.cache.supplied_travel(session, tx.services.cache.data(session, tenant.id))
    return response


def _store_packages(tx: Tx, body: Snapshot) -> None:
    session, tenant_id, now = tx.session, tx.tenant.id, utcnow()
    rows = {
        r.id: r
        for r in session.scalars(select(PackageRow).where(PackageRow.tenant_id == tenant_id))
    }
    incoming: dict[str, tuple[Package, State]] = {p.id: (p, State.PLACED) for p in body.packages}
    incoming |= {p.id: (p, State.RECEIVED) for p in body.referrals}
    for package_id, (package, target) in incoming.items():
        row = rows.get(package_id)
        payload = package.model_dump(mode="json")
        if row is None:
            session.add(
                PackageRow(
                    tenant_id=tenant_id,
                    id=package_id,
                    state=target.value,
                    provider_id=package.provider_id,
                    body=payload,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            tx.event(
                package_id, None, target.value, provider_id=package.provider_id, note="imported"
            )
            continue
        keep_state = target is State.RECEIVED and State(row.state) in WAITING
        new_state = row.state if keep_state else target.value
        if new_state != row.state:
            tx.event(
                package_id, row.state, new_state, provider_id=package.provider_id, note="imported"
            )
        row.state = new_state
        row.body = payload
        row.provider_id = package.provider_id
        if not keep_state:
            row.offer_provider_id = None
            row.offer = None
        row.version += 1
        row.updated_at = now
    for package_id, row in rows.items():
        if package_id in incoming:
            continue
        if row.state == State.PLACED.value:
            gone = State.ENDED
        elif State(row.state) in WAITING:
            gone = State.WITHDRAWN
        else:
            continue
        tx.event(
            package_id,
            row.state,
            gone.value,
            provider_id=row.provider_id,
            note=f"not in imported snapshot {body.name!r}",
        )
        row.state = gone.value
        row.offer_provider_id = None
        row.offer = None
        row.version += 1
        row.updated_at = now
