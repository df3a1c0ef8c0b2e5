"""jobs (project, created_at, id) index: the portal's job list pages newest first within a project

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_jobs_project_created", "jobs", ["project", "created_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_jobs_project_created", table_name="jobs")
