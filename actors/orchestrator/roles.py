"""Agent roles at the envelope level: what the orchestrator calls by role name, on Ray or in-process alike.

A role's methods take the envelope first (then any further arguments); the Ray actor shells and the
in-process agents serve these same objects, so a new step's agent is one role class plus its wiring
in the composition root. The PII role is `actors.pii.service.PiiService`.
"""

from __future__ import annotations

from typing import Any

from actors.data_collection import DataCollectionAgent
from actors.figma.export import FigmaRole
from actors.report import ReportAgent
from schemas import AgentRequest, Artifact
from schemas.pipeline import CollectResult

__all__ = ["CollectorRole", "ReportRole"]


class CollectorRole:
    """The `collector` role: evidence for the brief, through MCP."""

    def __init__(self, agent: DataCollectionAgent) -> None:
        self.agent = agent

    async def collect(self, envelope: AgentRequest[Any]) -> CollectResult:
        """Collect evidence for the envelope's brief and documents, with a report per source."""
        return await self.agent.collect(envelope.payload)


class ReportRole(FigmaRole):
    """The `report` role: render and store the report; fill Figma templates (`figma`)."""

    def __init__(self, agent: ReportAgent) -> None:
        self.agent = agent

    def render(self, envelope: AgentRequest[Any]) -> list[Artifact]:
        """Render the envelope's report input; return the stored artifacts."""
        return self.agent.render(envelope.payload)
