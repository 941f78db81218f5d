"""Change versions: which rows each write changed, so other server processes refresh only those.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_version", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_packages_tenant_changed", ["tenant_id", "changed_version"], unique=False
        )

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_version", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("framework_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("framework_version")

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("changed_version")

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index("ix_packages_tenant_changed")
        batch_op.drop_column("changed_version")

    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.drop_column("changed_version")
