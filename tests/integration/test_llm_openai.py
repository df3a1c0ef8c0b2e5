"""Contract of the OpenAI agent (official `openai` SDK) against a local OpenAI-compatible REST server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.llm import build_llm_agent
from actors.llm.openai_agent import OpenAiAgent
from actors.llm.prompt import CLAIMS_SCHEMA
from cluster.settings import Settings
from tests.providers.contract import ProviderContract, run_answer
from tests.providers.openai_server import FakeOpenAi

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class TestOpenAiContract(ProviderContract):
    provider = "openai"
    model = "gpt-test"
    cassette = "openai_chat_claims"
    cassette_model = "gpt-5.4-mini"
    cassette_tokens = 699
    cassette_cost = 512 * 0.00075 / 1000 + 187 * 0.0045 / 1000

    def start_fake(self) -> FakeOpenAi:
        return FakeOpenAi(models=[self.model]).start()

    def base_url(self, fake: Any) -> str:
        return fake.v1

    def agent_class(self) -> type[OpenAiAgent]:
        return OpenAiAgent

    def completion_calls(self, fake: Any) -> list[Any]:
        return fake.seen("/chat/completions")

    def call_text(self, call: Any) -> str:
        messages = "\n".join(str(m.get("content", "")) for m in call.body["messages"])
        return messages + "\n" + json.dumps(call.body.get("response_format"))

    def unreachable_url(self) -> str:
        return super().unreachable_url() + "/v1"

    def test_asks_for_strict_json_schema_and_caps_output(self, fake: Any) -> None:
        run_answer(self.agent(fake))
        [call] = self.completion_calls(fake)
        fmt = call.body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"] == CLAIMS_SCHEMA
        assert call.body["max_completion_tokens"] == 512
        assert [m["role"] for m in call.body["messages"]] == ["system", "user"]
        assert call.headers["authorization"] == "<key ok>"


def test_any_openai_compatible_endpoint_by_base_url_without_a_key() -> None:
    """Ollama or vLLM: no key needed, the base URL alone configures the provider."""
    with FakeOpenAi(api_key="", models=["llama3.1:8b"]) as local:
        settings = Settings(use_stubs=False, openai_api_key=None, openai_base_url=local.v1, openai_model="llama3.1:8b",
                            openai_price_input_per_1k=0, openai_price_output_per_1k=0)
        agent = build_llm_agent(settings, "openai")
        assert isinstance(agent, OpenAiAgent)
        answer = run_answer(agent)
        assert answer.status == "ok" and answer.model == "llama3.1:8b" and answer.claims
        assert answer.usage is not None and answer.usage.cost == 0


def test_a_recorded_exchange_replays_to_the_same_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Record through the proxy (here from a fake upstream), then replay the cassette through the SDK."""
    from tests.providers.cassettes import load_cassette
    from tests.providers.record import HttpRecorder
    from tests.providers.scenario import Reply

    contract = TestOpenAiContract()
    with FakeOpenAi(models=["gpt-test"]) as upstream:
        upstream.script.queue("gpt-test", Reply("rate_limit", retry_after_s=0.1))
        with HttpRecorder(upstream.base_url, provider="openai") as recorder:
            live = run_answer(contract.agent(upstream, base_url=recorder.base_url + "/v1"))
        path = recorder.cassette.save(tmp_path / "recorded.json")
    assert upstream.api_key not in path.read_text()
    cassette = load_cassette(path)
    assert [i["response"]["status"] for i in cassette.interactions] == [429, 200]
    with FakeOpenAi(models=[]) as replay:  # knows no model: only the cassette can answer
        replay.script.queue("gpt-test", *cassette.replies())
        replayed = run_answer(contract.agent(replay))
    assert live.status == replayed.status == "ok"
    assert replayed.claims == live.claims and replayed.usage == live.usage
