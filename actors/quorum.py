"""Quorum rules (pure): how many answers a job needs and what the answers that came in amount to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas import ModelAnswer
from schemas.pipeline import ProviderStatus, QuorumDecision

__all__ = ["decide_quorum", "required_for"]


def required_for(providers: int) -> int:
    """A strict majority: 2 of 3, 1 of 1, 2 of 2."""
    return providers // 2 + 1


def decide_quorum(
    *,
    providers: Sequence[str],
    answers: Mapping[str, ModelAnswer],
    missing_reasons: Mapping[str, str],
    required: int,
    deadline_s: float,
    grace_s: float,
    waited_s: float,
) -> QuorumDecision:
    """Decide from the answers in hand: only `ok` answers count; every other provider is missing with a reason."""
    received = [p for p in providers if p in answers and answers[p].status == "ok"]
    missing: dict[str, str] = {}
    statuses: list[ProviderStatus] = []
    for provider in providers:
        answer = answers.get(provider)
        if answer is not None and answer.status == "ok":
            statuses.append(
                ProviderStatus(provider=provider, status="ok", latency_s=answer.latency_s, claims=len(answer.claims))
            )
            continue
        if answer is not None:
            reason = answer.error or answer.status
            status = answer.status
            latency = answer.latency_s
        else:
            reason = missing_reasons.get(provider, "no answer")
            status = (
                "not_configured" if reason == "not configured"
                else "cancelled" if reason.startswith("cancelled")
                else "timeout" if "deadline" in reason
                else "error"
            )
            latency = None
        missing[provider] = reason
        statuses.append(ProviderStatus(provider=provider, status=status, reason=reason, latency_s=latency))  # type: ignore[arg-type]
    return QuorumDecision(
        required=required,
        received=received,
        missing=missing,
        degraded=len(received) < len(providers),
        met=len(received) >= required,
        deadline_s=deadline_s,
        grace_s=grace_s,
        waited_s=round(waited_s, 4),
        providers=statuses,
    )
