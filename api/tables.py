"""Database tables (SQLAlchemy 2): what the service stores for each council (tenant).

Domain objects (lots, providers, carers, packages) are stored as the JSON of their
:mod:`allocator.model` class in ``body``, with the columns the service filters on beside it, so
the stored form never holds more than the model allows (no names or addresses of clients).
Every row belongs to one tenant, and every query filters on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations name the same things on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, in UTC, time-zone aware."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "timestamps must be time-zone aware"
            raise ValueError(msg)
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: UtcDateTime,
    }


ID = String(100)


class Tenant(Base):
    """A council. ``data_version`` goes up with every write that changes its data, so cached
    views know when to refresh; rows changed by that write carry it as ``changed_version``.
    ``framework_version`` is the data version of the last whole import (which replaces lots,
    providers, carers, skills, costs and policy), ``travel_version`` moves when travel does."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    snapshot_name: Mapped[str] = mapped_column(String(200))
    week_commencing: Mapped[str | None] = mapped_column(String(10))
    skills: Mapped[list[Any]] = mapped_column(default=list)
    costs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data_version: Mapped[int] = mapped_column(Integer, default=0)
    travel_version: Mapped[int] = mapped_column(Integer, default=0)
    framework_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


CHANGED_VERSION = "changed_version"
"""Key of ``Session.info`` holding the data version a write transaction will commit."""


class ApiKey(Base):
    """An API key: only its SHA-256 is stored (see :mod:`api.security`)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(ID)
    key_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LotRow(Base):
    __tablename__ = "lots"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column()


class ProviderRow(Base):
    __tablename__ = "providers"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CarerRow(Base):
    __tablename__ = "carers"
    __table_args__ = (Index("ix_carers_tenant_provider", "tenant_id", "provider_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ID)
    body: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PackageRow(Base):
    """A package of care through its life: a referral waiting, offered to a provider,
    accepted or declined, placed (with runs), ended or withdrawn."""

    __tablename__ = "packages"
    __table_args__ = (
        Index("ix_packages_tenant_state", "tenant_id", "state"),
        Index("ix_packages_tenant_changed", "tenant_id", "changed_version"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(ID)
    offer_provider_id: Mapped[str | None] = mapped_column(ID)
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PackageEvent(Base):
    """One step of a package's history (state changes and updates)."""

    __tablename__ = "package_events"
    __table_args__ = (Index("ix_package_events_tenant_package", "tenant_id", "package_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    package_id: Mapped[str] = mapped_column(ID)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(ID)
    note: Mapped[str | None] = mapped_column(Text)


class TravelRow(Base):
    """Travel times a council supplied from its own routing engine (docs/formats.md)."""

    __tablename__ = "travel"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class AuditRow(Base):
    """A decision: who (key and role), when, on what inputs, and why."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    key_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(ID)
    inputs: Mapped[dict[str, Any]] = mapped_column()
    why: Mapped[dict[str, Any]] = mapped_column()
    outcome: Mapped[dict[str, Any]] = mapped_column()


class IdempotencyRow(Base):
    """The stored response to a POST sent with an ``Idempotency-Key``, per API key."""

    __tablename__ = "idempotency"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JobRow(Base):
    """A long job (the nightly re-optimisation) run outside the request that started it."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column()
    progress: Mapped[dict[str, Any]] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    worker: Mapped[str | None] = mapped_column(String(200))
    data_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    applied_at: Mapped[dt.datetime | None] = mapped_column()
