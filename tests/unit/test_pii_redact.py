"""Detection and redaction with the real offline engine: planted PII, false positives, the CLI shape."""

from __future__ import annotations

import json
import threading

import pytest
from presidio_analyzer import AnalyzerEngine

import actors.pii.analyzer
from actors.pii import (
    PiiEngineUnavailable,
    Vault,
    build_analyzer,
    detect,
    detect_many,
    get_analyzer,
    pseudonymize,
    redact_text,
)

pytestmark = pytest.mark.unit

PLANTED = (
    "Contact Maria Keller at maria.keller@example.com or +49 170 1234567, card 4111 1111 1111 1111, "
    "IBAN DE89 3704 0044 0532 0130 00, from 192.168.10.20"
)
PLANTED_VALUES = {
    "PERSON": "Maria Keller",
    "EMAIL_ADDRESS": "maria.keller@example.com",
    "PHONE_NUMBER": "+49 170 1234567",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "IBAN_CODE": "DE89 3704 0044 0532 0130 00",
    "IP_ADDRESS": "192.168.10.20",
}


@pytest.fixture(scope="module")
def analyzer() -> AnalyzerEngine:
    """The process-wide offline engine (built once, ~1 s)."""
    return get_analyzer()


def found(text: str, analyzer: AnalyzerEngine) -> dict[str, str]:
    return {e.type: text[e.start : e.end] for e in detect(text, analyzer=analyzer)}


def test_planted_values_are_all_found(analyzer: AnalyzerEngine) -> None:
    assert found(PLANTED, analyzer) == PLANTED_VALUES


def test_redact_text_has_the_cli_shape_and_offsets(analyzer: AnalyzerEngine) -> None:
    out = redact_text(PLANTED, analyzer=analyzer)
    assert set(out) == {"redacted", "entities"}
    assert out["redacted"] == (
        "Contact <PERSON_1> at <EMAIL_ADDRESS_1> or <PHONE_NUMBER_1>, card <CREDIT_CARD_1>, "
        "IBAN <IBAN_CODE_1>, from <IP_ADDRESS_1>"
    )
    entities = out["entities"]
    assert [e["start"] for e in entities] == sorted(e["start"] for e in entities)
    for ent in entities:
        assert set(ent) == {"type", "start", "end", "score"}
        assert 0.0 <= ent["score"] <= 1.0
        assert PLANTED[ent["start"] : ent["end"]] == PLANTED_VALUES[ent["type"]]
    assert not any(value in out["redacted"] for value in PLANTED_VALUES.values())
    assert json.loads(json.dumps(out)) == out


def test_redact_text_of_nothing() -> None:
    assert redact_text("") == {"redacted": "", "entities": []}
    assert redact_text("   \n") == {"redacted": "   \n", "entities": []}


def test_same_person_gets_the_same_placeholder(analyzer: AnalyzerEngine) -> None:
    vault = Vault()
    text, _ = pseudonymize("Maria Keller approved it. Later Maria Keller called Hans Müller.", vault, analyzer=analyzer)
    assert text == "<PERSON_1> approved it. Later <PERSON_1> called <PERSON_2>."
    again, _ = pseudonymize("Ask maria keller first.", vault, analyzer=analyzer)
    assert again == "Ask <PERSON_1> first."


def test_a_known_value_is_replaced_where_ner_misses_it(analyzer: AnalyzerEngine) -> None:
    vault = Vault()
    text, entities = pseudonymize("MARIA KELLER signed. Maria Keller agreed.", vault, analyzer=analyzer)
    assert text == "<PERSON_1> signed. <PERSON_1> agreed."
    assert [e.start for e in entities] == [0, 21]


@pytest.mark.parametrize(
    "text",
    [
        "Oatly Barista costs EUR 2.49 per litre; order #A-12345, SKU OB-1000-DE, invoice 2023-0042.",
        "The plant-based milk market grew 12% in 2019-2023 to 1,234,567 units; Art.-Nr. 4711.",
        "Price 3,99 € and 1.299,00 EUR; GTIN 04006040012345; see https://www.oatly.com/de for details.",
    ],
)
def test_prices_skus_and_order_numbers_are_not_pii(text: str, analyzer: AnalyzerEngine) -> None:
    assert found(text, analyzer) == {}


@pytest.mark.parametrize(
    "number", ["+49 170 1234567", "+49 (0)170 1234567", "0049 170 1234567", "+33 6 12 34 56 78", "030 1234567"]
)
def test_eu_phone_formats_are_found(number: str, analyzer: AnalyzerEngine) -> None:
    assert found(f"Reach us on {number} today.", analyzer) == {"PHONE_NUMBER": number}


def test_url_only_when_it_carries_an_email(analyzer: AnalyzerEngine) -> None:
    text = "Source https://www.example.com/report and https://shop.example.com/u?m=ann%40firma.de"
    assert found(text, analyzer) == {"URL": "https://shop.example.com/u?m=ann%40firma.de"}


def test_email_inside_a_url_query_is_cut_to_the_address(analyzer: AnalyzerEngine) -> None:
    assert found("see www.example.org?email=john@doe.com", analyzer) == {"EMAIL_ADDRESS": "john@doe.com"}


def test_redacting_twice_changes_nothing(analyzer: AnalyzerEngine) -> None:
    vault = Vault()
    once, _ = pseudonymize(PLANTED, vault, analyzer=analyzer)
    twice, entities = pseudonymize(once, vault, analyzer=analyzer)
    assert (twice, entities) == (once, [])


def test_batch_matches_single_texts(analyzer: AnalyzerEngine) -> None:
    texts = [PLANTED, "", "No personal data here.", "Hans Müller lives in Malmö."]
    assert detect_many(texts, analyzer=analyzer, batch_size=2) == [detect(t, analyzer=analyzer) for t in texts]


def test_engine_limited_to_some_entities() -> None:
    engine = build_analyzer(entities=["EMAIL_ADDRESS"])
    assert {e.type for e in detect(PLANTED, analyzer=engine)} == {"EMAIL_ADDRESS"}


def test_shared_engine_is_built_once_across_threads() -> None:
    engines: list[AnalyzerEngine] = []
    threads = [threading.Thread(target=lambda: engines.append(get_analyzer())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e in engines}) == 1


def test_a_missing_spacy_package_fails_clearly_instead_of_downloading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actors.pii.analyzer, "SPACY_MODEL", "en_core_web_lg")  # Presidio's default, not installed
    with pytest.raises(PiiEngineUnavailable, match="never downloaded"):
        build_analyzer()


def test_redact_text_keeps_countries_and_allowed_terms(analyzer: AnalyzerEngine) -> None:
    text = "Oatly sells in Germany and France; ask Jonas Becker (@jonas_b, CUST-004512, VAT DE123456789)."
    out = redact_text(text, analyzer=analyzer, allow=["Oatly"])
    assert out["redacted"] == (
        "Oatly sells in Germany and France; ask <PERSON_1> (<SOCIAL_HANDLE_1>, <CUSTOMER_ID_1>, VAT <EU_VAT_ID_1>)."
    )


def test_long_texts_are_chunked_with_exact_offsets(analyzer: AnalyzerEngine) -> None:
    filler = "The oat drink category keeps growing in every market we track. " * 120
    text = f"{filler}Write to Maria Keller at maria.keller@example.com. {filler}Call +49 170 1234567."
    found = detect(text, analyzer=analyzer)
    assert len(text) > 2 * 4000
    assert [(e.type, text[e.start : e.end]) for e in found] == [
        ("PERSON", "Maria Keller"), ("EMAIL_ADDRESS", "maria.keller@example.com"), ("PHONE_NUMBER", "+49 170 1234567"),
    ]  # fmt: skip
