"""JSON Schema export of the contracts; the CLI writes them, tests compare them (no I/O here)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from schemas.answers import Evidence, ModelAnswer
from schemas.artifacts import Artifact
from schemas.brief import Brief
from schemas.envelopes import AgentRequest, AgentResponse
from schemas.events import Event
from schemas.figma import FillPlan
from schemas.job import JobRecord, StepRecord
from schemas.mcp import McpToolDescriptor
from schemas.merge import MergeResult
from schemas.pii import PiiEntity

__all__ = ["CONTRACTS", "FROZEN_VERSION", "LIVE_DIR", "json_schemas"]

LIVE_DIR = "latest"  # schemas/json/latest: what the code says now (kept fresh by a test)
FROZEN_VERSION = "v1"  # schemas/json/v1: the frozen contract; latest must stay compatible with it

CONTRACTS: dict[str, type[BaseModel]] = {
    "agent_request": AgentRequest[dict[str, Any]],
    "agent_response": AgentResponse[dict[str, Any]],
    "artifact": Artifact,
    "brief": Brief,
    "event": Event,
    "evidence": Evidence,
    "figma_plan": FillPlan,
    "job": JobRecord,
    "mcp_tool": McpToolDescriptor,
    "merge_result": MergeResult,
    "model_answer": ModelAnswer,
    "pii_entity": PiiEntity,
    "step": StepRecord,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return `{file name: JSON Schema}` for every contract, stable across runs."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in CONTRACTS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://marketing-assistant.dev/schemas/{LIVE_DIR}/{name}.json"
        schema["title"] = name
        out[f"{name}.json"] = schema
    return out
