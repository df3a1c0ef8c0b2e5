"""PII policy without the engine: allow-list matching, false-positive filters, overlap resolution."""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass

import pytest

import actors.pii
from actors.pii import DEFAULT_ENTITIES, AllowList, clean_entities

pytestmark = pytest.mark.unit


@dataclasses.dataclass
class _Det:
    entity_type: str
    start: int
    end: int
    score: float


@dataclass
class Raw:
    """A raw detection as Presidio returns it."""

    entity_type: str
    start: int
    end: int
    score: float


def raw(text: str, value: str, entity_type: str, score: float = 0.85) -> Raw:
    start = text.index(value)
    return Raw(entity_type, start, start + len(value), score)


def values(text: str, detections: list[Raw], **kwargs: object) -> list[tuple[str, str]]:
    found = clean_entities(text, detections, entities=DEFAULT_ENTITIES, **kwargs)  # type: ignore[arg-type]
    return [(e.type, text[e.start : e.end]) for e in found]


def test_public_surface_is_sorted_and_importable() -> None:
    names = actors.pii.__all__
    order = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert names == order
    assert all(hasattr(actors.pii, name) for name in names)


def test_brand_terms_match_exact_whole_values_only() -> None:
    allow = AllowList.of(["Oatly Barista", "Alpro", "Müller"])
    assert allow.permits("PERSON", "Oatly Barista") and allow.permits("PERSON", "Oatly  Barista")
    assert not allow.permits("PERSON", "Oatly")  # a part is not the term
    assert not allow.permits("PERSON", "alpro")  # case-aware
    assert not allow.permits("PERSON", "Alpro Professional")
    assert not allow.permits("PERSON", "Hans Müller")  # a name containing the term is a person
    assert not allow.permits("PERSON", "Maria Keller")


def test_detections_inside_a_whole_brand_occurrence_are_dropped() -> None:
    text = "Dr. Oetker and Hans Müller like Müller."
    found = clean_entities(
        text,
        [_Det("PERSON", 4, 10, 0.8), _Det("PERSON", 15, 26, 0.8), _Det("PERSON", 32, 38, 0.8)],
        entities=["PERSON"],
        allow=["Dr. Oetker", "Müller"],
    )
    assert [text[e.start : e.end] for e in found] == ["Hans Müller"]


def test_places_are_allowed_only_as_locations() -> None:
    allow = AllowList(places=frozenset({"Jordan", "Germany"}))
    assert allow.permits("LOCATION", "GERMANY")
    assert not allow.permits("PERSON", "Jordan")
    assert not allow.permits("PERSON", "Michael Jordan")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Oatly costs 2.49 EUR", "2.49 EUR"),
        ("order #A-12345 shipped", "#A-12345"),
        ("see https://www.oatly.com/de", "https://www.oatly.com/de"),
        ("Tel. 030 1234567", "Tel"),
        ("SKU OB-1000", "SKU"),
        ("dial 12345", "12345"),
    ],
)
def test_numbers_urls_and_labels_are_not_names(text: str, value: str) -> None:
    assert values(text, [raw(text, value, "PERSON")]) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("sales grew in 2019-2023 strongly", "2019-2023"),
        ("Invoice 2023-0042 is paid", "2023-0042"),
        ("Order no. 4711-0815 shipped", "4711-0815"),
        ("GTIN 04006040012345 listed", "04006040012345"),
    ],
)
def test_year_ranges_and_labelled_ids_are_not_phones(text: str, value: str) -> None:
    assert values(text, [raw(text, value, "PHONE_NUMBER", 0.4)]) == []


def test_international_phone_survives_an_id_label() -> None:
    text = "order hotline +49 30 12345678"
    assert values(text, [raw(text, "+49 30 12345678", "PHONE_NUMBER", 0.4)]) == [("PHONE_NUMBER", "+49 30 12345678")]


def test_url_counts_only_when_it_carries_an_email() -> None:
    text = "see https://shop.example.com/p/1 and https://x.example.com/u?m=ann%40firma.de"
    carrier = "https://x.example.com/u?m=ann%40firma.de"
    found = values(text, [raw(text, "https://shop.example.com/p/1", "URL", 0.6), raw(text, carrier, "URL", 0.6)])
    assert found == [("URL", carrier)]


def test_email_span_drops_a_swallowed_url_query() -> None:
    text = "www.example.org?email=john@doe.com"
    assert values(text, [Raw("EMAIL_ADDRESS", 0, len(text), 1.0)]) == [("EMAIL_ADDRESS", "john@doe.com")]


def test_overlaps_keep_the_stronger_span_and_low_scores_drop() -> None:
    text = "from 192.168.10.20 today"
    found = values(
        text,
        [
            raw(text, "192.168.10.20", "PHONE_NUMBER", 0.4),
            raw(text, "192.168.10.20", "IP_ADDRESS", 0.6),
            raw(text, "today", "PERSON", 0.1),
        ],
    )
    assert found == [("IP_ADDRESS", "192.168.10.20")]


def test_existing_placeholders_and_unwanted_types_are_skipped() -> None:
    text = "Ask <PERSON_1> on Monday"
    found = values(text, [raw(text, "PERSON_1", "PERSON"), raw(text, "Monday", "DATE_TIME")])
    assert found == []


def test_ner_spans_are_trimmed_of_quotes() -> None:
    text = "she said 'Maria Keller' twice"
    assert values(text, [raw(text, "'Maria Keller'", "PERSON")]) == [("PERSON", "Maria Keller")]
