"""Contracts between the parts of the system: pydantic v2 models and the error tree, no I/O."""

from __future__ import annotations

from schemas._errors import (
    AdapterError,
    AgentError,
    ArtifactNotFound,
    BelowQuorum,
    BriefTooLong,
    EventBusError,
    IdempotencyConflict,
    IllegalTransition,
    InvalidBrief,
    InvalidInput,
    JobError,
    JobNotFound,
    MkaError,
    ProviderError,
    RetriesExhausted,
    StaleJobVersion,
    StepTimeout,
    StorageError,
    problems_from,
)
from schemas.answers import Claim, Evidence, ModelAnswer, Usage
from schemas.artifacts import Artifact
from schemas.brief import Brief, Product, parse_brief
from schemas.envelopes import AgentFailure, AgentRequest, AgentResponse
from schemas.events import (
    EVENT_SCHEMA_VERSION,
    SUPPORTED_EVENT_MAJORS,
    Event,
    EventType,
    UnsupportedEventVersion,
    event_subject,
    parse_event,
)
from schemas.job import TERMINAL_STATES, JobRecord, JobState, StepOutcome, StepRecord
from schemas.mcp import McpToolDescriptor
from schemas.merge import Disagreement, MergedClaim, MergeResult, Quorum
from schemas.pii import PiiClass, PiiEntity, pii_field, pii_fields

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "SUPPORTED_EVENT_MAJORS",
    "TERMINAL_STATES",
    "AdapterError",
    "AgentError",
    "AgentFailure",
    "AgentRequest",
    "AgentResponse",
    "Artifact",
    "ArtifactNotFound",
    "BelowQuorum",
    "Brief",
    "BriefTooLong",
    "Claim",
    "Disagreement",
    "Event",
    "EventBusError",
    "EventType",
    "Evidence",
    "IdempotencyConflict",
    "IllegalTransition",
    "InvalidBrief",
    "InvalidInput",
    "JobError",
    "JobNotFound",
    "JobRecord",
    "JobState",
    "McpToolDescriptor",
    "MergeResult",
    "MergedClaim",
    "MkaError",
    "ModelAnswer",
    "PiiClass",
    "PiiEntity",
    "Product",
    "ProviderError",
    "Quorum",
    "RetriesExhausted",
    "StaleJobVersion",
    "StepOutcome",
    "StepRecord",
    "StepTimeout",
    "StorageError",
    "UnsupportedEventVersion",
    "Usage",
    "event_subject",
    "parse_brief",
    "parse_event",
    "pii_field",
    "pii_fields",
    "problems_from",
]
