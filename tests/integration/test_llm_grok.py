"""Contract of the Grok agent (official `xai-sdk`, gRPC) against a local server of the SDK's own protos."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from actors.llm.grok_agent import GrokAgent, grpc_target
from actors.llm.prompt import CLAIMS_SCHEMA
from tests.providers.contract import ProviderContract, run_answer
from tests.providers.grok_server import FakeGrok

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class TestGrokContract(ProviderContract):
    provider = "xai"
    model = "grok-test"
    cassette = "xai_chat_claims"
    cassette_model = "grok-4.20-non-reasoning"
    cassette_tokens = 521 + 176
    cassette_cost = 21_120_000 * 1e-10  # the server's own figure (cost_in_usd_ticks) wins over our price list

    def start_fake(self) -> FakeGrok:
        return FakeGrok(models=[self.model]).start()

    def base_url(self, fake: Any) -> str:
        return fake.base_url

    def agent_class(self) -> type[GrokAgent]:
        return GrokAgent

    def completion_calls(self, fake: Any) -> list[Any]:
        return fake.seen("GetCompletion")

    def call_text(self, call: Any) -> str:
        messages = "\n".join(c.text for m in call.request.messages for c in m.content)
        return messages + "\n" + call.request.response_format.schema

    def test_asks_for_the_json_schema_over_grpc(self, fake: Any) -> None:
        from xai_sdk.proto import chat_pb2

        run_answer(self.agent(fake))
        [call] = self.completion_calls(fake)
        assert call.key_ok and call.model == self.model
        assert call.request.response_format.format_type == chat_pb2.FORMAT_TYPE_JSON_SCHEMA
        assert json.loads(call.request.response_format.schema) == CLAIMS_SCHEMA
        assert call.request.max_tokens == 512

    def test_sdk_spans_carry_no_prompt_text(self, fake: Any) -> None:
        from xai_sdk import AsyncClient
        from xai_sdk.chat import user

        self.agent(fake)  # building the agent turns sensitive span attributes off

        async def attributes_of_a_call() -> dict[str, Any]:
            client = AsyncClient(api_key="k", api_host=fake.target, use_insecure_channel=True)
            chat = client.chat.create(model=self.model, messages=[user("secret prompt text")])
            await client.close()
            return chat._make_span_request_attributes()  # noqa: SLF001 - what the SDK would put on its span

        attributes = asyncio.run(attributes_of_a_call())
        assert attributes["gen_ai.request.model"] == self.model
        assert not any("prompt" in key for key in attributes)


def test_grpc_target_from_base_url() -> None:
    assert grpc_target(None) == ("api.x.ai", False)
    assert grpc_target("http://127.0.0.1:5005") == ("127.0.0.1:5005", True)
    assert grpc_target("https://api.x.ai") == ("api.x.ai", False)
    assert grpc_target("api.x.ai:443") == ("api.x.ai:443", False)


def test_a_recorded_grpc_exchange_replays_to_the_same_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Record through the gRPC proxy (here from a fake upstream), then replay the cassette through the SDK."""
    from tests.providers.cassettes import load_cassette
    from tests.providers.record import GrpcRecorder
    from tests.providers.scenario import Reply

    contract = TestGrokContract()
    with FakeGrok(models=["grok-test"]) as upstream:
        upstream.script.queue("grok-test", Reply("rate_limit", retry_after_s=0.1))
        with GrpcRecorder(upstream.target, secure=False) as recorder:
            live = run_answer(contract.agent(upstream, base_url=recorder.base_url))
        path = recorder.cassette.save(tmp_path / "recorded.json")
    assert upstream.api_key not in path.read_text()
    cassette = load_cassette(path)
    assert [i["response"]["code"] for i in cassette.interactions] == ["RESOURCE_EXHAUSTED", "OK"]
    with FakeGrok(models=[]) as replay:
        replay.script.queue("grok-test", *cassette.replies())
        replayed = run_answer(contract.agent(replay))
    assert live.status == replayed.status == "ok"
    assert replayed.claims == live.claims and replayed.usage == live.usage
