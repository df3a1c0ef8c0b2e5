"""Fill plans and previews of finished jobs, on demand (`mka figma fill|preview`, the portal's figma-plan route).

A job's own template, version and locale are served from the plan its export step stored; any
other template (or version) is filled again from the job's checkpoints, without running a step.
Either way the plan passes the egress guard before it is returned: it leaves the system.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from actors.figma.export import egress_view, export_figma
from actors.figma.store import load_template
from actors.object_store import CHECKPOINT_NAME, VAULT_NAME, find_job_object, read_job_object
from schemas import ArtifactKind, InvalidInput, JobRecord, JobState
from schemas.figma import FigmaExport, FigmaRequest, FillPlan

__all__ = ["job_export"]


def _localization(objects: Any, job: JobRecord, locale: str | None) -> Any:
    """The job's localized report for `locale` (None: the base report); `InvalidInput` when the job has none."""
    from schemas.brief import locale_id
    from schemas.localization import LocalizeOutput

    if locale is None:
        return None
    try:
        tag = locale_id(locale)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if tag == job.brief.locale:
        return None  # the base report's own locale
    key = find_job_object(objects, job.project, job.id, CHECKPOINT_NAME.format(step="localize"))
    reports = LocalizeOutput.model_validate_json(objects.get(key)).reports if key else []
    found = next((r for r in reports if r.locale == tag), None)
    if found is None:
        have = ", ".join(r.locale for r in reports) or "none"
        raise InvalidInput(f"job {job.id} has no {tag} report (localized reports: {have}); "
                           f"the base report is in {job.brief.locale}")
    return found


def _stored(store: Any, objects: Any, job: JobRecord, template_id: str, version: int,
            locale: str | None) -> tuple[FillPlan, str] | None:
    """The export step's own plan and preview, when they are for this template version and locale."""
    from actors.lifecycle.catalog import read_artifact

    rows = {row.kind: row for row in store.artifacts(job.id) if row.locale == locale
            and row.kind in (ArtifactKind.FIGMA_PLAN, ArtifactKind.FIGMA_PREVIEW)}
    if len(rows) < 2:
        return None
    _row, data = read_artifact(store, objects, rows[ArtifactKind.FIGMA_PLAN].id)
    plan = FillPlan.model_validate_json(data)
    if (plan.template_id, plan.version) != (template_id, version):
        return None
    _row, preview = read_artifact(store, objects, rows[ArtifactKind.FIGMA_PREVIEW].id)
    return plan, preview.decode("utf-8")


def job_export(store: Any, objects: Any, guards: Any, job_id: str, *, template: str, locale: str | None = None,
               now: datetime | None = None) -> FigmaExport:
    """The fill plan and preview of a completed job for a stored template (the project's), in the base report's
    language or a localized report's `locale`; checked by the egress guard."""
    job = store.get(job_id)
    if job.state != JobState.COMPLETED:
        raise InvalidInput(f"job {job_id} is {job.state.value}: only a completed job has a report to export")
    info, doc = load_template(store, objects, project=job.project, ref=template)
    localized = _localization(objects, job, locale)
    tag = localized.locale if localized else None
    stored = _stored(store, objects, job, info.template_id, info.version, tag)
    if stored is not None:
        done = FigmaExport(locale=tag or job.brief.locale, plan=stored[0], preview=stored[1])
    else:
        done = _fill(job, objects, info, doc, localized, now)
    vault = find_job_object(objects, job.project, job.id, VAULT_NAME)
    guards.register_vault(job.id, objects.get(vault) if vault else None)
    guards.check(job.id, "figma", egress_view(done.plan))
    return done


def _fill(job: JobRecord, objects: Any, info: Any, doc: dict[str, Any], localized: Any,
          now: datetime | None) -> FigmaExport:
    from actors.orchestrator.steps import stored_report_input

    def load(step: str, model: Any) -> Any:
        return model.model_validate_json(read_job_object(objects, job, CHECKPOINT_NAME.format(step=step)))

    report = stored_report_input(job, load, generated_at=now or job.updated_at or datetime.now(timezone.utc))
    return export_figma(FigmaRequest(report=report.model_copy(update={"localization": localized}),
                                     template_id=info.template_id, version=info.version, template=doc))
