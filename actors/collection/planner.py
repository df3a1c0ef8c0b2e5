"""The rule-based collection planner: which MCP tools and resources to call for a brief, read off their schemas.

Pure. Nothing here knows a particular server: a tool is planned when it is safe to call (its
annotations say read-only; without that hint, whose MCP default is "may write", only a name that
starts with a read verb such as `get_…`, `listFiles`, `search`) and every required parameter can be
bound. Parameters are bound by what their name and JSON schema say they mean:

- a country (`country`, `market`, a description naming ISO 3166) -> each of the brief's markets;
  a list of countries -> all of them;
- a category, industry or sector -> the product category; a product -> the product name;
- a brand, company or competitor (or `name` on a tool about brands) -> each named competitor;
- a query, question or topic -> each of the brief's questions;
- a path -> the paths the server itself revealed: a call with no parameters (`list_allowed_directories`)
  or a listing (`[DIR] x` / `[FILE] y` lines, absolute paths one per line) opens the next round, where one
  listing tool per server walks directories and one reader per file reads it (a byte reader for binary
  documents, a text reader for text).

Resources are read when the server lists them for the assistant (annotation audience `assistant`, or a
priority of at least 0.5) and their URI is `<server>://<a>/<b>…`, the form `mcp://<server>/<path>` reaches
(a one-segment path would name a tool); other resources are left alone.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from actors.mcp.uris import build_mcp_uri
from schemas import Brief, McpToolDescriptor
from schemas.mcp import McpResourceDescriptor

__all__ = [
    "Discovered", "PlannedCall", "Role", "discover", "is_safe", "name_words", "param_role", "plan_paths", "plan_resources",
    "plan_tools", "fair_share",
    "BINARY_EXTENSIONS",
]

Role = Literal["country", "countries", "category", "product", "brand", "question", "path", "paths", "dir", "url"]
Purpose = Literal["evidence", "navigate", "read"]

MAX_CALLS_PER_SERVER = 60
MAX_FILES_PER_SERVER = 40
MAX_DEPTH = 3
BINARY_EXTENSIONS = frozenset({"pdf", "docx", "xlsx", "pptx"})
DOCUMENT_EXTENSIONS = BINARY_EXTENSIONS | {"csv", "md", "markdown", "txt", "html", "htm"}

_READ_VERBS = frozenset({
    "get", "list", "read", "search", "find", "lookup", "look", "query", "fetch", "describe", "show", "count", "browse",
    "check", "retrieve", "view", "explore", "summarize", "summarise", "stat", "stats", "inspect", "head", "peek",
})
"""First words of a tool name that read: an unannotated tool is called only when its name starts with one."""
_NAMES: dict[Role, frozenset[str]] = {
    "country": frozenset({"country", "countrycode", "market", "iso", "cc", "countryiso", "iso2", "geo", "territory"}),
    "countries": frozenset({"countries", "markets", "countrycodes", "territories"}),
    "category": frozenset({"category", "industry", "sector", "vertical", "productcategory", "segment"}),
    "product": frozenset({"product", "productname"}),
    "brand": frozenset({"brand", "company", "competitor", "organization", "organisation", "org", "brandname",
                        "companyname"}),
    "question": frozenset({"query", "q", "question", "search", "topic", "keywords", "keyword", "term"}),
    "path": frozenset({"path", "file", "filepath", "filename", "source"}),
    "paths": frozenset({"paths", "files", "filepaths"}),
    "dir": frozenset({"directory", "dir", "folder", "dirpath"}),
    "url": frozenset({"url", "uri", "link", "href"}),
}
_BRAND_TOOL = re.compile(r"brand|compan|competitor|organi[sz]ation", re.IGNORECASE)
_LISTING = re.compile(r"(^|_)(list|ls|tree|dir|directory|browse)", re.IGNORECASE)
_METADATA = re.compile(r"info|stat|meta|size|tree|search|find|list|dir", re.IGNORECASE)
_PLURAL_PER_CALL = ("country", "brand", "question", "path", "dir")


@dataclass(frozen=True)
class PlannedCall:
    """One request: its `mcp://` URI, what the answer is for, and the file it reads (if any)."""

    server: str
    uri: str
    tool: str | None
    arguments: tuple[tuple[str, Any], ...] = ()
    purpose: Purpose = "evidence"
    path: str | None = None
    depth: int = 0
    market: str | None = None  # the market a per-market call is about

    @property
    def kind(self) -> Literal["tool", "resource"]:
        """`tool` or `resource`."""
        return "tool" if self.tool else "resource"


@dataclass
class Discovered:
    """Paths a server revealed, by server: directories still to list and files still to read."""

    dirs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # (path, depth)
    files: dict[str, list[str]] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add_dir(self, server: str, path: str, depth: int) -> None:
        """Note a directory (once)."""
        if (server, path) not in self.seen and depth <= MAX_DEPTH:
            self.seen.add((server, path))
            self.dirs.setdefault(server, []).append((path, depth))

    def add_file(self, server: str, path: str) -> None:
        """Note a file (once)."""
        if (server, path) not in self.seen:
            self.seen.add((server, path))
            self.files.setdefault(server, []).append(path)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def param_role(name: str, schema: Mapping[str, Any], tool: McpToolDescriptor) -> Role | None:
    """What a parameter means, from its name, type and description (None: nothing we can bind)."""
    key = _norm(name)
    description = str(schema.get("description") or "")
    is_array = schema.get("type") == "array"
    for role, names in _NAMES.items():
        if key in names:
            if role == "country" and is_array:
                return "countries"
            if role == "countries" and not is_array:
                return "country"
            if role == "path" and is_array:
                return "paths"
            return role
    if key == "name" and _BRAND_TOOL.search(f"{tool.name} {tool.description}"):
        return "brand"
    if re.search(r"ISO 3166|country code", description, re.IGNORECASE):
        return "countries" if is_array else "country"
    return None


def name_words(name: str) -> list[str]:
    """A tool name's words: `getMarketSize`, `get_market-size` and `files.get` all split into words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[\s_.\-/:]+", spaced.lower()) if w]


def is_safe(tool: McpToolDescriptor) -> bool:
    """True for tools collection may call: read-only by their annotations (and not destructive), or, with no
    read-only hint (the MCP default is "may write"), a name that starts with a read verb (`get_…`, `listFiles`)."""
    hints = tool.annotations or {}
    if hints.get("destructiveHint") is True or hints.get("readOnlyHint") is False:
        return False
    if "deprecated" in tool.description.lower()[:200]:
        return False
    if hints.get("readOnlyHint") is True:
        return True
    words = name_words(tool.name.rsplit(".", 1)[-1])  # `files.get`: the verb of a namespaced name comes last
    return bool(words) and words[0] in _READ_VERBS


def _roles(tool: McpToolDescriptor) -> tuple[dict[str, Role], list[str]] | None:
    """Parameter roles of a tool: every required parameter bound, optional ones when bindable; None if not callable."""
    schema = tool.inputSchema or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    roles: dict[str, Role] = {}
    for name, prop in properties.items():
        role = param_role(name, prop if isinstance(prop, Mapping) else {}, tool)
        if role is None or role == "url":
            if name in required:
                return None
            continue
        roles[name] = role
    return roles, sorted(required)


def _callable(tools: Sequence[McpToolDescriptor]) -> Iterator[tuple[int, McpToolDescriptor, dict[str, Role], list[str]]]:
    """The safe tools whose required parameters all have a role, with their position, roles and required names."""
    for position, tool in enumerate(tools):
        shape = _roles(tool) if is_safe(tool) else None
        if shape is not None:
            yield position, tool, shape[0], shape[1]


def _values(role: Role, brief: Brief) -> list[Any]:
    category = brief.product.category.strip()
    if role == "country":
        return list(brief.markets)
    if role == "countries":
        return [list(brief.markets)]
    if role == "category":
        return [category] if category else []
    if role == "product":
        return [brief.product.name]
    if role == "brand":
        return list(brief.competitors)
    if role == "question":
        return list(brief.questions)
    return []


def plan_tools(server: str, tools: Sequence[McpToolDescriptor], brief: Brief) -> list[PlannedCall]:
    """The first round for one server: every safe tool whose parameters the brief binds (paths come later).

    Calls come market by market (in the brief's order; the server's tool order within a market), then the
    calls about no single market, so evidence reads as a report would.
    """
    ordered: list[tuple[tuple[int, int, int], PlannedCall]] = []
    markets = list(brief.markets)
    for position, tool, roles, required in _callable(tools):
        if any(roles[name] in ("path", "paths", "dir") for name in required):
            continue  # waits for paths the server reveals
        bound: dict[str, list[Any]] = {}
        for name, role in roles.items():
            if role in ("path", "paths", "dir"):
                continue
            values = _values(role, brief)
            if values:
                bound[name] = values
            elif name in required:
                break
        else:
            navigate = not tool.inputSchema.get("properties")
            country = next((name for name in bound if roles[name] == "country"), None)
            for n, combo in enumerate(itertools.product(*bound.values()) if bound else [()]):
                arguments = dict(zip(bound, combo))
                market = markets.index(arguments[country]) if country else len(markets)
                ordered.append(((market, position, n), PlannedCall(
                    server, build_mcp_uri(server, tool.name, arguments), tool.name, tuple(arguments.items()),
                    "navigate" if navigate else "evidence", market=arguments[country] if country else None)))
    return [call for _key, call in sorted(ordered, key=lambda kc: kc[0])]


def plan_resources(server: str, resources: Iterable[McpResourceDescriptor]) -> list[PlannedCall]:
    """Reads of the server's resources meant for the assistant, in `<server>://…` form."""
    out = []
    prefix = f"{server}://"
    for resource in sorted(resources, key=lambda r: r.uri):
        notes = resource.annotations or {}
        try:
            priority = float(notes.get("priority") or 0)
        except (TypeError, ValueError):  # a server's odd annotation reads as no priority
            priority = 0.0
        audience = notes.get("audience") if isinstance(notes.get("audience"), list) else []
        wanted = "assistant" in audience or priority >= 0.5
        if wanted and resource.uri.startswith(prefix) and "{" not in resource.uri:
            path = resource.uri[len(prefix):]
            if "/" in path.strip("/") and "?" not in path:  # one segment would name a tool in mcp:// form
                out.append(PlannedCall(server, build_mcp_uri(server, path), None))
    return out


def plan_paths(server: str, tools: Sequence[McpToolDescriptor], found: Discovered) -> list[PlannedCall]:
    """The next round: one listing call per revealed directory, one read per revealed document."""
    readers: list[tuple[McpToolDescriptor, str]] = []
    listers: list[tuple[McpToolDescriptor, str]] = []
    for _position, tool, roles, required in _callable(tools):
        path_params = [n for n in required if roles.get(n) in ("path", "dir")]
        if len(required) != 1 or not path_params:
            continue
        if roles[path_params[0]] == "dir" or _LISTING.search(tool.name):
            listers.append((tool, path_params[0]))
        elif not _METADATA.search(tool.name):
            readers.append((tool, path_params[0]))
    calls: list[PlannedCall] = []
    if listers:
        lister, param = min(listers, key=lambda tp: (not tp[0].name.startswith("list"), len(tp[0].name), tp[0].name))
        for path, depth in found.dirs.pop(server, []):
            calls.append(PlannedCall(server, build_mcp_uri(server, lister.name, {param: path}), lister.name,
                                     ((param, path),), "navigate", path, depth))
    for path in found.files.pop(server, [])[:MAX_FILES_PER_SERVER]:
        ext = posixpath.splitext(path)[1].lower().lstrip(".")
        if ext not in DOCUMENT_EXTENSIONS or not readers:
            continue
        binary = ext in BINARY_EXTENSIONS
        reader, param = min(readers, key=lambda tp: (_reader_rank(tp[0].name, binary), len(tp[0].name), tp[0].name))
        calls.append(PlannedCall(server, build_mcp_uri(server, reader.name, {param: path}), reader.name,
                                 ((param, path),), "read", path))
    return calls


def _reader_rank(name: str, binary: bool) -> int:
    lower = name.lower()
    byteish = any(w in lower for w in ("media", "binary", "blob", "bytes", "raw"))
    textish = "text" in lower
    if binary:
        return 0 if byteish else 2 if textish else 1
    return 0 if textish else 2 if byteish else 1


_FS_ENTRY = re.compile(r"^\[(FILE|DIR)\]\s+(.+?)\s*$")
_ABS_PATH = re.compile(r"^(/[^\n\t]*[^\s/]|/)$")


def discover(call: PlannedCall, text: str, found: Discovered) -> bool:
    """Mine a navigation result for paths (`[DIR]`/`[FILE]` entries, absolute paths); True when it revealed any."""
    revealed = False
    depth = call.depth
    for raw in text.splitlines()[:2000]:
        line = raw.strip()
        entry = _FS_ENTRY.match(line)
        if entry and call.path:
            path = posixpath.join(call.path, entry.group(2))
            if entry.group(1) == "DIR":
                found.add_dir(call.server, path, depth + 1)
            else:
                found.add_file(call.server, path)
            revealed = True
        elif _ABS_PATH.match(line):
            ext = posixpath.splitext(line)[1].lower().lstrip(".")
            if ext in DOCUMENT_EXTENSIONS:
                found.add_file(call.server, line)
            elif not ext:
                found.add_dir(call.server, line, depth)
            revealed = True
    return revealed


def fair_share(calls: list[PlannedCall], budget: int) -> list[PlannedCall]:
    """At most `budget` calls, taken round-robin over the markets (then the calls about none), so a cap trims every
    market a little instead of dropping the last ones; the order of what is kept is the plan's."""
    if len(calls) <= budget:
        return calls
    groups: dict[str | None, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(call.market, []).append(index)
    chosen: list[int] = []
    queues = [list(indexes) for indexes in groups.values()]
    while len(chosen) < budget and any(queues):
        for queue in queues:
            if queue and len(chosen) < budget:
                chosen.append(queue.pop(0))
    return [calls[i] for i in sorted(chosen)]
