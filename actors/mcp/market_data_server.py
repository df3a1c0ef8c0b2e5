"""The bundled `market-data` MCP server (stdio): offline country facts and a labeled sample market dataset.

Run it with `python -m actors.mcp.market_data_server`; clients reach its tools as
`mcp://market-data/<tool>?country=DE&category=...` and its resources as
`mcp://market-data/dataset/notice` (server-side URI `market-data://dataset/notice`), the country
profiles as `mcp://market-data/profiles/{CC}` and the dated exchange-rate table as `mcp://market-data/rates/latest`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import Annotations, CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from actors.localization.profiles import UnknownMarket, country_profile
from actors.mcp import _market_data as md

__all__ = ["build_server", "main"]

SERVER_NAME = "market-data"
INSTRUCTIONS = (
    "Offline market data for demos and tests. Country facts come from packaged reference data; "
    "market sizes and competitors come from an illustrative SAMPLE dataset with fictional brands, "
    "not real market figures."
)

Country = Annotated[str, Field(description="ISO 3166-1 alpha-2 country code, e.g. 'DE'.", min_length=2, max_length=3)]
Category = Annotated[str, Field(description="Product category, e.g. 'dairy alternatives'.", max_length=200)]


T = TypeVar("T")


def _checked(fn: Callable[..., T], *args: str) -> T:
    """Call a data function, turning a bad country into a tool error the client can read."""
    try:
        return fn(*args)
    except md.UnknownCountry as exc:
        raise ToolError(str(exc)) from exc


EVIDENCE_ID = "io.mka/evidence-id"
"""`_meta` key naming a result's evidence item (clients derive an id when a server gives none)."""

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def _result(model: BaseModel, text: str, evidence_id: str) -> CallToolResult:
    """A tool result: the sentence a reader needs, the structured figures, and the stable evidence id."""
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=model.model_dump(mode="json"), meta={EVIDENCE_ID: evidence_id})


def build_server() -> MCPServer:
    """Build the MCP server with its tools and resources (nothing runs until `run`)."""
    server: MCPServer = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, version="1", log_level="WARNING")

    @server.tool(title="Country facts", annotations=_READ_ONLY)
    def country_facts(country: Country) -> Annotated[CallToolResult, md.CountryFacts]:
        """Name, capital, population, area, currencies, official languages and region of a country (offline)."""
        facts = _checked(md.country_facts, country)
        return _result(facts, facts_text(facts), f"ev-{facts.country.lower()}-facts")

    @server.tool(title="Market size (sample data)", annotations=_READ_ONLY)
    def market_size(country: Country, category: Category = "") -> Annotated[CallToolResult, md.MarketSize]:
        """Market value (EUR millions) and annual growth of a product category; SAMPLE figures, not real."""
        size = _checked(md.market_size, country, category)
        return _result(size, market_text(size), f"ev-{size.country.lower()}-market")

    @server.tool(title="Competitors (sample data)", annotations=_READ_ONLY)
    def competitors(country: Country, category: Category = "") -> Annotated[CallToolResult, md.CompetitorList]:
        """Leading brands with share and price points; SAMPLE data with fictional brands, not real."""
        listing = _checked(md.competitors, country, category)
        return _result(listing, competitors_text(listing), f"ev-{listing.country.lower()}-competitors")

    @server.tool(title="Brand lookup (sample data)", annotations=_READ_ONLY)
    def brand(
        name: Annotated[str, Field(description="Brand name as the brief gives it.", min_length=1, max_length=200)],
        category: Category = "",
        countries: Annotated[list[str], Field(description="ISO 3166-1 alpha-2 codes to search.", max_length=30)] = [],  # noqa: B006
    ) -> Annotated[CallToolResult, md.BrandLookup]:
        """Where a named brand appears in the SAMPLE competitor data (share, price), or that it does not."""
        try:
            found = md.brand_lookup(name, category, countries)
        except md.UnknownCountry as exc:
            raise ToolError(str(exc)) from exc
        slug = re.sub(r"[^0-9a-z]+", "-", name.casefold()).strip("-") or "competitor"
        return _result(found, brand_text(found), f"ev-brand-{slug}"[:128])

    @server.resource(
        "market-data://dataset/notice",
        name="dataset-notice",
        description="What the sample dataset is, what it covers and that its figures are not real.",
        mime_type="text/plain",
        annotations=Annotations(audience=["assistant", "user"], priority=1.0),
        meta={EVIDENCE_ID: "ev-dataset-notice"},
    )
    def notice() -> str:
        return notice_text(md.dataset_notice())

    @server.resource(
        "market-data://profiles/{country}",
        name="country-profile",
        description="A market's country profile: languages, formats, holidays of the next 12 months, legal notes.",
        mime_type="application/json",
    )
    def profile(country: str) -> str:
        try:
            return country_profile(country).model_dump_json()
        except UnknownMarket as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource(
        "market-data://rates/latest",
        name="exchange-rates",
        description="Reference exchange rates on one stated date (a bundled table, never fetched live).",
        mime_type="application/json",
    )
    def rates() -> str:
        return md.rates_table().model_dump_json()

    return server


def notice_text(c: dict[str, Any]) -> str:
    """The dataset notice as a sentence."""
    return f"{c.get('notice', 'Sample dataset.')} Dataset {c.get('dataset')} v{c.get('version')}, year {c.get('year')}."


def facts_text(c: md.CountryFacts) -> str:
    """Country facts as a sentence."""
    parts = [f"{c.name} ({c.country})"]
    if c.capital:
        parts.append(f"capital {c.capital}")
    if c.population:
        parts.append(f"population {c.population:,}")
    if c.area_km2:
        parts.append(f"area {c.area_km2:,.0f} km²")
    if c.currencies:
        parts.append(f"currency {', '.join(c.currencies)}")
    if c.languages:
        parts.append(f"official languages {', '.join(c.languages)}")
    if c.subregion or c.region:
        parts.append(f"region {c.subregion or c.region}")
    return f"{parts[0]}: {'; '.join(parts[1:])} (offline reference data, may be dated)."


def _where(category: str, country: str, country_name: str) -> tuple[str, str]:
    return category or "general", f"{country_name} ({country})"


def market_text(c: md.MarketSize) -> str:
    """A market size as a sentence."""
    category, place = _where(c.category, c.country, c.country_name)
    if not c.available or c.value_eur_m is None or c.growth_pct is None:
        return f"No {category} market figure for {place}: {c.note or 'unavailable'}."
    return (f"The {category} market in {place} was worth EUR {c.value_eur_m:,.1f} million in {c.year}, "
            f"growing {c.growth_pct:.1f}% a year ({c.basis}; illustrative, not real figures).")


def competitors_text(c: md.CompetitorList) -> str:
    """A competitor list as a sentence."""
    category, place = _where(c.category, c.country, c.country_name)
    if not c.available or not c.competitors:
        return f"No {category} competitor data for {place}: {c.note or 'unavailable'}."
    listed = "; ".join(f"{b.name} {b.share_pct:.1f}% share at EUR {b.price_eur:.2f}" for b in c.competitors)
    return f"Leading {category} brands in {place} in {c.year}: {listed} (sample dataset, fictional brands)."


def brand_text(c: md.BrandLookup) -> str:
    """A brand lookup as a sentence."""
    category = c.matched_category or c.category or "general"
    if not c.found:
        return f"No data collected on {c.name}: {c.note or 'not in the data'}."
    where = "; ".join(f"{m.country_name} ({m.country}) {m.share_pct:.1f}% share at EUR {m.price_eur:.2f}"
                      for m in c.markets)
    return f"{c.name} (named in the brief) in the {category} data for {c.year}: {where} (sample dataset)."


def require_bearer(app: Any, token: str) -> Any:
    """Wrap an ASGI app so every HTTP request must carry `Authorization: Bearer <token>` (401 otherwise)."""
    import hmac

    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return guarded


def main(argv: list[str] | None = None) -> None:
    """Serve over stdio until stdin closes, or over streamable HTTP with `--http HOST:PORT` (a bearer token from
    MKA_MARKET_DATA_TOKEN, when set, is required on every request)."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python -m actors.mcp.market_data_server", description=__doc__.splitlines()[0])
    parser.add_argument("--http", metavar="HOST:PORT", help="serve streamable HTTP at http://HOST:PORT/mcp")
    args = parser.parse_args(argv)
    if not args.http:
        build_server().run()
        return
    import uvicorn

    host, _, port = args.http.rpartition(":")
    app: Any = build_server().streamable_http_app()
    token = os.environ.get("MKA_MARKET_DATA_TOKEN")
    if token:
        app = require_bearer(app, token)
    uvicorn.run(app, host=host or "127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
