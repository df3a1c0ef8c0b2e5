"""The sweep: apply the cleanup rules to the catalog and the store, find orphans both ways, report every deletion.

One run, in order:
1. finish deletions a crashed run left `deleting` (the object goes, the row is closed, its event emitted once);
2. read the catalog, decide it (`rules.plan`), record each row's `retention_until`;
3. delete what is due, at most `batch_size`: the row is marked `deleting` first in a transaction that
   refuses held rows, then the object goes, then the row is closed with an `artifact.deleted` event;
4. list the store's job prefixes (after reading the rows, so a row is never newer than the listing):
   an object with no row is deleted once older than the orphan grace on the wall clock (a legacy
   `jobs/<id>/...` object of a known job is adopted instead: its row is recorded and decided in the
   same run), a stored row with no object is marked `lost`, a lost row whose object is back is
   stored again (an empty listing marks nothing lost: that is an outage);
5. retention of what is not an object (full runs only): outbox rows older than their project's event period
   go (relayed ones only, unless the deployment has no relay), one `retention.events_purged` event per
   period; finished jobs past their project's job period with no object left become tombstones
   (`job.purged` each); spans older than the span period leave the local span file (`retention.spans_purged`);
6. emit one `sweep.completed` summary event.
Every step is idempotent, so a run cut short anywhere is finished by the next; `dry_run` changes nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actors.clock import Clock, SystemClock
from actors.job_store import JobStore
from actors.lifecycle.rules import JobFacts, plan
from actors.object_store import ListedObject, ObjectStore, artifact_for, parse_job_key
from schemas import EventType, JobNotFound
from schemas.artifacts import (
    REPORT_KINDS,
    Artifact,
    ArtifactKind,
    ArtifactStatus,
    StoredPii,
)
from schemas.lifecycle import CleanupRules

__all__ = ["SWEPT_PREFIXES", "SpanPurge", "SweepResult", "infer_kind", "sweep"]

SpanPurge = Callable[[datetime, bool], int]
"""Removes spans that ended before a time from the local span file (`dry_run`: only count); returns how many."""

log = logging.getLogger("mka.sweep")

_CHUNK = 200  # rows marked (and closed) per transaction
_EVENT_BATCH = 10_000  # outbox rows deleted per period and run (one transaction each)

SWEPT_PREFIXES = ("projects/", "jobs/")
"""The store prefixes the system writes (the legacy `jobs/` layout included); nothing outside them is touched."""

_PII = {ArtifactKind.VAULT: StoredPii.RAW_ENCRYPTED, ArtifactKind.CHECKPOINT: StoredPii.PSEUDONYMIZED,
        ArtifactKind.PDF: StoredPii.PSEUDONYMIZED, ArtifactKind.HTML: StoredPii.PSEUDONYMIZED,
        ArtifactKind.MARKDOWN: StoredPii.PSEUDONYMIZED, ArtifactKind.CHART: StoredPii.PSEUDONYMIZED}
_LOCALE_DIR = r"(?:(?P<locale>[a-z]{2,3}(?:_[A-Za-z0-9]+)*)/)?"
_NAMES = [
    (re.compile(r"^steps/(?P<step>[a-z_]+)\.json$"), ArtifactKind.CHECKPOINT),
    (re.compile(r"^vault\.bin$"), ArtifactKind.VAULT),
    (re.compile(r"^providers_script\.json$"), ArtifactKind.PROVIDERS_SCRIPT),
    (re.compile(rf"^{_LOCALE_DIR}report\.pdf$"), ArtifactKind.PDF),
    (re.compile(rf"^{_LOCALE_DIR}report\.html$"), ArtifactKind.HTML),
    (re.compile(rf"^{_LOCALE_DIR}report\.md$"), ArtifactKind.MARKDOWN),
    (re.compile(rf"^{_LOCALE_DIR}chart-[A-Za-z0-9_-]+\.svg$"), ArtifactKind.CHART),
]


def infer_kind(name: str) -> tuple[ArtifactKind, str | None, str | None] | None:
    """`(kind, step, locale)` of an object name under a job prefix, as the pipeline writes them; None if unknown."""
    for pattern, kind in _NAMES:
        m = pattern.match(name)
        if m:
            groups = m.groupdict()
            step = groups.get("step") or ("render" if kind in REPORT_KINDS else "redact" if kind == ArtifactKind.VAULT else None)
            return kind, step, groups.get("locale")
    return None


@dataclass
class SweepResult:
    """What one run deleted (or, dry, would delete), what holds kept, the orphans it found, what it adopted."""

    dry_run: bool
    deleted: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    orphan_objects: list[dict[str, Any]] = field(default_factory=list)
    orphan_rows: list[dict[str, Any]] = field(default_factory=list)
    adopted: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    spans: int = 0

    def to_dict(self) -> dict[str, Any]:
        """`{"dry_run", "deleted": [{id, kind, key, reason}], "held", "orphans": {"objects", "rows"}, "adopted", "more",
        "events": [{project, before, deleted}], "jobs": [{id, project, state, ended_at, reason}], "spans": {deleted}}`."""
        return {"dry_run": self.dry_run, "deleted": self.deleted, "held": self.held,
                "orphans": {"objects": self.orphan_objects, "rows": self.orphan_rows},
                "adopted": self.adopted, "more": self.more, "events": self.events, "jobs": self.jobs,
                "spans": {"deleted": self.spans}}


def _entry(row: Artifact, reason: str) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind.value, "key": row.key, "reason": reason}


def _remove(store: JobStore, objects: ObjectStore, row: Artifact) -> None:
    """Delete a row's object: the raw brief lives in the job store, everything else in the object store."""
    if row.kind == ArtifactKind.RAW_BRIEF:
        if row.job_id is not None:
            try:
                store.purge_raw_brief(row.job_id)
            except JobNotFound:
                pass
    else:
        objects.delete(row.key)


def _in_db(row: Artifact) -> bool:
    return row.uri.startswith("db://")


def sweep(
    store: JobStore, objects: ObjectStore, now: datetime, rules: CleanupRules, *, dry_run: bool = False,
    kinds: frozenset[ArtifactKind] | None = None, orphans: bool = True, sweep_id: str | None = None,
    clock: Clock | None = None, relayed: bool = True, spans: SpanPurge | None = None,
) -> SweepResult:
    """Apply the rules once at `now` (see the module docstring); `kinds` limits it to those kinds (the PII purge).

    `relayed`: the deployment relays events, so only outbox rows already published may go (without a relay
    the outbox is the only record and every row past its period goes). `spans(before, dry_run)` removes spans
    that ended before `before` from the local span file and returns how many (went or would go).

    `now` may be a time to come (`mka artifacts gc --now`): the rules are decided as of then, but the
    orphan grace runs on `clock` (the wall clock by default), so an object written moments ago and
    still waiting for its row is never taken for an orphan.
    """
    sweep_id = sweep_id or f"sweep-{uuid.uuid4().hex[:12]}"
    observed = min(now, (clock or SystemClock()).now())
    result = SweepResult(dry_run=dry_run)
    everything = store.catalog()  # stored, deleting and lost rows: deleted ones are history
    if kinds is not None:
        everything = [a for a in everything if a.kind in kinds]

    pending = [a for a in everything if a.status == ArtifactStatus.DELETING]
    for row in pending:
        result.deleted.append(_entry(row, row.deletion_reason or ""))
        if not dry_run:
            _remove(store, objects, row)
    if pending and not dry_run:
        store.finish_deletes([row.id for row in pending])

    rows = [a for a in everything if a.status in (ArtifactStatus.STORED, ArtifactStatus.LOST)]
    jobs = {j.id: JobFacts.of(j) for j in store.list_jobs(limit=10_000_000)}
    budget = max(0, rules.batch_size - len(pending))
    gone, spent = _apply(store, objects, rows, jobs, now, rules, result, budget=budget, dry_run=dry_run, schedule=True)
    if not dry_run:
        _keep_held_out_of_expiry(objects, [a for a in rows if a.legal_hold and a.status == ArtifactStatus.STORED])

    adopted: list[Artifact] = []
    if orphans and kinds is None:
        adopted = _orphans(store, objects, observed, rules, everything, gone, jobs, result, dry_run=dry_run,
                           sweep_id=sweep_id)
    elif kinds is not None:  # the PII purge: legacy objects of these kinds join the catalog first
        adopted = _adopt_legacy(store, objects, everything, jobs, result, kinds, dry_run=dry_run)
    if adopted:  # decided in the same run, within what is left of the batch
        _apply(store, objects, adopted, jobs, now, rules, result, budget=budget - spent, dry_run=dry_run, schedule=False)

    if kinds is None:
        _retain_rows(store, now, rules, everything, jobs, result, dry_run=dry_run, relayed=relayed, sweep_id=sweep_id)
        if spans is not None:
            before = now - timedelta(days=rules.span_retention_days)
            result.spans = spans(before, dry_run)
            if result.spans and not dry_run:
                store.record_system_event(EventType.SPANS_PURGED, {"before": before.isoformat(), "deleted": result.spans},
                                          stream=sweep_id)

    if not dry_run and kinds is None:
        store.record_system_event(EventType.SWEEP_COMPLETED, {
            "sweep_id": sweep_id, "deleted": len(result.deleted), "held": len(result.held),
            "orphan_objects": len(result.orphan_objects), "lost_rows": len(result.orphan_rows),
            "adopted": len(result.adopted), "more": result.more,
            "events_deleted": sum(e["deleted"] for e in result.events), "jobs_purged": len(result.jobs),
            "spans_deleted": result.spans,
        }, stream=sweep_id)
    return result


def _retain_rows(
    store: JobStore, now: datetime, rules: CleanupRules, everything: list[Artifact], jobs: dict[str, JobFacts],
    result: SweepResult, *, dry_run: bool, relayed: bool, sweep_id: str,
) -> None:
    """Old outbox rows go, per project period; finished jobs past their period with no object left become tombstones."""
    overridden = sorted(p for p, r in rules.projects.items() if r.event_retention_days)
    periods: list[tuple[str | None, int]] = [(p, rules.event_days(p)) for p in overridden]
    periods.append((None, rules.event_retention_days))
    # A deployment that relays keeps unpublished rows whatever this process's settings say (a CLI run from a shell
    # without MKA_NATS_URL must not delete what the relay has yet to publish).
    relayed = relayed or store.any_published()
    held = sorted({a.job_id for a in everything if a.legal_hold and a.job_id})  # a hold keeps the job's events too
    for project, days in periods:
        before = now - timedelta(days=days)
        count = store.purge_events(before, project=project, exclude=() if project else overridden, keep_jobs=held,
                                   published_only=relayed, dry_run=dry_run, limit=_EVENT_BATCH,
                                   audit_stream=None if dry_run else sweep_id)
        if count:
            result.events.append({"project": project or "*", "before": before.isoformat(), "deleted": count})
        result.more = result.more or count >= _EVENT_BATCH

    gone = {d["id"] for d in result.deleted}
    live: dict[str, int] = {}
    for row in everything:  # rows this run deleted (or would) no longer keep their job
        if row.job_id and row.status != ArtifactStatus.DELETED and row.id not in gone:
            live[row.job_id] = live.get(row.job_id, 0) + 1
    due = sorted((j for j in jobs.values() if j.ended_at is not None and not live.get(j.id)
                  and j.ended_at + timedelta(days=rules.job_days(j.project)) <= now),
                 key=lambda j: (j.ended_at, j.id))[:rules.batch_size]
    purged = set(j.id for j in due) if dry_run else set(store.tombstone_jobs([j.id for j in due]))
    result.jobs += [{"id": j.id, "project": j.project, "state": j.state.value,
                     "ended_at": j.ended_at.isoformat() if j.ended_at else None,
                     "reason": f"job retention: job ended + {rules.job_days(j.project)} days"}
                    for j in due if j.id in purged]


def _apply(
    store: JobStore, objects: ObjectStore, rows: list[Artifact], jobs: dict[str, JobFacts], now: datetime,
    rules: CleanupRules, result: SweepResult, *, budget: int, dry_run: bool, schedule: bool,
) -> tuple[set[str], int]:
    """Decide `rows` and delete what is due (at most `budget`); return the ids deleted and the budget spent."""
    decided = plan(rows, jobs, now, rules)
    if schedule and not dry_run:
        store.set_retention({a.id: decided.schedule[a.id] for a in rows
                             if decided.schedule.get(a.id) != a.retention_until})
    result.more = result.more or len(decided.delete) > budget
    gone: set[str] = set()
    due = decided.delete[:budget]
    if dry_run:
        result.deleted += [_entry(d.artifact, d.reason) for d in due]
    for start in range(0, 0 if dry_run else len(due), _CHUNK):
        chunk = due[start:start + _CHUNK]
        # One transaction marks the chunk (held, deleted or rewritten rows are refused: a hold always wins),
        # then the objects go, then one transaction closes the rows with one event each.
        marked = store.begin_deletes([(d.artifact.id, d.reason, d.artifact) for d in chunk])
        for row in marked:
            _remove(store, objects, row)
        store.finish_deletes([row.id for row in marked])
        gone.update(row.id for row in marked)
        result.deleted += [_entry(row, row.deletion_reason or "") for row in marked]
    for decision in decided.held:
        result.held.append({**_entry(decision.artifact, decision.reason), "hold_reason": decision.artifact.hold_reason})
    return gone, min(budget, len(decided.delete))


def _keep_held_out_of_expiry(objects: ObjectStore, held: list[Artifact]) -> None:
    """Retag held objects out of the store's own expiry again (a rewrite or a failed retag may have undone it)."""
    from schemas._errors import StorageError

    for row in held:
        if _in_db(row):
            continue
        try:
            objects.set_hold(row.key, held=True, kind=row.kind.value)
        except StorageError as exc:
            if exc.retryable:
                raise


def _listing(objects: ObjectStore, prefixes: tuple[str, ...]) -> dict[str, ListedObject]:
    listed: dict[str, ListedObject] = {}
    for prefix in prefixes:
        listed.update({o.key: o for o in objects.list_objects(prefix)})
    return listed


def _orphans(
    store: JobStore, objects: ObjectStore, observed: datetime, rules: CleanupRules, everything: list[Artifact],
    gone: set[str], jobs: dict[str, JobFacts], result: SweepResult, *, dry_run: bool, sweep_id: str,
) -> list[Artifact]:
    """Objects without a row (adopted when legacy, else deleted after the grace), rows without an object (lost),
    lost rows whose object is back (stored again). Return the rows adopted."""
    listed = _listing(objects, SWEPT_PREFIXES)
    live = {a.key: a for a in everything}
    grace = timedelta(hours=rules.orphan_grace_hours)
    adopted: list[Artifact] = []
    for key, obj in sorted(listed.items()):
        if key in live:
            continue
        row = _adopt(store, objects, obj, jobs, dry_run=dry_run)  # legacy keys are never being written: no grace
        if row is not None:
            result.adopted.append({"id": row.id, "kind": row.kind.value, "key": key})
            adopted.append(row)
            continue
        if observed - obj.modified_at < grace:
            continue
        result.orphan_objects.append({"key": key, "size": obj.size, "reason": "orphan: no catalog row"})
        if not dry_run:
            objects.delete(key)
            store.record_system_event(EventType.ORPHAN_DELETED, {"key": key, "size": obj.size}, stream=sweep_id)
    in_store = [a for a in everything if a.id not in gone and not _in_db(a)
                and any(a.key.startswith(p) for p in SWEPT_PREFIXES)]
    if in_store and not listed:  # an empty listing with rows to match is an outage (an unmounted root), not a loss
        log.warning("the object store listed nothing under %s: no row is marked lost this run", SWEPT_PREFIXES)
        return adopted
    for row in in_store:
        if row.status == ArtifactStatus.LOST and row.key in listed and not dry_run:
            store.restore_found(row.id)
        if row.status != ArtifactStatus.STORED or row.key in listed:
            continue
        result.orphan_rows.append({"id": row.id, "kind": row.kind.value, "key": row.key, "reason": "lost: no object"})
        if not dry_run:
            store.mark_lost(row.id)
    return adopted


def _adopt_legacy(
    store: JobStore, objects: ObjectStore, everything: list[Artifact], jobs: dict[str, JobFacts], result: SweepResult,
    kinds: frozenset[ArtifactKind], *, dry_run: bool,
) -> list[Artifact]:
    """Adopt legacy-layout objects of `kinds` (no orphan is deleted, no row marked lost: that is the full sweep's)."""
    known = {a.key for a in everything} | {a.key for a in store.catalog(kinds=sorted(kinds, key=str))}
    adopted = []
    for key, obj in sorted(_listing(objects, ("jobs/",)).items()):
        parsed = parse_job_key(key)
        inferred = infer_kind(parsed[2]) if parsed else None
        if key in known or inferred is None or inferred[0] not in kinds:
            continue
        row = _adopt(store, objects, obj, jobs, dry_run=dry_run)
        if row is not None:
            result.adopted.append({"id": row.id, "kind": row.kind.value, "key": key})
            adopted.append(row)
    return adopted


def _adopt(
    store: JobStore, objects: ObjectStore, obj: ListedObject, jobs: dict[str, JobFacts], *, dry_run: bool,
) -> Artifact | None:
    """Record the row of an object written before keys carried the project (legacy layout, known job)."""
    parsed = parse_job_key(obj.key)
    if parsed is None or parsed[0] is not None or parsed[1] not in jobs:
        return None
    inferred = infer_kind(parsed[2])
    if inferred is None:
        return None
    kind, step, locale = inferred
    job = jobs[parsed[1]]
    stored = objects.stat(obj.key)
    row = artifact_for(stored, project=job.project, job_id=job.id, kind=kind, artifact_id=str(uuid.uuid4()),
                       created_at=obj.modified_at, step=step, locale=locale,
                       pii_class=_PII.get(kind, StoredPii.NONE), lineage=["adopted:legacy-key"])
    return row if dry_run else store.add_artifact(row)
