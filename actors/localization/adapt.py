"""Per-market adaptation of a localized report (pure): legal notes that touch the brief, holidays, converted figures."""

from __future__ import annotations

import re
from datetime import date, timedelta

from actors.market_facts import facts_of
from actors.merge.numbers import parse_unit
from schemas.localization import Conversion, MarketAdaptation
from schemas.pipeline import ReportInput
from schemas.profiles import CountryProfile, LegalNote, RatesTable

__all__ = ["LAUNCH_WINDOW_DAYS", "adapt", "brief_text", "notes_that_apply"]

LAUNCH_WINDOW_DAYS = 90


def brief_text(report: ReportInput) -> str:
    """What legal notes are matched against: the product, its category and description, and the merged claims."""
    product = report.brief.product
    claims = [c.text for c in report.merge.claims] if report.merge else []
    return " ".join([product.name, product.category, product.description, *claims])


def _mentions(text: str, keyword: str) -> bool:
    """`keyword` starts a word of `text` (any case): "oat" matches "Oat drink" and "oats", not "boat"."""
    return re.search(rf"(?<![\w]){re.escape(keyword)}", text, re.IGNORECASE) is not None


def notes_that_apply(notes: list[LegalNote], text: str, *, competitors: bool) -> list[LegalNote]:
    """The notes a brief touches: always-notes, comparative notes when it names competitors, keyword matches."""
    return [n for n in notes if n.applies == "always" or (n.applies == "competitors" and competitors)
            or (n.applies == "keywords" and any(_mentions(text, k) for k in n.keywords))]


def _conversions(report: ReportInput, rates: RatesTable, currency: str) -> list[Conversion]:
    """Each market's size (a money figure) in `currency`, when the table has both currencies."""
    out: list[Conversion] = []
    for fact in facts_of(report.evidence, report.brief.markets):
        if fact.brand or fact.topic != "size" or fact.market is None or any(c.market == fact.market for c in out):
            continue
        unit = parse_unit(fact.key)
        if unit.dimension != "money" or not unit.currency or unit.currency == currency:
            continue
        amount = fact.value * unit.scale
        converted = rates.convert(amount, unit.currency, currency)
        if converted is not None:
            out.append(Conversion(label="market size", market=fact.market, amount=amount, currency=unit.currency,
                                  converted=round(converted, 2), to_currency=currency))
    return out


def adapt(report: ReportInput, profile: CountryProfile, rates: RatesTable | None, today: date,
          *, window_days: int = LAUNCH_WINDOW_DAYS) -> MarketAdaptation:
    """The market's adaptation: notes to check before publishing, holidays in the launch window, converted figures."""
    end = today + timedelta(days=window_days)
    return MarketAdaptation(
        market=profile.country,
        notes=notes_that_apply(profile.legal_notes, brief_text(report), competitors=bool(report.brief.competitors)),
        holidays=[h for h in profile.holidays if today <= h.date < end],
        window_days=window_days,
        conversions=_conversions(report, rates, profile.currency) if rates else [],
        rates_date=rates.date if rates else None,
        rates_source=rates.source if rates else None,
        formality=profile.formality,
    )
