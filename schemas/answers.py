"""Evidence from data collection and the answers LLM agents return (shapes fixed by DESIGN.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from schemas.pii import PiiClass, pii_field

__all__ = ["Claim", "Evidence", "ModelAnswer", "Usage", "AnswerStatus"]

AnswerStatus = Literal["ok", "timeout", "error"]


class Evidence(BaseModel):
    """One piece of collected market data, citable by id."""

    id: str = Field(min_length=1, max_length=128)
    source: str = Field(pattern=r"^(mcp|https)://\S+$", description="mcp:// or https:// URI.")
    text: str = pii_field(PiiClass.FREE_TEXT, max_length=20000)
    data: dict[str, float] | None = None


class Claim(BaseModel):
    """One statement a model makes, citing evidence ids."""

    id: str = Field(min_length=1, max_length=128)
    text: str = pii_field(PiiClass.PSEUDONYMIZED, min_length=1, max_length=4000)
    evidence_ids: list[str] = Field(default_factory=list)
    value: float | None = None
    unit: str | None = None


class Usage(BaseModel):
    """Tokens and cost of one model call."""

    tokens: int = Field(ge=0)
    cost: float = Field(ge=0)


class ModelAnswer(BaseModel):
    """What one LLM agent returns after parsing its structured output."""

    provider: str
    model: str
    status: AnswerStatus
    error: str | None = None
    claims: list[Claim] = Field(default_factory=list)
    latency_s: float = Field(ge=0)
    usage: Usage | None = None
