"""job_tombstones: what stays of a job once retention removed its row (id, project, state, times; no content);
on SQLite the outbox's seq becomes AUTOINCREMENT, so a sequence is never reused once retention deleted rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "job_tombstones",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project", sa.String(63), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":  # PostgreSQL's sequence never hands a number out twice
        with op.batch_alter_table("outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("job_tombstones")
