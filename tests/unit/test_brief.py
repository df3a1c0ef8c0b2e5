"""Brief validation: normalization, limits, and one clear error listing every bad field."""

from __future__ import annotations

import pytest

from schemas import Brief, InvalidBrief, PiiClass, parse_brief, pii_fields
from tests.conftest import brief_data

pytestmark = pytest.mark.unit


def test_valid_brief_is_normalized() -> None:
    brief = parse_brief(brief_data(markets=["de", " fr ", "DE"], locale="de-DE"))
    assert brief.markets == ["DE", "FR"]
    assert brief.locale == "de_DE"
    assert brief.outputs == ["pdf"]


@pytest.mark.parametrize("locale", ["en", "en_US", "pt-BR", "zh_Hant_TW", "fr_CA"])
def test_known_locales_pass(locale: str) -> None:
    assert parse_brief(brief_data(locale=locale)).locale


@pytest.mark.parametrize("locale", ["xx_YY", "english", "", "en_US; DROP TABLE", "12"])
def test_unknown_locales_fail(locale: str) -> None:
    with pytest.raises(InvalidBrief) as err:
        parse_brief(brief_data(locale=locale))
    assert [p["field"] for p in err.value.problems] == ["locale"]


@pytest.mark.parametrize("market", ["XX", "DEU", "Germany", "1", "UK"])
def test_non_iso_markets_fail(market: str) -> None:
    with pytest.raises(InvalidBrief) as err:
        parse_brief(brief_data(markets=["DE", market]))
    assert err.value.problems[0]["field"] == "markets"
    assert market in err.value.problems[0]["message"]


def test_every_bad_field_is_listed_at_once() -> None:
    data = brief_data(markets=[], audience="x" * 2001, questions=["ok question", "?"], locale="zz", colour="red")
    data["product"] = {"name": "", "currency": "EURO"}
    with pytest.raises(InvalidBrief) as err:
        parse_brief(data)
    fields = {p["field"] for p in err.value.problems}
    assert fields == {
        "markets",
        "audience",
        "questions.1",
        "locale",
        "colour",
        "product.name",
        "product.currency",
    }
    assert all(p["message"] for p in err.value.problems)
    assert err.value.to_dict()["code"] == "invalid_brief"
    assert err.value.retryable is False


@pytest.mark.parametrize(
    ("field", "limit"),
    [("audience", 2000), ("title", 200), ("notes", 8000)],
)
def test_free_text_length_limits(field: str, limit: int) -> None:
    parse_brief(brief_data(**{field: "a" * limit}))
    with pytest.raises(InvalidBrief):
        parse_brief(brief_data(**{field: "a" * (limit + 1)}))


def test_limits_on_lists_and_nested_text() -> None:
    with pytest.raises(InvalidBrief):
        parse_brief(brief_data(questions=[f"question number {i}" for i in range(21)]))
    with pytest.raises(InvalidBrief):
        parse_brief(brief_data(product={"name": "P", "description": "d" * 4001}))
    with pytest.raises(InvalidBrief):
        parse_brief(brief_data(competitors=["c" * 201]))


@pytest.mark.parametrize("project", ["Has Space", "dots.in.name", "UPPER", "-lead", "a" * 64, "wild*"])
def test_project_must_be_a_subject_token(project: str) -> None:
    with pytest.raises(InvalidBrief) as err:
        parse_brief(brief_data(project=project))
    assert err.value.problems[0]["field"] == "project"


@pytest.mark.parametrize("raw", [None, [], "brief", 3])
def test_non_mapping_brief_is_a_clear_error(raw: object) -> None:
    with pytest.raises(InvalidBrief) as err:
        parse_brief(raw)
    assert err.value.problems == [{"field": "brief", "message": "a brief must be a mapping of fields",
                                   "type": "value_error"}]


def test_free_text_fields_carry_pii_tags() -> None:
    tags = pii_fields(Brief)
    for path in ("audience", "notes", "title", "questions", "product.description"):
        assert tags[path] is PiiClass.FREE_TEXT, path
    assert tags["markets"] is PiiClass.NONE
    for path in ("product.name", "product.category", "competitors"):  # every free-text string is scanned
        assert tags[path] is PiiClass.FREE_TEXT, path
    assert Brief.model_json_schema()["properties"]["audience"]["x-pii"] == "free_text"
