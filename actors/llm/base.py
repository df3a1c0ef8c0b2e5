"""The LLM agent interface: an envelope in, a model answer out; provider errors become answer values."""

from __future__ import annotations

import abc
import json
import time
from typing import Any

from pydantic import ValidationError

from actors.retry import RetryPolicy
from schemas import AgentRequest, Claim, ModelAnswer, ProviderError, RetriesExhausted, StepTimeout
from schemas.pipeline import AnalysisRequest

__all__ = ["LlmAgent", "parse_claims"]


def parse_claims(raw: str) -> list[Claim]:
    """Parse a model's structured output strictly: `{"claims": [...]}` or raise bad_output."""
    try:
        data: Any = json.loads(raw)
        items = data["claims"]
        if not isinstance(items, list):
            raise TypeError("claims is not a list")
        return [Claim.model_validate(item) for item in items]
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ProviderError("bad_output", f"unparseable model output ({type(exc).__name__})") from exc


class LlmAgent(abc.ABC):
    """One provider's agent; subclasses implement `_complete` (one model call, raw text out)."""

    provider: str
    model: str

    def __init__(self, *, provider: str, model: str, retry: RetryPolicy | None = None) -> None:
        self.provider = provider
        self.model = model
        self._retry = retry or RetryPolicy(max_attempts=2, base_delay_s=0.2)

    @abc.abstractmethod
    async def _complete(self, request: AnalysisRequest, *, timeout_s: float | None) -> str:
        """Ask the model once; return its raw structured output or raise ProviderError."""

    async def analyze(self, envelope: AgentRequest[AnalysisRequest]) -> ModelAnswer:
        """Answer the analysis request; failures come back as an answer with status timeout/error."""
        start = time.monotonic()
        budget = max(0.0, envelope.deadline.timestamp() - time.time())
        policy = RetryPolicy(
            max_attempts=self._retry.max_attempts,
            base_delay_s=self._retry.base_delay_s,
            jitter=self._retry.jitter,
            deadline_s=budget,
        )

        async def attempt(a: Any) -> list[Claim]:
            return parse_claims(await self._complete(envelope.payload, timeout_s=a.timeout_s))

        try:
            claims = await policy.acall(attempt)
        except (StepTimeout, TimeoutError) as exc:
            return self._answer("timeout", start, error=f"timeout: {exc}")
        except ProviderError as exc:
            return self._answer("error", start, error=f"{exc.kind}: {exc.message}")
        except RetriesExhausted as exc:
            cause = exc.__cause__
            kind = cause.kind if isinstance(cause, ProviderError) else "error"
            status = "timeout" if kind == "timeout" else "error"
            return self._answer(status, start, error=f"{kind}: {exc.message}")
        return self._answer("ok", start, claims=claims)

    def _answer(self, status: str, start: float, *, claims: list[Claim] | None = None, error: str | None = None) -> ModelAnswer:
        return ModelAnswer(
            provider=self.provider,
            model=self.model,
            status=status,  # type: ignore[arg-type]
            error=error,
            claims=claims or [],
            latency_s=round(time.monotonic() - start, 4),
        )
