"""``carealloc keys``: make, list and revoke API keys (creating a council on first use)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.db import Database, connect, migrate
from api.errors import UserError
from api.security import NewKey, Role, new_key
from api.settings import get_settings
from api.tables import ApiKey, Tenant, utcnow

_TENANT_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


def register(subparsers: Any) -> None:
    """Add the ``keys`` subcommand and its actions."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "keys",
        help="make, list and revoke API keys for a council",
        description="Manage API keys. A key belongs to one council (tenant) and has one role: "
        "admin, broker or provider (with --provider). The key is printed once and only its "
        "SHA-256 is stored.",
    )
    parser.add_argument("--database-url", help="as for carealloc serve")
    parser.add_argument("--data-dir", type=Path, help="as for carealloc serve")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="make a key and print it once")
    create.add_argument("--tenant", required=True, help="council id, e.g. argyll-bute")
    create.add_argument("--tenant-name", help="council name when the council is new")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--provider", help="provider id (provider keys only)")
    create.add_argument("--label", help="who or what the key is for")
    create.set_defaults(handler=_create)

    listing = actions.add_parser("list", help="list a council's keys (never the keys themselves)")
    listing.add_argument("--tenant", required=True)
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=_revoke)


def _db(args: argparse.Namespace) -> Database:
    db = connect(get_settings(database_url=args.database_url, data_dir=args.data_dir))
    migrate(db)
    return db


def add_key(
    db: Database,
    tenant_id: str,
    role: Role,
    *,
    provider_id: str | None = None,
    label: str | None = None,
    tenant_name: str | None = None,
) -> tuple[NewKey, bool]:
    """Store a new key (and the council, when new); returns the key and whether the council
    was created."""
    if not _TENANT_RE.match(tenant_id):
        msg = "the council id must be letters, digits and _ . : - (at most 100)"
        raise UserError(msg)
    if (role is Role.PROVIDER) != (provider_id is not None):
        msg = "--provider is needed for a provider key, and only for one"
        raise UserError(msg)
    made = new_key()
    with db.write_session() as session, session.begin():
        created = session.get(Tenant, tenant_id) is None
        if created:
            session.add(
                Tenant(
                    id=tenant_id,
                    name=tenant_name or tenant_id,
                    snapshot_name=tenant_id,
                    skills=[],
                    costs={},
                    policy={},
                    data_version=0,
                    travel_version=0,
                    framework_version=0,
                    created_at=utcnow(),
                )
            )
            session.flush()
        session.add(
            ApiKey(
                id=made.key_id,
                tenant_id=tenant_id,
                role=role.value,
                provider_id=provider_id,
                key_sha256=made.key_sha256,
                label=label,
                created_at=utcnow(),
            )
        )
    return made, created


def _create(args: argparse.Namespace) -> int:
    role = Role(args.role)
    db = _db(args)
    try:
        made, created = add_key(
            db,
            args.tenant,
            role,
            provider_id=args.provider,
            label=args.label,
            tenant_name=args.tenant_name,
        )
    finally:
        db.dispose()
    if created:
        print(f"created council {args.tenant!r}")
    print(f"{role.value} key {made.key_id} for {args.tenant}; shown once, keep it safe:")
    print(made.secret_key)
    return 0


def _list(args: argparse.Namespace) -> int:
    db = _db(args)
    try:
        with db.read_session() as session:
            rows = list(
                session.scalars(
                    select(ApiKey)
                    .where(ApiKey.tenant_id == args.tenant)
                    .order_by(ApiKey.created_at)
                )
            )
    finally:
        db.dispose()
    if not rows:
        print(f"no keys for {args.tenant!r}")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        provider = f" provider={row.provider_id}" if row.provider_id else ""
        label = f" ({row.label})" if row.label else ""
        print(f"{row.id}  {row.role}{provider}  {state}  made {row.created_at:%Y-%m-%d}{label}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    db = _db(args)
    try:
        with db.write_session() as session, session.begin():
            row = session.get(ApiKey, args.key_id)
            if row is None:
                msg = f"no key {args.key_id!r}"
                raise UserError(msg)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
    finally:
        db.dispose()
    print(f"key {args.key_id} revoked")
    return 0
