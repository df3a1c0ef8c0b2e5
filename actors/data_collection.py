"""The Data Collection agent: turns a brief's markets and category into MCP calls and Evidence records.

It reads `brief.markets`, `brief.product.category` and the brand names in `brief.competitors`
(never the brief's prose). Evidence ids are stable (`ev-dataset-notice`,
`ev-<country>-facts|market|competitors`, `ev-brand-<slug>` for each competitor the brief names) and
every `source` is the `mcp://` URI that produced it. A competitor the data does not cover still gets
an evidence item that says so, so no name the brief gives is silently dropped.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from actors.mcp.broker import BrokerResult
from actors.mcp.uris import build_mcp_uri
from schemas import AgentError, Evidence
from schemas.pipeline import CollectRequest

__all__ = ["Broker", "DataCollectionAgent", "PlannedCall", "plan_calls", "to_evidence"]

Kind = Literal["notice", "facts", "market", "competitors", "brand"]
DEFAULT_CATEGORY = "general"


class Broker(Protocol):
    """What collection needs from the Resource Broker (or an adapter to its actor)."""

    async def resolve(self, uri: str) -> BrokerResult:
        """Resolve an `mcp://` URI."""
        ...


@dataclass(frozen=True)
class PlannedCall:
    """One MCP request collection will make, and the evidence id its answer gets."""

    evidence_id: str
    uri: str
    kind: Kind
    country: str | None = None


def plan_calls(request: CollectRequest, *, server: str = "market-data") -> list[PlannedCall]:
    """The requests for a brief, in the order their evidence is returned."""
    category = request.brief.product.category.strip() or DEFAULT_CATEGORY
    calls = [PlannedCall("ev-dataset-notice", build_mcp_uri(server, "dataset/notice"), "notice")]
    for country in request.brief.markets:
        cc = country.lower()
        calls += [
            PlannedCall(
                f"ev-{cc}-facts", build_mcp_uri(server, "country_facts", {"country": country}), "facts", country
            ),
            PlannedCall(
                f"ev-{cc}-market",
                build_mcp_uri(server, "market_size", {"country": country, "category": category}),
                "market",
                country,
            ),
            PlannedCall(
                f"ev-{cc}-competitors",
                build_mcp_uri(server, "competitors", {"country": country, "category": category}),
                "competitors",
                country,
            ),
        ]
    for n, name in enumerate(request.brief.competitors, start=1):
        slug = re.sub(r"[^0-9a-z]+", "-", name.casefold()).strip("-") or f"competitor-{n}"
        params: dict[str, str | list[str]] = {"name": name, "category": category,
                                               "countries": list(request.brief.markets)}
        calls.append(PlannedCall(f"ev-brand-{slug}"[:128], build_mcp_uri(server, "brand", params), "brand"))
    return calls


class DataCollectionAgent:
    """Collects evidence for a brief through the broker, one call per market and kind, concurrently.

    Example:
        >>> agent = DataCollectionAgent(broker)  # doctest: +SKIP
        >>> [e.id for e in await agent.collect(request)]  # doctest: +SKIP
        ['ev-dataset-notice', 'ev-de-facts', 'ev-de-market', 'ev-de-competitors']
    """

    def __init__(self, broker: Broker, *, server: str = "market-data") -> None:
        self._broker = broker
        self._server = server

    async def collect(self, request: CollectRequest) -> list[Evidence]:
        """Evidence for every market of the brief; the first failing call (in plan order) is raised."""
        calls = plan_calls(request, server=self._server)
        results = await asyncio.gather(*(self._broker.resolve(call.uri) for call in calls), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [to_evidence(call, result) for call, result in zip(calls, results) if isinstance(result, BrokerResult)]


def to_evidence(call: PlannedCall, result: BrokerResult) -> Evidence:
    """Turn one broker result into an Evidence record: a short sentence plus its numbers."""
    content = result.content
    if not isinstance(content, dict):
        raise AgentError(f"{call.uri} returned no structured content", retryable=False)
    text, data = _FORMATTERS[call.kind](content)
    return Evidence(id=call.evidence_id, source=call.uri, text=text, data=data or None)


def _notice(c: dict[str, Any]) -> tuple[str, dict[str, float]]:
    text = f"{c.get('notice', 'Sample dataset.')} Dataset {c.get('dataset')} v{c.get('version')}, year {c.get('year')}."
    return text, {}


def _facts(c: dict[str, Any]) -> tuple[str, dict[str, float]]:
    parts = [f"{c['name']} ({c['country']})"]
    if c.get("capital"):
        parts.append(f"capital {c['capital']}")
    if c.get("population"):
        parts.append(f"population {c['population']:,}")
    if c.get("area_km2"):
        parts.append(f"area {c['area_km2']:,.0f} km²")
    if c.get("currencies"):
        parts.append(f"currency {', '.join(c['currencies'])}")
    if c.get("languages"):
        parts.append(f"official languages {', '.join(c['languages'])}")
    if c.get("subregion") or c.get("region"):
        parts.append(f"region {c.get('subregion') or c.get('region')}")
    data = {k: float(c[k]) for k in ("population", "area_km2") if isinstance(c.get(k), (int, float))}
    return f"{parts[0]}: {'; '.join(parts[1:])} (offline reference data, may be dated).", data


def _where(c: dict[str, Any]) -> tuple[str, str]:
    return c["category"] or DEFAULT_CATEGORY, f"{c['country_name']} ({c['country']})"


def _market(c: dict[str, Any]) -> tuple[str, dict[str, float]]:
    category, place = _where(c)
    if not c.get("available"):
        return f"No {category} market figure for {place}: {c.get('note', 'unavailable')}.", {}
    text = (
        f"The {category} market in {place} was worth EUR {c['value_eur_m']:,.1f} million in {c['year']}, "
        f"growing {c['growth_pct']:.1f}% a year ({c['basis']}; illustrative, not real figures)."
    )
    data = {"value_eur_m": float(c["value_eur_m"]), "growth_pct": float(c["growth_pct"]), "year": float(c["year"])}
    return text, data


def _competitors(c: dict[str, Any]) -> tuple[str, dict[str, float]]:
    category, place = _where(c)
    brands = c.get("competitors") or []
    if not c.get("available") or not brands:
        return f"No {category} competitor data for {place}: {c.get('note', 'unavailable')}.", {}
    listed = "; ".join(f"{b['name']} {b['share_pct']:.1f}% share at EUR {b['price_eur']:.2f}" for b in brands)
    data: dict[str, float] = {}
    for brand in brands:
        data[f"{brand['name']} share_pct"] = float(brand["share_pct"])
        data[f"{brand['name']} price_eur"] = float(brand["price_eur"])
    return f"Leading {category} brands in {place} in {c['year']}: {listed} (sample dataset, fictional brands).", data


def _brand(c: dict[str, Any]) -> tuple[str, dict[str, float]]:
    category = c.get("matched_category") or c.get("category") or DEFAULT_CATEGORY
    if not c.get("found"):
        return f"No data collected on {c['name']}: {c.get('note', 'not in the data')}.", {}
    where = "; ".join(f"{m['country_name']} ({m['country']}) {m['share_pct']:.1f}% share at EUR {m['price_eur']:.2f}"
                      for m in c["markets"])
    return f"{c['name']} (named in the brief) in the {category} data for {c['year']}: {where} (sample dataset).", {}


_FORMATTERS = {"notice": _notice, "facts": _facts, "market": _market, "competitors": _competitors, "brand": _brand}
