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

__all__ = ["SDK_PROVIDERS", "build_llm_agent", "mask_key", "not_configured_answer", "not_configured_reason", "provider_config"]

SDK_PROVIDERS: tuple[str, ...] = ("openai", "gemini", "xai")


def _setting(settings: Any, provider: str, name: str, default: Any = None) -> Any:
    return getattr(settings, f"{provider}_{name}", default)


def provider_config(settings: Any, provider: str) -> ProviderConfig:
    """The provider's settings (`<provider>_model`, `_api_key`, `_base_url`, `_timeout_s`, prices) as a value."""
    key = _setting(settings, provider, "api_key")
    return ProviderConfig(
        provider=provider,
        model=_setting(settings, provider, "model", f"{provider}-default"),
        api_key=key.get_secret_value() if key is not None and hasattr(key, "get_secret_value") else key,
        base_url=_setting(settings, provider, "base_url"),
        timeout_s=float(_setting(settings, provider, "timeout_s", 60.0)),
        price=Price(
            input_per_1k=float(_setting(settings, provider, "price_input_per_1k", 0.0)),
            output_per_1k=float(_setting(settings, provider, "price_output_per_1k", 0.0)),
        ),
        max_output_tokens=int(getattr(settings, "llm_max_output_tokens", 4096)),
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
        model=_setting(settings, provider, "model", "") or "",
        status="error",
        error=f"not_configured: {not_configured_reason(settings, provider)}",
        latency_s=0.0,
    )


def mask_key(key: str | None) -> str:
    """A key as shown to people: `****` plus its last four characters (long keys only)."""
    if not key:
        return ""
    return f"****{key[-4:]}" if len(key) >= 16 else "****"
