"""GPT through the official `openai` SDK; any OpenAI-compatible endpoint (Ollama, vLLM) by base URL."""

from __future__ import annotations

import re
from typing import Any

from actors.llm._sdk import SdkLlmAgent, clip, retry_after_s
from actors.llm.base import Completion, Repair
from actors.llm.prompt import ask_for, clip_previous
from schemas import ProviderError
from schemas.localization import TranslationRequest
from schemas.pipeline import AnalysisRequest

__all__ = ["OpenAiAgent", "classify_openai_error"]

_FILTER_CODES = {"content_filter", "content_policy_violation", "moderation_blocked"}
_FILTER_WORDS = ("content management policy", "content policy", "safety system", "content_filter")


class OpenAiAgent(SdkLlmAgent):
    """Chat Completions with a strict JSON schema; the SDK's own retries are off (the agent's policy retries).

    Example:
        >>> agent = OpenAiAgent(ProviderConfig(provider="openai", model="gpt-5.4-mini", api_key="sk-..."))  # doctest: +SKIP
        >>> await agent.analyze(envelope)                                                                  # doctest: +SKIP
    """

    def _make_client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            api_key=self.config.api_key or "unused",  # local OpenAI-compatible servers take any key
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=0,
        )

    async def _complete(self, request: AnalysisRequest | TranslationRequest, *, timeout_s: float | None, repair: Repair | None = None) -> Completion:
        import openai

        ask = ask_for(request)
        prompt = ask.prompt
        messages: list[dict[str, str]] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        if repair is not None:
            messages += [
                {"role": "assistant", "content": clip_previous(repair.previous)},
                {"role": "user", "content": ask.repair(repair.problem)},
            ]
        try:
            response = await self._client().chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format={  # type: ignore[arg-type]
                    "type": "json_schema", "json_schema": {"name": ask.name, "schema": ask.schema, "strict": True}},
                max_completion_tokens=self.max_output_tokens,
                timeout=self._timeout(timeout_s),
            )
        except openai.APIError as exc:
            raise classify_openai_error(exc, endpoint=self.config.base_url or "api.openai.com") from exc
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        if not response.choices:
            return Completion("", tokens_in, tokens_out, failure=ProviderError("bad_output", "the response has no choices"))
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if choice.finish_reason == "content_filter" or refusal:
            why = "the model refused" if refusal else "finish_reason content_filter"
            return Completion("", tokens_in, tokens_out, failure=ProviderError("content_filter", f"{why}; no answer"))
        return Completion(choice.message.content or "", tokens_in, tokens_out)

    async def _list_models(self) -> list[str]:
        import openai

        try:
            page = await self._client().models.list(timeout=self.config.timeout_s)
        except openai.APIError as exc:
            raise classify_openai_error(exc, endpoint=self.config.base_url or "api.openai.com") from exc
        return sorted(m.id for m in page.data)


def classify_openai_error(exc: Exception, *, endpoint: str = "api.openai.com") -> ProviderError:
    """Map an `openai` SDK exception to a ProviderError kind (retry-after from the response headers)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("timeout", f"no response from {endpoint} within the request timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("server_error", f"cannot reach {endpoint} (unreachable): {clip(exc)}")
    if not isinstance(exc, openai.APIStatusError):
        return ProviderError("server_error", clip(exc))
    status = exc.status_code
    code = str(getattr(exc, "code", None) or "")
    message = clip(re.sub(r"^Error code: \d+ - ", "", str(getattr(exc, "message", exc))))
    lowered = message.lower()
    if isinstance(exc, openai.RateLimitError):
        return ProviderError("rate_limit", f"429 {message}", retry_after_s=retry_after_s(exc.response.headers))
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ProviderError("auth", f"{status} {message}")
    if code in _FILTER_CODES or any(w in lowered for w in _FILTER_WORDS):
        return ProviderError("content_filter", f"{status} {message}")
    if code == "model_not_found" or (status in (400, 404) and "model" in lowered):
        return ProviderError("model_not_found", f"{status} {message}")
    if status == 404:
        return ProviderError("server_error", f"404 at {endpoint}: check the base URL ({message})")
    if status in (408, 504):
        return ProviderError("timeout", f"{status} {message}")
    if status >= 500:
        return ProviderError("server_error", f"{status} {message}")
    return ProviderError("server_error", f"{status} the provider rejected the request: {message}")
