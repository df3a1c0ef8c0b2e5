"""MCP tool descriptors as the Discovery Cache keeps them (names follow the MCP spec)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpResourceDescriptor", "McpToolDescriptor"]


class McpToolDescriptor(BaseModel):
    """One tool an MCP server offers (`tools/list` entry)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    inputSchema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    outputSchema: dict[str, Any] | None = None
    server: str | None = Field(default=None, description="Configured server the tool came from.")
    annotations: dict[str, Any] | None = Field(
        default=None, description="The server's hints (readOnlyHint, destructiveHint, …); collection calls only "
        "read-only tools."
    )


class McpResourceDescriptor(BaseModel):
    """One concrete resource a server lists (`resources/list` entry)."""

    uri: str = Field(min_length=1, max_length=2000)
    name: str = ""
    description: str = ""
    mime_type: str | None = None
    annotations: dict[str, Any] | None = Field(
        default=None, description="audience and priority; collection reads resources meant for the assistant."
    )
    server: str | None = None
