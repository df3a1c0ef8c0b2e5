"""Contract of the Gemini agent (official `google-genai` SDK) against a local Gemini REST server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.llm.gemini_agent import GeminiAgent
from actors.llm.prompt import CLAIMS_SCHEMA
from tests.providers.contract import ProviderContract, run_answer
from tests.providers.gemini_server import FakeGemini

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class TestGeminiContract(ProviderContract):
    provider = "gemini"
    model = "gemini-test"
    cassette = "gemini_generate_claims"
    cassette_model = "gemini-3.8-flash"
    cassette_tokens = 498 + 171 + 64
    cassette_cost = 498 * 0.00075 / 1000 + (171 + 64) * 0.0045 / 1000

    def start_fake(self) -> FakeGemini:
        return FakeGemini(models=[self.model]).start()

    def base_url(self, fake: Any) -> str:
        return fake.base_url

    def agent_class(self) -> type[GeminiAgent]:
        return GeminiAgent

    def completion_calls(self, fake: Any) -> list[Any]:
        return fake.seen(":generateContent")

    def call_text(self, call: Any) -> str:
        texts = [p.get("text", "") for c in call.body["contents"] for p in c["parts"]]
        return "\n".join(texts) + "\n" + json.dumps(call.body.get("generationConfig"))

    def test_asks_for_json_with_the_response_schema(self, fake: Any) -> None:
        run_answer(self.agent(fake))
        [call] = self.completion_calls(fake)
        config = call.body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseJsonSchema"] == CLAIMS_SCHEMA
        assert config["maxOutputTokens"] == 512
        assert "systemInstruction" in call.body
        assert call.headers["x-goog-api-key"] == "<key ok>"
        assert call.path.endswith(f"/models/{self.model}:generateContent")
