"""A fake OpenAI-compatible REST API: `POST /v1/chat/completions` and `GET /v1/models`, shaped like OpenAI's."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.providers._http import FakeHttpProvider, HttpReply
from tests.providers.scenario import answer_text, count_tokens

__all__ = ["FakeOpenAi"]


def _error(status: int, message: str, type_: str, code: str | None, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, headers or {})


class FakeOpenAi(FakeHttpProvider):
    """OpenAI's wire format; the script decides each reply (default: claims citing the prompt's evidence).

    Example:
        >>> with FakeOpenAi(models=["gpt-test"]) as fake:                  # doctest: +SKIP
        ...     openai.AsyncOpenAI(base_url=fake.v1, api_key=fake.api_key)
    """

    def __init__(self, *, api_key: str = "sk-test-openai-0000000000000000", models: list[str] | None = None, **kw: Any) -> None:
        super().__init__(api_key=api_key, models=models or ["gpt-test"], **kw)

    @property
    def v1(self) -> str:
        """Base URL for the SDK (`…/v1`)."""
        return f"{self.base_url}/v1"

    def key_in(self, headers: dict[str, str]) -> str | None:
        """The bearer token."""
        auth = headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> HttpReply:
        """Chat completions and the model list."""
        if not self.authorized(headers):
            return _error(401, "Incorrect API key provided: sk-****. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")
        if method == "GET" and path.rstrip("/") == "/v1/models":
            return HttpReply(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for m in self.models]})
        if method == "POST" and path == "/v1/chat/completions":
            return self._chat(body)
        return _error(404, f"Unknown request URL: {method} {path}.", "invalid_request_error", "unknown_url")

    def _chat(self, body: dict[str, Any]) -> HttpReply:
        model = body.get("model", "")
        reply = self.script.next(model)
        self.pause(reply.latency_s)
        if reply.kind == "hang":
            self.pause(float("inf"))
            return _error(504, "gateway timeout", "server_error", None)
        if reply.kind == "cassette" and reply.recorded is not None:
            rec = reply.recorded
            return HttpReply(rec["status"], rec["body"], rec.get("headers", {}))
        if reply.kind == "dead_model" or model not in self.models:
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                          "invalid_request_error", "model_not_found")
        if reply.kind == "auth":
            return _error(401, "Incorrect API key provided: sk-****.", "invalid_request_error", "invalid_api_key")
        if reply.kind == "rate_limit":
            wait = reply.retry_after_s if reply.retry_after_s is not None else 1.0
            return _error(429, f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
                          f"Requested 1. Please try again in {wait:g}s.", "requests", "rate_limit_exceeded",
                          {"retry-after": f"{wait:g}", "x-ratelimit-remaining-requests": "0"})
        if reply.kind == "server_error":
            return _error(500, "The server had an error while processing your request. Sorry about that!", "server_error", None)
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if reply.kind == "content_filter":
            return HttpReply(200, _completion(model, None, prompt, finish="content_filter"))
        return HttpReply(200, _completion(model, answer_text(reply, prompt), prompt))


def _completion(model: str, content: str | None, prompt: str, *, finish: str = "stop") -> dict[str, Any]:
    prompt_tokens, completion_tokens = count_tokens(prompt), count_tokens(content or "")
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": finish,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake0001",
    }
