"""The cleanup rules as pure functions of (catalog rows, job facts, now): TTLs, checkpoints, PII, keep-last-N, holds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from actors.lifecycle.rules import JobFacts, due_date, plan, superseded_jobs
from schemas import Artifact, ArtifactKind, ArtifactStatus, JobState
from schemas.lifecycle import DEFAULT_TTL_DAYS, CleanupRules

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def _job(job_id: str, *, state: JobState = JobState.COMPLETED, ended: datetime | None = T0, created: datetime = T0,
         project: str = "acme", title: str = "oat milk launch") -> JobFacts:
    return JobFacts(id=job_id, project=project, state=state, created_at=created, ended_at=ended, title=title)


def _row(kind: str, job_id: str | None = "j1", *, step: str | None = None, created: datetime = T0,
         project: str = "acme", name: str | None = None, **extra: object) -> Artifact:
    key = f"projects/{project}/jobs/{job_id}/{name or kind}" if job_id else f"projects/{project}/templates/{name or kind}"
    return Artifact(id=f"{job_id}-{name or kind}-{step}", job_id=job_id, project=project, kind=kind, step=step, key=key,
                    uri=f"memory://{key}", content_type="application/octet-stream", size=1, sha256="0" * 64,
                    created_at=created, **extra)


def test_report_kinds_follow_their_ttl_from_creation() -> None:
    rules = CleanupRules(ttl_days={"pdf": 10, "chart": 3})
    assert due_date(_row("pdf"), _job("j1"), rules) == (T0 + 10 * DAY, "ttl: pdf 10 days")
    assert due_date(_row("chart"), _job("j1"), rules)[0] == T0 + 3 * DAY
    assert due_date(_row("html"), _job("j1"), rules)[0] == T0 + DEFAULT_TTL_DAYS[ArtifactKind.HTML] * DAY


def test_a_running_job_keeps_everything_whatever_the_dates() -> None:
    running = _job("j1", state=JobState.ANALYZING, ended=None)
    for kind in ("pdf", "checkpoint", "vault", "raw_brief", "providers_script"):
        assert due_date(_row(kind), running, CleanupRules()) == (None, "job running")


def test_checkpoints_go_after_the_grace_but_the_merge_result_lives_with_the_reports() -> None:
    rules = CleanupRules(checkpoint_grace_days=2, ttl_days={"pdf": 90})
    ended = T0 + 5 * DAY
    job = _job("j1", ended=ended)
    assert due_date(_row("checkpoint", step="collect"), job, rules) == (ended + 2 * DAY, "checkpoint: job ended + 2 days")
    due, reason = due_date(_row("checkpoint", step="merge"), job, rules)
    assert due == ended + 90 * DAY and reason.startswith("merge result")
    assert due_date(_row("checkpoint", step="merge"), job, CleanupRules(ttl_days={"pdf": None}))[0] is None


def test_vault_and_raw_brief_follow_the_pii_retention_per_project() -> None:
    rules = CleanupRules(pii_retention_days=30, projects={"acme": {"pii_retention_days": 7}})
    assert due_date(_row("vault"), _job("j1"), rules) == (T0 + 7 * DAY, "pii retention: job ended + 7 days")
    other = _job("j2", project="beta")
    assert due_date(_row("raw_brief", "j2", project="beta"), other, rules)[0] == T0 + 30 * DAY


def test_project_ttl_override_and_a_kept_kind() -> None:
    rules = CleanupRules(ttl_days={"pdf": 365}, projects={"acme": {"ttl_days": {"pdf": 30, "export": None}}})
    assert due_date(_row("pdf"), _job("j1"), rules)[0] == T0 + 30 * DAY
    assert due_date(_row("pdf", "j2", project="beta"), _job("j2", project="beta"), rules)[0] == T0 + 365 * DAY
    assert due_date(_row("export"), _job("j1"), rules) == (None, "ttl: export kept")
    assert due_date(_row("template", None), None, rules) == (None, "ttl: template kept")  # jobless, kept by default


def test_keep_last_n_reports_per_project_and_title() -> None:
    rules = CleanupRules(keep_last_reports=2)
    jobs = {f"j{i}": _job(f"j{i}", created=T0 + i * DAY) for i in range(4)}
    jobs["other"] = _job("other", created=T0, title="another brief")
    jobs["failed"] = _job("failed", state=JobState.FAILED, created=T0 - DAY)
    rows = [_row("pdf", j) for j in jobs] + [_row("checkpoint", "j0", step="merge")]
    assert superseded_jobs(rows, jobs, rules) == {"j0": 2, "j1": 2}  # the two newest of the title stay
    now = T0 + 4 * DAY
    decided = plan(rows, jobs, now, rules)
    gone = {(d.artifact.job_id, d.artifact.kind.value) for d in decided.delete}
    assert gone == {("j0", "pdf"), ("j1", "pdf"), ("j0", "checkpoint")}  # with j0's merge result
    assert all(d.reason.startswith("superseded") for d in decided.delete)
    assert superseded_jobs(rows, jobs, CleanupRules()) == {}  # no N: keep them all


def test_plan_deletes_what_is_due_keeps_held_rows_and_schedules_every_row() -> None:
    rules = CleanupRules(ttl_days={"pdf": 10, "html": 20})
    jobs = {"j1": _job("j1")}
    pdf, held, html = _row("pdf"), _row("pdf", name="held.pdf", legal_hold=True, hold_reason="audit"), _row("html")
    deleted = _row("pdf", name="gone.pdf", status=ArtifactStatus.DELETED)
    decided = plan([pdf, held, html, deleted], jobs, T0 + 10 * DAY, rules)
    assert [d.artifact.id for d in decided.delete] == [pdf.id]
    assert [d.artifact.id for d in decided.held] == [held.id]
    assert decided.schedule == {pdf.id: T0 + 10 * DAY, held.id: T0 + 10 * DAY, html.id: T0 + 20 * DAY}
    assert plan([pdf], jobs, T0 + 10 * DAY - timedelta(seconds=1), rules).delete == []  # not a second early


def test_a_lost_row_is_still_decided_and_a_row_without_its_job_counts_as_ended() -> None:
    lost = _row("pdf", status=ArtifactStatus.LOST)
    decided = plan([lost], {}, T0 + 400 * DAY, CleanupRules())
    assert [d.artifact.id for d in decided.delete] == [lost.id]


@pytest.mark.parametrize("bad, field", [
    ({"ttl_days": {"vault": 3}}, "no TTL for vault"),
    ({"ttl_days": {"checkpoint": 3}}, "no TTL for checkpoint"),
    ({"ttl_days": {"pdf": 0}}, "1 to 2555 days"),
    ({"ttl_days": {"pdf": 2556}}, "1 to 2555 days"),
    ({"event_retention_days": 2556}, "less than or equal to 2555"),
    ({"job_retention_days": 0}, "greater than or equal to 1"),
    ({"span_retention_days": 9999}, "less than or equal to 2555"),
    ({"projects": {"acme": {"event_retention_days": 3000}}}, "less than or equal to 2555"),
    ({"pii_retention_days": 2556}, "less than or equal to 2555"),
    ({"ttl_days": {"pdff": 3}}, "pdff"),
    ({"keep_last_reports": 0}, "greater than or equal to 1"),
    ({"projects": {"Not A Project": {}}}, "not a project name"),
    ({"projects": {"acme": {"ttl_days": {"raw_brief": 1}}}}, "no TTL for raw_brief"),
    ({"unknown_rule": 1}, "Extra inputs"),
    ({"version": 2}, "version"),
])
def test_bad_rules_are_refused_naming_the_field(bad: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CleanupRules.model_validate(bad)


def test_the_example_rules_file_loads_through_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from cluster.bootstrap import build_rules
    from cluster.settings import Settings
    from schemas import InvalidInput

    example = Path(__file__).resolve().parents[2] / "examples" / "cleanup-rules.yaml"
    rules = build_rules(Settings(home=tmp_path, cleanup_rules=example))
    assert rules.ttl(ArtifactKind.PDF, "legal-team") == 2555 and rules.pii_days("legal-team") == 7
    assert rules.event_days("legal-team") == 365 and rules.event_days("acme") == 90 and rules.job_days("acme") == 400
    assert rules.keep_last("acme") == 5 and rules.ttl(ArtifactKind.PDF, "acme") == 365
    assert build_rules(Settings(home=tmp_path, retention_days=12)).pii_retention_days == 12  # no file: the setting
    from_settings = build_rules(Settings(home=tmp_path, event_retention_days=5, job_retention_days=6,
                                         span_retention_days=7))
    assert (from_settings.event_days("x"), from_settings.job_days("x"), from_settings.span_retention_days) == (5, 6, 7)
    bad = tmp_path / "bad.yaml"
    bad.write_text("ttl_days: {vault: 3}\n")
    with pytest.raises(InvalidInput, match=r"bad.yaml: ttl_days: no TTL for vault"):
        build_rules(Settings(home=tmp_path, cleanup_rules=bad))
    bad.write_text("- not a mapping\n")
    with pytest.raises(InvalidInput, match="expected a mapping"):
        build_rules(Settings(home=tmp_path, cleanup_rules=bad))
    with pytest.raises(InvalidInput, match="missing.yaml"):
        build_rules(Settings(home=tmp_path, cleanup_rules=tmp_path / "missing.yaml"))


def test_titles_with_placeholders_or_withheld_briefs_are_never_grouped(make_brief) -> None:  # type: ignore[no-untyped-def]
    from actors.pii.briefs import mask_brief
    from schemas import JobRecord

    def record(brief, job_id: str) -> JobRecord:  # type: ignore[no-untyped-def]
        return JobRecord(id=job_id, project="acme", state=JobState.COMPLETED, version=9, brief=brief, created_at=T0,
                         updated_at=T0)

    assert JobFacts.of(record(make_brief(title="Oat Milk Launch "), "a")).title == "oat milk launch"
    assert JobFacts.of(record(make_brief(title="Report for <PERSON_1>"), "b")).title is None  # differs per vault
    assert JobFacts.of(record(mask_brief(make_brief()), "c")).title is None  # withheld until redaction
    jobs = {i: _job(i, created=T0 + int(i[1:]) * DAY, title=None) for i in ("j1", "j2", "j3")}
    assert superseded_jobs([_row("pdf", j) for j in jobs], jobs, CleanupRules(keep_last_reports=1)) == {}


def test_the_tune_split_of_rule_cases_is_decided_exactly() -> None:
    """scripts/eval_lifecycle.py on tests/data/lifecycle/tune (the outside split is measured by the script only)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "eval_lifecycle.py"
    spec = importlib.util.spec_from_file_location("eval_lifecycle", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.evaluate("tune")
    assert result["cases"] >= 7 and result["misses"] == [] and result["case_accuracy"] == 1.0
