"""What a report gives a Figma template: the value of every field, in the report's locale (pure, from a ReportInput).

The values are the report's own: the same view (claim numbers, summary, markets), the same
locale formats and catalog words, the localized report's translations, and the same charts
drawn as PNG. Like the report, the text is pseudonymized; the egress guard checks the plan.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from actors.report.charts import Chart, build_charts
from actors.report.i18n import translations_for
from actors.report.render import report_context, report_locale
from actors.report.view import ClaimRef, MarketRow
from schemas.pipeline import ReportInput

__all__ = ["BANNER_COLOURS", "Content", "report_content"]

BANNER_COLOURS: dict[str, dict[str, float]] = {
    "ok": {"r": 0.176, "g": 0.525, "b": 0.318, "a": 1.0},  # green: every provider answered
    "degraded": {"r": 0.851, "g": 0.494, "b": 0.09, "a": 1.0},  # amber: fewer models, or a required source missing
    "failed": {"r": 0.757, "g": 0.188, "b": 0.188, "a": 1.0},  # red: below quorum
}
_CHART_FIELDS = {"chart-market-size": "market_size", "chart-competitors": "competitors"}


@dataclass
class Content:
    """Field values of one report in one locale: texts by field name, repeated items, charts and the banner."""

    locale: str
    texts: dict[str, str] = field(default_factory=dict)
    items: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    banner_state: str = "ok"


def _claim_item(ref: ClaimRef, ctx: dict[str, Any]) -> dict[str, str]:
    claim, labels, loc, brief = ref.claim, ctx["labels"], ctx["loc"], ctx["r"].brief
    question = ""
    if claim.question is not None and claim.question < len(brief.questions):
        question = loc.text(brief.questions[claim.question]).text
    return {
        "claim.label": ref.label,
        "claim.text": loc.text(claim.text).text,
        "claim.agreement": labels[claim.agreement] or claim.agreement,
        "claim.grounding": labels[claim.grounding] or claim.grounding,
        "claim.providers": ", ".join(dict.fromkeys(claim.providers)),
        "claim.kind": ctx["fmt"].text(claim.kind or "finding"),
        "claim.question": question,
    }


def _market_item(row: MarketRow, ctx: dict[str, Any]) -> dict[str, str]:
    fmt = ctx["fmt"]
    leader = row.brands[0] if row.brands else None
    return {
        "market.code": row.market,
        "market.name": fmt.country(row.market),
        "market.size": fmt.measure(row.size.value, row.size.key) if row.size else "—",
        "market.growth": fmt.measure(row.growth.value, row.growth.key) if row.growth else "—",
        "market.year": str(row.year) if row.year else "—",
        "market.leader": (f"{leader.name} {fmt.measure(leader.share.value, '%')}" if leader and leader.share
                          else "—"),
        "market.missing": fmt.missing(row.missing),
    }


def _disagreement_item(topic: str, positions: list[Any], words: dict[str, str], ctx: dict[str, Any]) -> dict[str, str]:
    """A disagreement's topic and each provider's side: its figure when it gave one, else its words."""
    fmt, _, loc = ctx["fmt"], ctx["fmt"].text, ctx["loc"]
    parts = []
    for p in positions:
        said = fmt.measure(p.value, p.unit) if p.value is not None else loc.text(words.get(p.provider, "")).text
        ref = f"({p.ref.label}{', ' + _('flagged') if p.ref.claim.hallucination else ''})" if p.ref else ""
        parts.append(" ".join(x for x in (f"{p.provider}:", said, ref) if x))
    return {"disagreement.topic": fmt.field(topic), "disagreement.positions": " · ".join(parts)}


def _banner(report: ReportInput, ctx: dict[str, Any]) -> tuple[str, str]:
    _ = ctx["fmt"].text
    total, required = ctx["total_providers"], report.quorum.required
    if not report.quorum.met:
        return "failed", _("DEGRADED — QUORUM NOT MET")
    if ctx["missing_sources"]:
        return "degraded", _("DEGRADED — REQUIRED SOURCES MISSING")
    if report.quorum.degraded:
        answered = _("%(received)s of %(total)s providers answered (quorum: %(required)s).") % {
            "received": len(report.quorum.received), "total": total, "required": required}
        return "degraded", f"{_('DEGRADED REPORT')} — {answered}"
    return "ok", _("All %(total)s providers answered (quorum: %(required)s).") % {"total": total, "required": required}


def _image(chart: Chart) -> dict[str, Any]:
    data = chart.png or b""
    return {"name": f"{chart.name}.png", "content_type": "image/png", "sha256": hashlib.sha256(data).hexdigest(),
            "width": chart.size_px[0], "height": chart.size_px[1], "scale_mode": "FIT", "title": chart.title,
            "data": base64.b64encode(data).decode("ascii")}


def report_content(report: ReportInput, *, charts: bool = True) -> Content:
    """Every field's value for this report (localized when `report.localization` is set); charts as PNG."""
    locale = report_locale(report)
    ctx = report_context(report, charts=[])
    view, fmt, loc, brief = ctx["view"], ctx["fmt"], ctx["loc"], report.brief
    _ = fmt.text
    content = Content(locale=locale)
    texts = content.texts
    texts["title"] = ctx["title"]
    texts["product"] = brief.product.name
    texts["audience"] = brief.audience
    texts["date"] = fmt.day(report.generated_at.date())
    texts["markets"] = ", ".join(fmt.country(m) for m in brief.markets)
    texts["providers"] = " · ".join(f"{row.provider} {ctx['labels'][row.status] or row.status}"
                                    for row in ctx["providers"])
    state, banner_text = _banner(report, ctx)
    content.banner_state = state
    texts["banner.text"] = texts["quorum"] = banner_text

    summary = [_claim_item(ref, ctx) for ref in view.summary]
    for n, item in enumerate(summary, start=1):
        texts[f"summary.{n}"] = item["claim.text"]
    for section in view.sections:
        if section.index is None:
            continue
        q = section.index + 1
        texts[f"question.{q}"] = loc.text(section.question).text
        answered = sorted((ref for refs in section.by_kind.values() for ref in refs), key=lambda r: r.number)
        for m, ref in enumerate(answered, start=1):
            texts[f"question.{q}.finding.{m}"] = loc.text(ref.claim.text).text
        for kind in ("insight", "recommendation"):
            for m, ref in enumerate(section.by_kind.get(kind, []), start=1):
                texts[f"question.{q}.{kind}.{m}"] = loc.text(ref.claim.text).text

    markets = [_market_item(row, ctx) for row in view.markets]
    for item in markets:
        for part in ("name", "size", "growth", "year", "leader", "missing"):
            texts[f"market.{item['market.code']}.{part}"] = item[f"market.{part}"]

    merged = report.merge.disagreements if report.merge else []
    disagreements = [_disagreement_item(topic, positions, d.positions, ctx)
                     for (topic, positions), d in zip(view.disagreements, merged)]
    texts["disagreements"] = "\n".join(f"{d['disagreement.topic']}: {d['disagreement.positions']}"
                                       for d in disagreements) or _(
        "The models did not contradict each other on any figure.")

    body = [ref for s in view.sections for refs in s.by_kind.values() for ref in refs]
    content.items = {
        "claims": [_claim_item(ref, ctx) for ref in sorted(body, key=lambda r: r.number)],
        "summary": summary,
        "disagreements": disagreements,
        "markets": markets,
    }
    if charts:
        gettext = translations_for(locale).gettext
        for chart in build_charts(view.markets, gettext, str(fmt.locale), png=True):
            content.images[f"chart.{_CHART_FIELDS[chart.name]}"] = _image(chart)
    return content
