"""The bundled `market-data` MCP server (stdio): offline country facts and a labeled sample market dataset.

Run it with `python -m actors.mcp.market_data_server`; clients reach its tools as
`mcp://market-data/<tool>?country=DE&category=...` and its resources as
`mcp://market-data/dataset/notice` (server-side URI `market-data://dataset/notice`), the country
profiles as `mcp://market-data/profiles/{CC}` and the dated exchange-rate table as `mcp://market-data/rates/latest`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

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


def build_server() -> MCPServer:
    """Build the MCP server with its tools and resources (nothing runs until `run`)."""
    server: MCPServer = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, version="1", log_level="WARNING")

    @server.tool(title="Country facts")
    def country_facts(country: Country) -> md.CountryFacts:
        """Name, capital, population, area, currencies, official languages and region of a country (offline)."""
        return _checked(md.country_facts, country)

    @server.tool(title="Market size (sample data)")
    def market_size(country: Country, category: Category = "") -> md.MarketSize:
        """Market value (EUR millions) and annual growth of a product category; SAMPLE figures, not real."""
        return _checked(md.market_size, country, category)

    @server.tool(title="Competitors (sample data)")
    def competitors(country: Country, category: Category = "") -> md.CompetitorList:
        """Leading brands with share and price points; SAMPLE data with fictional brands, not real."""
        return _checked(md.competitors, country, category)

    @server.tool(title="Brand lookup (sample data)")
    def brand(
        name: Annotated[str, Field(description="Brand name as the brief gives it.", min_length=1, max_length=200)],
        category: Category = "",
        countries: Annotated[list[str], Field(description="ISO 3166-1 alpha-2 codes to search.", max_length=30)] = [],  # noqa: B006
    ) -> md.BrandLookup:
        """Where a named brand appears in the SAMPLE competitor data (share, price), or that it does not."""
        try:
            return md.brand_lookup(name, category, countries)
        except md.UnknownCountry as exc:
            raise ToolError(str(exc)) from exc

    @server.resource(
        "market-data://dataset/notice",
        name="dataset-notice",
        description="What the sample dataset is, what it covers and that its figures are not real.",
        mime_type="application/json",
    )
    def notice() -> str:
        return json.dumps(md.dataset_notice(), sort_keys=True)

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


def main() -> None:
    """Serve over stdio until stdin closes."""
    build_server().run()


if __name__ == "__main__":
    main()
