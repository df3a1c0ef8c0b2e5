"""Report rendering: a `ReportInput` to self-contained HTML (Jinja2, autoescaped), HTML to PDF (WeasyPrint, offline)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

from actors.figures import format_measure
from actors.merge.evidence import field_label
from actors.report.charts import Chart, build_charts
from actors.report.view import build_view
from schemas._errors import AgentError
from schemas.pipeline import ProviderStatus, ReportInput

__all__ = ["TEMPLATES_DIR", "RenderedReport", "render_html", "render_markdown", "render_pdf", "render_report"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_TEMPLATE = "report.html.j2"
_MARKDOWN_TEMPLATE = "report.md.j2"
_STATUS_TONE = {"ok": "good", "timeout": "warn", "error": "bad", "cancelled": "muted", "not_configured": "muted"}
_AGREEMENT_TONE = {"unanimous": "good", "majority": "info", "single": "muted"}
_GROUNDING_TONE = {"supported": "good", "contradicted": "bad", "unverifiable": "muted"}
_KEY_IN_REASON = re.compile(r"\(([^()\"]*_[^()\"]*)\)")  # "(value_eur_m)", "(Oatfield share_pct)"


class _Formats:
    """Locale-aware formatting the template calls (`fmt.number(x)`, `fmt.when(dt)`, ...)."""

    def __init__(self, locale: str) -> None:
        try:
            self.locale = Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en_US")

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
        """A figure the way a person writes it, from its unit or data key: "EUR 1.48 bn", "6.4 %", "2024"."""
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


def _context(report: ReportInput, charts: list[Chart] | None = None) -> dict[str, Any]:
    fmt = _Formats(report.brief.locale)
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
        "merge_summary": _merge_summary(report),
        "view": view,
        "charts": build_charts(view.markets) if charts is None else charts,
        "tokens": sum(a.usage.tokens for a in report.answers if a.usage),
    }


def _merge_summary(report: ReportInput) -> str:
    """One line for the status banner: merged claims, flags, disagreements."""
    if report.merge is None:
        return ""
    merge = report.merge
    flagged = sum(c.hallucination for c in merge.claims)
    return (f"Merge: {merge.quorum.received} answer(s) received ({merge.quorum.required} required); "
            f"{len(merge.claims)} merged claim(s), {flagged} flagged as possible hallucination(s), "
            f"{len(merge.disagreements)} disagreement(s).")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # claims and evidence are untrusted model and world text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: ReportInput, charts: list[Chart] | None = None) -> str:
    """Render the report as one self-contained HTML page (inline CSS and SVG charts, no external references)."""
    return _environment().get_template(_TEMPLATE).render(**_context(report, charts))


def _md_escape(text: str) -> str:
    """Text safe inside Markdown: characters that would start markup, links or HTML are escaped."""
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", " ".join(str(text).split()))


@functools.lru_cache(maxsize=1)
def _markdown_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # Markdown, not HTML: untrusted text goes through the `md` filter instead
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    return env


def render_markdown(report: ReportInput, charts: list[Chart] | None = None) -> str:
    """Render the report as Markdown; charts are referenced as `<name>.svg` files stored beside it."""
    return _markdown_environment().get_template(_MARKDOWN_TEMPLATE).render(**_context(report, charts))


@dataclass(frozen=True)
class RenderedReport:
    """The report's HTML and Markdown, and the charts both show."""

    html: str
    markdown: str
    charts: list[Chart]


def render_report(report: ReportInput) -> RenderedReport:
    """Render HTML and Markdown from one context: the view is built and the charts drawn once."""
    context = _context(report)
    return RenderedReport(html=_environment().get_template(_TEMPLATE).render(**context),
                          markdown=_markdown_environment().get_template(_MARKDOWN_TEMPLATE).render(**context),
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
