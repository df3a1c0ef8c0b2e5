"""The localization agent (role `localizer`): which locales a job wants, and each one's plan (language, direction,
form of address, market adaptation), from country profiles and the dated rates table served through MCP."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from babel import Locale
from pydantic import BaseModel, Field

from actors.localization.adapt import adapt
from actors.localization.profiles import UnknownMarket, country_profile, locale_of
from actors.localization.text import segments_of
from schemas import AgentRequest, Brief
from schemas.localization import MarketAdaptation, Segment
from schemas.pipeline import ReportInput
from schemas.profiles import CountryProfile, RatesTable

__all__ = ["LocalePlan", "LocalizePlan", "LocalizeRequest", "LocalizerRole", "glossary_of", "wanted_locales"]

log = logging.getLogger(__name__)


class LocalizeRequest(BaseModel):
    """What the localizer plans from: the report as it stands, the locales wanted, the protected terms, the date."""

    job_id: str
    report: ReportInput
    locales: list[str]
    glossary: list[str] = Field(default_factory=list)
    today: date


class LocalePlan(BaseModel):
    """One locale's plan: its language, direction, form of address and its market's adaptation."""

    locale: str
    language: str
    language_name: str = Field(description="The language's English name, for the translation prompt.")
    rtl: bool
    formality: str = ""
    adaptation: MarketAdaptation | None = None


class LocalizePlan(BaseModel):
    """The segments every locale translates, and each locale's plan."""

    source_language: str
    segments: list[Segment]
    locales: list[LocalePlan]


def wanted_locales(brief: Brief) -> list[str]:
    """The brief's localized reports: its `locales`, or with `auto` each market's default locale; never the base
    report's own locale again."""
    if brief.locales is None:
        return []
    if brief.locales == "auto":
        wanted = []
        for market in brief.markets:
            try:
                wanted.append(country_profile(market).default_locale)
            except UnknownMarket:  # no profile: babel's most likely locale for the country
                likely = Locale.parse(f"und_{market}")
                wanted.append(f"{likely.language}_{market}")
    else:
        wanted = list(brief.locales)
    return [loc for loc in dict.fromkeys(wanted) if loc != brief.locale]


def glossary_of(brief: Brief, extra: list[str]) -> list[str]:
    """Terms a translation keeps as written: the product, the competitors, and the operator's glossary."""
    return [t for t in dict.fromkeys([brief.product.name, *brief.competitors, *extra]) if t and t.strip()]


class LocalizerRole:
    """Plans localized reports; reads profiles and rates through the broker (`mcp://market-data/...`), and the
    bundled copies of the same data when no market-data server is configured."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    async def _resource(self, uri: str) -> Any:
        try:
            return (await self._broker.resolve(uri)).content
        except Exception as exc:  # noqa: BLE001 - any MCP failure: the bundled data is the same
            log.info("localizer: %s unavailable (%s); using the bundled copy", uri, type(exc).__name__)
            return None

    async def _profile(self, market: str | None) -> CountryProfile | None:
        if not market:
            return None
        content = await self._resource(f"mcp://market-data/profiles/{market}")
        if isinstance(content, dict):
            return CountryProfile.model_validate(content)
        try:
            return country_profile(market)
        except UnknownMarket:
            return None

    async def _rates(self) -> RatesTable | None:
        content = await self._resource("mcp://market-data/rates/latest")
        if isinstance(content, dict):
            return RatesTable.model_validate(content)
        from actors.mcp._market_data import rates_table

        return rates_table()

    async def plan(self, envelope: AgentRequest[Any]) -> LocalizePlan:
        """Each wanted locale's plan, and the generated text all of them translate."""
        request: LocalizeRequest = envelope.payload
        report = request.report
        rates = await self._rates() if request.locales else None
        plans = []
        for tag in request.locales:
            locale = locale_of(tag)
            profile = await self._profile(locale.territory)
            formality = f"{profile.formality.level} ({profile.formality.address})" if profile else ""
            plans.append(LocalePlan(
                locale=tag, language=locale.language, language_name=Locale("en").languages.get(locale.language, tag),
                rtl=locale.character_order == "right-to-left", formality=formality,
                adaptation=adapt(report, profile, rates, request.today) if profile else None,
            ))
        source = locale_of(report.brief.locale).language
        return LocalizePlan(source_language=source, segments=segments_of(report, request.glossary), locales=plans)
