"""Localization: what must survive translation, the retry-and-fallback walk, market adaptation, and the localize step
in a job (stub providers that mangle, translate or decline, events, artifacts per locale)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from actors.localization.adapt import adapt, notes_that_apply
from actors.localization.agent import glossary_of, wanted_locales
from actors.localization.profiles import country_profile
from actors.localization.text import check_translation, protected_tokens, translate_walk
from actors.mcp._market_data import rates_table
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key
from schemas import Brief, EventType, Evidence, JobState
from schemas.localization import LocalizeOutput, Segment, TranslationResult
from schemas.pipeline import (
    ProviderBehaviour,
    ProvidersScript,
    QuorumDecision,
    ReportInput,
)
from tests.conftest import TEST_KEYRING
from tests.fakes import FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 30)


def _brief(**over: object) -> Brief:
    data: dict[str, object] = {
        "product": {"name": "Oatly Barista", "category": "plant-based dairy alternatives"},
        "markets": ["DE", "FR", "JP"], "audience": "urban coffee drinkers", "questions": ["How big is the market?"],
        "competitors": ["Alpro"], "locale": "en_GB",
    }
    return Brief.model_validate({**data, **over})


# --- what must survive ------------------------------------------------------------------------------------------


def test_protected_tokens_are_placeholders_glossary_numbers_and_evidence_ids() -> None:
    text = "Ask <PERSON_1> why Oatly leads with 27 % and EUR 1,480.5 m (ev-de-3); Alpro is second."
    tokens = protected_tokens(text, ["Oatly", "Alpro", "Minor Figures"], ["ev-de-3", "ev-fr-1"])
    assert tokens == ["<PERSON_1>", "Oatly", "Alpro", "27", "1,480.5", "ev-de-3"]


@pytest.mark.parametrize(("translated", "problems"), [
    ("Fragen Sie <PERSON_1>, warum Oatly mit 27 % führt.", []),
    ("Fragen Sie Person 1, warum Oatly mit 27 % führt.", ["placeholder: <PERSON_1> was lost, altered or repeated"]),
    ("Fragen Sie <PERSON_1>, warum oatly mit 27 % führt.", ["protected: Oatly was lost or altered"]),
    ("Fragen Sie <PERSON_1>, warum Oatly mit 28 % führt.", ["number: 27 was lost or altered"]),
    ("Fragen Sie <PERSON_1> und <PERSON_2>, warum Oatly mit 27 % führt.", ["placeholder: <PERSON_2> was added"]),
    ("Fragen Sie <PERSON_1>, warum Oatlys Anteil 27 % beträgt.", ["protected: Oatly was lost or altered"]),
    ("<PERSON_1>さんに、Oatlyが27%で首位の理由を聞いてください。", []),
    ("   ", ["empty: the translation is empty"]),
])
def test_the_check_names_what_a_translation_broke(translated: str, problems: list[str]) -> None:
    source = "Ask <PERSON_1> why Oatly leads with 27 %."
    segment = Segment(id="s1", text=source, protected=protected_tokens(source, ["Oatly"], []))
    assert check_translation(segment, translated) == problems


# --- the walk ---------------------------------------------------------------------------------------------------


def _segments() -> list[Segment]:
    texts = ["Ask <PERSON_1> about Oatly.", "The market grows 6.4 %.", "Alpro leads."]
    return [Segment(id=f"s{n}", text=t, protected=protected_tokens(t, ["Oatly", "Alpro"], [])) for n, t in enumerate(texts, 1)]


def _provider(name: str, replies: list[dict[str, str] | str]):  # type: ignore[no-untyped-def]
    """A provider answering with the given segment maps in turn ('error'/'unsupported' for a failed call)."""
    calls: list[tuple[str, list[str], list[str]]] = []

    def call(provider: str, segments: list[Segment], problems: list[str]) -> TranslationResult:
        calls.append((provider, [s.id for s in segments], problems))
        reply = replies[min(len([c for c in calls if c[0] == provider]) - 1, len(replies) - 1)]
        if isinstance(reply, str):
            return TranslationResult(provider=provider, model="m", status=reply, error=f"{reply} here")  # type: ignore[arg-type]
        return TranslationResult(provider=provider, model="m", status="ok", segments=reply)

    return call, calls


def test_a_mangling_provider_is_retried_with_its_problems_then_the_next_one_finishes() -> None:
    good = {"s1": "Fragen Sie <PERSON_1> nach Oatly.", "s2": "Der Markt wächst um 6.4 %.", "s3": "Alpro führt."}
    mangled = {"s1": "Fragen Sie Person nach oatly.", "s2": "Der Markt wächst um 6,4 %.", "s3": "Alpro führt."}
    replies = {"openai": [mangled], "gemini": [good]}
    calls: list[tuple[str, list[str], list[str]]] = []

    def call(provider: str, segments: list[Segment], problems: list[str]) -> TranslationResult:
        calls.append((provider, [s.id for s in segments], problems))
        return TranslationResult(provider=provider, model="m", status="ok", segments=replies[provider][0])

    events: list[tuple[str, dict[str, object]]] = []
    walk = translate_walk(_segments(), ["openai", "gemini", "xai"], call, on_event=lambda k, p: events.append((k, p)))
    assert walk.translations == good
    assert [(c[0], c[1]) for c in calls] == [("openai", ["s1", "s2", "s3"]), ("openai", ["s1", "s2"]), ("gemini", ["s1", "s2"])]
    assert "s1: placeholder: <PERSON_1> was lost, altered or repeated" in calls[1][2]  # the retry says what broke
    assert events == [
        ("retried", {"provider": "openai", "attempt": 2, "segments": 2, "problems": ["number", "placeholder", "protected"]}),
        ("fell_back", {"from_provider": "openai", "to_provider": "gemini", "segments": 2,
                       "problems": ["number", "placeholder", "protected"]}),
    ]
    assert [(a.provider, a.attempt, a.outcome, a.accepted) for a in walk.attempts] == [
        ("openai", 1, "partial", 1), ("openai", 2, "rejected", 0), ("gemini", 1, "ok", 2)]
    assert walk.translated_by == "gemini"


def test_providers_that_cannot_translate_leave_the_text_untranslated_without_retry_events() -> None:
    call, calls = _provider("any", ["unsupported"])
    events: list[tuple[str, dict[str, object]]] = []
    walk = translate_walk(_segments(), ["openai", "gemini"], call, on_event=lambda k, p: events.append((k, p)))
    assert walk.translations == {} and events == [] and len(calls) == 2
    assert walk.reason == "openai, gemini: unsupported here"


def test_an_erroring_provider_falls_back_at_once() -> None:
    call, calls = _provider("any", ["error"])
    events: list[tuple[str, dict[str, object]]] = []
    translate_walk(_segments(), ["openai", "gemini"], call, on_event=lambda k, p: events.append((k, p)))
    assert [c[0] for c in calls] == ["openai", "gemini"]
    assert events == [("fell_back", {"from_provider": "openai", "to_provider": "gemini", "segments": 3, "problems": ["error"]})]


# --- adaptation -------------------------------------------------------------------------------------------------


def test_legal_notes_apply_by_keyword_competitors_or_always() -> None:
    notes = country_profile("DE", today=TODAY).legal_notes
    dairy = {n.id for n in notes_that_apply(notes, "Oat drink for coffee", competitors=False)}
    assert {"eu-dairy-terms", "eu-email-consent", "de-uwg-email", "eu-health-claims"} <= dairy
    assert "eu-comparative" not in dairy and "eu-alcohol-minors" not in dairy
    beer = {n.id for n in notes_that_apply(notes, "Craft beer from Bavaria", competitors=True)}
    assert {"eu-alcohol-minors", "de-alcohol-youth", "eu-comparative"} <= beer and "eu-dairy-terms" not in beer
    assert "eu-dairy-terms" not in {n.id for n in notes_that_apply(notes, "A boat rental app", competitors=False)}


def _report() -> ReportInput:
    evidence = [Evidence(id="ev-de", source="mcp://market-data/market_size?country=DE", text="DE market",
                         data={"value_eur_m": 1480.0, "growth_pct": 6.4}),
                Evidence(id="ev-jp", source="mcp://market-data/market_size?country=JP", text="JP market",
                         data={"value_eur_m": 2170.0})]
    quorum = QuorumDecision(required=2, received=["openai", "gemini"], missing={}, degraded=False, met=True,
                            deadline_s=1, grace_s=0, waited_s=0.1)
    return ReportInput(job_id="j", brief=_brief(), evidence=evidence, answers=[], quorum=quorum,
                       generated_at=datetime(2026, 11, 30, tzinfo=timezone.utc))


def test_adaptation_converts_market_sizes_at_the_dated_rate_and_keeps_the_window() -> None:
    rates = rates_table()
    jp = adapt(_report(), country_profile("JP", today=TODAY), rates, TODAY)
    assert jp.rates_date == date(2026, 11, 27) and jp.conversions
    assert [(c.market, c.amount) for c in jp.conversions] == [("DE", 1480e6), ("JP", 2170e6)]
    first = jp.conversions[0]
    assert first.currency == "EUR" and first.to_currency == "JPY"
    assert first.converted == pytest.approx(first.amount * rates.rates["JPY"], rel=1e-6)
    assert all(TODAY <= h.date < date(2027, 2, 28) for h in jp.holidays) and jp.holidays
    assert "eu-dairy-terms" not in {n.id for n in jp.notes} and jp.formality and jp.formality.level == "formal"


# --- the brief's locales ----------------------------------------------------------------------------------------


def test_auto_locales_are_each_markets_default_and_never_the_base_locale_again() -> None:
    assert wanted_locales(_brief(locales="auto")) == ["de_DE", "fr_FR", "ja_JP"]
    assert wanted_locales(_brief(locales="auto", markets=["GB", "DE"])) == ["de_DE"]  # en_GB is the base report
    assert wanted_locales(_brief(locales=["pl_PL", "de-DE", "pl_PL"])) == ["pl_PL", "de_DE"]
    assert wanted_locales(_brief()) == []
    assert glossary_of(_brief(), ["Barista Edition", "Alpro"]) == ["Oatly Barista", "Alpro", "Barista Edition"]


# --- in a job ---------------------------------------------------------------------------------------------------


def _run(brief: Brief, script: ProvidersScript | None = None):  # type: ignore[no-untyped-def]
    clock = FakeClock(start=datetime.now(timezone.utc))  # the stub agents read deadlines on the real clock
    store = MemoryJobStore(keyring=TEST_KEYRING, clock=clock)
    objects = MemoryObjectStore()
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.1, retry_base_delay_s=0.01,
                          glossary=["Barista"])
    runner = JobRunner(store=store, objects=objects, agents=FakeAgents(objects), config=config, clock=clock)
    job = store.submit(brief)
    if script is not None:
        runner.save_script(job, script)
    return store, objects, runner.run(job.id)


def test_a_job_with_auto_locales_stores_one_report_per_locale_and_marks_stub_text_untranslated() -> None:
    store, objects, final = _run(_brief(locales="auto"))
    assert final.state == JobState.COMPLETED
    arts = store.artifacts(final.id)
    assert [a.locale for a in arts] == [None, "de_DE", "fr_FR", "ja_JP"]
    assert arts[1].key == f"projects/{final.project}/jobs/{final.id}/de_DE/report.json"
    out = LocalizeOutput.model_validate_json(objects.get(checkpoint_key(final.project, final.id, "localize")))
    assert [r.status for r in out.reports] == ["untranslated"] * 3
    assert "stub providers do not translate" in out.reports[0].reason
    de = out.reports[0].adaptation
    assert de is not None and "eu-dairy-terms" in {n.id for n in de.notes}
    done = [m.event.payload for m in store.events(final.id) if m.event.type == "localization.completed"]
    # Locales are translated concurrently: their events interleave in any order.
    assert sorted((p["locale"], p["status"]) for p in done) == [("de_DE", "untranslated"), ("fr_FR", "untranslated"),
                                                                ("ja_JP", "untranslated")]


def test_a_mangling_provider_shows_retry_and_fallback_in_the_events_and_the_next_one_translates() -> None:
    script = ProvidersScript(providers={"openai": ProviderBehaviour(translation="mangle"),
                                        "gemini": ProviderBehaviour(translation="pseudo")})
    store, objects, final = _run(_brief(locales=["de_DE"]), script)
    assert final.state == JobState.COMPLETED
    events = [(m.event.type, m.event.payload) for m in store.events(final.id) if m.event.type.startswith("localization.")]
    kinds = [k for k, _ in events]
    assert kinds == ["localization.retried", "localization.fell_back", "localization.completed"]
    assert events[1][1]["from_provider"] == "openai" and events[1][1]["to_provider"] == "gemini"
    assert events[2][1]["status"] == "translated" and events[2][1]["provider"] == "gemini"
    [report] = LocalizeOutput.model_validate_json(objects.get(checkpoint_key(final.project, final.id, "localize"))).reports
    assert report.status == "translated" and report.translations
    for source, translated in report.translations.items():
        assert translated == f"[de] {source}"  # every placeholder, number and name survived
    assert EventType.ARTIFACT_STORED in {m.event.type for m in store.events(final.id)}
