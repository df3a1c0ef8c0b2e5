"""End to end in one process: a job with planted PII leaves zero planted values outside its vault.

JobRunner over SQLite and the filesystem object store, the real PII agent (offline Presidio,
sealed vault), stub LLMs, the event outbox, JSON logs and the span file. Every channel is scanned
with the egress guard's own matcher, so case and spacing variants count as leaks too.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.orchestrator.ports import CollectOutput, RedactOutput
from actors.orchestrator.runner import JobRunner, RunnerConfig, vault_key
from actors.pii import EgressGuard, Keyring, PiiAgent, Vault, get_analyzer, guard_registry
from cluster.logs import WITHHELD, JsonFormatter, log_event
from cluster.metrics import OtelTracer
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from cluster.tracing import setup_tracing, shutdown_tracing, span
from schemas import Evidence, JobState
from tests.fakes import FakeAgents

pytestmark = pytest.mark.integration

PLANTED_BRIEF = ["Sabine Fischer", "sabine.fischer@example.org", "+49 151 23456789"]
PLANTED_EVIDENCE = ["Henrik Vogel", "henrik.vogel@example.net", "DE89 3704 0044 0532 0130 00"]
PLANTED = PLANTED_BRIEF + PLANTED_EVIDENCE
KEY = Keyring([Keyring.generate()])


class PiiAgents(FakeAgents):
    """FakeAgents with the real PII agent and encrypted vaults, as the PII actor runs them."""

    def __init__(self, objects: FsObjectStore) -> None:
        evidence = [
            Evidence(id="ev-1", source="mcp://market-data/notice", text=(
                f"Dataset curated by {PLANTED_EVIDENCE[0]} ({PLANTED_EVIDENCE[1]}); "
                f"licence fees to {PLANTED_EVIDENCE[2]}. Oat drinks grew 12% in Germany."
            )),
            Evidence(id="ev-2", source="mcp://market-data/de", text="DE market is 1200 EUR m", data={"value_eur_m": 1200.0}),
        ]  # fmt: skip
        super().__init__(objects, evidence=evidence)
        self.pii = PiiAgent(analyzer=get_analyzer())

    def redact_brief(self, envelope, vault):  # type: ignore[no-untyped-def]
        """Pseudonymize the brief into the job's vault."""
        self._enter("redact_brief")
        v = Vault.decrypt(vault, KEY, envelope.job_id) if vault else Vault()
        brief = self.pii.redact_brief(envelope.payload, v)
        return RedactOutput(brief=brief, entities={}), v.encrypt(KEY, envelope.job_id)

    def redact_evidence(self, envelope, vault, allow):  # type: ignore[no-untyped-def]
        """Pseudonymize evidence with the job's vault."""
        self._enter("redact_evidence")
        v = Vault.decrypt(vault, KEY, envelope.job_id)
        items = self.pii.redact_evidence(envelope.payload, v, allow=allow)
        return CollectOutput(evidence=items), v.encrypt(KEY, envelope.job_id)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mka")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def _registry() -> Iterator[None]:
    guard_registry().reset()
    guard_registry().configure(keyring=KEY, retention_days=30)
    yield
    guard_registry().reset()


def test_planted_pii_stays_in_the_vault(tmp_path: Path, make_brief, logs: io.StringIO) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path)
    setup_tracing(settings)
    store = SqlJobStore.from_settings(settings)
    objects = FsObjectStore(settings.artifacts_dir)
    agents = PiiAgents(objects)
    runner = JobRunner(
        store=store, objects=objects, agents=agents, config=RunnerConfig(providers=["openai", "gemini", "xai"]),
        tracer=OtelTracer(),
    )
    brief = make_brief(
        audience=f"Coffee lovers like our tester {PLANTED_BRIEF[0]} ({PLANTED_BRIEF[1]}, {PLANTED_BRIEF[2]})",
        notes=f"Questions to {PLANTED_BRIEF[0].upper()}.",
    )
    with span("job", project=brief.project) as root:
        job = runner.run(store.submit(brief).id)
        root.set_attribute("mka.outcome", PLANTED_BRIEF[1])  # an attribute that would leak: dropped
    log_event(logging.getLogger("mka.test"), f"done for {PLANTED_BRIEF[0]}", job_id=job.id)  # withheld
    shutdown_tracing()
    assert job.state == JobState.COMPLETED, job.error

    vault = Vault.decrypt(objects.get(vault_key(job.project, job.id)), KEY, job.id)
    leak = EgressGuard([(value, "PLANTED") for value in PLANTED])
    assert all(leak.find(value) for value in PLANTED) and not leak.find("<PERSON_1> <EMAIL_ADDRESS_1>")
    assert {v.casefold() for v in PLANTED} <= {v.casefold() for v in vault.values()}

    job_dir = settings.artifacts_dir / "projects" / job.project / "jobs" / job.id
    stored = {p.name: p.read_bytes() for p in job_dir.rglob("*") if p.is_file() and p.name != "vault.bin"}
    channels = {
        "llm requests": [e.model_dump(mode="json") for e in agents.sent_to_llm],
        "events": [{"event": m.event.model_dump(mode="json"), "headers": m.headers} for m in store.events(job.id)],
        "spans": settings.spans_file.read_text(),
        "logs": logs.getvalue(),
        "checkpoints and report": {name: data.decode("utf-8", errors="replace") for name, data in stored.items()},
        "job error": job.error,
    }
    assert agents.sent_to_llm and any("<PERSON_" in json.dumps(e) for e in channels["llm requests"])
    assert "checkpoints and report" in channels and any("report" in name for name in stored)
    for name, payload in channels.items():
        assert leak.find(payload) is None, f"planted PII in {name}"
    assert WITHHELD in logs.getvalue()
    assert "retention-until" in objects.stat(vault_key(job.project, job.id)).metadata
