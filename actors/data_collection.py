"""The Data Collection agent: evidence from every source a job has, each source failing on its own.

Sources, collected concurrently:
- every configured MCP server (except the fetch server): calls planned from what the Discovery Cache
  reports (`actors.collection.planner`), results turned into evidence generically
  (`actors.collection.results`); a server's `source_type` setting says what it is (default `tool`);
- each URL of the brief, through the fetch MCP server, behind the address policy (`actors.collection.web`);
- each document of the job, converted, chunked and read table by table (`actors.documents`).

A server that crashes, hangs or returns garbage fails its own calls only: its `SourceReport` says
so and the other sources go on. Evidence is deduplicated across sources (the first source keeps
the item) and capped per source, every cap stated in the report. The collect step redacts the
evidence with the job's vault before anything else sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from actors.clock import Clock, SystemClock
from actors.collection import planner as plans
from actors.collection.results import result_evidence
from actors.collection.web import check_url, fetch_call, page_evidence
from actors.documents.convert import DocumentError, Limits, convert_document
from actors.documents.evidence import Caps, document_evidence
from actors.mcp.broker import BrokerResult
from schemas import Evidence, McpToolDescriptor, MkaError
from schemas.answers import SOURCE_TYPES, SourceType
from schemas.mcp import McpResourceDescriptor
from schemas.pipeline import CollectRequest, CollectResult, DocumentInput, SourceReport

__all__ = ["Broker", "Catalog", "CollectionConfig", "DataCollectionAgent", "dedupe"]


class Broker(Protocol):
    """What collection needs from the Resource Broker (or an adapter to its actor)."""

    async def resolve(self, uri: str) -> BrokerResult:
        """Resolve an `mcp://` URI."""
        ...


class Catalog(Protocol):
    """What collection needs from the Discovery Cache (or an adapter to its actor)."""

    async def tools(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools."""
        ...

    async def resources(self, server: str) -> list[McpResourceDescriptor]:
        """The server's resources."""
        ...


@dataclass(frozen=True)
class CollectionConfig:
    """Which servers to plan on (name -> source type), the fetch server, and the limits."""

    servers: Mapping[str, SourceType] = field(default_factory=lambda: {"market-data": "dataset"})
    fetch_server: str | None = "fetch"
    fetch_allow: frozenset[str] = frozenset()
    allowed_fetch_server: str | None = None  # reads the allow-listed hosts (private addresses let through)
    fetch_max_chars: int = 50_000
    limits: Limits = Limits()
    caps: Caps = Caps()
    ner_languages: tuple[str, ...] = ("en",)
    max_calls_per_server: int = plans.MAX_CALLS_PER_SERVER
    rounds: int = plans.MAX_DEPTH + 2

    @classmethod
    def from_servers(cls, servers: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> CollectionConfig:
        """From the resolved MCP server settings: each server's `source_type` (default `tool`), the fetch one apart."""
        readers = {kwargs.get("fetch_server", "fetch"), kwargs.get("allowed_fetch_server")}
        kinds: dict[str, SourceType] = {}
        for name, config in servers.items():
            if name in readers:  # the page readers serve the brief's URLs, not the planner
                continue
            kind = str(config.get("source_type") or "tool")
            kinds[name] = kind if kind in SOURCE_TYPES else "tool"  # type: ignore[assignment]
        return cls(servers=kinds, **kwargs)


@dataclass
class _Outcome:
    evidence: list[Evidence]
    report: SourceReport


class DataCollectionAgent:
    """Collects evidence for a brief from every source, concurrently; see the module docstring.

    Example:
        >>> agent = DataCollectionAgent(broker, catalog, CollectionConfig())  # doctest: +SKIP
        >>> result = await agent.collect(request)  # doctest: +SKIP
        >>> [(s.source, s.status) for s in result.sources]  # doctest: +SKIP
        [('mcp://market-data', 'ok')]
    """

    def __init__(
        self, broker: Broker, catalog: Catalog, config: CollectionConfig | None = None, *, clock: Clock | None = None,
        resolve: Callable[[str], list[str]] | None = None,
    ) -> None:
        self._broker = broker
        self._catalog = catalog
        self._config = config or CollectionConfig()
        self._clock = clock or SystemClock()
        self._resolve = resolve

    async def collect(self, request: CollectRequest) -> CollectResult:
        """Evidence from every source of the job, and a report per source (failures included)."""
        jobs: list[Awaitable[_Outcome]] = [self._server(name, kind, request)
                                           for name, kind in self._config.servers.items()]
        jobs += [self._page(ref.url, ref.required) for ref in request.brief.sources]
        jobs += [self._document(doc) for doc in request.documents]
        outcomes = await asyncio.gather(*jobs)
        evidence, merged = dedupe([o.evidence for o in outcomes])
        reports = []
        for outcome, dropped in zip(outcomes, merged):
            report = outcome.report
            if dropped:
                report = report.model_copy(update={
                    "items": report.items - dropped,
                    "warnings": [*report.warnings, f"{dropped} item(s) repeated evidence of an earlier source and "
                                                   "were merged into it"]})
            reports.append(report)
        return CollectResult(evidence=evidence, sources=reports)

    async def _timed(self, report: SourceReport, work: Callable[[SourceReport], Awaitable[list[Evidence]]]) -> _Outcome:
        t0 = self._clock.monotonic()
        try:
            items = await work(report)
        except DocumentError as exc:
            report.status, report.error = "failed", f"{exc.reason}: {exc.message}"
            items = []
        except MkaError as exc:
            report.status, report.error = "failed", exc.message
            items = []
        except Exception as exc:  # boundary: one source's surprise must not sink the others
            # The type only: a parser's or a validator's message may quote the document (personal data).
            report.status, report.error = "failed", f"unexpected {type(exc).__name__} while reading it"
            items = []
        report.elapsed_s = round(self._clock.monotonic() - t0, 3)
        report.items = len(items)
        if report.status != "failed" and not items:  # read, but nothing in it (a scanned PDF, an empty sheet)
            report.status = "failed"
            report.error = "it gave no evidence" + (f": {report.warnings[0]}" if report.warnings else "")
        elif report.status == "ok" and report.warnings:
            report.status = "warned"
        return _Outcome(items, report)

    async def _server(self, server: str, kind: SourceType, request: CollectRequest) -> _Outcome:
        report = SourceReport(source=f"mcp://{server}", source_type=kind, label=server, status="ok")

        async def work(report: SourceReport) -> list[Evidence]:
            return await self._plan_and_call(server, kind, request, report)

        return await self._timed(report, work)

    async def _plan_and_call(
        self, server: str, kind: SourceType, request: CollectRequest, report: SourceReport,
    ) -> list[Evidence]:
        tools = await self._catalog.tools(server)
        resources = await self._catalog.resources(server)
        calls = plans.plan_resources(server, resources) + plans.plan_tools(server, tools, request.brief)
        found = plans.Discovered()
        items: list[Evidence] = []
        failures: list[str] = []
        budget = self._config.max_calls_per_server
        for _round in range(self._config.rounds):
            if not calls:
                break
            if len(calls) > budget:
                report.warnings.append(f"{len(calls) - budget} planned call(s) left out: at most "
                                       f"{self._config.max_calls_per_server} calls per server and job, shared "
                                       "across the markets")
                calls = plans.fair_share(calls, budget)
            budget -= len(calls)
            results = await asyncio.gather(*(self._broker.resolve(c.uri) for c in calls), return_exceptions=True)
            report.calls += len(calls)
            for call, result in zip(calls, results):
                if isinstance(result, BaseException):
                    failures.append(_failure(call.uri, result))
                    continue
                if call.purpose == "navigate" and plans.discover(call, result.text, found):
                    continue
                try:
                    got, warnings = await asyncio.to_thread(
                        result_evidence, call, result, source_type=kind, retrieved_at=self._clock.now(),
                        limits=self._config.limits, caps=self._config.caps, ner_languages=self._config.ner_languages)
                except (MkaError, ValueError) as exc:
                    failures.append(_failure(call.uri, exc))
                    continue
                items += got
                report.warnings += warnings
            calls = plans.plan_paths(server, tools, found) if budget > 0 else []
        if failures:
            if not items:
                raise _AllFailed(failures)
            report.warnings += failures[:10] + ([f"… and {len(failures) - 10} more failed calls"]
                                                if len(failures) > 10 else [])
        return _cap(items, self._config.caps, report)

    async def _page(self, url: str, required: bool) -> _Outcome:
        host = urlsplit(url).hostname or url
        report = SourceReport(source=url, source_type="web", label=host, status="ok", required=required)

        async def work(report: SourceReport) -> list[Evidence]:
            allowed = (urlsplit(url).hostname or "").lower() in self._config.fetch_allow
            server = self._config.allowed_fetch_server if allowed else self._config.fetch_server
            if not server:
                raise _NoFetch("no fetch server is configured for this URL (MKA_FETCH_SERVER, MKA_FETCH_ALLOW)")
            resolve_kwargs = {"resolve": self._resolve} if self._resolve else {}
            await asyncio.to_thread(check_url, url, self._config.fetch_allow, **resolve_kwargs)
            call = fetch_call(server, url, self._config.fetch_max_chars)
            report.calls += 1
            result = await self._broker.resolve(call.uri)
            base = "web-" + hashlib.sha256(url.encode()).hexdigest()[:12]
            items, warnings = page_evidence(url, base, result, retrieved_at=self._clock.now(), caps=self._config.caps)
            report.warnings += warnings
            return items

        return await self._timed(report, work)

    async def _document(self, doc: DocumentInput) -> _Outcome:
        report = SourceReport(source=f"doc://{doc.id}", source_type="document", label=doc.id, status="ok",
                              required=doc.required)

        async def work(report: SourceReport) -> list[Evidence]:
            def convert() -> tuple[list[Evidence], list[str]]:
                converted = convert_document(doc.name, doc.data, self._config.limits,
                                             ner_languages=self._config.ner_languages)
                items, capped = document_evidence(converted, base_id=doc.id, source=f"doc://{doc.id}",
                                                  source_type="document", retrieved_at=self._clock.now(),
                                                  caps=self._config.caps)
                return items, converted.warnings + capped

            items, warnings = await asyncio.to_thread(convert)
            report.warnings += [_anonymous(w, doc) for w in warnings]
            return items

        outcome = await self._timed(report, work)
        if outcome.report.error:
            outcome.report.error = _anonymous(outcome.report.error, doc)
        return outcome


class _AllFailed(MkaError):
    code = "source_failed"

    def __init__(self, failures: list[str]) -> None:
        more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        super().__init__("every call failed: " + "; ".join(failures[:3]) + more)


class _NoFetch(MkaError):
    code = "no_fetch_server"


def _failure(uri: str, exc: BaseException) -> str:
    message = exc.message if isinstance(exc, MkaError) else f"unexpected {type(exc).__name__}"  # never its text
    return f"{uri}: {message}"


def _anonymous(text: str, doc: DocumentInput) -> str:
    """A message about a document names it by id: file names may be personal ("CV Jonas Becker.pdf")."""
    return text.replace(doc.name, doc.id) if doc.name else text


def _cap(items: list[Evidence], caps: Caps, report: SourceReport) -> list[Evidence]:
    limit = caps.max_chunks + caps.max_rows
    if len(items) > limit:
        report.warnings.append(f"kept the first {limit} of {len(items)} items (cap per source, so one server cannot "
                               "crowd out the others)")
        return items[:limit]
    return items


_SPACE = re.compile(r"\s+")


def dedupe(groups: Iterable[list[Evidence]]) -> tuple[list[Evidence], list[int]]:
    """Every group's evidence in order, a repeated item (same text and figures) kept once; how many each group lost.

    Ids stay unique: a later item whose id is taken gets a numbered suffix.
    """
    seen: set[tuple[str, tuple[tuple[str, float], ...]]] = set()
    ids: set[str] = set()
    out: list[Evidence] = []
    dropped: list[int] = []
    for group in groups:
        lost = 0
        for item in group:
            key = (_SPACE.sub(" ", item.text).strip().casefold(), tuple(sorted((item.data or {}).items())))
            if key in seen:
                lost += 1
                continue
            seen.add(key)
            if item.id in ids:
                n = 2
                while f"{item.id}-{n}"[:128] in ids:
                    n += 1
                item = item.model_copy(update={"id": f"{item.id}-{n}"[:128]})
            ids.add(item.id)
            out.append(item)
        dropped.append(lost)
    return out, dropped


def collection_config(
    servers: Mapping[str, Mapping[str, Any]], *, fetch_server: str, fetch_allow: Collection[str], fetch_max_chars: int,
    max_document_bytes: int, ner_languages: Iterable[str], allowed_fetch_server: str | None = None,
) -> CollectionConfig:
    """The agent's configuration from settings values (the composition root calls this)."""
    return CollectionConfig.from_servers(
        servers, fetch_server=fetch_server, fetch_allow=frozenset(fetch_allow), fetch_max_chars=fetch_max_chars,
        limits=Limits(max_bytes=max_document_bytes), ner_languages=tuple(ner_languages),
        allowed_fetch_server=allowed_fetch_server if allowed_fetch_server in servers else None,
    )
