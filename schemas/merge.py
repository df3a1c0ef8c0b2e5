"""The merge result: claims with agreement and grounding, disagreements, and the quorum outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from schemas.answers import ClaimKind
from schemas.pii import PiiClass, pii_field

__all__ = ["MergedClaim", "Disagreement", "Quorum", "MergeResult"]


class MergedClaim(BaseModel):
    """One claim after merging the providers' answers."""

    text: str = pii_field(PiiClass.PSEUDONYMIZED)
    providers: list[str]
    member_claim_ids: list[str]
    agreement: Literal["unanimous", "majority", "single"]
    grounding: Literal["supported", "contradicted", "unverifiable"]
    hallucination: bool
    reasons: list[str] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list)
    question: int | None = Field(default=None, ge=0, description="The brief question most members answer.")
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="The market most members name.")
    kind: ClaimKind | None = None


class Disagreement(BaseModel):
    """Providers that said conflicting things about one topic."""

    topic: str
    positions: dict[str, str]
    claim_ids: list[str]


class Quorum(BaseModel):
    """How many answers were needed, how many came, and who is missing."""

    required: int = Field(ge=1)
    received: int = Field(ge=0)
    missing: list[str] = Field(default_factory=list)


class MergeResult(BaseModel):
    """The merge agent's output."""

    claims: list[MergedClaim] = Field(default_factory=list)
    disagreements: list[Disagreement] = Field(default_factory=list)
    degraded: bool
    quorum: Quorum
