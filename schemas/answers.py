"""Evidence from data collection and the answers LLM agents return (shapes fixed by DESIGN.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from schemas.pii import PiiClass, pii_field

__all__ = ["Claim", "ClaimKind", "Evidence", "ModelAnswer", "Usage", "AnswerStatus", "CLAIM_KINDS", "SourceType",
           "SOURCE_TYPES"]

AnswerStatus = Literal["ok", "timeout", "error"]
ClaimKind = Literal["finding", "insight", "recommendation"]
CLAIM_KINDS: tuple[str, ...] = ("finding", "insight", "recommendation")
SourceType = Literal["dataset", "document", "web", "tool"]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
SOURCE_TYPES: tuple[str, ...] = ("dataset", "document", "web", "tool")


class Evidence(BaseModel):
    """One piece of collected market data, citable by id."""

    id: str = Field(min_length=1, max_length=128)
    source: str = Field(
        pattern=r"^(mcp|https?|doc)://\S+$",
        description="Where it came from: mcp:// (a tool or resource), http(s):// (a page), doc://<document-id>#<chunk>.",
    )
    text: str = pii_field(PiiClass.FREE_TEXT, max_length=20000)
    data: dict[str, FiniteFloat] | None = None
    source_type: SourceType | None = Field(
        default=None, description="dataset (a curated data server), document (the user's file), web (a page), tool."
    )
    retrieved_at: datetime | None = Field(default=None, description="When it was collected (UTC).")


class Claim(BaseModel):
    """One statement a model makes, citing evidence ids."""

    id: str = Field(min_length=1, max_length=128)
    text: str = pii_field(PiiClass.PSEUDONYMIZED, min_length=1, max_length=4000)
    evidence_ids: list[str] = Field(default_factory=list)
    value: float | None = None
    unit: str | None = None
    question: int | None = Field(default=None, ge=0, description="Index (0-based) into the brief's questions.")
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.")
    kind: ClaimKind | None = Field(default=None, description="finding (a fact), insight (what it means), "
                                   "recommendation (what to do).")

    @field_validator("market", mode="before")
    @classmethod
    def _upper_market(cls, value: Any) -> Any:
        """Models write "de" as often as "DE"; an empty string means no market."""
        if isinstance(value, str):
            return value.strip().upper() or None
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        """A kind outside the three (or in other case) is read leniently: lower-cased, unknown ones dropped."""
        if isinstance(value, str):
            value = value.strip().lower()
            return value if value in CLAIM_KINDS else None
        return value


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
    summary: str | None = pii_field(PiiClass.PSEUDONYMIZED, None, max_length=2000)
