"""The default step registry: what each pipeline step reads, which agent runs it, and what it checkpoints."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from actors.localization.agent import (
    LocalePlan,
    LocalizePlan,
    LocalizeRequest,
    glossary_of,
    wanted_locales,
)
from actors.localization.text import translate_walk
from actors.figma.export import replaced_count
from actors.object_store import (
    CHECKPOINT_NAME,
    VAULT_NAME,
    artifact_for,
    find_job_object,
    job_key,
    read_job_object,
)
from actors.orchestrator.outside_errors import clean_answers, clean_sources, clean_translation
from actors.orchestrator.pipeline import Pipeline, Step, StepContext
from actors.orchestrator.ports import (
    AnalyzeOutput,
    CollectOutput,
    ExportOutput,
    RedactOutput,
    RenderOutput,
    ValidateOutput,
)
from actors.quorum import required_for
from schemas import (
    Artifact,
    ArtifactKind,
    Brief,
    BriefTooLong,
    InvalidInput,
    JobRecord,
    JobState,
    MergeResult,
    MkaError,
    StoredPii,
    parse_brief,
    problems_from,
)
from schemas.brief import locale_id
from schemas.figma import FigmaRequest, PlanSummary
from schemas.localization import (
    LocalizedReport,
    LocalizeOutput,
    Segment,
    TranslationRequest,
    TranslationResult,
)
from schemas.pipeline import AnalysisRequest, CollectRequest, DocumentInput, ReportInput, SourceReport

if TYPE_CHECKING:
    from actors.orchestrator.runner import JobRunner

__all__ = ["default_pipeline", "figma_warnings", "localize_later", "localize_reports", "localized_reports", "report_input",
           "stored_report_input"]

S = JobState
M = TypeVar("M", bound=BaseModel)


def validate(ctx: StepContext) -> BaseModel:
    """Validate the raw brief again inside the pipeline."""
    brief = parse_brief(ctx.raw_brief().model_dump(mode="json"))
    return ValidateOutput(markets=brief.markets, outputs=list(brief.outputs))


def redact(ctx: StepContext) -> BaseModel:
    """Pseudonymize the brief with the job's vault; the job record then shows the pseudonymized brief."""
    output, vault = ctx.agents.redact_brief(ctx.envelope(ctx.raw_brief()), ctx.vault())
    ctx.save_vault(vault)
    try:  # placeholders are longer than some values: the pseudonymized brief must still be a brief
        checked = RedactOutput.model_validate_json(output.model_dump_json())
    except ValidationError as exc:
        fields = ", ".join(p["field"].removeprefix("brief.") for p in problems_from(exc))
        raise BriefTooLong(f"the pseudonymized brief exceeds the limits of: {fields}; shorten those fields") from None
    ctx.store.set_brief(ctx.job.id, checked.brief)
    return checked


def collect(ctx: StepContext) -> BaseModel:
    """Collect evidence from every source (MCP servers, the brief's pages, the job's documents), then pseudonymize
    it with the job's vault; the output reports each source, failures included."""
    brief = ctx.load("redact", RedactOutput).brief
    documents, unreadable = open_documents(ctx, brief)
    result = ctx.agents.collect(ctx.envelope(CollectRequest(job_id=ctx.job.id, brief=brief, documents=documents)))
    allow = [brief.product.name, *brief.competitors]
    output, vault = ctx.agents.redact_evidence(
        ctx.envelope(result.evidence), read_job_object(ctx.objects, ctx.job, VAULT_NAME), allow)
    ctx.save_vault(vault)
    sources = clean_sources([*unreadable, *result.sources], ctx.guards.guard(ctx.job.id))  # servers' error texts
    return output.model_copy(update={"sources": sources, "on_source_error": brief.on_source_error})


def open_documents(ctx: StepContext, brief: Brief) -> tuple[list[DocumentInput], list[SourceReport]]:
    """The brief's documents, opened from storage; one failed report for each that cannot be (unknown, another
    project's, deleted by retention, damaged)."""
    from actors.documents.store import open_document

    opened: list[DocumentInput] = []
    failed: list[SourceReport] = []
    for ref in brief.documents:
        try:
            name, data = open_document(ctx.store, ctx.objects, ctx.store.keyring(), ref.id, project=ctx.job.project)
        except MkaError as exc:
            failed.append(SourceReport(source=f"doc://{ref.id}", source_type="document", label=ref.id,
                                       status="failed", required=ref.required, error=exc.message))
            continue
        opened.append(DocumentInput(id=ref.id, name=name, data=data, required=ref.required))
    return opened, failed


def analyze(ctx: StepContext) -> BaseModel:
    """Ask every provider (the job's script may shorten deadlines or set a budget); the output judges the quorum."""
    job, config, script = ctx.job, ctx.config, ctx.script()
    brief = ctx.load("redact", RedactOutput).brief
    # What leaves for the models: no URLs or file paths the user gave (they may name people), only the evidence.
    brief = brief.model_copy(update={"sources": [], "documents": []})
    evidence = [e.model_copy(update={"source": model_source(e.source)}) for e in ctx.load("collect", CollectOutput).evidence]
    # A script may tighten the operator's limits, never loosen them: the shorter deadline and grace, the smaller budget.
    deadline_s = min(script.deadline_s, config.deadline_s) if script.deadline_s else config.deadline_s
    grace_s = config.grace_s if script.grace_s is None else min(script.grace_s, config.grace_s)
    budgets = [b for b in (config.cost_budget_usd, script.cost_budget_usd) if b is not None]
    budget = min(budgets) if budgets else None

    def own_deadline_s(provider: str) -> float:
        behaviour = script.providers.get(provider)
        owns = [d for d in ((behaviour.deadline_s if behaviour else None), config.provider_deadlines_s.get(provider)) if d]
        return min([*owns, deadline_s])

    envelopes = {
        p: ctx.envelope(
            AnalysisRequest(
                job_id=job.id, provider=p, brief=brief, evidence=evidence, behaviour=script.providers.get(p),
                cost_budget_usd=budget,
            )
        ).model_copy(update={"deadline": ctx.clock.now() + timedelta(seconds=own_deadline_s(p))})
        for p in config.providers
    }
    # Fail closed: a request carrying a vault value fails the step (not retried).
    ctx.guards.register_vault(job.id, ctx.vault())
    for p, request in envelopes.items():
        ctx.guards.check(job.id, f"llm:{p}", request)
    output = ctx.agents.analyze(
        envelopes, required=required_for(len(config.providers)), deadline_s=deadline_s, grace_s=grace_s,
        deadlines={p: own_deadline_s(p) for p in envelopes if own_deadline_s(p) < deadline_s},
    )
    # Providers' error texts may echo a key or a vault value: cleaned before the checkpoint and the job's error.
    answers, quorum = clean_answers(output.answers, output.quorum, ctx.guards.guard(job.id))
    output = output.model_copy(update={"answers": answers, "quorum": quorum})
    ctx.metrics.quorum_wait(output.quorum.waited_s)
    for status in output.quorum.providers:
        ctx.metrics.provider_outcome(status.provider, status.status)
        if status.tokens or status.cost:
            ctx.metrics.llm_usage(status.provider, status.tokens or 0, status.cost or 0.0)
    ctx.metrics.quorum("failed" if not output.quorum.met else "degraded" if output.quorum.degraded else "met")
    return output


def model_source(source: str) -> str:
    """An evidence source as the models see it: the site or the tool, without the path or query a user chose
    (`https://crm.example/contacts?email=…#c1` -> `https://crm.example#c1`); document ids stay."""
    from urllib.parse import urlsplit

    if source.startswith("doc://"):
        return source
    parts = urlsplit(source)
    if parts.scheme == "mcp":  # the path names a tool or resource (the server's words); the query holds ours
        base = f"mcp://{parts.netloc}{parts.path}"
    else:
        base = f"{parts.scheme}://{parts.hostname or 'page'}"
    return f"{base}#{parts.fragment}" if parts.fragment else base


def merge(ctx: StepContext) -> BaseModel:
    """Merge the answers claim by claim against the evidence."""
    analysis = ctx.load("analyze", AnalyzeOutput)
    return ctx.agents.merge(ctx.envelope(analysis), ctx.load("collect", CollectOutput).evidence)


def report_input(ctx: StepContext) -> ReportInput:
    """What the report shows, from the checkpoints of the steps before it."""
    return stored_report_input(ctx.job, ctx.load, generated_at=ctx.clock.now())


def stored_report_input(job: JobRecord, load: Callable[[str, type[M]], M], *, generated_at: datetime) -> ReportInput:
    """The report input of a job from its checkpoints, read by `load(step, model)` (a step's context, or a reader of
    a finished job's objects)."""
    analysis = load("analyze", AnalyzeOutput)
    collected = load("collect", CollectOutput)
    return ReportInput(
        job_id=job.id,
        brief=load("redact", RedactOutput).brief,
        evidence=collected.evidence,
        sources=collected.sources,
        answers=analysis.answers,
        quorum=analysis.quorum,
        merge=load("merge", MergeResult),
        trace_id=job.trace_id,
        generated_at=generated_at,
    )


def localize_reports(ctx: StepContext, report: ReportInput, locales: list[str]) -> LocalizeOutput:
    """Plan each locale with the localizer, then translate its text: one provider at a time, retried and falling
    back on a failure or a broken placeholder, glossary term, number or id; locales run concurrently."""
    job = ctx.job
    glossary = glossary_of(report.brief, ctx.config.glossary)
    plan: LocalizePlan = ctx.agents.call("localizer", "plan", ctx.envelope(LocalizeRequest(
        job_id=job.id, report=report, locales=locales, glossary=glossary, today=ctx.clock.now().date())))
    script = ctx.script()
    ctx.guards.register_vault(job.id, ctx.vault())
    texts = {s.id: s.text for s in plan.segments}

    def one(target: LocalePlan) -> LocalizedReport:
        def call(provider: str, segments: list[Segment], problems: list[str]) -> TranslationResult:
            behaviour = script.providers.get(provider)
            request = ctx.envelope(TranslationRequest(
                job_id=job.id, provider=provider, source_language=plan.source_language,
                target_locale=target.locale, target_language=target.language_name, formality=target.formality,
                glossary=glossary, segments=segments, problems=problems,
                mode=behaviour.translation if behaviour else None))
            ctx.guards.check(job.id, f"llm:{provider}", request)  # fail closed, as for the analysis
            return clean_translation(ctx.agents.translate(request), ctx.guards.guard(job.id))

        def announce(kind: str, payload: dict[str, object]) -> None:
            ctx.store.record_event(job.id, f"localization.{kind}", {"locale": target.locale, **payload},
                                   traceparent=job.traceparent)

        walk = translate_walk(plan.segments, ctx.config.providers, call, on_event=announce)
        done = {texts[i]: t for i, t in walk.translations.items()}
        status = "translated" if len(done) == len(texts) else "partial" if done else "untranslated"
        reason = "" if status == "translated" else walk.reason or "no provider translated it"
        announce("completed", {"status": status, "translated": len(done), "segments": len(texts),
                               "provider": walk.translated_by})
        return LocalizedReport(
            locale=target.locale, language=target.language, rtl=target.rtl, status=status, reason=reason,
            translated_by=walk.translated_by, translations=done, attempts=walk.attempts,
            adaptation=target.adaptation,
        )

    if not plan.locales:
        return LocalizeOutput(source_language=plan.source_language)
    with ThreadPoolExecutor(max_workers=min(4, len(plan.locales)), thread_name_prefix="localize") as pool:
        reports = list(pool.map(one, plan.locales))
    return LocalizeOutput(source_language=plan.source_language, reports=reports)


def localize(ctx: StepContext) -> BaseModel:
    """Localize the report for each locale the brief wants (none: nothing to do)."""
    brief = ctx.load("redact", RedactOutput).brief
    locales = wanted_locales(brief)
    if not locales:
        return LocalizeOutput(source_language=brief.locale.split("_")[0])
    return localize_reports(ctx, report_input(ctx), locales)


def render(ctx: StepContext) -> BaseModel:
    """Render and store the base report and each localized one; record their artifacts."""
    report = report_input(ctx)
    localized = localized_reports(ctx)
    envelopes = [
        # One idempotency key per report: a retry re-renders it on the same actor; the reports spread over the pool.
        ctx.envelope(report.model_copy(update={"localization": loc})).model_copy(
            update={"idempotency_key": f"{ctx.job.id}:render" + (f":{loc.locale}" if loc else "")})
        for loc in [None, *localized]
    ]
    artifacts = [a for rendered in ctx.agents.render_many(envelopes) for a in rendered]
    return RenderOutput(artifacts=ctx.record(artifacts, made_from=["merge", "localize"]))


def localized_reports(ctx: StepContext) -> list[LocalizedReport]:
    """The job's localized reports (none for a job that reached rendering before the localize step existed)."""
    if find_job_object(ctx.objects, ctx.job.project, ctx.job.id, CHECKPOINT_NAME.format(step="localize")) is None:
        return []
    return ctx.load("localize", LocalizeOutput).reports


def export(ctx: StepContext) -> BaseModel:
    """Fill the brief's Figma template for the base report and each localized one: a fill plan (checked by the
    egress guard: it leaves the system) and an SVG preview each. A template deleted since submit, missing or
    unusable fields and overflowing texts are warnings, in the output and the events; the job completes."""
    from actors.figma.export import egress_view
    from actors.figma.store import load_template

    job = ctx.job
    brief = ctx.load("redact", RedactOutput).brief
    if "figma" not in brief.outputs or not brief.figma_template:
        return ExportOutput()
    try:
        info, doc = load_template(ctx.store, ctx.objects, project=job.project, ref=brief.figma_template)
    except MkaError as exc:  # checked at submit; deleted since
        ctx.store.record_event(job.id, "figma.skipped", {"template": brief.figma_template, "reason": exc.message},
                               traceparent=job.traceparent)
        return ExportOutput(warnings=[f"Figma export skipped: {exc.message}"])
    report = report_input(ctx)
    reports = [None, *localized_reports(ctx)]
    exports = [
        ctx.agents.call("report", "figma", ctx.envelope(FigmaRequest(
            report=report.model_copy(update={"localization": loc}), template_id=info.template_id,
            version=info.version, template=doc)).model_copy(
            update={"idempotency_key": f"{job.id}:figma" + (f":{loc.locale}" if loc else "")}))
        for loc in reports
    ]
    ctx.guards.register_vault(job.id, ctx.vault())
    for done in exports:  # fail closed, as for the LLM requests
        ctx.guards.check(job.id, "figma", egress_view(done.plan))
    artifacts, plans, warnings = [], [], []
    for done, loc in zip(exports, reports):
        folder = f"{loc.locale}/" if loc else ""
        for kind, name, body, content_type in (
            (ArtifactKind.FIGMA_PLAN, "figma-plan.json", done.plan.model_dump_json(indent=1).encode(),
             "application/json"),
            (ArtifactKind.FIGMA_PREVIEW, "figma-preview.svg", done.preview.encode(), "image/svg+xml"),
        ):
            stored = ctx.objects.put(job_key(job.project, job.id, folder + name), body, content_type=content_type,
                                     metadata={"kind": kind.value, "job-id": job.id})
            artifacts.append(artifact_for(
                stored, project=job.project, job_id=job.id, kind=kind, artifact_id=uuid.uuid4().hex,
                created_at=ctx.clock.now(), step="export", locale=loc.locale if loc else None,
                pii_class=StoredPii.PSEUDONYMIZED))
        plan = done.plan
        summary = PlanSummary(locale=plan.locale, replaced=replaced_count(plan), missing_fields=plan.missing_fields,
                              unknown_fields=plan.unknown_fields, overflow=len(plan.overflow))
        plans.append(summary)
        warnings += figma_warnings(summary, info.template_id)
        ctx.store.record_event(job.id, "figma.exported", {"template": info.template_id, "version": info.version,
                                                          **summary.model_dump(mode="json")},
                               traceparent=job.traceparent)
    return ExportOutput(artifacts=ctx.record(artifacts, made_from=["merge", "localize"]), plans=plans,
                        warnings=warnings)


def figma_warnings(summary: PlanSummary, template_id: str) -> list[str]:
    """What a designer should fix or know about one locale's plan, in words."""
    out = []
    where = f"template {template_id} ({summary.locale})"
    if summary.missing_fields:
        out.append(f"{where}: no value for {', '.join(summary.missing_fields)}; those layers are hidden")
    if summary.unknown_fields:
        out.append(f"{where}: unusable layer names {', '.join(summary.unknown_fields)}")
    if summary.overflow:
        out.append(f"{where}: {summary.overflow} text(s) may not fit their box (set in full; see the plan's overflow)")
    return out


def localize_later(runner: JobRunner, job_id: str, locale: str) -> tuple[LocalizedReport, list[Artifact]]:
    """Another localized report of a completed job, from its stored checkpoints: the job's steps do not run again
    (`mka localize`). The localized report's artifacts are recorded on the job; returns them with the localization."""
    job = runner.store.get(job_id)
    if job.state != S.COMPLETED:
        raise InvalidInput(f"job {job_id} is {job.state.value}: only a completed job can be localized")
    try:
        tag = locale_id(locale)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    entry = runner.pipeline.step("localize")
    ctx = runner.step_context(job, entry, traceparent=job.traceparent, key=f"localize-{tag}")
    report = report_input(ctx)
    [localized] = localize_reports(ctx, report, [tag]).reports
    artifacts = runner.agents.render(ctx.envelope(report.model_copy(update={"localization": localized})))
    return localized, ctx.record(artifacts, made_from=["merge"])


@cache
def default_pipeline() -> Pipeline:
    """validate → redact → collect → analyze → merge → localize → render → export."""
    return Pipeline([
        Step("validate", S.VALIDATING, Brief, ValidateOutput, "orchestrator", validate),
        Step("redact", S.REDACTING, Brief, RedactOutput, "pii", redact),
        Step("collect", S.COLLECTING, CollectRequest, CollectOutput, "collector, pii", collect),
        # LLM calls cost money and are not idempotent; a retry asks every provider again.
        Step("analyze", S.ANALYZING, AnalysisRequest, AnalyzeOutput, "llm-<provider>", analyze, idempotent=False),
        Step("merge", S.MERGING, AnalyzeOutput, MergeResult, "orchestrator", merge),
        # Translations are LLM calls too (one provider at a time, only for the job's locales): a retry asks again.
        Step("localize", S.LOCALIZING, LocalizeRequest, LocalizeOutput, "localizer, llm-<provider>", localize,
             idempotent=False),
        Step("render", S.RENDERING, ReportInput, RenderOutput, "report", render),
        # Pure over stored checkpoints (no LLM): a retry fills the template again and overwrites the same keys.
        Step("export", S.EXPORTING, FigmaRequest, ExportOutput, "report", export),
    ])
