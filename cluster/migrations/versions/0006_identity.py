"""identity: projects, API keys (argon2 hashes) and memberships; every project already in use gets its row

`default` always exists; projects named by existing jobs and artifacts are backfilled, so keys can be issued
for them at once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(length=63), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), primary_key=True),
        sa.Column("project", sa.String(length=63), sa.ForeignKey("projects.name"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pii_reader", sa.Boolean(), nullable=False),
        sa.Column("deployment_admin", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_keys_project", "api_keys", ["project"])
    op.create_table(
        "memberships",
        sa.Column("project", sa.String(length=63), sa.ForeignKey("projects.name"), primary_key=True),
        sa.Column("subject", sa.String(length=255), primary_key=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pii_reader", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memberships_subject", "memberships", ["subject"])
    bind = op.get_bind()
    used = {"default"}
    for table in ("jobs", "artifacts"):
        used |= {row[0] for row in bind.execute(sa.text(f"SELECT DISTINCT project FROM {table}")) if row[0]}
    used.discard("mka-system")  # the sweep's own stream, no tenant
    now = datetime.now(timezone.utc)
    op.bulk_insert(projects, [{"name": name, "created_at": now} for name in sorted(used)])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_memberships_subject", table_name="memberships")
    op.drop_table("memberships")
    op.drop_index("ix_api_keys_project", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("projects")
