"""MCP tool descriptors as the Discovery Cache keeps them (names follow the MCP spec)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpToolDescriptor"]


class McpToolDescriptor(BaseModel):
    """One tool an MCP server offers (`tools/list` entry)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    inputSchema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    outputSchema: dict[str, Any] | None = None
    server: str | None = Field(default=None, description="Configured server the tool came from.")
