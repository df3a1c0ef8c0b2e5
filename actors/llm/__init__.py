"""LLM agents: one per provider (stub, OpenAI, Gemini, Grok), each returning the model-answer shape.

The SDK agents import their SDKs lazily; `OpenAiAgent`, `GeminiAgent` and `GrokAgent` are loaded
on first access so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

from actors.llm.base import (
    Completion,
    LlmAgent,
    OverBudget,
    ParsedAnswer,
    Repair,
    parse_answer,
    parse_claims,
)
from actors.llm.config import ProviderConfig
from actors.llm.pricing import Price, estimate_tokens
from actors.llm.prompt import CLAIMS_SCHEMA, Prompt, build_prompt
from actors.llm.registry import (
    NotConfigured,
    build_llm_agent,
    mask_key,
    not_configured_answer,
    not_configured_reason,
    provider_config,
)
from actors.llm.stub import StubLlmAgent, default_claims

__all__ = [
    "NotConfigured",
    "CLAIMS_SCHEMA",
    "Completion",
    "GeminiAgent",
    "GrokAgent",
    "LlmAgent",
    "OpenAiAgent",
    "OverBudget",
    "Price",
    "Prompt",
    "ProviderConfig",
    "Repair",
    "StubLlmAgent",
    "build_llm_agent",
    "build_prompt",
    "default_claims",
    "estimate_tokens",
    "mask_key",
    "not_configured_answer",
    "not_configured_reason",
    "ParsedAnswer",
    "parse_answer",
    "parse_claims",
    "provider_config",
]

_LAZY = {
    "OpenAiAgent": "actors.llm.openai_agent",
    "GeminiAgent": "actors.llm.gemini_agent",
    "GrokAgent": "actors.llm.grok_agent",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'actors.llm' has no attribute {name!r}")
