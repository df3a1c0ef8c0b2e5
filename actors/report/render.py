"""Report rendering: a `ReportInput` to self-contained HTML (Jinja2, autoescaped), HTML to PDF (WeasyPrint, offline)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_compact_currency, format_currency, format_decimal

from actors.figures import format_measure
from actors.merge.evidence import field_label
from actors.report.charts import Chart, build_charts
from actors.report.i18n import translations_for
from actors.report.view import build_view
from schemas._errors import AgentError
from schemas.localization import LocalizedReport
from schemas.pipeline import ProviderStatus, ReportInput

__all__ = [
    "TEMPLATES_DIR",
    "RenderedReport",
    "render_html",
    "render_markdown",
    "render_pdf",
    "render_report",
    "report_context",
    "report_locale",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_TEMPLATE = "report.html.j2"
_MARKDOWN_TEMPLATE = "report.md.j2"
_STATUS_TONE = {"ok": "good", "timeout": "warn", "error": "bad", "cancelled": "muted", "not_configured": "muted"}
_AGREEMENT_TONE = {"unanimous": "good", "majority": "info", "single": "muted"}
_GROUNDING_TONE = {"supported": "good", "contradicted": "bad", "unverifiable": "muted"}
_KEY_IN_REASON = re.compile(r"\(([^()\"]*_[^()\"]*)\)")  # "(value_eur_m)", "(Oatfield share_pct)"


class _Formats:
    """Locale-aware formatting the template calls (`fmt.number(x)`, `fmt.when(dt)`, ...); babel, never a model."""

    def __init__(self, locale: str, gettext: Callable[[str], str] = str) -> None:
        try:
            self.locale = Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en_US")
        self._ = gettext

    @property
    def rtl(self) -> bool:
        """The locale writes right to left."""
        return self.locale.character_order == "right-to-left"

    def dir(self, text: str) -> str:
        """`ltr` or `rtl` by the text's first strongly directional character (the page's own when it has none);
        what `dir="auto"` does in browsers, which WeasyPrint does not implement."""
        for ch in str(text):
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
        return "rtl" if self.rtl else "ltr"

    def css_page(self, label: str) -> str:
        """A translated "Page %(page)s of %(pages)s" as a CSS `content` value with the page counters."""
        parts = re.split(r"(%\(pages?\)s)", label)
        out = []
        for part in parts:
            if part == "%(page)s":
                out.append("counter(page)")
            elif part == "%(pages)s":
                out.append("counter(pages)")
            elif part:
                out.append('"' + part.replace("\\", "").replace('"', "").replace("<", "") + '"')
        return " ".join(out)

    def day(self, value: date | None) -> str:
        """A date, medium form in the report locale."""
        return "—" if value is None else format_date(value, "medium", locale=self.locale)

    def money_compact(self, value: float, currency: str) -> str:
        """A large amount of money, compact in the report locale ("1,48 Mrd. €", "¥267.14B")."""
        return format_compact_currency(value, currency, locale=self.locale, fraction_digits=2)

    def text(self, message: str) -> str:
        """A catalog message looked up as it is (no %-formatting: legal notes quote percentages)."""
        return self._(message)

    def missing(self, what: list[str]) -> str:
        """What no evidence gave, in words of the report's language."""
        names = {"market size": self._("market size"), "growth": self._("growth"), "competitors": self._("competitors")}
        return ", ".join(names.get(w, w) for w in what)

    @property
    def lang(self) -> str:
        """BCP 47 tag for `<html lang>`."""
        return "-".join(part for part in (self.locale.language, self.locale.territory) if part)

    @property
    def locale_name(self) -> str:
        """The locale's name in its own language, e.g. "Deutsch (Deutschland)"."""
        return f"{self.locale.display_name} ({self.locale})"

    def number(self, value: float | None) -> str:
        """A number in the report locale; an em dash for none."""
        return "—" if value is None else format_decimal(value, locale=self.locale)

    def seconds(self, value: float | None) -> str:
        """A duration in seconds with two decimals ("< 0.01 s" below that, not a misleading zero)."""
        if value is None:
            return "—"
        if value < 0.005:
            return f"< {format_decimal(0.01, format='0.00', locale=self.locale)} s"
        return f"{format_decimal(value, format='#,##0.00', locale=self.locale)} s"

    def usd(self, value: float | None) -> str:
        """An amount in US dollars with cents (LLM cost)."""
        return "—" if value is None else format_currency(value, "USD", format="¤#,##0.00##", locale=self.locale)

    def money(self, value: float | None, currency: str | None) -> str:
        """A price, with its currency when known."""
        if value is None:
            return "—"
        return format_currency(value, currency, locale=self.locale) if currency else self.number(value)

    def when(self, value: datetime) -> str:
        """A timestamp in UTC, long form in the report locale."""
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return format_datetime(aware, "long", tzinfo=timezone.utc, locale=self.locale)

    def measure(self, value: float | None, unit: str | None) -> str:
        """A figure the way a person writes it, from its unit or data key: "EUR 1.48 bn", "6.4 %", "2024" (babel's
        compact forms in other languages: "1,48 Mrd. €")."""
        return format_measure(value, unit, self.locale)

    def field(self, key: str) -> str:
        """A data key in words: "Oatfield share" for `Oatfield share_pct`."""
        return field_label(key)

    def reason(self, text: str) -> str:
        """A merge reason with the data keys it quotes in words ("(value_eur_m)" -> "(market value)")."""
        return _KEY_IN_REASON.sub(lambda m: f"({field_label(m.group(1))})", text)

    def country(self, code: str) -> str:
        """A country's name in the report locale, with its ISO code."""
        name = self.locale.territories.get(code)
        return f"{name} ({code})" if name else code


def _provider_rows(report: ReportInput) -> list[ProviderStatus]:
    """The quorum's provider statuses; derived from answers and `missing` when the quorum lists none."""
    rows = list(report.quorum.providers)
    seen = {row.provider for row in rows}
    for answer in report.answers:
        if answer.provider not in seen:
            seen.add(answer.provider)
            rows.append(ProviderStatus(provider=answer.provider, status=answer.status, reason=answer.error or "",
                                       latency_s=answer.latency_s, claims=len(answer.claims)))
    for provider, reason in report.quorum.missing.items():
        if provider not in seen:
            seen.add(provider)
            rows.append(ProviderStatus(provider=provider, status="timeout" if "timeout" in reason else "error",
                                       reason=reason))
    return rows


@dataclass(frozen=True)
class _Shown:
    """Generated text as shown: translated or not."""

    text: str
    translated: bool


class _Localization:
    """The template's view of a localized report (`loc`): translations of generated text, status, adaptation."""

    def __init__(self, localized: LocalizedReport | None, source_language: str) -> None:
        self.active = localized is not None
        self.source_language = source_language
        self._translations = localized.translations if localized else {}
        self.status = localized.status if localized else "translated"
        self.reason = localized.reason if localized else ""
        self.translated_by = localized.translated_by if localized else None
        self.adaptation = localized.adaptation if localized else None

    def text(self, source: str) -> _Shown:
        """The translation of `source` when there is one, else `source` (untranslated)."""
        found = self._translations.get(source.strip())
        return _Shown(found, True) if found is not None else _Shown(source, False)


def report_locale(report: ReportInput) -> str:
    """The locale a report is written in: the localized report's, else the brief's."""
    return report.localization.locale if report.localization else report.brief.locale


def _labels(_: Callable[[str], str]) -> dict[str, str]:
    """Badge words in the report's language (agreement, grounding, provider status); unknown ones stay as they are."""
    words = {
        "unanimous": _("unanimous"), "majority": _("majority"), "single": _("single"),
        "supported": _("supported"), "contradicted": _("contradicted"), "unverifiable": _("unverifiable"),
        "ok": _("ok"), "timeout": _("timeout"), "error": _("error"), "cancelled": _("cancelled"),
        "not_configured": _("not configured"), "skipped": _("skipped"),
        "translated": _("translated"), "partial": _("partly translated"), "untranslated": _("untranslated"),
        "warned": _("read, with warnings"), "failed": _("could not be read"),
    }
    return defaultdict(str, words)


def _source_types(_: Callable[[str], str]) -> dict[str, str]:
    """Source types in the report's language."""
    return defaultdict(str, {"dataset": _("dataset"), "document": _("document"), "web": _("web page"),
                             "tool": _("tool")})


def report_context(report: ReportInput, charts: list[Chart] | None = None) -> dict[str, Any]:
    """What the report templates (and the Figma export) lay out: the view, formats, localization, labels, charts."""
    locale = report_locale(report)
    _ = translations_for(locale).gettext
    fmt = _Formats(locale, _)
    view = build_view(report)
    rows = _provider_rows(report)
    anchors = {item.id: f"ev-{n}" for n, item in enumerate(report.evidence, start=1)}
    brief = report.brief
    merge = report.merge
    return {
        "r": report,
        "fmt": fmt,
        "title": brief.title or brief.product.name,
        "providers": rows,
        "anchors": anchors,
        "status_tone": _STATUS_TONE,
        "agreement_tone": _AGREEMENT_TONE,
        "grounding_tone": _GROUNDING_TONE,
        "total_providers": len(rows),
        "answering": merge.quorum.received if merge else len(report.answers),
        "merge_summary": _merge_summary(report, _),
        "view": view,
        "charts": build_charts(view.markets, _, str(fmt.locale)) if charts is None else charts,
        "loc": _Localization(report.localization, Locale.parse(report.brief.locale.replace("-", "_")).language),
        "labels": _labels(_),
        "source_types": _source_types(_),
        "missing_sources": [src for src in report.sources if src.required and src.status == "failed"],
        "tokens": sum(a.usage.tokens for a in report.answers if a.usage),
    }


def _merge_summary(report: ReportInput, _: Callable[[str], str] = str) -> str:
    """One line for the status banner: merged claims, flags, disagreements."""
    if report.merge is None:
        return ""
    merge = report.merge
    flagged = sum(c.hallucination for c in merge.claims)
    return _("Merge: %(received)s answer(s) received (%(required)s required); %(claims)s merged claim(s), "
             "%(flagged)s flagged as possible hallucination(s), %(disagreements)s disagreement(s).") % {
        "received": merge.quorum.received, "required": merge.quorum.required, "claims": len(merge.claims),
        "flagged": flagged, "disagreements": len(merge.disagreements)}


@functools.lru_cache(maxsize=16)
def _environment(locale: str = "en") -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # claims and evidence are untrusted model and world text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations_for(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def render_html(report: ReportInput, charts: list[Chart] | None = None) -> str:
    """Render the report as one self-contained HTML page (inline CSS and SVG charts, no external references)."""
    return _environment(report_locale(report)).get_template(_TEMPLATE).render(**report_context(report, charts))


def _md_escape(text: str) -> str:
    """Text safe inside Markdown: characters that would start markup, links or HTML are escaped."""
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", " ".join(str(text).split()))


@functools.lru_cache(maxsize=16)
def _markdown_environment(locale: str = "en") -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # Markdown, not HTML: untrusted text goes through the `md` filter instead
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations_for(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["md"] = _md_escape
    return env


def render_markdown(report: ReportInput, charts: list[Chart] | None = None) -> str:
    """Render the report as Markdown; charts are referenced as `<name>.svg` files stored beside it."""
    return _markdown_environment(report_locale(report)).get_template(_MARKDOWN_TEMPLATE).render(**report_context(report, charts))


@dataclass(frozen=True)
class RenderedReport:
    """The report's HTML and Markdown, and the charts both show."""

    html: str
    markdown: str
    charts: list[Chart]


def render_report(report: ReportInput) -> RenderedReport:
    """Render HTML and Markdown from one context: the view is built and the charts drawn once."""
    context = report_context(report)
    key = report_locale(report)
    return RenderedReport(html=_environment(key).get_template(_TEMPLATE).render(**context),
                          markdown=_markdown_environment(key).get_template(_MARKDOWN_TEMPLATE).render(**context),
                          charts=context["charts"])


def _allowed(url: str) -> bool:
    """Only files inside the templates directory (and inline data) may be loaded while rendering."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(unquote(parts.path)).resolve()
    return path == TEMPLATES_DIR or TEMPLATES_DIR in path.parents


def _offline_fetcher(weasyprint: Any) -> Any:
    """A WeasyPrint URL fetcher that refuses anything but local template files (no network, ever)."""
    base = getattr(weasyprint.urls, "URLFetcher", None)  # WeasyPrint >= 68: fetchers are classes
    if base is None:  # older WeasyPrint: a function returning a dict

        def fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> Any:
            if not _allowed(url):
                raise ValueError(f"report rendering refuses to fetch {url!r}")
            return weasyprint.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)

        return fetch

    class _OfflineFetcher(base):  # type: ignore[misc,valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not _allowed(url):
                raise ValueError(f"report rendering refuses to fetch {url!r}")
            return super().fetch(url, headers)

    return _OfflineFetcher(allowed_protocols=("file", "data"), allow_redirects=False)


def render_pdf(html: str) -> bytes:
    """Render report HTML to PDF bytes with WeasyPrint; never touches the network."""
    import weasyprint  # type: ignore[import-untyped]  # heavy (Pango, fonts): imported where a PDF is made

    try:
        page = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/",
                               url_fetcher=_offline_fetcher(weasyprint))
        return bytes(page.write_pdf())
    except Exception as exc:  # WeasyPrint has no error tree of its own: translate at the boundary
        raise AgentError(f"report PDF rendering failed: {type(exc).__name__}: {exc}", retryable=False) from exc
