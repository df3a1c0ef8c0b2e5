"""The contract every SDK agent meets against its fake server; each provider's test module subclasses it.

Covers success (claims, usage, cost, structured-output request), 429 with retry-after (waited, and
classified when the wait would pass the deadline), 500, timeout (short client timeout), malformed
JSON (one repair, then bad_output), content filter, dead model id, bad key, unreachable endpoint,
the cost budget, model listing, and a recorded cassette replayed through the same SDK code.
"""

from __future__ import annotations

import abc
import asyncio
import socket
import time
from typing import Any

import pytest

from actors.llm import Price, ProviderConfig
from actors.llm._sdk import SdkLlmAgent
from actors.localization.text import check_translation
from schemas import ModelAnswer
from schemas.localization import Segment, TranslationRequest, TranslationResult
from tests.providers.cassettes import load_cassette
from tests.providers.golden import GOLDEN_EVIDENCE, envelope, golden_envelope
from tests.providers.scenario import Reply

__all__ = ["PRICE", "ProviderContract", "closed_port", "run_answer"]

PRICE = Price(input_per_1k=0.001, output_per_1k=0.004)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_answer(agent: SdkLlmAgent, **envelope_fields: Any) -> ModelAnswer:
    """Run one analysis on a fresh event loop and close the agent's client after it."""
    deadline_s = envelope_fields.pop("deadline_s", 10.0)

    async def go() -> ModelAnswer:
        try:
            return await agent.analyze(golden_envelope(agent.provider, deadline_s=deadline_s, **envelope_fields))
        finally:
            await agent.aclose()

    return asyncio.run(go())


def run_translation(agent: SdkLlmAgent, *, deadline_s: float = 10.0) -> TranslationResult:
    """Translate two segments (a placeholder, a number, a brand) to German on a fresh event loop."""
    request = TranslationRequest(
        job_id="job-golden", provider=agent.provider, source_language="en", target_locale="de_DE",
        target_language="German", formality="formal (Sie)", glossary=["Oatly"],
        segments=[Segment(id="s1", text="Oatly grows 6.4 % in DE.", protected=["Oatly", "6.4"]),
                  Segment(id="s2", text="Ask <PERSON_1> & the team.", protected=["<PERSON_1>"])],
    )

    async def go() -> TranslationResult:
        try:
            return await agent.translate(envelope(request, deadline_s=deadline_s, step="localize"))
        finally:
            await agent.aclose()

    return asyncio.run(go())


class ProviderContract(abc.ABC):
    """Shared tests; subclasses name the provider and know their fake's shape."""

    provider: str
    model: str
    cassette: str
    cassette_model: str
    cassette_tokens: int
    cassette_cost: float

    # --- what each provider's module supplies ---------------------------------------------------

    @abc.abstractmethod
    def start_fake(self) -> Any:
        """A started fake server with `self.model` known."""

    @abc.abstractmethod
    def base_url(self, fake: Any) -> str:
        """The agent's base URL for the fake."""

    @abc.abstractmethod
    def agent_class(self) -> type[SdkLlmAgent]:
        """The SDK agent under test."""

    @abc.abstractmethod
    def completion_calls(self, fake: Any) -> list[Any]:
        """The model calls the fake received, in order."""

    @abc.abstractmethod
    def call_text(self, call: Any) -> str:
        """Everything one recorded model call sent (messages, schema), as text."""

    def unreachable_url(self) -> str:
        """A base URL nothing answers at."""
        return f"http://127.0.0.1:{closed_port()}"

    # --- fixtures ---------------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    def fake(self) -> Any:
        """One fake server for the class; each test resets its script."""
        server = self.start_fake()
        run_answer(self.agent(server))  # warm up: the SDK's first import is not what the timings below measure
        yield server
        server.stop()

    @pytest.fixture(autouse=True)
    def _fresh(self, fake: Any) -> None:
        fake.script.reset()
        (fake.calls if hasattr(fake, "calls") else fake.requests).clear()

    def agent(self, fake: Any, **overrides: Any) -> SdkLlmAgent:
        """The agent pointed at the fake (a short client timeout, test prices)."""
        fields: dict[str, Any] = dict(provider=self.provider, model=self.model, api_key=fake.api_key,
                                      base_url=self.base_url(fake), timeout_s=2.0, price=PRICE, max_output_tokens=512)
        fields.update(overrides)
        return self.agent_class()(ProviderConfig(**fields))

    # --- the contract -----------------------------------------------------------------------------

    def test_success_parses_claims_and_records_usage_and_cost(self, fake: Any) -> None:
        answer = run_answer(self.agent(fake))
        assert answer.status == "ok", answer.error
        assert answer.provider == self.provider and answer.model == self.model
        assert [c.id for c in answer.claims] == [f"{self.provider}-c{i}" for i in (1, 2, 3)]
        assert [c.evidence_ids for c in answer.claims] == [[e.id] for e in GOLDEN_EVIDENCE]
        assert answer.claims[0].value == 1200.0
        assert [(c.question, c.market, c.kind) for c in answer.claims][0] == (0, "DE", "finding")
        assert answer.summary == "3 figures from the evidence answer the brief."
        assert answer.usage is not None and answer.usage.tokens > 0
        assert answer.usage.cost > 0
        [call] = self.completion_calls(fake)
        sent = self.call_text(call)
        assert '<evidence id="ev-de-market-size"' in sent and "evidence_ids" in sent  # prompt and schema went out
        assert '"question"' in sent and '"summary"' in sent  # the schema asks for the question, market, kind

    def test_rate_limit_waits_for_retry_after_then_succeeds(self, fake: Any) -> None:
        fake.script.queue(self.model, Reply("rate_limit", retry_after_s=0.5))
        answer = run_answer(self.agent(fake))
        assert answer.status == "ok", answer.error
        first, second = self.completion_calls(fake)
        assert second.at - first.at >= 0.45

    def test_rate_limit_past_the_deadline_is_reported_as_rate_limit(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("rate_limit", retry_after_s=30))
        start = time.monotonic()
        answer = run_answer(self.agent(fake), deadline_s=3)
        assert answer.status == "error" and answer.error and answer.error.startswith("rate_limit:"), answer.error
        assert time.monotonic() - start < 2  # it did not sleep into the deadline
        assert len(self.completion_calls(fake)) == 1

    def test_server_error_is_retried_once_then_reported(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("server_error"))
        answer = run_answer(self.agent(fake))
        assert answer.status == "error" and answer.error and answer.error.startswith("server_error:"), answer.error
        assert len(self.completion_calls(fake)) == 2

    def test_server_error_then_success_recovers(self, fake: Any) -> None:
        fake.script.queue(self.model, Reply("server_error"))
        assert run_answer(self.agent(fake)).status == "ok"

    def test_timeout_comes_from_the_client_timeout(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("hang"))
        start = time.monotonic()
        answer = run_answer(self.agent(fake, timeout_s=0.3))
        assert answer.status == "timeout" and answer.error and answer.error.startswith("timeout:"), answer.error
        assert time.monotonic() - start < 3
        assert len(self.completion_calls(fake)) == 2  # one retry after the first timeout

    def test_malformed_json_gets_one_repair_retry(self, fake: Any) -> None:
        fake.script.queue(self.model, Reply("malformed"))
        answer = run_answer(self.agent(fake))
        assert answer.status == "ok", answer.error
        first, repair = self.completion_calls(fake)
        assert "could not be used" in self.call_text(repair) and "Sure! Here is what I found" in self.call_text(repair)
        assert "could not be used" not in self.call_text(first)

    def test_malformed_twice_is_bad_output(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("malformed"))
        answer = run_answer(self.agent(fake))
        assert answer.status == "error" and answer.error and answer.error.startswith("bad_output:"), answer.error
        assert len(self.completion_calls(fake)) == 2
        assert answer.usage is not None and answer.usage.tokens > 0  # the failed calls still cost

    def test_schema_mismatch_is_bad_output_too(self, fake: Any) -> None:
        fake.script.always(self.model, Reply(text='{"claims": [{"text": "no id, no evidence"}]}'))
        answer = run_answer(self.agent(fake))
        assert answer.error and answer.error.startswith("bad_output:"), answer.error

    def test_translation_comes_back_by_segment_through_the_same_sdk_path(self, fake: Any) -> None:
        result = run_translation(self.agent(fake))
        assert result.status == "ok", result.error
        assert result.segments == {"s1": "[de] Oatly grows 6.4 % in DE.", "s2": "[de] Ask <PERSON_1> & the team."}
        assert result.usage is not None and result.usage.tokens > 0
        [call] = self.completion_calls(fake)
        sent = self.call_text(call)
        assert '<segment id="s2">Ask <PERSON_1> &amp; the team.</segment>' in sent  # quoted, placeholder intact
        assert "German" in sent and "formal (Sie)" in sent and "<glossary>Oatly</glossary>" in sent
        assert '"segments"' in sent and '"claims"' not in sent  # the translation schema, not the analysis one

    def test_a_failing_translation_is_an_error_result_after_one_retry(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("server_error"))
        result = run_translation(self.agent(fake))
        assert result.status == "error" and result.error and result.error.startswith("server_error"), result.error
        assert len(self.completion_calls(fake)) == 2 and not result.segments

    def test_an_unparseable_translation_is_bad_output(self, fake: Any) -> None:
        fake.script.always(self.model, Reply(text='{"segments": "all of them"}'))
        result = run_translation(self.agent(fake))
        assert result.status == "error" and result.error and result.error.startswith("bad_output"), result.error

    def test_a_recorded_translation_replays_and_the_check_catches_its_reformatted_figure(self, fake: Any) -> None:
        cassette = load_cassette(f"{self.cassette.rsplit('_', 1)[0]}_translation")
        fake.script.queue(self.cassette_model, *cassette.replies())
        result = run_translation(self.agent(fake, model=self.cassette_model))
        assert result.status == "ok", result.error
        assert result.usage is not None and result.usage.tokens > 0
        segments = {"s1": Segment(id="s1", text="Oatly grows 6.4 % in DE.", protected=["Oatly", "6.4"]),
                    "s2": Segment(id="s2", text="Ask <PERSON_1> & the team.", protected=["<PERSON_1>"])}
        assert check_translation(segments["s1"], result.segments["s1"]) == ["number: 6.4 was lost or altered"]
        assert check_translation(segments["s2"], result.segments["s2"]) == []

    def test_content_filter_is_final(self, fake: Any) -> None:
        fake.script.always(self.model, Reply("content_filter"))
        answer = run_answer(self.agent(fake))
        assert answer.status == "error" and answer.error and answer.error.startswith("content_filter:"), answer.error
        assert len(self.completion_calls(fake)) == 1

    def test_dead_model_id_is_model_not_found(self, fake: Any) -> None:
        answer = run_answer(self.agent(fake, model=f"{self.model}-retired"))
        assert answer.status == "error" and answer.error and answer.error.startswith("model_not_found:"), answer.error
        assert len(self.completion_calls(fake)) == 1

    def test_bad_key_is_auth(self, fake: Any) -> None:
        answer = run_answer(self.agent(fake, api_key="wrong-key-0000000000000000"))
        assert answer.status == "error" and answer.error and answer.error.startswith("auth:"), answer.error
        assert len(self.completion_calls(fake)) == 1
        assert "wrong-key" not in answer.error

    def test_unreachable_endpoint_is_server_error(self, fake: Any) -> None:
        answer = run_answer(self.agent(fake, base_url=self.unreachable_url(), timeout_s=1.0), deadline_s=5)
        assert answer.status == "error" and answer.error and answer.error.startswith("server_error:"), answer.error
        assert "unreachable" in answer.error

    def test_no_call_when_the_budget_cannot_cover_one(self, fake: Any) -> None:
        agent = self.agent(fake)
        estimate = agent.estimate_cost(golden_envelope(self.provider).payload)
        answer = run_answer(agent, cost_budget_usd=estimate / 2)
        assert answer.status == "error" and answer.error and answer.error.startswith("budget:"), answer.error
        assert self.completion_calls(fake) == []

    def test_budget_for_one_call_skips_the_repair(self, fake: Any) -> None:
        agent = self.agent(fake)
        estimate = agent.estimate_cost(golden_envelope(self.provider).payload)
        fake.script.always(self.model, Reply("malformed"))
        answer = run_answer(agent, cost_budget_usd=estimate * 1.05)  # room for one call, not two
        assert answer.error and answer.error.startswith("budget:"), answer.error
        assert len(self.completion_calls(fake)) == 1
        assert answer.usage is not None and answer.usage.cost <= estimate * 1.05

    def test_probe_lists_the_configured_model(self, fake: Any) -> None:
        agent = self.agent(fake)

        async def go() -> Any:
            try:
                return await agent.probe(timeout_s=5)
            finally:
                await agent.aclose()

        probe = asyncio.run(go())
        assert probe.reachable and probe.error is None and self.model in probe.models

    def test_recorded_cassette_replays_through_the_sdk(self, fake: Any) -> None:
        cassette = load_cassette(self.cassette)
        fake.script.queue(self.cassette_model, *cassette.replies())
        answer = run_answer(self.agent(fake, model=self.cassette_model, price=Price(0.00075, 0.0045)))
        assert answer.status == "ok", answer.error
        assert [c.id for c in answer.claims] == [f"{self.provider}-c1", f"{self.provider}-c2", f"{self.provider}-c3"]
        assert answer.claims[1].evidence_ids == ["ev-fr-market-size", "ev-de-market-size"]
        assert answer.claims[2].value == 7.5 and answer.claims[2].unit == "percent per year"
        assert [(c.question, c.market, c.kind) for c in answer.claims] == [
            (0, "DE", "finding"), (0, None, "insight"), (0, "DE", "finding")]
        assert answer.summary and answer.summary.startswith("Germany's plant-based milk market is the larger one")
        assert answer.usage is not None
        assert answer.usage.tokens == self.cassette_tokens
        assert answer.usage.cost == pytest.approx(self.cassette_cost)
        first, second = self.completion_calls(fake)  # the recorded 429 was honoured
        assert second.at - first.at >= 0.18
