"""Unit tests of report HTML rendering: sections, degraded banner, escaping, locale, no external references."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from markupsafe import escape

import actors.report as report_pkg
from actors.report import render_html
from schemas.answers import Claim, Evidence, ModelAnswer, Usage
from schemas.brief import Brief
from schemas.merge import Disagreement, MergedClaim, MergeResult, Quorum
from schemas.pipeline import ProviderStatus, QuorumDecision, ReportInput
from tests.conftest import brief_data

pytestmark = pytest.mark.unit

TIMEOUT_REASON = "timeout after 1.5s"

EVIDENCE = [
    Evidence(id="ev-market-size", source="mcp://market-data/eurostat/plant-milk?country=DE",
             text="Plant-based milk retail sales in Germany reached EUR 1.1 bn in 2024, up 9% on 2023.",
             data={"sales_eur_bn": 1.1, "growth_pct": 9.0}),
    Evidence(id="ev-share-oat", source="mcp://market-data/nielsen/category-share?segment=oat",
             text="Oat drinks hold 54% of plant-based milk volume in German retail.", data={"share_pct": 54.0}),
    Evidence(id="ev-fr-growth", source="https://www.example.org/reports/fr-plant-milk-2024",
             text="French plant-based drink sales grew 6% in 2024; soy still leads in volume.",
             data={"growth_pct": 6.0}),
    Evidence(id="ev-price", source="mcp://retail-prices/de/barista?sku=oat-1l",
             text="Median shelf price of 1 l barista oat drinks in Germany is EUR 2.49.", data={"price_eur": 2.49}),
    Evidence(id="ev-competitors", source="https://www.example.com/industry/alpro-califia-2024",
             text="Alpro and Califia Farms together hold about 38% of the barista segment in DE and FR."),
    Evidence(id="ev-survey", source="mcp://surveys/yougov/coffee-habits-2024",
             text="41% of urban coffee drinkers aged 25-40 order a plant-based milk at least weekly.",
             data={"weekly_pct": 41.0, "sample_size": 2034}),
]

CLAIMS: dict[str, list[Claim]] = {
    "openai": [
        Claim(id="o1", text="The German plant-based milk market is worth about EUR 1.1 bn and grows 9% a year.",
              evidence_ids=["ev-market-size"], value=1.1, unit="EUR bn"),
        Claim(id="o2", text="Oat is the leading plant-based milk base in Germany with over half of volume.",
              evidence_ids=["ev-share-oat"], value=54, unit="%"),
        Claim(id="o3", text="A 1 l barista pack should be priced near EUR 2.49 to match the shelf median.",
              evidence_ids=["ev-price"]),
        Claim(id="o4", text="Alpro and Califia Farms are the main barista competitors in both markets.",
              evidence_ids=["ev-competitors"]),
    ],
    "gemini": [
        Claim(id="g1", text="Germany plant milk sales reached EUR 1.1 bn in 2024.", evidence_ids=["ev-market-size"]),
        Claim(id="g2", text="France grows more slowly at 6% and soy still leads there.",
              evidence_ids=["ev-fr-growth"], value=6, unit="%"),
        Claim(id="g3", text="Two in five urban coffee drinkers choose plant milk weekly.",
              evidence_ids=["ev-survey", "ev-missing"]),
    ],
}


def make_report(*, degraded: bool = True, trace_id: str | None = None, locale: str = "en_US",
                extra_claim: Claim | None = None, merge: bool = True, **brief: Any) -> ReportInput:
    """A realistic report: three providers, xai missing (timed out) unless `degraded` is false."""
    brief.setdefault("outputs", ["pdf", "html", "markdown"])
    claims = {name: list(items) for name, items in CLAIMS.items()}
    if not degraded:
        claims["xai"] = [
            Claim(id="x1", text="Oat drinks dominate German retail volume.", evidence_ids=["ev-share-oat"]),
            Claim(id="x2", text="Weekly plant milk use among urban 25-40 year olds is around 41%.",
                  evidence_ids=["ev-survey"], value=41, unit="%"),
            Claim(id="x3", text="French growth trails Germany by three points.", evidence_ids=["ev-fr-growth"]),
        ]
    if extra_claim:
        claims["openai"].append(extra_claim)
    latency = {"openai": 0.84, "gemini": 1.21, "xai": 0.97}
    answers = [ModelAnswer(provider=p, model={"openai": "gpt-4o", "gemini": "gemini-2.0-flash", "xai": "grok-3"}[p],
                           status="ok", claims=cs, latency_s=latency[p], usage=Usage(tokens=1800, cost=0.004))
               for p, cs in claims.items()]
    statuses = [ProviderStatus(provider=a.provider, status="ok", latency_s=a.latency_s, claims=len(a.claims))
                for a in answers]
    missing = {} if not degraded else {"xai": TIMEOUT_REASON}
    if degraded:
        statuses.append(ProviderStatus(provider="xai", status="timeout", reason=TIMEOUT_REASON, latency_s=1.5))
    quorum = QuorumDecision(required=2, received=[a.provider for a in answers], missing=missing, degraded=degraded,
                            met=True, deadline_s=1.0, grace_s=0.5, waited_s=1.5, providers=statuses)
    merge_result = MergeResult(
        claims=[
            MergedClaim(text="The German plant-based milk market is about EUR 1.1 bn.", providers=["openai", "gemini"],
                        member_claim_ids=["o1", "g1"], agreement="unanimous", grounding="supported",
                        hallucination=False, evidence_ids=["ev-market-size"]),
            MergedClaim(text="Two in five urban coffee drinkers choose plant milk weekly.", providers=["gemini"],
                        member_claim_ids=["g3"], agreement="single", grounding="unverifiable", hallucination=True,
                        reasons=["cites unknown evidence ev-missing"], evidence_ids=["ev-survey", "ev-missing"]),
        ],
        disagreements=[Disagreement(topic="Leading competitor", positions={
            "openai": "Alpro and Califia Farms lead the barista segment.",
            "gemini": "Private labels lead on volume."}, claim_ids=["o4", "g2"])],
        degraded=degraded, quorum=Quorum(required=2, received=len(answers), missing=list(missing)),
    )
    return ReportInput(
        job_id=f"job-{uuid.uuid4().hex[:12]}", brief=Brief.model_validate(brief_data(locale=locale, **brief)),
        evidence=EVIDENCE, answers=answers, quorum=quorum, merge=merge_result if merge else None,
        trace_id=trace_id or uuid.uuid4().hex, generated_at=datetime(2026, 3, 4, 15, 30, tzinfo=timezone.utc),
    )


def _pos(html: str, needle: str) -> int:
    index = html.find(needle)
    assert index >= 0, needle
    return index


def test_public_surface_is_sorted_and_complete() -> None:
    def kind(name: str) -> int:  # isort order, as in `schemas`: CONSTANTS, Classes, functions
        return 0 if name.isupper() else 1 if name[0].isupper() else 2

    assert report_pkg.__all__ == sorted(report_pkg.__all__, key=lambda name: (kind(name), name))
    assert all(hasattr(report_pkg, name) for name in report_pkg.__all__)


def test_every_merged_claim_once_every_source_once_and_ids_in_the_colophon() -> None:
    report = make_report()
    assert report.merge is not None
    html = render_html(report)
    for claim in report.merge.claims:
        assert html.count(str(escape(claim.text))) == 1, claim.text
    for item in report.evidence:
        assert html.count(str(escape(item.text))) == 1
        assert str(escape(item.source)) in html  # whole, not cut by break markup
    colophon = html[_pos(html, 'id="colophon"'):]
    assert report.trace_id and report.trace_id in colophon and report.job_id in colophon
    assert html.count(report.job_id) == 1 and html.count(report.trace_id) == 1  # not in headers or footers


def test_provider_status_rows_for_every_provider() -> None:
    html = render_html(make_report())
    rows = re.findall(r'<tr class="provider-row status-(\w+)">\s*<td><strong>(\w+)</strong>', html)
    assert rows == [("ok", "openai"), ("ok", "gemini"), ("timeout", "xai")]


def test_degraded_banner_opens_the_report_and_names_the_missing_provider() -> None:
    html = render_html(make_report(degraded=True))
    banner = _pos(html, 'class="banner banner-degraded"')
    assert "DEGRADED" in html
    section = html[banner:_pos(html, '<header class="report-header">')]
    assert "<strong>xai</strong> missing: " + TIMEOUT_REASON in section
    # Degraded status opens the report; then the summary, the questions, markets, disagreements, flags, appendices.
    order = ['id="summary"', 'id="q1"', 'id="q2"', 'id="markets"', 'id="disagreements"', 'id="flagged"',
             'id="sources"', 'id="models"', 'id="colophon"']
    assert [banner] + [_pos(html, marker) for marker in order] == sorted([banner] + [_pos(html, m) for m in order])


def test_no_degraded_banner_when_every_provider_answered() -> None:
    html = render_html(make_report(degraded=False))
    assert 'class="banner banner-degraded"' not in html
    assert "DEGRADED" not in html
    assert "All 3 providers answered" in html


def test_quorum_not_met_is_shown_as_degraded_too() -> None:
    report = make_report()
    report = report.model_copy(update={"quorum": report.quorum.model_copy(update={"met": False, "degraded": False})})
    assert "QUORUM NOT MET" in render_html(report)


def test_untrusted_text_is_escaped() -> None:
    attack = "<script>alert(1)</script>"
    html = render_html(make_report(extra_claim=Claim(id="o5", text=attack, evidence_ids=["ev-price"])))
    assert attack not in html
    report = make_report()
    assert report.merge is not None
    hostile = report.merge.model_copy(update={"claims": [*report.merge.claims, report.merge.claims[0].model_copy(
        update={"text": attack, "member_claim_ids": ["o5"], "providers": ["openai"]})]})
    html = render_html(report.model_copy(update={"merge": hostile}))
    assert attack not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_evidence_ids_are_marked_and_known_ones_link_to_the_table() -> None:
    html = render_html(make_report())
    assert 'class="ev-ref ev-unknown"' in html and "ev-missing?" in html
    assert '<a class="ev-ref" href="#ev-1">S1</a>' in html
    assert '<tr id="ev-1">' in html


def test_merge_section_only_when_merged() -> None:
    with_merge = render_html(make_report())
    assert 'id="disagreements"' in with_merge and "Leading competitor" in with_merge and 'id="flagged"' in with_merge
    assert 'id="disagreements"' not in render_html(make_report(merge=False))


def test_missing_provider_has_a_row_saying_why() -> None:
    html = render_html(make_report())
    models = html[_pos(html, 'id="models"'):_pos(html, 'id="colophon"')]
    assert "<strong>xai</strong>" in models and TIMEOUT_REASON in models


def test_brief_fields_and_locale_formatting() -> None:
    html = render_html(make_report(locale="de_DE", product={"name": "Hafer Barista", "price": 2.49,
                                                            "currency": "EUR"}))
    assert '<html lang="de-DE" dir="ltr">' in html
    assert "4. März 2026" in html  # generated time in the brief's locale
    assert "Frankreich (FR)" in html and "Deutschland (DE)" in html
    assert "2,49\xa0€" in html
    assert "0,84 s" in html  # latency with a decimal comma
    brief_texts = ("Urban coffee drinkers aged 25-40", "How large is the plant-based milk market?",
                   "Alpro", "Califia Farms")
    for text in brief_texts:
        assert text in html


def test_html_references_nothing_external() -> None:
    html = render_html(make_report())
    assert not re.search(r"<(link|img|script|iframe|object|image)\b", html)  # SVG <use> points inside the page
    assert "@import" not in html and not re.search(r"url\((?!#)", html)  # SVG clip paths point inside the page
    external = re.findall(r'(?:href|src)="(?!#)([^"]*)"', html)
    assert set(external) <= {e.source for e in EVIDENCE}  # only clickable evidence links, never loaded


def test_provider_rows_are_derived_when_the_quorum_lists_none() -> None:
    report = make_report()
    bare = report.model_copy(update={"quorum": report.quorum.model_copy(update={"providers": []}), "trace_id": None,
                                     "evidence": []})
    html = render_html(bare)
    rows = re.findall(r'<tr class="provider-row status-(\w+)">\s*<td><strong>(\w+)</strong>', html)
    assert rows == [("ok", "openai"), ("ok", "gemini"), ("timeout", "xai")]
    assert "not traced" in html and "No evidence was collected." in html


def test_status_banner_is_the_first_thing_in_the_body() -> None:
    html = render_html(make_report(degraded=True))
    body = html[_pos(html, "<body>"):]
    assert body.find('class="banner banner-degraded"') < body.find('class="report-header"')
    assert "Merge: 2 answer(s) received (2 required); 2 merged claim(s), 1 flagged" in body[:body.find("<header")]


def test_flagged_claims_section_lists_reasons_and_members() -> None:
    html = render_html(make_report())
    flagged = html[_pos(html, 'id="flagged"'):_pos(html, 'id="sources"')]
    assert "Two in five urban coffee drinkers choose plant milk weekly." in flagged
    assert "<li>cites unknown evidence ev-missing</li>" in flagged
    assert "gemini" in flagged
    assert "The German plant-based milk market is about EUR 1.1 bn." not in flagged  # not flagged
    body = html[:_pos(html, 'id="flagged"')]
    assert "Two in five urban coffee drinkers" not in body  # set apart, referred to by number
    assert re.search(r'Flagged and set apart: <a class="cref" href="#c2">C2</a>', body)


def test_appendix_says_when_nothing_was_flagged() -> None:
    report = make_report()
    assert report.merge is not None
    clean = report.merge.model_copy(update={"claims": [c for c in report.merge.claims if not c.hallucination]})
    html = render_html(report.model_copy(update={"merge": clean}))
    assert "No claim was flagged." in html
    assert 'id="flagged"' not in render_html(make_report(merge=False))


def test_claims_show_agreement_and_grounding_badges() -> None:
    html = render_html(make_report())
    summary = html[_pos(html, 'id="summary"'):_pos(html, 'id="q1"')]
    assert '<span class="badge badge-good">unanimous</span>' in summary
    assert '<span class="badge badge-good">supported</span>' in summary
    flagged = html[_pos(html, 'id="flagged"'):_pos(html, 'id="sources"')]
    assert '<span class="badge badge-muted">single</span>' in flagged


def test_a_required_source_that_failed_degrades_the_report_and_problems_are_listed() -> None:
    from actors.report.render import render_markdown
    from schemas.pipeline import SourceReport

    sources = [SourceReport(source="doc://doc-0000000000000001", source_type="document", label="doc-0000000000000001",
                            status="failed", required=True, error="encrypted: the PDF is password-protected"),
               SourceReport(source="https://x.org/p", source_type="web", label="x.org", status="warned", items=2,
                            warnings=["https://x.org/p: the page was cut at 50,000 characters"])]
    report = make_report(degraded=False).model_copy(update={"sources": sources})
    html, markdown = render_html(report), render_markdown(report)
    assert "DEGRADED — REQUIRED SOURCES MISSING" in html and "DEGRADED — REQUIRED SOURCES MISSING" in markdown
    assert _pos(html, "REQUIRED SOURCES MISSING") < _pos(html, "Appendix A")
    assert "password-protected" in html and "the page was cut" in html and "read, with warnings" in markdown
    assert "REQUIRED SOURCES MISSING" not in render_html(make_report(degraded=False))
