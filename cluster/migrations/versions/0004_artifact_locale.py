"""artifacts.locale: the locale of a localized report (NULL for the base report and every other artifact)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=35), nullable=True))


def downgrade() -> None:
    """Revert this revision (localized reports stay stored; only their locale column goes)."""
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_column("locale")
