"""artifacts become the catalog of every stored object: project, step, PII class, retention, hold, status, lineage

Existing rows are backfilled: the project from their job, kinds normalized to the enum ("report" was the
PDF, any other unknown kind becomes "export"), PII class and retention class from the kind, and every job
that still has a sealed raw brief gets its `raw_brief` row. Objects written before keys carried the project
(`jobs/<id>/...`) keep their keys: the rows record them, readers try both layouts, and the sweep adopts
legacy objects that have no row yet (README, "Artifacts").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KINDS = {"pdf", "html", "markdown", "chart", "checkpoint", "vault", "raw_brief", "document", "providers_script",
          "figma_plan", "figma_preview", "template", "export"}
_RENAMED = {"report": "pdf", "figma": "export"}
_PII = {"checkpoint": "pseudonymized", "pdf": "pseudonymized", "html": "pseudonymized", "markdown": "pseudonymized",
        "chart": "pseudonymized", "vault": "raw_encrypted", "raw_brief": "raw_encrypted", "document": "raw_encrypted"}
_CLASS = {"pdf": "report", "html": "report", "markdown": "report", "chart": "report", "checkpoint": "checkpoint",
          "vault": "pii", "raw_brief": "pii", "providers_script": "script"}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("step", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pii_class", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("retention_class", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deletion_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lineage", sa.JSON(), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        for name, type_ in (("project", sa.String(length=63)), ("pii_class", sa.String(length=16)),
                            ("retention_class", sa.String(length=32)), ("legal_hold", sa.Boolean()),
                            ("status", sa.String(length=16)), ("lineage", sa.JSON())):
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.alter_column("job_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.create_index("ix_artifacts_key", ["key"], unique=True)
        batch_op.create_index("ix_artifacts_project_kind", ["project", "kind"], unique=False)
        batch_op.create_index("ix_artifacts_status", ["status"], unique=False)


def _backfill(conn: sa.Connection) -> None:
    arts = sa.table("artifacts", sa.column("id"), sa.column("job_id"), sa.column("kind"), sa.column("key"),
                    sa.column("uri"), sa.column("content_type"), sa.column("size"), sa.column("sha256"),
                    sa.column("created_at"), sa.column("project"), sa.column("step"), sa.column("pii_class"),
                    sa.column("retention_class"), sa.column("legal_hold"), sa.column("status"),
                    sa.column("lineage", sa.JSON()))
    jobs = sa.table("jobs", sa.column("id"), sa.column("project"), sa.column("brief_sealed", sa.LargeBinary()),
                    sa.column("created_at"))
    projects = dict(conn.execute(sa.select(jobs.c.id, jobs.c.project)).all())
    for art_id, job_id, kind in conn.execute(sa.select(arts.c.id, arts.c.job_id, arts.c.kind)).all():
        kind = _RENAMED.get(kind, kind if kind in _KINDS else "export")
        conn.execute(sa.update(arts).where(arts.c.id == art_id).values(
            kind=kind, project=projects.get(job_id, "default"), pii_class=_PII.get(kind, "none"),
            retention_class=_CLASS.get(kind, kind), legal_hold=False, status="stored",
            step="render" if _CLASS.get(kind) == "report" else None, lineage=[],
        ))
    sealed = conn.execute(sa.select(jobs.c.id, jobs.c.project, jobs.c.brief_sealed, jobs.c.created_at)
                          .where(jobs.c.brief_sealed.is_not(None))).all()
    for job_id, project, blob, created_at in sealed:
        data = bytes(blob)
        conn.execute(sa.insert(arts).values(
            id=str(uuid.uuid4()), job_id=job_id, kind="raw_brief", key=f"projects/{project}/jobs/{job_id}/raw_brief.sealed",
            uri=f"db://jobs/{job_id}/brief_sealed", content_type="application/octet-stream", size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), created_at=created_at, project=project, step="submit",
            pii_class="raw_encrypted", retention_class="pii", legal_hold=False, status="stored", lineage=[],
        ))


def downgrade() -> None:
    """Revert this revision (catalog rows of non-report objects go; report rows keep their old columns)."""
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM artifacts WHERE job_id IS NULL OR kind IN "
                         "('checkpoint', 'vault', 'raw_brief', 'providers_script')"))
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index("ix_artifacts_status")
        batch_op.drop_index("ix_artifacts_project_kind")
        batch_op.drop_index("ix_artifacts_key")
        batch_op.alter_column("job_id", existing_type=sa.String(length=36), nullable=False)
        for name in ("lineage", "deletion_reason", "deleted_at", "status", "hold_reason", "legal_hold",
                     "retention_class", "pii_class", "step", "project"):
            batch_op.drop_column(name)
