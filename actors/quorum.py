"""Quorum rules (pure): how many answers a job needs, what the answers that came in amount to, and the budget plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas import ModelAnswer
from schemas.pipeline import ProviderStatus, QuorumDecision

__all__ = ["CALLS_PER_ANSWER", "decide_quorum", "error_kind", "outcome_summary", "plan_budget", "required_for"]

# A provider's share of the budget covers its call plus the one repair retry.
CALLS_PER_ANSWER = 2

_ANSWER_KINDS = {
    "timeout", "rate_limit", "server_error", "auth", "model_not_found", "content_filter", "bad_output",
    "not_configured", "budget",
}


def required_for(providers: int) -> int:
    """A strict majority: 2 of 3, 1 of 1, 2 of 2."""
    return providers // 2 + 1


def error_kind(answer: ModelAnswer | None, reason: str = "") -> str | None:
    """The classified cause of a missing answer: the answer's `kind: message` prefix, or the fan-out's reason."""
    if answer is not None:
        if answer.status == "ok":
            return None
        prefix = (answer.error or "").split(":", 1)[0].strip()
        return prefix if prefix in _ANSWER_KINDS else answer.status
    if reason == "not configured":
        return "not_configured"
    if reason.startswith("skipped"):
        return "budget"
    if reason.startswith("cancelled"):
        return "cancelled"
    if "deadline" in reason:
        return "timeout"
    if "died" in reason:
        return "actor_died"
    return "error"


def plan_budget(
    providers: Sequence[str], estimates: Mapping[str, float], budget_usd: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Share a job's budget out in provider order: each asked provider reserves its estimate for an answer.

    Returns each asked provider's allowance and, for every provider that would exceed what is left,
    why it is not asked.
    """
    allowances: dict[str, float] = {}
    skipped: dict[str, str] = {}
    left = budget_usd
    for provider in providers:
        need = estimates.get(provider, 0.0) * CALLS_PER_ANSWER
        if need <= left + 1e-12:
            allowances[provider] = need
            left -= need
        else:
            skipped[provider] = (
                f"skipped: its estimated ${need:.4f} would exceed the ${left:.4f} left of the job's "
                f"${budget_usd:.4f} cost budget"
            )
    return allowances, skipped


def decide_quorum(
    *,
    providers: Sequence[str],
    answers: Mapping[str, ModelAnswer],
    missing_reasons: Mapping[str, str],
    required: int,
    deadline_s: float,
    grace_s: float,
    waited_s: float,
    cost_budget_usd: float | None = None,
) -> QuorumDecision:
    """Decide from the answers in hand: only `ok` answers count; every other provider is missing with a reason."""
    received = [p for p in providers if p in answers and answers[p].status == "ok"]
    missing: dict[str, str] = {}
    statuses: list[ProviderStatus] = []
    for provider in providers:
        answer = answers.get(provider)
        usage = answer.usage if answer is not None else None
        tokens, cost = (usage.tokens, usage.cost) if usage is not None else (None, None)
        model = answer.model if answer is not None else None
        if answer is not None and answer.status == "ok":
            statuses.append(ProviderStatus(
                provider=provider, status="ok", latency_s=answer.latency_s, claims=len(answer.claims), model=model,
                tokens=tokens, cost=cost,
            ))
            continue
        status: str
        if answer is not None:
            reason = answer.error or answer.status
            kind = error_kind(answer)
            status = "not_configured" if kind == "not_configured" else answer.status
            latency = answer.latency_s
        else:
            reason = missing_reasons.get(provider, "no answer")
            kind = error_kind(None, reason)
            status = {"not_configured": "not_configured", "cancelled": "cancelled", "timeout": "timeout",
                      "budget": "skipped"}.get(kind or "", "error")
            latency = None
        missing[provider] = reason
        statuses.append(ProviderStatus(
            provider=provider, status=status, reason=reason, latency_s=latency,  # type: ignore[arg-type]
            error_kind=kind, model=model, tokens=tokens, cost=cost,
        ))
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
        cost_usd=round(sum(a.usage.cost for a in answers.values() if a.usage is not None), 8),
        cost_budget_usd=cost_budget_usd,
    )


def outcome_summary(decision: QuorumDecision) -> str:
    """One line for events and logs: the quorum and each provider's outcome (kinds only, no messages)."""
    verdict = "met" if decision.met else "not met"
    outcomes = " ".join(f"{p.provider}={p.error_kind or p.status}" for p in decision.providers)
    counts = f"{len(decision.received)} of {len(decision.providers)} answered, {decision.required} required"
    return f"quorum {verdict} ({counts}): {outcomes}"
