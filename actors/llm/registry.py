"""Which agent a provider gets: the offline stub, its official SDK agent, or none (not configured).

    MKA_USE_STUBS=true (default)  every provider is a scripted stub (demo, tests, no network)
    MKA_USE_STUBS=false           a provider with a key (OPENAI_API_KEY, GEMINI_API_KEY or
                                  GOOGLE_API_KEY, XAI_API_KEY) uses its SDK; OpenAI also with only a
                                  base URL (Ollama, vLLM); any other is reported as not configured
"""

from __future__ import annotations

from typing import Any

from actors.llm.base import LlmAgent
from actors.llm.config import ProviderConfig
from actors.llm.pricing import Price
from actors.llm.stub import StubLlmAgent
from schemas import ModelAnswer
from schemas.localization import TranslationResult

__all__ = [
    "SDK_PROVIDERS",
    "NotConfigured",
    "build_llm_agent", "mask_key", "not_configured_answer", "not_configured_reason", "provider_config"]

SDK_PROVIDERS: tuple[str, ...] = ("openai", "gemini", "xai")


def provider_config(settings: Any, provider: str) -> ProviderConfig:
    """The provider's effective settings (`settings.provider(name)`: MKA_LLM__<PROVIDER>__*) as a value."""
    own = settings.provider(provider)
    return ProviderConfig(
        provider=provider,
        model=own.model,
        api_key=own.api_key.get_secret_value() if own.api_key is not None else None,
        base_url=own.base_url,
        timeout_s=own.timeout_s,
        price=Price(input_per_1k=own.price_input_per_1k, output_per_1k=own.price_output_per_1k),
        max_output_tokens=settings.llm_max_output_tokens,
    )


def build_llm_agent(settings: Any, provider: str) -> LlmAgent | None:
    """The agent for `provider`: stub when stubs are on, its SDK agent when configured, else None.

    Example:
        >>> from cluster.settings import Settings
        >>> type(build_llm_agent(Settings(use_stubs=True), "openai")).__name__
        'StubLlmAgent'
    """
    if getattr(settings, "use_stubs", True):
        return StubLlmAgent(provider)
    if provider not in SDK_PROVIDERS:
        return None
    config = provider_config(settings, provider)
    if not config.configured:
        return None
    if provider == "openai":
        from actors.llm.openai_agent import OpenAiAgent

        return OpenAiAgent(config)
    if provider == "gemini":
        from actors.llm.gemini_agent import GeminiAgent

        return GeminiAgent(config)
    from actors.llm.grok_agent import GrokAgent

    return GrokAgent(config)


def not_configured_reason(settings: Any, provider: str) -> str:
    """Why `provider` has no agent, with what to do about it."""
    if provider not in SDK_PROVIDERS:
        return f"no SDK agent for provider {provider!r} (known: {', '.join(SDK_PROVIDERS)})"
    env = provider_config(settings, provider).key_env
    return f"no API key: set {env} (or MKA_USE_STUBS=true for the offline stubs)"


def not_configured_answer(settings: Any, provider: str) -> ModelAnswer:
    """The answer of a provider without an agent: an error answer saying so (never a silent gap)."""
    return ModelAnswer(
        provider=provider,
        model=settings.provider(provider).model,
        status="error",
        error=f"not_configured: {not_configured_reason(settings, provider)}",
        latency_s=0.0,
    )


class NotConfigured:
    """Stands in for a provider without an agent: its translations say so (the walk moves on to the next)."""

    def __init__(self, settings: Any, provider: str) -> None:
        self.provider, self.model = provider, settings.provider(provider).model
        self.reason = not_configured_reason(settings, provider)

    async def translate(self, envelope: Any) -> TranslationResult:
        """No translation: the provider is not configured."""
        return TranslationResult(provider=self.provider, model=self.model, status="unsupported",
                                 error=f"not_configured: {self.reason}")


def mask_key(key: str | None) -> str:
    """A key as shown to people: `****` plus its last four characters (long keys only)."""
    if not key:
        return ""
    return f"****{key[-4:]}" if len(key) >= 16 else "****"
