"""The fixed analysis request that cassettes were recorded with, and envelopes around any request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from schemas import AgentRequest, Brief, Evidence
from schemas.pipeline import AnalysisRequest

__all__ = ["GOLDEN_EVIDENCE", "envelope", "golden_brief", "golden_envelope"]

GOLDEN_EVIDENCE = [
    Evidence(id="ev-de-market-size", source="mcp://market-data/market_size?country=DE&category=plant-milk",
             text="Germany's plant-based milk market was worth 1,200 EUR million in 2024.", data={"value_eur_m": 1200.0}),
    Evidence(id="ev-fr-market-size", source="mcp://market-data/market_size?country=FR&category=plant-milk",
             text="France's plant-based milk market was worth 800 EUR million in 2024.", data={"value_eur_m": 800.0}),
    Evidence(id="ev-de-growth", source="mcp://market-data/growth?country=DE&category=plant-milk",
             text="The German market grew 7.5 percent a year from 2020 to 2024.", data={"cagr_pct": 7.5}),
]


def golden_brief() -> Brief:
    """The brief of the golden request (already pseudonymized: a placeholder stands for a person)."""
    return Brief.model_validate({
        "project": "golden",
        "title": "Oat milk launch",
        "product": {"name": "Oatly Barista", "description": "Oat drink for coffee", "category": "dairy alternatives"},
        "markets": ["DE", "FR"],
        "audience": "Urban coffee drinkers aged 25-40, interviewed by <PERSON_1>",
        "questions": ["How large is the plant-based milk market?", "How fast is it growing?"],
        "competitors": ["Alpro"],
        "locale": "en_US",
    })


def envelope(request: Any, *, deadline_s: float = 10.0, step: str = "analyze") -> AgentRequest[Any]:
    """An analysis (or, with `step="localize"`, a translation) envelope with a deadline `deadline_s` from now."""
    return AgentRequest[type(request)](  # type: ignore[misc]
        correlation_id=f"{request.job_id}:{step}:1", idempotency_key=f"{request.job_id}:{step}", job_id=request.job_id,
        step=step, deadline=datetime.now(timezone.utc) + timedelta(seconds=deadline_s), payload=request,
    )


def golden_envelope(provider: str, *, deadline_s: float = 10.0, **fields: object) -> AgentRequest[AnalysisRequest]:
    """The golden request for `provider`, in an envelope."""
    request = AnalysisRequest(job_id="job-golden", provider=provider, brief=golden_brief(), evidence=GOLDEN_EVIDENCE, **fields)
    return envelope(request, deadline_s=deadline_s)
