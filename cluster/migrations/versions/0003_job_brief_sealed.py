"""jobs.brief_sealed: the raw brief, sealed with the job's key (jobs.brief keeps a masked copy)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Jobs stored before this revision keep their brief in jobs.brief and no sealed copy; the redact
step replaces it with the pseudonymized brief when they run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brief_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Revert this revision (sealed raw briefs are dropped: they cannot be put back in clear)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("brief_sealed")
