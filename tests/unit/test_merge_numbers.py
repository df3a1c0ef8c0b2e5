"""Unit tests of merge number normalization: magnitudes, currencies, percentages, unit strings, tolerance."""

from __future__ import annotations

import pytest

from actors.merge.numbers import (
    agree,
    claim_quantity,
    extract_quantities,
    magnitude_slip,
    parse_number,
    parse_unit,
    related,
    unit_slip,
)

pytestmark = pytest.mark.unit


def only(text: str):  # type: ignore[no-untyped-def]
    found = [q for q in extract_quantities(text) if q.dimension != "year"]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("text", ["2.1bn", "2,100 million", "EUR 2.1 billion", "€2.1bn", "2.1 bn EUR",
                                  "2,100,000,000", "2100 Mio", "2,1 Mrd"])
def test_magnitudes_normalize_to_one_base_value(text: str) -> None:
    assert only(f"worth {text} in 2024").base == pytest.approx(2.1e9)


@pytest.mark.parametrize(("text", "currency"), [("$2.1 billion", "USD"), ("USD 3.4 mn", "USD"), ("€1.48bn", "EUR"),
                                                ("2,49 €", "EUR"), ("£5m", "GBP"), ("12 euros", "EUR")])
def test_currencies(text: str, currency: str) -> None:
    q = only(text)
    assert (q.dimension, q.currency) == ("money", currency)


@pytest.mark.parametrize("text", ["6.4%", "6,4 %", "6.4 percent", "6.4 per cent", "6.4 pct"])
def test_percentages(text: str) -> None:
    q = only(f"growing {text} a year")
    assert (q.dimension, q.value) == ("percent", 6.4)


@pytest.mark.parametrize(("raw", "value", "decimals"), [("1,480.0", 1480.0, 1), ("6,4", 6.4, 1), ("2.100.000", 2.1e6, 0),
                                                        ("1.234,5", 1234.5, 1), ("27", 27.0, 0)])
def test_parse_number_english_and_continental(raw: str, value: float, decimals: int) -> None:
    assert parse_number(raw) == (value, decimals)


def test_years_small_counts_and_placeholders_are_not_figures_to_check() -> None:
    found = extract_quantities("In 2024 the top 3 brands, says <PERSON_12> (<EMAIL_ADDRESS_2>), aged 25-40.")
    assert [q.dimension for q in found if q.strong] == []
    assert {q.value for q in found} == {2024.0, 3.0, 25.0, 40.0}  # nothing from the placeholders


def test_measures_are_their_own_dimension() -> None:
    assert [q.dimension for q in extract_quantities("a 200 g bag at $3.49")] == ["mass", "money"]


@pytest.mark.parametrize(("text", "dimension", "unit", "base"), [
    ("27 kg", "mass", "kg", 27.0), ("0.027 tonnes", "mass", "t", 27.0), ("1.2 million t", "mass", "t", 1.2e9),
    ("83,879 km²", "area", "km²", 83879.0), ("100 square miles", "area", "mi²", 258.9988110336),
    ("5 hl", "volume", "hl", 500.0), ("3 percentage points", "points", "pp", 3.0), ("3 pp", "points", "pp", 3.0),
    ("3% points", "points", "pp", 3.0),
])
def test_physical_units_convert_to_a_base_unit(text: str, dimension: str, unit: str, base: float) -> None:
    [q] = extract_quantities(text)
    assert (q.dimension, q.unit) == (dimension, unit) and q.base == pytest.approx(base)


def test_the_same_mass_in_two_units_agrees_and_a_unit_slip_is_named() -> None:
    kg, t, slip = (extract_quantities(t)[0] for t in ("27 kg", "0.027 t", "27 t"))
    assert agree(t, kg) and not agree(slip, kg)
    assert unit_slip(slip, kg) == "another unit (t, not kg)"


def test_another_currency_and_points_are_related_but_never_agree() -> None:
    chf, eur = extract_quantities("CHF 1.1 billion and EUR 1.1 billion")
    pct, pts = extract_quantities("3% or 3 percentage points")
    assert related(chf, eur) and not agree(eur, chf) and unit_slip(eur, chf) == "another currency (EUR, not CHF)"
    assert related(pct, pts) and not agree(pct, pts) and unit_slip(pct, pts) == "percent, not percentage points"


@pytest.mark.parametrize(("unit", "dimension", "currency", "scale", "topics"), [
    ("EUR bn", "money", "EUR", 1e9, ()),
    ("growth pct", "percent", None, 1.0, ("growth",)),
    ("value eur m", "money", "EUR", 1e6, ("value",)),
    ("value_eur_m", "money", "EUR", 1e6, ("value",)),
    ("share_pct", "percent", None, 1.0, ("share",)),
    ("%", "percent", None, 1.0, ()),
    ("million USD", "money", "USD", 1e6, ()),
    ("km2", "area", None, 1.0, ()),
    (None, "number", None, 1.0, ()),
])
def test_unit_strings_from_claims_and_data_keys(unit: str | None, dimension: str, currency: str | None, scale: float,
                                                topics: tuple[str, ...]) -> None:
    info = parse_unit(unit)
    assert (info.dimension, info.currency, info.scale, info.topics) == (dimension, currency, scale, topics)


def test_tolerance_relative_and_rounding() -> None:
    source = claim_quantity(1480.0, "value eur m")
    assert agree(only("EUR 1.5 bn"), source)  # rounded to the digits stated
    assert agree(only("EUR 1,490 million"), source)  # within 2%
    assert not agree(only("EUR 1.6 bn"), source)
    growth = claim_quantity(6.4, "growth pct")
    assert agree(only("6%"), growth) and agree(only("6.4%"), growth)
    assert not agree(only("7%"), growth) and not agree(only("6.0%"), growth)
    assert not agree(only("-6.4%"), growth)


def test_magnitude_slip_is_named() -> None:
    source = claim_quantity(1480.0, "EUR m")
    assert magnitude_slip(only("EUR 1,480 billion"), source) == 3
    assert magnitude_slip(claim_quantity(1.48, "EUR m"), source) == -3
    assert magnitude_slip(only("EUR 1,850 million"), source) == 0


@pytest.mark.parametrize(("text", "value"), [
    ("Around four in ten UK households shop online", 40.0), ("one in five adults", 20.0),
    ("3 out of 10 shoppers", 30.0), ("half of all sales", 50.0), ("two thirds of buyers", 66.7),
])
def test_proportions_in_words_are_percentages_as_precise_as_ten_points(text: str, value: float) -> None:
    [q] = extract_quantities(text)
    assert (q.value, q.dimension) == (value, "percent")
    assert agree(q, extract_quantities(f"{value + 2:g}%")[0]) and not agree(q, extract_quantities(f"{value + 8:g}%")[0])


def test_an_amount_in_a_currency_takes_a_spaced_million() -> None:
    assert extract_quantities("EUR 612 m in 2023")[0].base == 612e6
    assert extract_quantities("a 612 m tower")[0].base == 612.0


@pytest.mark.parametrize(("text", "currency", "base"), [
    ("A$1.9bn", "AUD", 1.9e9), ("R$6.7 billion", "BRL", 6.7e9), ("C$ 4m", "CAD", 4e6), ("US$620m", "USD", 6.2e8),
    ("36 euro cents", "EUR", 0.36), ("12 pence", "GBP", 0.12),
])
def test_currency_symbols_and_cents(text: str, currency: str, base: float) -> None:
    [q] = extract_quantities(text)
    assert (q.dimension, q.currency) == ("money", currency) and q.base == pytest.approx(base)


def test_energy_units_and_word_figures() -> None:
    kwh, mwh = (extract_quantities(t)[0] for t in ("86,000 kWh", "86 MWh"))
    assert kwh.dimension == mwh.dimension == "energy" and agree(kwh, mwh)
    assert [(q.value, q.dimension) for q in extract_quantities("gained three percentage points")] == [(3.0, "points")]
    assert extract_quantities("two million users")[0].base == 2e6


def test_ranks_and_bounds_are_not_figures_to_contradict() -> None:
    assert not extract_quantities("the German top-100 singles")[0].strong
    assert not extract_quantities("more than half of bikes")[0].strong
    assert extract_quantities("about four in ten households")[0].strong


def test_data_keys_per_unit_and_points() -> None:
    assert parse_unit("fast_price_eur_per_kwh").dimension == "money"
    assert parse_unit("public_points").dimension == "number"
    assert parse_unit("share_change_pp").dimension == "points"
