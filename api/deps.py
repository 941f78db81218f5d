"""FastAPI dependencies: services, sessions, the calling key, roles and write transactions.

Route signatures read as a permission table: ``principal: Staff`` (admins and brokers),
``principal: Admin``, ``principal: AnyKey``; ``tx: WriteTx`` opens the request's one write
transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.travel import TravelMatrix
from api.db import Database
from api.jobs import JobRunner
from api.problems import ForbiddenError, UnauthorisedError, UnprocessableError
from api.security import Principal, Role, key_id_of, matches
from api.settings import Settings
from api.solvers import PreparedCache, RankingLog, Solvers
from api.tables import (
    CHANGED_VERSION,
    ApiKey,
    AuditRow,
    IdempotencyRow,
    PackageEvent,
    Tenant,
    utcnow,
)
from api.tenants import TenantCache, TenantData

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The key printed by `carealloc keys create`."
)
_bearer = HTTPBearer(auto_error=False, description="The same key as a bearer token.")

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Services:
    """What every request shares, made by the app factory."""

    settings: Settings
    db: Database
    cache: TenantCache
    jobs: JobRunner
    prepared: PreparedCache
    rankings: RankingLog
    solvers: Solvers


def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def read_session(services: ServicesDep) -> Iterator[Session]:
    """A read-only session for the request."""
    with services.db.read_session() as session:
        yield session


SessionDep = Annotated[Session, Depends(read_session)]


def current_principal(
    services: ServicesDep,
    x_api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``X-API-Key`` or ``Authorization: Bearer``; 401 when missing or wrong."""
    key = x_api_key or (bearer.credentials if bearer else None)
    if not key:
        msg = "an API key is required (X-API-Key header or Authorization: Bearer)"
        raise UnauthorisedError(msg, headers={"WWW-Authenticate": "Bearer"})
    key_id = key_id_of(key.strip())
    row = None
    if key_id is not None:
        with services.db.read_session() as session:
            row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or not matches(key.strip(), row.key_sha256):
        msg = "the API key is not valid (unknown, mistyped or revoked)"
        raise UnauthorisedError(msg, headers={"WWW-Authenticate": "Bearer"})
    return Principal(
        key_id=row.id, tenant_id=row.tenant_id, role=Role(row.role), provider_id=row.provider_id
    )


AnyKey = Annotated[Principal, Depends(current_principal)]


def _require(*roles: Role) -> Any:
    names = " or ".join(f"{r.value}" for r in roles)

    def check(principal: AnyKey) -> Principal:
        if principal.role not in roles:
            msg = f"this needs an {names} key; yours is a {principal.role.value} key"
            raise ForbiddenError(msg)
        return principal

    return Depends(check)


Admin = Annotated[Principal, _require(Role.ADMIN)]
Staff = Annotated[Principal, _require(Role.ADMIN, Role.BROKER)]


async def body_sha256(request: Request) -> str:
    """SHA-256 of the raw request body, for idempotency checks."""
    return hashlib.sha256(await request.body()).hexdigest()


class IdempotentReplay(Exception):  # noqa: N818 - a signal, not an error
    """The stored response to a retried request; answered as it was the first time."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body

    def response(self) -> Response:
        """The stored response, marked as replayed."""
        return Response(
            self.body,
            status_code=self.status_code,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )


class Tx:
    """One write transaction of one request, holding the council's write lock."""

    def __init__(
        self,
        services: Services,
        session: Session,
        tenant: Tenant,
        principal: Principal,
        request: Request,
        idempotency: tuple[str, str] | None,
    ) -> None:
        self.services = services
        self.session = session
        self.tenant = tenant
        self.principal = principal
        self._request = request
        self._idempotency = idempotency
        self.committed = False

    def data(self) -> TenantData:
        """The council's data as of this transaction."""
        return self.services.cache.data_for(self.session, self.tenant)

    def supplied_travel(self) -> TravelMatrix | None:
        """The council's own travel matrix, if it supplied one."""
        return self.services.cache.supplied_travel(self.session, self.data())

    def ranking(self, package_id: str) -> dict[str, Any] | None:
        """The ranked offers last shown for a referral (None if none were asked for)."""
        return self.services.rankings.last(self.tenant.id, package_id)

    def audit(
        self,
        action: str,
        subject_id: str | None,
        *,
        inputs: Any,
        why: Any = None,
        outcome: Any = None,
    ) -> None:
        """Record a decision with who made it, on what inputs, and why."""
        self.session.add(
            AuditRow(
                tenant_id=self.tenant.id,
                at=utcnow(),
                key_id=self.principal.key_id,
                role=self.principal.role.value,
                action=action,
                subject_id=subject_id,
                inputs=jsonable_encoder(inputs if inputs is not None else {}),
                why=jsonable_encoder(why if why is not None else {}),
                outcome=jsonable_encoder(outcome if outcome is not None else {}),
            )
        )

    def event(
        self,
        package_id: str,
        from_state: str | None,
        to_state: str,
        *,
        provider_id: str | None = None,
        note: str | None = None,
    ) -> None:
        """Add a step to a package's history."""
        self.session.add(
            PackageEvent(
                tenant_id=self.tenant.id,
                package_id=package_id,
                at=utcnow(),
                from_state=from_state,
                to_state=to_state,
                key_id=self.principal.key_id,
                role=self.principal.role.value,
                provider_id=provider_id,
                note=note,
            )
        )

    def commit(
        self, payload: Any, *, status_code: int = 200, data: TenantData | None = None
    ) -> Response:
        """Store the response for idempotent retries, commit, and answer with ``payload``.

        ``data`` is the council's data after this write, when the write changed it: the data
        version moves on and the cache gets the new data without a reload.
        """
        if isinstance(payload, BaseModel):
            body = payload.model_dump_json()
        else:
            body = json.dumps(jsonable_encoder(payload))
        if data is not None:
            self.tenant.data_version += 1
        if self._idempotency is not None:
            key, sha = self._idempotency
            self.session.add(
                IdempotencyRow(
                    key_id=self.principal.key_id,
                    idempotency_key=key,
                    tenant_id=self.tenant.id,
                    method=self._request.method,
                    path=self._request.url.path,
                    body_sha256=sha,
                    status_code=status_code,
                    response=body,
                    created_at=utcnow(),
                )
            )
        if data is None:
            self.session.commit()
        else:
            cache = self.services.cache
            with cache.publishing(self.tenant.id):
                self.session.commit()
                cache.put(data.replace(data_version=self.tenant.data_version))
        self.committed = True
        return Response(body, status_code=status_code, media_type="application/json")


def write_tx(
    request: Request,
    services: ServicesDep,
    principal: AnyKey,
    body_hash: Annotated[str, Depends(body_sha256)],
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            description="Any unique string; a retry with the same key and body gets the first "
            "response again instead of repeating the write.",
        ),
    ] = None,
) -> Iterator[Tx]:
    """Begin the request's write transaction with the council's write lock held."""
    with services.db.write_lock:
        yield from _write_tx(request, services, principal, body_hash, idempotency_key)


def _write_tx(
    request: Request,
    services: Services,
    principal: Principal,
    body_hash: str,
    idempotency_key: str | None,
) -> Iterator[Tx]:
    session = services.db.write_session()
    try:
        # On SQLite the engine begins with BEGIN IMMEDIATE; on PostgreSQL this row lock
        # serialises the council's writes (FOR UPDATE is left out on SQLite).
        tenant = session.execute(
            select(Tenant).where(Tenant.id == principal.tenant_id).with_for_update()
        ).scalar_one()
        session.info[CHANGED_VERSION] = tenant.data_version + 1
        idempotency = None
        if idempotency_key is not None and request.method == "POST":
            stored = session.get(IdempotencyRow, (principal.key_id, idempotency_key))
            if stored is not None:
                if (
                    stored.body_sha256 != body_hash
                    or stored.method != request.method
                    or stored.path != request.url.path
                ):
                    msg = (
                        f"Idempotency-Key {idempotency_key!r} was already used for a different "
                        "request; use a new key for a new request"
                    )
                    raise UnprocessableError(msg)
                raise IdempotentReplay(stored.status_code, stored.response)
            idempotency = (idempotency_key, body_hash)
        tx = Tx(services, session, tenant, principal, request, idempotency)
        yield tx
    finally:
        session.rollback()
        session.close()


WriteTx = Annotated[Tx, Depends(write_tx)]
