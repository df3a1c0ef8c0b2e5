"""One provider's connection settings as a plain value: model, key, endpoint, timeout, prices."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.llm.pricing import Price

__all__ = ["KEY_ENV_VARS", "ProviderConfig"]

# The providers' usual environment variables, first one preferred (MKA_<PROVIDER>_API_KEY also works).
KEY_ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "xai": ("XAI_API_KEY",),
}


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    """What an SDK agent needs; built from settings by the registry (the key never reaches logs).

    Example:
        >>> ProviderConfig(provider="openai", model="gpt-5.4-mini", api_key="sk-test").configured
        True
    """

    provider: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout_s: float = 60.0
    price: Price = field(default_factory=Price)
    max_output_tokens: int = 4096

    @property
    def configured(self) -> bool:
        """A key is present, or (OpenAI-compatible servers) a base URL that may need none."""
        return bool(self.api_key) or (self.provider == "openai" and bool(self.base_url))

    @property
    def key_env(self) -> str:
        """The environment variable a key for this provider is usually read from."""
        return KEY_ENV_VARS.get(self.provider, (f"{self.provider.upper()}_API_KEY",))[0]
