"""Portal test helpers: a project-aware fake backend, an identity store with one key per role, signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from actors.documents.convert import Limits, check_document
from actors.documents.store import DocumentInfo
from actors.job_store import OutboxMessage, signed_event
from cluster.signing import KeySet, SigningKey
from schemas import (
    Artifact,
    ArtifactNotFound,
    Brief,
    Event,
    Evidence,
    JobNotFound,
    JobRecord,
    JobState,
    StepRecord,
    StorageError,
)
from schemas.figma import FigmaExport, FillPlan, Replacement, TemplateInfo
from schemas.pipeline import ProvidersScript
from schemas.summary import ArtifactLink, JobSummary
from serve_app import PortalBackend, create_app
from serve_app.auth import Authenticator, create_key, create_project
from serve_app.config import PortalConfig
from serve_app.http import HttpPolicy

__all__ = ["NOW", "FakeBackend", "Keys", "make_identity", "portal", "run_together", "signed_in"]

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SIGNING_KEY = SigningKey.generate()
PLACEHOLDER_MERGE = {  # a MergeResult as the merge step writes it
    "claims": [{"text": "<PERSON_1> leads oat milk in DE", "providers": ["openai", "gemini"],
                "member_claim_ids": ["openai-c1", "gemini-c1"], "agreement": "majority", "grounding": "supported",
                "hallucination": False}],
    "disagreements": [{"topic": "growth, DE, 2025", "positions": {"openai": "grows 6 %", "xai": "shrinks 2 %"},
                       "claim_ids": ["openai-c2", "xai-c1"]}],
    "degraded": False, "quorum": {"required": 2, "received": 3, "missing": []},
}


class FakeBackend(PortalBackend):
    """Records submits; serves scripted jobs, each in the project it was submitted to."""

    def __init__(self) -> None:
        self.submits: list[tuple[Brief, str | None, ProvidersScript | None]] = []
        self.jobs: dict[str, JobRecord] = {}
        self.uploads: list[tuple[str, str, bytes]] = []
        self.holds: list[tuple[str, str | None]] = []
        self.states = ["validating", "completed"]
        self.unsigned_last = False

    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        self.submits.append((brief, idempotency_key, script))
        job_id = f"job-{idempotency_key or len(self.submits)}"
        self.jobs[job_id] = JobRecord(id=job_id, project=brief.project, state=JobState.COMPLETED, version=8,
                                      brief=brief, created_at=NOW, updated_at=NOW)
        return job_id

    def _get(self, job_id: str, project: str) -> JobRecord:
        job = self.jobs.get(job_id)
        if job is None or job.project != project:
            raise JobNotFound(f"no job {job_id}")
        return job

    def job(self, job_id: str, *, project: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        job = self._get(job_id, project)
        summary = JobSummary(job_id=job_id, state=job.state.value, degraded=False, artifacts=[
            ArtifactLink(id="a1", kind="pdf", uri="file:///srv/mka/objects/x.pdf", sha256="0" * 64,
                         path="/srv/mka/objects/x.pdf"),
            ArtifactLink(id="a2", kind="pdf", uri="file:///srv/mka/objects/de_DE/x.pdf", sha256="1" * 64,
                         locale="de_DE"),
        ])
        return job, [], summary

    def list_jobs(self, *, project: str, states: list[JobState] | None, limit: int,
                  before: tuple[datetime, str] | None) -> list[JobRecord]:
        jobs = [j for j in self.jobs.values() if j.project == project and (not states or j.state in states)
                and (before is None or (j.created_at, j.id) < before)]
        return sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)[:limit]

    def localizations(self, job_id: str, *, project: str) -> list[dict[str, Any]]:
        self._get(job_id, project)
        return [{"locale": "de_DE", "language": "de", "rtl": False, "status": "translated", "reason": "",
                 "translated_by": "openai", "artifacts": [self.artifact_meta("a1", project=project).model_copy(
                     update={"locale": "de_DE"})]}]

    def templates(self, *, project: str) -> list[TemplateInfo]:
        return [TemplateInfo(template_id="deck", version=2, name="Deck", project=project, fields=["#title"],
                             source="upload", sha256="0" * 64, created_at=NOW)]

    def documents(self, *, project: str) -> list[Artifact]:
        return [Artifact(id="doc-0123456789abcdef", job_id=None, project=project, kind="document",
                         key=f"projects/{project}/documents/doc-0123456789abcdef", uri="file:///d",
                         content_type="application/octet-stream", size=len(data), sha256="0" * 64, created_at=NOW)
                for p, _, data in self.uploads[:1] if p == project]

    def events(self, job_id: str, *, project: str) -> list[OutboxMessage]:
        """The scripted states as events, signed with the backend's key (the last one unsigned when `unsigned_last`)."""
        job = self._get(job_id, project)
        out = []
        for i, s in enumerate(self.states):
            event = Event(id=f"e{i}", type="job.state_changed", job_id=job_id, project=job.project, occurred_at=NOW,
                          payload={"to_state": s})
            last = i == len(self.states) - 1
            signer = None if last and self.unsigned_last else SIGNING_KEY.sign
            event, _, headers = signed_event(event, {}, sequence=i + 1, signer=signer)
            out.append(OutboxMessage(seq=i + 1, subject=event.subject, headers=headers, event=event))
        return out

    def signing_keys(self) -> KeySet:
        return KeySet([SIGNING_KEY.public])

    def artifact(self, artifact_id: str, *, project: str) -> tuple[Artifact, bytes]:
        return self.artifact_meta(artifact_id, project=project), b"%PDF"

    def artifact_meta(self, artifact_id: str, *, project: str) -> Artifact:
        owner = next((j.project for j in self.jobs.values()), "default")
        if artifact_id != "a1" or project != owner:
            raise ArtifactNotFound("no artifact")
        return Artifact(id="a1", job_id="j", project=owner, kind="pdf", key=f"projects/{owner}/jobs/j/report.pdf",
                        uri="file:///x.pdf", content_type="application/pdf", size=4, sha256="0" * 64, created_at=NOW)

    def job_artifacts(self, job_id: str, *, project: str) -> list[Artifact]:
        self._get(job_id, project)
        return [self.artifact_meta("a1", project=project)]

    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        doc_type = check_document(name, data, Limits(max_bytes=self.max_document_bytes()))
        self.uploads.append((project, name, data))
        return DocumentInfo(document_id="doc-0123456789abcdef", project=project, type=doc_type, size=len(data),
                            sha256="0" * 64, created_at=NOW)

    def max_document_bytes(self) -> int:
        return 200_000

    def evidence(self, job_id: str, *, project: str) -> list[Evidence]:
        self._get(job_id, project)
        return [Evidence(id="doc-0123456789abcdef-t1r1", source="doc://doc-0123456789abcdef#t1r1", text="DE 52%",
                         data={"oat_share_pct": 52.0}, source_type="document", retrieved_at=NOW),
                Evidence(id="web-1", source="https://example.org/oat", text="Oat drinks grow.")]  # no figures

    def merge(self, job_id: str, *, project: str, reveal: bool) -> dict[str, Any]:
        self._get(job_id, project)
        text = PLACEHOLDER_MERGE["claims"][0]["text"]
        claim = PLACEHOLDER_MERGE["claims"][0]
        return {**PLACEHOLDER_MERGE, "claims": [{**claim, "text": text.replace("<PERSON_1>", "Anna Schmidt") if reveal
                                                 else text}]}

    def figma_export(self, job_id: str, template: str, locale: str | None, *, project: str) -> FigmaExport:
        self._get(job_id, project)
        if template != "deck":
            raise ArtifactNotFound(f"no template {template} in project {project}")
        plan = FillPlan(template_id="deck", version=2, job_id=job_id, locale=locale or "en_US", replacements=[
            Replacement(node_id="1:2", node_name="#title", field="title", kind="text", value="Oat launch")])
        return FigmaExport(locale=plan.locale, plan=plan, preview="<svg><text>Oat launch</text></svg>")

    def cancel(self, job_id: str, *, project: str) -> str:
        self._get(job_id, project)
        raise StorageError("storage down")

    def resume(self, job_id: str, *, project: str) -> None:
        from schemas import IllegalTransition

        self._get(job_id, project)
        raise IllegalTransition(f"job {job_id} is completed; only jobs failed by infrastructure resume")

    def hold(self, artifact_id: str, reason: str, *, project: str) -> Artifact:
        art = self.artifact_meta(artifact_id, project=project)
        self.holds.append((artifact_id, reason))
        return art.model_copy(update={"legal_hold": True, "hold_reason": reason})

    def release(self, artifact_id: str, *, project: str) -> Artifact:
        art = self.artifact_meta(artifact_id, project=project)
        self.holds.append((artifact_id, None))
        return art

    def ready(self) -> dict[str, str]:
        return {"database": "ok", "objects": "ok"}


@dataclass
class Keys:
    """One API key per role in project `acme`, one in `other`, and special ones (admin of everything, expired,
    revoked, pii reader)."""

    identity: Any
    viewer: str
    analyst: str
    admin: str
    pii: str
    root: str
    other: str
    expired: str
    revoked: str


def make_identity(home: Path) -> Keys:
    """An identity store on a SQLite file under `home`, with projects `acme` and `other` and a key per role."""
    from cluster.db import make_engine
    from cluster.identity_store import SqlIdentityStore
    from cluster.migrate import upgrade
    from serve_app.auth import revoke_key

    engine = make_engine(f"sqlite:///{home / 'identity.db'}")
    upgrade(engine)
    identity = SqlIdentityStore(engine)
    for name in ("acme", "other"):
        create_project(identity, name, actor="test")

    def key(project: str, role: str, **extra: Any) -> str:
        return create_key(identity, project=project, role=role, actor="test", **extra)[1]

    expired_record, expired = create_key(identity, project="acme", role="admin", actor="test",
                                         expires_in=timedelta(hours=1),
                                         clock=_At(datetime.now(timezone.utc) - timedelta(hours=2)))
    revoked_record, revoked = create_key(identity, project="acme", role="admin", actor="test")
    revoke_key(identity, revoked_record.key_id, actor="test")
    return Keys(identity=identity, viewer=key("acme", "viewer"), analyst=key("acme", "analyst"),
                admin=key("acme", "admin"), pii=key("acme", "viewer", pii_reader=True),
                root=key("default", "admin", deployment_admin=True), other=key("other", "admin"),
                expired=expired, revoked=revoked)


def run_together(count: int, call: Any) -> list[str]:
    """Start `count` threads at once on `call()`; each result, or the name of the exception it raised."""
    import threading

    start, outcomes = threading.Barrier(count), []

    def attempt() -> None:
        start.wait()
        try:
            outcomes.append(call())
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _test_config() -> PortalConfig:
    """Test clients say Host: testserver; provider scripts allowed, no failure budget unless a test sets one."""
    return PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), allow_scripts=True, auth_failures_per_minute=0)


class _At:
    def __init__(self, when: datetime) -> None:
        self.when = when

    def now(self) -> datetime:
        return self.when


def portal(keys: Keys, backend: PortalBackend | None = None, *, key: str | None = None,
           config: PortalConfig | None = None, auth: Authenticator | None = None) -> TestClient:
    """A client of an app over `backend` with `keys`' identity, sending `key` (none: anonymous)."""
    config = config or _test_config()
    app = create_app(backend or FakeBackend(), auth=auth or Authenticator(keys.identity), config=config)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return TestClient(app, headers=headers)


def signed_in(backend: PortalBackend, *, project: str, engine: Any = None, home: Path | None = None,
              role: str = "analyst", config: PortalConfig | None = None) -> TestClient:
    """A client of an app over a real backend, with a fresh `role` key of `project` (identity in `engine`'s
    database, or a SQLite file under `home`)."""
    from cluster.db import make_engine
    from cluster.identity_store import SqlIdentityStore
    from cluster.migrate import upgrade

    if engine is None:
        assert home is not None
        home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{home / 'identity.db'}")
        upgrade(engine)
    identity = SqlIdentityStore(engine)
    if identity.get_project(project) is None:
        create_project(identity, project, actor="test")
    api_key = create_key(identity, project=project, role=role, actor="test")[1]
    app = create_app(backend, auth=Authenticator(identity), config=config or _test_config())
    return TestClient(app, headers={"Authorization": f"Bearer {api_key}"})
