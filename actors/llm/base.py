"""The LLM agent interface: an envelope in, a model answer out; provider errors become answer values.

An agent asks its model once per attempt (`_complete`), parses the structured output strictly and,
when the output is malformed, asks once more with a repair instruction. Retryable provider errors
(timeout, rate limit, server error) are retried within the envelope's deadline, waiting at least a
rate limit's retry-after. Token usage and cost of every call are summed into the answer, and a call
that would push the spend past the request's `cost_budget_usd` is not made.
"""

from __future__ import annotations

import abc
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from actors.clock import Clock, SystemClock
from actors.llm.pricing import Price, estimate_tokens
from actors.llm.prompt import build_prompt
from actors.retry import Attempt, RetryPolicy
from schemas import (
    AgentError,
    AgentRequest,
    Claim,
    ModelAnswer,
    ProviderError,
    RetriesExhausted,
    StepTimeout,
    Usage,
)
from schemas.localization import TranslationRequest, TranslationResult
from schemas.pipeline import AnalysisRequest

__all__ = [
    "Completion",
    "LlmAgent",
    "OverBudget",
    "ParsedAnswer",
    "Repair",
    "parse_answer",
    "parse_claims",
    "parse_translation",
]

_MAX_SUMMARY = 2000


@dataclass(frozen=True)
class ParsedAnswer:
    """A model's structured output once parsed: its claims and its optional short summary."""

    claims: list[Claim]
    summary: str | None = None


def parse_answer(raw: str) -> ParsedAnswer:
    """Parse a model's structured output strictly: `{"claims": [...], "summary"?: str}` or raise bad_output."""
    try:
        data: Any = json.loads(raw)
        items = data["claims"]
        if not isinstance(items, list):
            raise TypeError("claims is not a list")
        summary = data.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise TypeError("summary is not a string")
        claims = [Claim.model_validate(item) for item in items]
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise ProviderError("bad_output", f"unparseable model output ({type(exc).__name__})") from exc
    summary = " ".join(summary.split())[:_MAX_SUMMARY] if summary else None
    return ParsedAnswer(claims=claims, summary=summary or None)


def parse_translation(raw: str) -> dict[str, str]:
    """Parse a translation strictly: `{"segments": [{"id", "text"}]}` to {id: text}, or raise bad_output."""
    try:
        data: Any = json.loads(raw)
        items = data["segments"]
        if not isinstance(items, list):
            raise TypeError("segments is not a list")
        out = {}
        for item in items:
            if not isinstance(item.get("id"), str) or not isinstance(item.get("text"), str):
                raise TypeError("a segment needs a string id and text")
            out[item["id"]] = item["text"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProviderError("bad_output", f"unparseable translation ({type(exc).__name__})") from exc
    return out


def parse_claims(raw: str) -> list[Claim]:
    """Parse a model's structured output strictly and return only its claims (see `parse_answer`)."""
    return parse_answer(raw).claims


def _fit_to_brief(claims: list[Claim], request: AnalysisRequest) -> list[Claim]:
    """Drop question indexes and markets the brief does not have: a model's slip must not point at nothing."""
    questions, markets = len(request.brief.questions), set(request.brief.markets)
    out = []
    for claim in claims:
        update: dict[str, Any] = {}
        if claim.question is not None and claim.question >= questions:
            update["question"] = None
        if claim.market is not None and claim.market not in markets:
            update["market"] = None
        out.append(claim.model_copy(update=update) if update else claim)
    return out


@dataclass(frozen=True)
class Completion:
    """One model call: its raw text, token counts, the provider's own cost figure, or why it refused."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    failure: ProviderError | None = None


@dataclass(frozen=True)
class Repair:
    """The one repair retry: the malformed reply and what was wrong with it."""

    previous: str
    problem: str


class OverBudget(AgentError):
    """Another call would cost more than the request's budget allows."""

    code = "over_budget"


class _Ledger:
    """What the calls of one analysis spent."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = 0
        self.cost = 0.0
        self.repaired = False

    def add(self, completion: Completion, price: Price) -> None:
        self.calls += 1
        self.tokens += completion.input_tokens + completion.output_tokens
        if completion.cost_usd is not None:
            self.cost += completion.cost_usd
        else:
            self.cost += price.cost(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens)

    def usage(self) -> Usage | None:
        return Usage(tokens=self.tokens, cost=round(self.cost, 8)) if self.tokens or self.cost else None


class LlmAgent(abc.ABC):
    """One provider's agent; subclasses implement `_complete` (one model call, raw text out)."""

    provider: str
    model: str

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        retry: RetryPolicy | None = None,
        price: Price | None = None,
        max_output_tokens: int = 4096,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()  # the clock the orchestrator built the envelope's deadline on
        self.provider = provider
        self.model = model
        self.price = price or Price()
        self.max_output_tokens = max_output_tokens
        self._retry = retry or RetryPolicy(max_attempts=2, base_delay_s=0.2)

    @abc.abstractmethod
    async def _complete(self, request: AnalysisRequest, *, timeout_s: float | None, repair: Repair | None = None) -> Completion | str:
        """Ask the model once (with the repair instruction when given); raise ProviderError on failure."""

    def estimate_cost(self, request: AnalysisRequest) -> float:
        """Upper estimate of one call's cost in USD: the prompt's tokens plus the full output cap."""
        if self.price.free:
            return 0.0
        tokens = estimate_tokens(build_prompt(request).text)
        return self.price.cost(input_tokens=tokens, output_tokens=self.max_output_tokens)

    def _own_claims(self, claims: list[Claim]) -> list[Claim]:
        """Hook for agents that rewrite parsed claims (e.g. make their ids unique per provider)."""
        return claims

    async def analyze(self, envelope: AgentRequest[AnalysisRequest]) -> ModelAnswer:
        """Answer the analysis request; failures come back as an answer with status timeout/error."""
        start = time.monotonic()
        request = envelope.payload
        policy = RetryPolicy(
            max_attempts=self._retry.max_attempts,
            base_delay_s=self._retry.base_delay_s,
            jitter=self._retry.jitter,
            deadline_s=max(0.0, (envelope.deadline - self.clock.now()).total_seconds()),
        )
        ledger = _Ledger()
        estimate = self.estimate_cost(request)

        async def call(timeout_s: float | None, repair: Repair | None = None) -> str:
            allowed = request.cost_budget_usd
            if allowed is not None and ledger.cost + estimate > allowed + 1e-12:
                raise OverBudget(
                    f"another call (about ${estimate:.4f}) would exceed this provider's ${allowed:.4f} share "
                    f"of the job budget (${ledger.cost:.4f} spent)"
                )
            out = await self._complete(request, timeout_s=timeout_s, repair=repair)
            completion = out if isinstance(out, Completion) else Completion(text=out)
            ledger.add(completion, self.price)
            if completion.failure is not None:
                raise completion.failure
            return completion.text

        async def attempt(a: Attempt) -> ParsedAnswer:
            raw = await call(a.timeout_s)
            try:
                return parse_answer(raw)
            except ProviderError as exc:
                if ledger.repaired:
                    raise
                ledger.repaired = True
                return parse_answer(await call(a.timeout_s, Repair(previous=raw, problem=exc.message)))

        try:
            parsed = await policy.acall(attempt)
        except (StepTimeout, TimeoutError) as exc:
            cause = exc.__cause__
            if isinstance(cause, ProviderError) and cause.kind != "timeout":  # e.g. a retry-after past the deadline
                return self._answer("error", start, ledger, error=f"{cause.kind}: {exc}")
            waited = time.monotonic() - start
            return self._answer("timeout", start, ledger, error=f"timeout: no answer within {waited:.1f}s (the request deadline)")
        except ProviderError as exc:
            return self._answer("timeout" if exc.kind == "timeout" else "error", start, ledger, error=f"{exc.kind}: {exc.message}")
        except OverBudget as exc:
            return self._answer("error", start, ledger, error=f"budget: {exc.message}")
        except RetriesExhausted as exc:
            cause = exc.__cause__
            kind = cause.kind if isinstance(cause, ProviderError) else "timeout" if isinstance(cause, StepTimeout) else "error"
            status = "timeout" if kind == "timeout" else "error"
            return self._answer(status, start, ledger, error=f"{kind}: {exc.message}")
        claims = self._own_claims(_fit_to_brief(parsed.claims, request))
        return self._answer("ok", start, ledger, claims=claims, summary=parsed.summary)

    async def translate(self, envelope: AgentRequest[TranslationRequest]) -> TranslationResult:
        """Translate the request's segments (structured output); failures come back as a result with status error.

        Transient provider errors are retried within the envelope's deadline; whether each segment
        kept its protected tokens is the caller's check (it retries or falls back on its own).
        """
        start = time.monotonic()
        request = envelope.payload
        policy = RetryPolicy(
            max_attempts=self._retry.max_attempts, base_delay_s=self._retry.base_delay_s, jitter=self._retry.jitter,
            deadline_s=max(0.0, (envelope.deadline - self.clock.now()).total_seconds()),
        )
        ledger = _Ledger()

        async def attempt(a: Attempt) -> dict[str, str]:
            out = await self._complete(request, timeout_s=a.timeout_s)  # type: ignore[arg-type]
            completion = out if isinstance(out, Completion) else Completion(text=out)
            ledger.add(completion, self.price)
            if completion.failure is not None:
                raise completion.failure
            return parse_translation(completion.text)

        def result(status: str, **kw: Any) -> TranslationResult:
            return TranslationResult(provider=self.provider, model=self.model, status=status,  # type: ignore[arg-type]
                                     latency_s=round(time.monotonic() - start, 4), usage=ledger.usage(), **kw)

        try:
            segments = await policy.acall(attempt)
        except ProviderError as exc:
            return result("error", error=f"{exc.kind}: {exc.message}")
        except (RetriesExhausted, StepTimeout, TimeoutError) as exc:
            cause = exc.__cause__
            kind = cause.kind if isinstance(cause, ProviderError) else "timeout"
            return result("error", error=f"{kind}: {exc}")
        return result("ok", segments=segments)

    def _answer(
        self, status: str, start: float, ledger: _Ledger, *, claims: list[Claim] | None = None,
        error: str | None = None, summary: str | None = None,
    ) -> ModelAnswer:
        return ModelAnswer(
            provider=self.provider,
            model=self.model,
            status=status,  # type: ignore[arg-type]
            error=error,
            claims=claims or [],
            latency_s=round(time.monotonic() - start, 4),
            usage=ledger.usage(),
            summary=summary,
        )
