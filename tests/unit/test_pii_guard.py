"""The egress guard: near-variants match, and each channel (LLM, Figma, events, logs, spans) fails closed."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from actors.orchestrator.runner import JobRunner, RunnerConfig, vault_key
from actors.pii import EgressBlocked, EgressGuard, Keyring, Vault, guard_registry
from cluster.logs import WITHHELD, JsonFormatter
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from cluster.tracing import SanitizingExporter
from schemas import Brief, JobState, StepOutcome
from tests.fakes import FakeAgents

pytestmark = pytest.mark.unit

KEY = Keyring([Keyring.generate()])


def planted_vault() -> Vault:
    vault = Vault()
    vault.placeholder_for("Sabine Fischer", "PERSON")
    vault.placeholder_for("sabine.fischer@example.org", "EMAIL_ADDRESS")
    vault.placeholder_for("+49 151 23456789", "PHONE_NUMBER")
    return vault


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    guard_registry().reset()
    yield
    guard_registry().reset()


@pytest.fixture
def job_id() -> str:
    job = f"job-{uuid.uuid4().hex[:8]}"
    guard_registry().register(job, EgressGuard.from_vault(planted_vault()))
    return job


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ("Ask SABINE  FISCHER today", "PERSON"),
        ("ask sabine-fischer", "PERSON"),
        ("Sabine\nFischer", "PERSON"),
        ("SabineFischer", "PERSON"),
        ("mail Sabine.Fischer@Example.org", "EMAIL_ADDRESS"),
        ("+491512345 6789", "PHONE_NUMBER"),
        ("0049-151-234-567-89", "PHONE_NUMBER"),
        (b"bytes: sabine fischer", "PERSON"),
        ({"nested": [{"k": "x"}, {"Sabine Fischer": 1}]}, "PERSON"),
        ("Ask <PERSON_1> at <EMAIL_ADDRESS_1>", None),
        ("Sabinee Fischerman and sabine alone", None),
        ({"count": 3, "ok": True, "none": None}, None),
    ],
)
def test_vault_values_match_in_any_case_and_spacing(payload: object, found: str | None) -> None:
    assert EgressGuard.from_vault(planted_vault()).find(payload) == found


def test_a_block_names_channel_and_type_never_the_value() -> None:
    with pytest.raises(EgressBlocked) as info:
        EgressGuard.from_vault(planted_vault()).check("llm:openai", {"prompt": "Write to sabine.fischer@example.org"})
    assert info.value.retryable is False and info.value.code == "pii_egress_blocked"
    assert "llm:openai" in info.value.message and "EMAIL_ADDRESS" in info.value.message
    assert "sabine" not in info.value.message.lower()


def test_short_values_are_not_checked() -> None:
    assert EgressGuard([("Al", "PERSON")]).find("Al and AL and al") is None


def test_figma_channel_with_a_stand_in_payload(job_id: str) -> None:
    """Figma does not exist yet: its requests go through the same generic check."""
    frame = {"name": "Report cover", "children": [{"type": "TEXT", "characters": "Prepared for <PERSON_1>"}]}
    guard_registry().check(job_id, "figma", frame)
    frame["children"].append({"type": "TEXT", "characters": "Contact: Sabine Fischer"})
    with pytest.raises(EgressBlocked, match="figma"):
        guard_registry().check(job_id, "figma", frame)


def test_registry_opens_vault_blobs_only_when_configured() -> None:
    blob = planted_vault().encrypt(KEY, "j-1")
    assert guard_registry().register_vault("j-1", blob) is None  # no keyring: nothing to open
    guard_registry().configure(keyring=KEY, retention_days=30)
    assert guard_registry().register_vault("j-1", blob) is not None
    assert guard_registry().find_any("SABINE FISCHER") == "PERSON"
    guard_registry().unregister("j-1")
    assert guard_registry().find_any("SABINE FISCHER") is None


# --- events --------------------------------------------------------------------------------------


def test_an_event_with_a_vault_value_fails_the_job_instead(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    """The blocked move rolls back and the job fails at once; its failure event carries no value.

    The store-level cases (step records, resume, PostgreSQL) are in tests/integration/test_pii_egress_block.py.
    """
    store = SqlJobStore.from_settings(Settings(home=tmp_path))
    job = store.submit(make_brief())
    guard_registry().register(job.id, EgressGuard([(job.project, "PERSON")]))  # the project name is in every event
    with pytest.raises(EgressBlocked, match="event") as info:
        store.transition(job.id, JobState.VALIDATING, expected_version=job.version)
    assert info.value.channel == "event" and info.value.retryable is False
    failed = store.get(job.id)
    assert failed.state == JobState.FAILED and failed.error is not None
    assert failed.error["code"] == "pii_egress_blocked" and failed.error["channel"] == "event"
    assert failed.error["resumable"] is False
    last = store.events(job.id)[-1]
    assert last.event.payload["to_state"] == "failed" and job.project not in last.model_dump_json()


# --- logs ----------------------------------------------------------------------------------------


def _log_line(msg: str, **fields: object) -> dict[str, object]:
    record = logging.LogRecord("mka.test", logging.INFO, __file__, 1, msg, None, None)
    record.fields = fields  # type: ignore[attr-defined]
    return json.loads(JsonFormatter().format(record))


def test_a_log_line_with_a_vault_value_is_withheld(job_id: str) -> None:
    assert _log_line("step done", job_id=job_id, step="redact")["msg"] == "step done"
    line = _log_line("could not reach sabine.fischer@example.org", job_id=job_id)
    assert line["msg"] == WITHHELD and "job_id" not in line
    assert "sabine" not in json.dumps(line).lower()
    assert _log_line("state", state="SABINE FISCHER")["msg"] == WITHHELD  # allow-listed fields too


def test_logging_through_a_handler_never_prints_the_value(job_id: str) -> None:
    stream = io.StringIO()
    logger = logging.getLogger(f"mka.guard-test-{job_id}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("Sabine Fischer called")
    assert WITHHELD in stream.getvalue() and "Fischer" not in stream.getvalue()


# --- spans ---------------------------------------------------------------------------------------


def test_a_span_attribute_with_a_vault_value_is_dropped(job_id: str) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "mka-test"}))
    provider.add_span_processor(SimpleSpanProcessor(SanitizingExporter(memory)))
    with provider.get_tracer("t").start_as_current_span("step.redact") as s:
        s.set_attribute("mka.job_id", job_id)
        s.set_attribute("mka.provider", "sabine.fischer@example.org")  # identifier-shaped, but a vault value
        s.set_attribute("mka.outcome", "Sabine_Fischer")
        s.set_attribute("mka.count", 3)
    [exported] = memory.get_finished_spans()
    assert dict(exported.attributes or {}) == {"mka.job_id": job_id, "mka.count": 3}


# --- LLM requests --------------------------------------------------------------------------------


class LeakyAgents(FakeAgents):
    """Real (sealed) vaults, and a redactor that misses the planted name in the notes."""

    def redact_brief(self, envelope, vault):  # type: ignore[no-untyped-def]
        """Keep the brief as it is (the leak); put the planted values in the vault."""
        self._enter("redact_brief")
        from actors.orchestrator.ports import RedactOutput

        return RedactOutput(brief=envelope.payload, entities={}), planted_vault().encrypt(KEY, envelope.job_id)

    def redact_evidence(self, envelope, vault, allow):  # type: ignore[no-untyped-def]
        """Pass evidence through; the vault stays as it was."""
        self._enter("redact_evidence")
        from actors.orchestrator.ports import CollectOutput

        return CollectOutput(evidence=list(envelope.payload)), vault


def test_an_llm_request_with_a_vault_value_fails_the_step_without_retry(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    guard_registry().configure(keyring=KEY, retention_days=30)
    store = SqlJobStore.from_settings(Settings(home=tmp_path))
    objects = FsObjectStore(tmp_path / "objects")
    agents = LeakyAgents(objects)
    runner = JobRunner(store=store, objects=objects, agents=agents, config=RunnerConfig(providers=["openai", "gemini", "xai"]))
    brief: Brief = make_brief(notes="Call Sabine Fischer about the launch.")
    job = runner.run(store.submit(brief).id)
    assert job.state == JobState.FAILED
    assert job.error is not None and job.error["code"] == "pii_egress_blocked"
    assert "llm:" in job.error["message"] and "Fischer" not in json.dumps(job.error)
    assert agents.calls["analyze"] == 0 and agents.sent_to_llm == []
    analyze = [(s.attempt, s.outcome) for s in store.steps(job.id) if s.step == "analyze"]
    assert analyze == [(1, StepOutcome.FAILED)]  # not retried
    assert "retention-until" in objects.stat(vault_key(job.project, job.id)).metadata


def test_the_guard_loads_without_spacy_or_presidio() -> None:
    """Logging, tracing and the event store import the guard: it must stay light."""
    import subprocess
    import sys

    code = "import sys, cluster.logs, cluster.tracing, actors.pii.guard; print(sorted(m for m in ('spacy', 'presidio_analyzer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
