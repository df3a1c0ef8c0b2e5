"""LLM agents: one per provider, each returning the model-answer shape (stub provider for now)."""

from __future__ import annotations

from actors.llm.base import LlmAgent, parse_claims
from actors.llm.stub import StubLlmAgent, default_claims

__all__ = ["LlmAgent", "StubLlmAgent", "default_claims", "parse_claims"]
