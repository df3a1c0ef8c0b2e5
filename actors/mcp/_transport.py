"""How the cache and the broker reach MCP servers: an interface and its stdio implementation.

`StdioTransport` keeps one long-lived client session per configured server. Each session runs
inside its own background task (the SDK's clients are async context managers whose enter and exit
must happen in one task); requests from any task go through it. A session that breaks is dropped
and reopened on the next request. Errors are translated at this boundary:

- the server cannot be started or the connection drops -> `AdapterError` (retryable),
- the server rejects a request or a tool reports an error -> `AgentError` (not retryable),
- the server no longer knows the tool -> `UnknownTool` (an `AgentError`).

Timeouts belong to the callers (they own the budget); a caller cancelled while a session is
still connecting drops that session, so a hung server is restarted on the next request.
"""

from __future__ import annotations

import abc
import asyncio
import json
from typing import Any

import anyio
from pydantic import BaseModel, JsonValue

from schemas import AdapterError, AgentError, McpToolDescriptor
from schemas.mcp import McpResourceDescriptor

__all__ = ["Blob", "McpTransport", "ResourceOutput", "StdioTransport", "ToolOutput", "UnknownTool", "session_params"]

OWN_KEYS = frozenset({"source_type", "url", "headers", "description", "transport", "stderr"})
"""Keys of a server's configuration that are ours, not the SDK's stdio parameters."""


class UnknownTool(AgentError):
    """The server does not (or no longer) offer the tool."""

    code = "mcp_unknown_tool"


class Blob(BaseModel):
    """Binary content a server returned (an embedded file): its bytes and media type."""

    uri: str | None = None
    mime_type: str | None = None
    data: bytes


class ToolOutput(BaseModel):
    """What a tool call returned: structured content when the tool has an output schema, its text, files, `_meta`."""

    content: JsonValue = None
    text: str = ""
    blobs: list[Blob] = []
    meta: dict[str, Any] | None = None


class ResourceOutput(BaseModel):
    """What a resource read returned: parsed JSON for JSON resources, the raw text, binary parts, `_meta`."""

    content: JsonValue = None
    text: str = ""
    mime_type: str | None = None
    blobs: list[Blob] = []
    meta: dict[str, Any] | None = None


class McpTransport(abc.ABC):
    """Sends MCP requests to configured servers; tests pass a scripted subclass."""

    @abc.abstractmethod
    async def list_tools(self, server: str) -> list[McpToolDescriptor]:
        """Return the server's `tools/list`."""

    @abc.abstractmethod
    async def call_tool(self, server: str, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Call a tool; raise `AgentError` when the tool reports an error."""

    @abc.abstractmethod
    async def read_resource(self, server: str, uri: str) -> ResourceOutput:
        """Read a resource by its server-side URI."""

    async def list_resources(self, server: str) -> list[McpResourceDescriptor]:
        """Return the server's `resources/list` (none unless a transport implements it)."""
        return []

    @abc.abstractmethod
    async def reset(self, server: str) -> None:
        """Drop the server's session; the next request opens a new one."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close every session."""


class _Session:
    """One server's long-lived client session, owned by a background task."""

    def __init__(self, server: str, config: dict[str, Any]) -> None:
        self.server = server
        self._params = session_params(config)
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._client: Any = None
        self._error: BaseException | None = None
        self._scope: anyio.CancelScope | None = None
        self._task = asyncio.ensure_future(self._run())

    @property
    def usable(self) -> bool:
        """True while the session is connecting or connected."""
        return not self._task.done() and not self._stop.is_set()

    @property
    def connected(self) -> bool:
        """True once the handshake finished and the session is still open."""
        return self._client is not None and self.usable

    async def _run(self) -> None:
        from mcp import Client

        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._stop.is_set():  # closed before the task first ran
                    return
                async with Client(self._params, cache=None) as client:
                    self._client = client
                    self._ready.set()
                    await self._stop.wait()
        except Exception as exc:  # boundary: kept and re-raised to requesters as AdapterError
            self._error = exc
        finally:
            self._client = None
            self._ready.set()

    async def client(self) -> Any:
        """Wait for the handshake and return the connected SDK client."""
        await self._ready.wait()
        if self._client is None:
            reason = _describe(self._error) if self._error else "session closed"
            raise AdapterError(f"MCP server {self.server!r} is not reachable: {reason}") from self._error
        return self._client

    async def aclose(self) -> None:
        """End the session and wait for the server process to be stopped."""
        self._stop.set()
        if self._client is None and self._scope is not None:
            self._scope.cancel()  # still connecting: the stop event is not being awaited yet
        await asyncio.shield(self._task)


def session_params(config: dict[str, Any]) -> Any:
    """What the SDK client connects with: stdio parameters for `{"command", "args", "env"?, "cwd"?, "stderr"?}`
    (`stderr`: a file for the server's own log), or a streamable HTTP transport for `{"url", "headers"?}` (headers
    carry auth; they are never logged)."""
    if config.get("url"):
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        url = str(config["url"])
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must be http(s), got {url.split(':', 1)[0]!r}")
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=30.0))
    from mcp import StdioServerParameters

    params = StdioServerParameters(**{k: v for k, v in config.items() if k not in OWN_KEYS})
    if config.get("stderr"):  # a chatty server logs to a file, not over the user's terminal
        from pathlib import Path

        from mcp.client.stdio import stdio_client

        log = Path(str(config["stderr"]))
        log.parent.mkdir(parents=True, exist_ok=True)
        return stdio_client(params, errlog=log.open("a", encoding="utf-8"))
    return params


class StdioTransport(McpTransport):
    """Long-lived sessions to configured servers: stdio (`{"command", "args", "env"?, "cwd"?}`) or streamable
    HTTP (`{"url", "headers"?}`).

    Example:
        >>> transport = StdioTransport({"market-data": {"command": "python", "args": ["-m", "x"]}})
        >>> transport.servers
        ['market-data']
    """

    def __init__(self, servers: dict[str, dict[str, Any]]) -> None:
        self._configs = {name: dict(cfg) for name, cfg in servers.items()}
        self._sessions: dict[str, _Session] = {}
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def servers(self) -> list[str]:
        """Configured server names, sorted."""
        return sorted(self._configs)

    def _session(self, server: str) -> _Session:
        session = self._sessions.get(server)
        if session is not None and session.usable:
            return session
        if session is not None:
            self._drop(server, session)
        config = self._configs.get(server)
        if config is None:
            raise AgentError(f"unknown MCP server {server!r}; configured: {', '.join(self.servers) or 'none'}")
        try:
            session = _Session(server, config)
        except (TypeError, ValueError) as exc:
            raise AdapterError(f"bad configuration of MCP server {server!r}: {exc}", retryable=False) from exc
        self._sessions[server] = session
        return session

    def _drop(self, server: str, session: _Session) -> None:
        if self._sessions.get(server) is session:
            del self._sessions[server]
        task = asyncio.ensure_future(session.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _request(self, server: str, what: str, op: Any) -> Any:
        session = self._session(server)
        try:
            client = await session.client()
        except asyncio.CancelledError:
            if not session.connected:  # a timeout hit while connecting: restart next time
                self._drop(server, session)
            raise
        except AdapterError:
            self._drop(server, session)
            raise
        try:
            return await op(client)
        except Exception as exc:  # boundary: translate SDK and transport errors
            if _is_transport_error(exc):
                self._drop(server, session)
                raise AdapterError(f"MCP server {server!r} failed during {what}: {_describe(exc)}") from exc
            raise AgentError(f"MCP server {server!r} rejected {what}: {_describe(exc)}") from exc

    async def list_tools(self, server: str) -> list[McpToolDescriptor]:
        """Return every tool the server lists (all pages)."""

        async def op(client: Any) -> list[McpToolDescriptor]:
            pages = await _all_pages(client.list_tools)
            return [_descriptor(server, tool) for page in pages for tool in page.tools]

        result: list[McpToolDescriptor] = await self._request(server, "tools/list", op)
        return result

    async def call_tool(self, server: str, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Call a tool and return its structured content and text."""

        async def op(client: Any) -> Any:
            return await client.call_tool(name, arguments)

        result = await self._request(server, f"tools/call {name!r}", op)
        text = "\n".join(block.text for block in result.content if getattr(block, "type", None) == "text")
        blobs: list[Blob] = []
        for block in result.content:
            if getattr(block, "type", None) == "resource":  # an embedded file: text or base64 bytes
                inner = block.resource
                if getattr(inner, "blob", None) is not None:
                    blobs.append(Blob(uri=str(inner.uri), mime_type=inner.mime_type, data=_b64(inner.blob)))
                elif getattr(inner, "text", None):
                    text = f"{text}\n{inner.text}" if text else inner.text
        if result.is_error:
            if text.startswith("Unknown tool"):
                raise UnknownTool(f"MCP server {server!r} has no tool {name!r}")
            detail = text.removeprefix(f"Error executing tool {name}: ") or "no details"
            raise AgentError(f"MCP tool {server}/{name} failed: {detail}", retryable=False)
        content = result.structured_content
        if content is None:
            content = _maybe_json(text)
        return ToolOutput(content=content, text=text, blobs=blobs, meta=result.meta)

    async def list_resources(self, server: str) -> list[McpResourceDescriptor]:
        """Return every resource the server lists (all pages); a server without resources lists none."""

        async def op(client: Any) -> list[McpResourceDescriptor]:
            capabilities = getattr(client, "server_capabilities", None)
            if capabilities is not None and getattr(capabilities, "resources", None) is None:
                return []
            pages = await _all_pages(client.list_resources)
            return [_resource(server, item) for page in pages for item in page.resources]

        result: list[McpResourceDescriptor] = await self._request(server, "resources/list", op)
        return result

    async def read_resource(self, server: str, uri: str) -> ResourceOutput:
        """Read a resource; JSON text is parsed, binary content is left out of `content`."""

        async def op(client: Any) -> Any:
            return await client.read_resource(uri)

        result = await self._request(server, f"resources/read {uri!r}", op)
        texts = [item for item in result.contents if getattr(item, "text", None) is not None]
        text = "\n".join(item.text for item in texts)
        mime = texts[0].mime_type if texts else None
        content = _maybe_json(text) if mime is None or "json" in mime else None
        blobs = [Blob(uri=str(item.uri), mime_type=item.mime_type, data=_b64(item.blob))
                 for item in result.contents if getattr(item, "blob", None) is not None]
        meta = dict(result.meta or {})
        for item in result.contents:  # a content's own `_meta` (its evidence id) wins over the result's
            meta.update(getattr(item, "meta", None) or {})
        return ResourceOutput(content=content, text=text, mime_type=mime, blobs=blobs, meta=meta or None)

    async def reset(self, server: str) -> None:
        """Drop the server's session; the next request reconnects."""
        session = self._sessions.get(server)
        if session is not None:
            self._drop(server, session)

    async def close(self) -> None:
        """Close every session and wait until the server processes are stopped."""
        for server, session in list(self._sessions.items()):
            self._drop(server, session)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)


async def _all_pages(request: Any) -> list[Any]:
    """Every page of a paginated list request (at most 100: a paginator that never ends cannot hang us)."""
    pages, cursor = [], None
    for _ in range(100):
        page = await request(cursor=cursor)
        pages.append(page)
        cursor = page.next_cursor
        if not cursor:
            break
    return pages


def _descriptor(server: str, tool: Any) -> McpToolDescriptor:
    hints = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations is not None else None
    return McpToolDescriptor(
        name=tool.name,
        description=tool.description or "",
        inputSchema=tool.input_schema or {"type": "object"},
        outputSchema=tool.output_schema,
        server=server,
        annotations=hints,
    )


def _resource(server: str, item: Any) -> McpResourceDescriptor:
    notes = item.annotations.model_dump(by_alias=True, exclude_none=True) if item.annotations is not None else None
    return McpResourceDescriptor(uri=str(item.uri), name=item.name or "", description=item.description or "",
                                 mime_type=item.mime_type, annotations=notes, server=server)


def _b64(text: str | bytes) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise AgentError(f"a server sent a blob that is not base64: {exc}", retryable=False) from exc


def _is_transport_error(exc: BaseException) -> bool:
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.error.code == CONNECTION_CLOSED
    transport = (OSError, EOFError, anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream)
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_transport_error(inner) for inner in exc.exceptions)
    return isinstance(exc, transport)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


def _maybe_json(text: str) -> JsonValue:
    try:
        value: JsonValue = json.loads(text)
    except ValueError:
        return None
    return value
