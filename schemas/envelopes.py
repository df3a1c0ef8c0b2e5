"""Envelopes around every agent call: who asks, for which job and step, until when, in which trace."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = ["AgentRequest", "AgentResponse", "AgentFailure", "TRACEPARENT_PATTERN"]

P = TypeVar("P")
R = TypeVar("R")

TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class AgentRequest(BaseModel, Generic[P]):
    """A request to an agent; the payload model is the agent method's one input model."""

    correlation_id: str = Field(min_length=1, max_length=128)
    idempotency_key: str = Field(min_length=1, max_length=256, description="Same key, same effect.")
    job_id: str
    step: str = Field(min_length=1, max_length=64)
    attempt: int = Field(default=1, ge=1)
    deadline: datetime = Field(description="Absolute time (UTC) after which the answer is useless.")
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)
    payload: P


class AgentFailure(BaseModel):
    """Why an agent call failed, as a value."""

    code: str
    message: str
    retryable: bool = False
    kind: str | None = Field(default=None, description="Provider error kind, when a provider failed.")
    retry_after_s: float | None = Field(default=None, ge=0)


class AgentResponse(BaseModel, Generic[R]):
    """An agent's answer to one request: a result or a failure, never both."""

    correlation_id: str
    job_id: str
    step: str
    attempt: int = Field(ge=1)
    ok: bool
    result: R | None = None
    failure: AgentFailure | None = None
    duration_s: float = Field(ge=0)
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)
