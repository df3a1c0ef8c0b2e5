"""Gemini through the official `google-genai` SDK (Gemini API over REST; base URL configurable)."""

from __future__ import annotations

from typing import Any

from actors.llm._sdk import SdkLlmAgent, clip, duration_s, retry_after_s
from actors.llm.base import Completion, Repair
from actors.llm.prompt import ask_for, clip_previous
from schemas import ProviderError
from schemas.localization import TranslationRequest
from schemas.pipeline import AnalysisRequest

__all__ = ["GeminiAgent", "classify_gemini_error"]

_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY", "MODEL_ARMOR", "JAILBREAK"}
_AUTH_REASONS = {"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED", "ACCESS_TOKEN_EXPIRED"}


class GeminiAgent(SdkLlmAgent):
    """generateContent with `response_json_schema`; the SDK's own retries are off (one attempt per call).

    Example:
        >>> agent = GeminiAgent(ProviderConfig(provider="gemini", model="gemini-3.8-flash", api_key="..."))  # doctest: +SKIP
    """

    def _make_client(self) -> Any:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.config.base_url,
            timeout=int(self.config.timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(api_key=self.config.api_key, http_options=options)

    async def _close_client(self, client: Any) -> None:
        await client.aio.aclose()

    async def _complete(self, request: AnalysisRequest | TranslationRequest, *, timeout_s: float | None, repair: Repair | None = None) -> Completion:
        from google.genai import types

        ask = ask_for(request)
        prompt = ask.prompt
        contents = [types.Content(role="user", parts=[types.Part(text=prompt.user)])]
        if repair is not None:
            contents += [
                types.Content(role="model", parts=[types.Part(text=clip_previous(repair.previous))]),
                types.Content(role="user", parts=[types.Part(text=ask.repair(repair.problem))]),
            ]
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_json_schema=ask.schema,
            max_output_tokens=self.max_output_tokens,
            http_options=types.HttpOptions(timeout=int(self._timeout(timeout_s) * 1000)),
        )
        response = await self._call(self._client().aio.models.generate_content(model=self.model, contents=contents, config=config))
        meta = response.usage_metadata
        tokens_in = (meta.prompt_token_count or 0) if meta else 0
        tokens_out = ((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = getattr(feedback.block_reason, "value", feedback.block_reason)
            return Completion("", tokens_in, tokens_out, failure=ProviderError("content_filter", f"prompt blocked ({reason})"))
        if not response.candidates:
            return Completion("", tokens_in, tokens_out, failure=ProviderError("bad_output", "the response has no candidates"))
        candidate = response.candidates[0]
        finish = getattr(candidate.finish_reason, "value", candidate.finish_reason)
        text = "".join(p.text or "" for p in (candidate.content.parts or []) if not p.thought) if candidate.content else ""
        if finish in _BLOCKED and not text:
            return Completion("", tokens_in, tokens_out, failure=ProviderError("content_filter", f"answer blocked ({finish})"))
        return Completion(text, tokens_in, tokens_out)

    async def _list_models(self) -> list[str]:
        pager = await self._call(self._client().aio.models.list(config={"page_size": 100}))
        names: list[str] = []
        async for model in pager:
            names.append((model.name or "").removeprefix("models/"))
        return sorted(names)

    async def _call(self, awaitable: Any) -> Any:
        """Await an SDK call, translating its exceptions (HTTP errors, timeouts, connection failures)."""
        from google.genai import errors

        endpoint = self.config.base_url or "generativelanguage.googleapis.com"
        try:
            return await awaitable
        except errors.APIError as exc:
            raise classify_gemini_error(exc) from exc
        except TimeoutError as exc:
            raise ProviderError("timeout", f"no response from {endpoint} within the request timeout") from exc
        except Exception as exc:  # noqa: BLE001 - transport errors of aiohttp or httpx2, whichever the SDK uses
            if _is_transport_error(exc):
                raise ProviderError("server_error", f"cannot reach {endpoint} (unreachable): {clip(exc)}") from exc
            raise


def _is_transport_error(exc: Exception) -> bool:
    try:
        import aiohttp

        if isinstance(exc, aiohttp.ClientError):
            return True
    except ImportError:  # pragma: no cover - aiohttp is optional for google-genai
        pass
    import httpx2

    return isinstance(exc, (httpx2.TransportError, OSError))


def classify_gemini_error(exc: Any) -> ProviderError:
    """Map a `google.genai.errors.APIError` to a ProviderError kind (retry-after from headers or RetryInfo)."""
    code = int(getattr(exc, "code", 0) or 0)
    status = str(getattr(exc, "status", "") or "")
    message = clip(getattr(exc, "message", None) or exc)
    details = _details(getattr(exc, "details", None))
    reasons = {str(d.get("reason", "")) for d in details}
    label = f"{code} {status}".strip()
    lowered = message.lower()
    if code in (401, 403) or reasons & _AUTH_REASONS or status == "UNAUTHENTICATED" or "api key" in lowered:
        return ProviderError("auth", f"{label} {message}")
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        headers = getattr(getattr(exc, "response", None), "headers", None)
        wait = retry_after_s(headers)
        if wait is None:
            wait = next((duration_s(d.get("retryDelay")) for d in details if "RetryInfo" in str(d.get("@type", ""))), None)
        return ProviderError("rate_limit", f"{label} {message}", retry_after_s=wait)
    if code == 404 or status == "NOT_FOUND":
        return ProviderError("model_not_found", f"{label} {message}")
    if "safety" in lowered or "blocked" in lowered or "prohibited" in lowered:
        return ProviderError("content_filter", f"{label} {message}")
    if code in (408, 504) or status == "DEADLINE_EXCEEDED":
        return ProviderError("timeout", f"{label} {message}")
    if code >= 500:
        return ProviderError("server_error", f"{label} {message}")
    return ProviderError("server_error", f"{label} the provider rejected the request: {message}")


def _details(body: Any) -> list[dict[str, Any]]:
    """The `error.details` list of a Google API error body (empty when absent)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        items = error.get("details", []) if isinstance(error, dict) else []
        return [d for d in items if isinstance(d, dict)]
    return []
