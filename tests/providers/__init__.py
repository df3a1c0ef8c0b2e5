"""Local stand-ins for the LLM providers, speaking each one's wire protocol to the official SDKs.

    FakeOpenAi   OpenAI-compatible REST: POST /v1/chat/completions, GET /v1/models
    FakeGemini   Gemini REST: POST /{version}/models/{model}:generateContent, GET /{version}/models
    FakeGrok     xAI gRPC: Chat.GetCompletion and Models.ListLanguageModels (protos from xai-sdk)

Each binds 127.0.0.1 on a free port, serves from a thread, records what it received and stops
itself (context manager, or after its lifetime). `fake.script` decides the replies: success,
429 with retry-after, 500, hang (client timeout), malformed JSON, content filter, dead model id,
bad key, or a recorded cassette.
"""

from __future__ import annotations

from tests.providers.cassettes import Cassette, load_cassette
from tests.providers.gemini_server import FakeGemini
from tests.providers.grok_server import FakeGrok
from tests.providers.openai_server import FakeOpenAi
from tests.providers.scenario import Reply, Script

__all__ = ["Cassette", "FakeGemini", "FakeGrok", "FakeOpenAi", "Reply", "Script", "load_cassette"]
