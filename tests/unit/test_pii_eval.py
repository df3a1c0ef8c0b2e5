"""CI guard on measured accuracy: the labeled set's size, its scoring, and the recall/precision targets."""

from __future__ import annotations

import pytest

from actors.pii.evaluation import ALL, EntityScore, LabeledText, Span, load_eval_set, parse_markup, predict, score

pytestmark = pytest.mark.unit

STRUCTURED = ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER")


@pytest.fixture(scope="module")
def items() -> list[LabeledText]:
    return load_eval_set()


@pytest.fixture(scope="module")
def table(items: list[LabeledText]) -> dict[str, EntityScore]:
    return score(items, predict(items))


def test_the_set_has_generated_and_hand_written_texts(items: list[LabeledText]) -> None:
    generated = [i for i in items if i.source == "generated"]
    hard = [i for i in items if i.source == "hard"]
    assert len(generated) >= 200 and len(hard) >= 40
    assert len({i.id for i in items}) == len(items)
    for item in items:  # labels index the text and hold something
        assert all(0 <= s.start < s.end <= len(item.text) and item.text[s.start : s.end].strip() for s in item.entities)
    assert {s.type for i in items for s in i.entities} >= {*STRUCTURED, "PERSON", "LOCATION"}


@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_entities_are_all_found(table: dict[str, EntityScore], kind: str) -> None:
    assert table[kind].labeled >= 25
    assert table[kind].recall == 1.0, table[kind].missed


def test_person_recall_and_overall_precision(table: dict[str, EntityScore]) -> None:
    assert table["PERSON"].recall >= 0.90, table["PERSON"].missed
    assert table[ALL].precision >= 0.90, [w for s in table.values() for w in s.wrong][:20]


def test_markup_and_scoring_rules() -> None:
    text, spans = parse_markup("Hi {{PERSON|Ann Lee}}, mail {{EMAIL_ADDRESS|ann@x.de}}.")
    assert text == "Hi Ann Lee, mail ann@x.de." and spans == [Span("PERSON", 3, 10), Span("EMAIL_ADDRESS", 17, 25)]
    item = LabeledText(id="t", text=text, entities=tuple(spans))
    half = score([item], [[Span("PERSON", 3, 6), Span("LOCATION", 17, 20)]])
    assert half["PERSON"].recall == 0.0 and half["PERSON"].precision == 1.0  # half a name is a leak
    assert half["EMAIL_ADDRESS"].recall == 0.0 and half["LOCATION"].precision == 0.0
    full = score([item], [[Span("PERSON", 3, 6), Span("PERSON", 7, 10), Span("EMAIL_ADDRESS", 17, 25)]])
    assert full[ALL].recall == 1.0 and full[ALL].precision == 1.0
    assert round(EntityScore(labeled=10, recalled=8, predicted=10, correct=5).f2, 3) == 0.714
