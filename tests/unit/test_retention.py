"""Retention over every data class on a fake clock: objects, events, job rows, spans; overrides, holds, the relay."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actors.lifecycle.sweep import sweep
from actors.orchestrator.runner import JobRunner, RunnerConfig
from cluster.tracing import purge_spans
from schemas import ArtifactKind, ArtifactStatus, EventType, JobNotFound, JobState
from schemas.lifecycle import CleanupRules, ProjectRules
from tests.conftest import TEST_KEYRING, TEST_SIGNING_KEY
from tests.fakes import FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit

DAY = 86400.0


def _span(end: datetime, name: str = "job") -> str:
    ns = int(end.timestamp() * 1e9)
    return json.dumps({"trace_id": "0" * 32, "span_id": "1" * 16, "name": name, "start_ns": ns - 1000, "end_ns": ns})


@pytest.fixture
def world(make_brief, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A completed job in memory on a fake clock, its events relayed, and a span file with one span of its run."""
    clock = FakeClock(start=datetime.now(timezone.utc))  # the agents' deadlines run on the wall clock
    store = MemoryJobStore(keyring=TEST_KEYRING, clock=clock, signer=TEST_SIGNING_KEY.sign)
    objects = MemoryObjectStore(clock=clock)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=FakeAgents(objects), config=config, clock=clock)
    job = runner.run(store.submit(make_brief()).id)
    assert job.state == JobState.COMPLETED
    store.mark_published([m.event.id for m in store.outbox])
    spans = tmp_path / "spans.jsonl"
    spans.write_text(_span(clock.now()) + "\n")
    return store, objects, clock, job, spans


def _live_kinds(store: MemoryJobStore, job_id: str) -> set[str]:
    return {f"{a.kind.value}:{a.step}" if a.kind == ArtifactKind.CHECKPOINT else a.kind.value
            for a in store.catalog(job_id=job_id) if a.status == ArtifactStatus.STORED}


def _apply(store, objects, clock, spans, rules=None, **options):  # type: ignore[no-untyped-def]
    return sweep(store, objects, clock.now(), rules or CleanupRules(), clock=clock,
                 spans=lambda before, dry: purge_spans(spans, before, dry_run=dry), **options)


def test_each_class_goes_at_its_period_and_a_tombstone_is_what_stays(world) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job, spans = world
    everything = _live_kinds(store, job.id)
    checkpoints = {k for k in everything if k.startswith("checkpoint:") and k != "checkpoint:merge"}
    assert checkpoints and "vault" in everything and "raw_brief" in everything and "export" in everything
    job_events = {m.event.id for m in store.events(job.id)}

    clock.advance(6 * DAY)
    first = _apply(store, objects, clock, spans)
    assert first.deleted == [] and first.events == [] and first.jobs == [] and first.spans == 0
    assert _live_kinds(store, job.id) == everything

    clock.advance(2 * DAY)  # day 8: checkpoints (not the merge result)
    _apply(store, objects, clock, spans)
    assert _live_kinds(store, job.id) == everything - checkpoints

    clock.advance(23 * DAY)  # day 31: the vault and the raw brief; spans (30 days)
    result = _apply(store, objects, clock, spans)
    assert _live_kinds(store, job.id) == everything - checkpoints - {"vault", "raw_brief"}
    assert store.sealed_brief(job.id) is None and result.spans == 1 and spans.read_text() == ""

    clock.advance(60 * DAY)  # day 91: exports (90 days) and the job's events (90 days)
    result = _apply(store, objects, clock, spans)
    assert _live_kinds(store, job.id) == everything - checkpoints - {"vault", "raw_brief", "export", "providers_script"}
    assert [e["project"] for e in result.events] == ["*"] and result.events[0]["deleted"] >= len(job_events)
    assert not job_events & {m.event.id for m in store.outbox}

    clock.advance(90 * DAY)  # day 181: the merge result (the PDF's 180 days; the e2e test has real reports)
    _apply(store, objects, clock, spans)
    assert _live_kinds(store, job.id) == set()
    assert store.get(job.id).state == JobState.COMPLETED  # the job row waits for its own period

    clock.advance(220 * DAY)  # day 401: the job row becomes a tombstone
    result = _apply(store, objects, clock, spans)
    assert [j["id"] for j in result.jobs] == [job.id]
    with pytest.raises(JobNotFound):
        store.get(job.id)
    stone = store.tombstone(job.id)
    assert stone is not None and set(stone) == {"id", "project", "state", "created_at", "ended_at", "purged_at"}
    assert stone["state"] == "completed" and store.catalog(job_id=job.id, include_deleted=True) == []
    assert not [o for o in objects.list_objects() if job.id in o.key]
    # every deletion was announced: one artifact.deleted per object, a count per event purge, one job.purged
    types = [m.event.type for m in store.outbox]
    assert types.count(EventType.JOB_PURGED) == 1 and EventType.SWEEP_COMPLETED in types
    assert EventType.EVENTS_PURGED in types and EventType.SPANS_PURGED in types
    assert _apply(store, objects, clock, spans).jobs == []  # nothing twice


def test_a_legal_hold_keeps_the_object_and_with_it_the_job_row(world) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job, spans = world
    [report] = [a for a in store.catalog(job_id=job.id) if a.kind == ArtifactKind.PDF] or store.artifacts(job.id)[:1]
    store.hold_artifact(report.id, "litigation")
    clock.advance(3 * 366 * DAY)
    result = _apply(store, objects, clock, spans)
    assert [h["id"] for h in result.held] == [report.id] and result.jobs == []
    assert store.get(job.id).state == JobState.COMPLETED
    store.release_artifact(report.id)
    released = _apply(store, objects, clock, spans)  # the report goes, and with it the last thing keeping the job
    assert [d["id"] for d in released.deleted] == [report.id] and [j["id"] for j in released.jobs] == [job.id]


def test_project_overrides_and_unrelayed_events(world, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job, spans = world
    rules = CleanupRules(projects={job.project: ProjectRules(event_retention_days=10, job_retention_days=5,
                                                             ttl_days={ArtifactKind.PDF: 2})})
    other = store.submit(make_brief())  # another project's unrelayed event (a deployment without relay)
    relayed = {m.event.id for m in store.events(job.id)}
    clock.advance(11 * DAY)
    dry = _apply(store, objects, clock, spans, rules, dry_run=True)
    assert [e["project"] for e in dry.events] == [job.project] and dry.jobs == []
    assert {m.event.id for m in store.outbox} >= {m.event.id for m in store.events(job.id)}  # dry: nothing went
    result = _apply(store, objects, clock, spans, rules)
    assert [(e["project"], e["deleted"]) for e in result.events] == [(job.project, dry.events[0]["deleted"])]
    assert not relayed & {m.event.id for m in store.outbox} and store.events(other.id) != []
    clock.advance(80 * DAY)
    kept = _apply(store, objects, clock, spans, rules)
    assert store.events(other.id) != [] and all(e["project"] != other.project for e in kept.events)  # relayed only


def test_without_a_relay_the_outbox_is_the_record_and_every_row_past_its_period_goes(make_brief) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore(clock=clock)
    job = store.submit(make_brief())
    clock.advance(91 * DAY)
    assert sweep(store, objects, clock.now(), CleanupRules(), clock=clock).events == []  # "relayed" by default
    relaying = MemoryJobStore(keyring=TEST_KEYRING, clock=clock)
    waiting = relaying.submit(make_brief())
    clock.advance(91 * DAY)
    fresh = relaying.submit(make_brief())
    relaying.mark_published([m.event.id for m in relaying.events(fresh.id)])
    # this process has no relay configured, but the store shows that one publishes: unpublished rows stay
    assert sweep(relaying, objects, clock.now(), CleanupRules(), clock=clock, relayed=False).events == []
    assert relaying.events(waiting.id) != []
    result = sweep(store, objects, clock.now(), CleanupRules(), clock=clock, relayed=False)
    # the job's event and the first sweep's summary, both past 90 days
    assert [e["deleted"] for e in result.events] == [2] and store.events(job.id) == []
    audit = [m.event for m in store.outbox if m.event.type == EventType.EVENTS_PURGED]
    assert [e.payload["deleted"] for e in audit] == [2] and audit[0].payload["relayed_only"] is False


def test_a_legal_hold_keeps_the_jobs_events(world) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job, spans = world
    [row] = store.artifacts(job.id)[:1]
    store.hold_artifact(row.id, "audit")
    before = [m.event.id for m in store.events(job.id)]
    clock.advance(200 * DAY)
    _apply(store, objects, clock, spans)
    assert [m.event.id for m in store.events(job.id)][:len(before)] == before


def test_the_span_file_keeps_new_spans_and_zeroes_the_old_file(tmp_path: Path) -> None:
    t = datetime(2026, 5, 1, tzinfo=timezone.utc)
    path = tmp_path / "spans.jsonl"
    lines = [_span(t - timedelta(days=40), "old"), "not json", _span(t - timedelta(days=2), "new")]
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    assert purge_spans(path, t - timedelta(days=30), dry_run=True) == 1 and "old" in path.read_text()
    with open(path, "rb") as before:
        assert purge_spans(path, t - timedelta(days=30)) == 1
        assert set(before.read()) <= {0}  # the replaced file's bytes were overwritten
    assert path.read_text().splitlines() == lines[1:]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert purge_spans(tmp_path / "none.jsonl", t) == 0


def test_retention_show_lists_every_class_with_a_finite_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster.cli import app

    rules = tmp_path / "rules.yaml"
    rules.write_text("projects:\n  acme:\n    event_retention_days: 7\n    pii_retention_days: 3\n")
    monkeypatch.setenv("MKA_HOME", str(tmp_path))
    monkeypatch.setenv("MKA_CLEANUP_RULES", str(rules))
    monkeypatch.setenv("MKA_JOB_RETENTION_DAYS", "500")
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["retention", "show", "--project", "acme", "--json"]).output)
    days = {c["class"]: c["days"] for c in shown["classes"]}
    assert shown["overrides"] and days["events"] == 7 and days["raw_brief_and_vault"] == 3
    assert days["pseudonymized_brief"] == 500 and days["spans"] == 30 and days["checkpoints"] == 7
    assert {"merge_results", "reports.pdf", "exports.export"} <= set(days)
    assert all(d is not None and 0 < d <= 2555 for c, d in days.items() if c != "inputs.template")
    plain = json.loads(runner.invoke(app, ["retention", "show", "--json"]).output)
    assert {c["class"]: c["days"] for c in plain["classes"]}["events"] == 90
    assert runner.invoke(app, ["retention", "show", "--project", "Not A Project"]).exit_code == 2
    assert runner.invoke(app, ["retention", "apply", "--now", "yesterday"]).exit_code == 2
