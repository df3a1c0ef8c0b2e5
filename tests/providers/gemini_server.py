"""A fake Gemini API (REST): `models/{model}:generateContent` and `models` listing, shaped like Google's."""

from __future__ import annotations

import re
from typing import Any

from tests.providers._http import FakeHttpProvider, HttpReply
from tests.providers.scenario import answer_text, count_tokens

__all__ = ["FakeGemini"]

_GENERATE = re.compile(r"^/(v1[a-z0-9]*)/models/([^/:?]+):generateContent$")
_LIST = re.compile(r"^/(v1[a-z0-9]*)/models/?(\?.*)?$")


def _error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> HttpReply:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return HttpReply(code, {"error": error})


class FakeGemini(FakeHttpProvider):
    """Gemini's wire format; the script decides each reply (default: claims citing the prompt's evidence)."""

    def __init__(self, *, api_key: str = "AIza-test-gemini-000000000000000", models: list[str] | None = None, **kw: Any) -> None:
        super().__init__(api_key=api_key, models=models or ["gemini-test"], **kw)

    def key_in(self, headers: dict[str, str]) -> str | None:
        """The `x-goog-api-key` header."""
        return headers.get("x-goog-api-key")

    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> HttpReply:
        """generateContent and the model list."""
        if not self.authorized(headers):
            return _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}])
        if method == "GET" and _LIST.match(path):
            return HttpReply(200, {"models": [_model(m) for m in self.models]})
        match = _GENERATE.match(path)
        if method == "POST" and match:
            return self._generate(match.group(1), match.group(2), body)
        return _error(404, "NOT_FOUND", f"Requested entity was not found: {path}")

    def _generate(self, version: str, model: str, body: dict[str, Any]) -> HttpReply:
        reply = self.script.next(model)
        self.pause(reply.latency_s)
        if reply.kind == "hang":
            self.pause(float("inf"))
            return _error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
        if reply.kind == "cassette" and reply.recorded is not None:
            return HttpReply(reply.recorded["status"], reply.recorded["body"], reply.recorded.get("headers", {}))
        if reply.kind == "dead_model" or model not in self.models:
            return _error(404, "NOT_FOUND", f"models/{model} is not found for API version {version}, or is not supported "
                          "for generateContent. Call ListModels to see the list of available models and their supported methods.")
        if reply.kind == "auth":
            return _error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use an API key.")
        if reply.kind == "rate_limit":
            wait = reply.retry_after_s if reply.retry_after_s is not None else 1.0
            return _error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                     "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{wait:g}s"}])
        if reply.kind == "server_error":
            return _error(500, "INTERNAL", "An internal error has occurred. Please retry or report in "
                          "https://developers.generativeai.google/guide/troubleshooting")
        prompt = _prompt_text(body)
        usage = {"promptTokenCount": count_tokens(prompt)}
        if reply.kind == "content_filter":
            return HttpReply(200, {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
                "usageMetadata": {**usage, "totalTokenCount": usage["promptTokenCount"]}, "modelVersion": model})
        text = answer_text(reply, prompt)
        out = count_tokens(text)
        return HttpReply(200, {
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {**usage, "candidatesTokenCount": out, "totalTokenCount": usage["promptTokenCount"] + out,
                              "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}]},
            "modelVersion": model,
            "responseId": "fake-" + str(abs(hash(text)) % 10**8),
        })


def _prompt_text(body: dict[str, Any]) -> str:
    parts = [p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", [])]
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    parts += [p.get("text", "") for p in system.get("parts", [])]
    return "\n".join(parts)


def _model(name: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
