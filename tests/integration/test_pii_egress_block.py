"""A guard block fails the job, never strands it: events on SQLite and PostgreSQL, and an LLM request end to end.

Store level: an event that carries a vault value (a project named "berlin-launch-…" once "Berlin"
is in the vault) is not written; the job goes to `failed` (reason `pii_egress_blocked`, channel
`event`) with scrubbed events, its running step attempts are closed, and resume is refused.

End to end: the in-process pipeline (JobRunner + LocalAgents: real PII agent, the bundled MCP
market-data server with a dataset whose brand echoes the brief's contact as "Keller, M.", stub
LLMs) fails at the LLM request with channel `llm:openai`, and no event, step record or log line
carries the name.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from actors.job_store import BLOCKED_PROJECT
from actors.orchestrator.ports import RedactOutput
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key
from actors.pii import EgressBlocked, EgressGuard, Keyring, Vault, guard_registry
from cluster.logs import JsonFormatter
from cluster.objects import FsObjectStore
from schemas import IllegalTransition, JobState, StepOutcome, StepRecord, parse_brief
from tests.fakes import FakeAgents

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KEYRING = Keyring([Keyring.generate()])


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    guard_registry().reset()
    yield
    guard_registry().reset()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request):  # type: ignore[no-untyped-def]
    """The store on each backend."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


def _project() -> str:
    return f"berlin-launch-{uuid.uuid4().hex[:8]}"


def _leaks(store, job_id: str, value: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Stored events (with subjects and headers) and step records of the job that carry `value`."""
    found = [m.model_dump_json() for m in store.events(job_id) if value.lower() in m.model_dump_json().lower()]
    found += [s.model_dump_json() for s in store.steps(job_id) if value.lower() in s.model_dump_json().lower()]
    return found


# --- store level ---------------------------------------------------------------------------------


def test_a_blocked_step_event_fails_the_job_and_closes_the_step(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief(project=_project()))
    job = store.transition(job.id, JobState.VALIDATING, expected_version=job.version)
    job = store.transition(job.id, JobState.REDACTING, expected_version=job.version)
    started = StepRecord(job_id=job.id, step="redact", attempt=1, outcome=StepOutcome.RUNNING, started_at=job.updated_at)
    store.record_step(started)
    seen = len(store.events(job.id))
    guard_registry().register(job.id, EgressGuard([("Berlin", "LOCATION")]))  # the redact step found "Berlin"

    done = started.model_copy(update={"outcome": StepOutcome.SUCCEEDED, "finished_at": job.updated_at})
    with pytest.raises(EgressBlocked) as info:
        store.record_step(done)
    assert info.value.channel == "event" and info.value.retryable is False

    failed = store.get(job.id)
    assert failed.state == JobState.FAILED
    assert failed.error is not None and failed.error["code"] == "pii_egress_blocked"
    assert (failed.error["channel"], failed.error["state"], failed.error["step"]) == ("event", "redacting", "redact")
    assert failed.error["resumable"] is False
    [step] = store.steps(job.id)
    assert step.outcome == StepOutcome.FAILED and step.error is not None and step.error["code"] == "pii_egress_blocked"

    after = store.events(job.id)[seen:]
    assert [(m.event.type, m.event.payload.get("to_state")) for m in after] == [
        ("step.recorded", None),
        ("job.state_changed", "failed"),
    ]
    assert after[-1].event.payload["reason"] == "pii_egress_blocked"
    for message in after:
        assert message.event.project == BLOCKED_PROJECT
        assert message.subject.startswith(f"mka.events.{BLOCKED_PROJECT}.{job.id}.")
        assert "berlin" not in message.model_dump_json().lower()


def test_a_blocked_failure_event_still_fails_the_job(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    """A failure being written when the guard blocks its event: the job fails for the block, naming the cause."""
    job = store.submit(make_brief(project=_project()))
    guard_registry().register(job.id, EgressGuard([("Berlin", "LOCATION")]))
    with pytest.raises(EgressBlocked):
        store.transition(job.id, JobState.FAILED, expected_version=job.version, reason="below_quorum", error={"code": "below_quorum"})
    failed = store.get(job.id)
    assert failed.state == JobState.FAILED and failed.error is not None
    assert (failed.error["code"], failed.error["channel"], failed.error["cause"]) == ("pii_egress_blocked", "event", "below_quorum")
    last = store.events(job.id)[-1]
    assert last.event.payload["to_state"] == "failed" and "berlin" not in last.model_dump_json().lower()


def test_a_blocked_artifact_event_fails_the_job(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    from schemas import Artifact

    job = store.submit(make_brief())
    guard_registry().register(job.id, EgressGuard([("Maria Keller", "PERSON")]))
    artifact = Artifact(
        id=f"report by Maria Keller {uuid.uuid4().hex[:8]}", job_id=job.id, project=job.project, kind="pdf",
        key=f"projects/{job.project}/jobs/{job.id}/r.pdf", uri="file:///r.pdf",
        content_type="application/pdf", size=1, sha256="0" * 64, created_at=datetime.now(timezone.utc),
    )
    with pytest.raises(EgressBlocked):
        store.add_artifact(artifact)
    assert store.get(job.id).state == JobState.FAILED
    assert store.artifacts(job.id) == []  # the blocked write rolled back
    assert _leaks(store, job.id, "Keller") == []


# --- through the runner --------------------------------------------------------------------------


class BerlinAgents(FakeAgents):
    """FakeAgents whose redactor finds "Berlin" in the brief and puts it in a real (sealed) vault."""

    def redact_brief(self, envelope, vault):  # type: ignore[no-untyped-def]
        """Pseudonymize "Berlin" in the notes."""
        self._enter("redact_brief")
        v = Vault()
        brief = envelope.payload.model_copy(update={"notes": envelope.payload.notes.replace("Berlin", v.placeholder_for("Berlin", "LOCATION"))})
        return RedactOutput(brief=brief, entities={"LOCATION": 1}), v.encrypt(KEYRING, envelope.job_id)

    def redact_evidence(self, envelope, vault, allow):  # type: ignore[no-untyped-def]
        """Keep evidence and vault."""
        self._enter("redact_evidence")
        from actors.orchestrator.ports import CollectOutput

        return CollectOutput(evidence=list(envelope.payload)), vault


def test_a_project_named_after_a_vault_value_fails_the_job_and_resume_is_refused(store, make_brief, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    guard_registry().configure(keyring=KEYRING, retention_days=30)
    objects = FsObjectStore(tmp_path / "objects")
    agents = BerlinAgents(objects)
    runner = JobRunner(store=store, objects=objects, agents=agents, config=RunnerConfig(providers=["openai", "gemini", "xai"], retry_base_delay_s=0.01))
    job = store.submit(make_brief(project=_project(), notes="Launch party in Berlin."))

    final = runner.run(job.id)  # returns: no exception, no job left running
    assert final.state == JobState.FAILED and final.error is not None
    assert (final.error["code"], final.error["channel"], final.error["step"]) == ("pii_egress_blocked", "event", "redact")
    assert agents.calls["collect"] == 0
    assert all(s.outcome != StepOutcome.RUNNING for s in store.steps(job.id))

    with pytest.raises(IllegalTransition, match="only jobs failed by infrastructure"):
        runner.resume(job.id)
    assert runner.run(job.id) == store.get(job.id)  # a restarted orchestrator finds it terminal
    states = [m.event.payload.get("to_state") for m in store.events(job.id)]
    assert states[-1] == "failed"  # the event stream (SSE) ends


# --- end to end: an LLM request --------------------------------------------------------------------


def _echoing_dataset(directory: Path) -> Path:
    """The bundled dataset with a brand named like the brief's contact ("Keller, M."): it becomes evidence."""
    data = json.loads(resources.files("actors.mcp").joinpath("data/market_sample.json").read_text(encoding="utf-8"))
    data["markets"]["DE"]["dairy alternatives"]["competitors"][1]["name"] = "Keller, M."
    path = directory / "market.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.timeout(300)
def test_an_echoed_name_variant_in_evidence_blocks_the_llm_request(sqlite_store, tmp_path: Path, logs: io.StringIO) -> None:  # type: ignore[no-untyped-def]
    from actors.llm import StubLlmAgent
    from cluster.bootstrap import build_local_agents
    from cluster.settings import Settings

    store = sqlite_store
    guard_registry().configure(keyring=KEYRING, retention_days=30)
    objects = FsObjectStore(tmp_path / "objects")
    providers = ["openai", "gemini", "xai"]
    servers = {
        "market-data": {
            "command": sys.executable,
            "args": ["-m", "actors.mcp.market_data_server"],
            "env": {"MKA_MARKET_DATA_FILE": str(_echoing_dataset(tmp_path))},
        }
    }
    agents = build_local_agents(Settings(home=tmp_path, mcp_servers=servers, report_pdf=False), objects, keyring=KEYRING,
                                llms={p: StubLlmAgent(p) for p in providers})
    try:
        runner = JobRunner(store=store, objects=objects, agents=agents, config=RunnerConfig(providers=providers))
        raw = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())  # "Contact ... Maria Keller (maria.keller@...)"
        job = store.submit(parse_brief({**raw, "project": f"guard-{uuid.uuid4().hex[:8]}"}))
        final = runner.run(job.id)
    finally:
        agents.close()

    # The premise: the detector let the variant through into the evidence (a brand name), the guard did not.
    evidence = objects.get(checkpoint_key(job.project, job.id, "collect")).decode()
    assert "Keller, M." in evidence, "the PII agent now pseudonymizes the echoed variant: pick another one"

    assert final.state == JobState.FAILED and final.error is not None
    assert (final.error["code"], final.error["channel"], final.error["step"]) == ("pii_egress_blocked", "llm:openai", "analyze")
    assert final.error["resumable"] is False
    analyze = [(s.attempt, s.outcome) for s in store.steps(job.id) if s.step == "analyze"]
    assert analyze == [(1, StepOutcome.FAILED)]  # not retried, and no provider was asked
    assert not objects.exists(checkpoint_key(job.project, job.id, "analyze"))
    for value in ("Keller", "maria.keller"):
        assert _leaks(store, job.id, value) == []
        assert value.lower() not in logs.getvalue().lower()
        assert value.lower() not in json.dumps(final.error).lower()
