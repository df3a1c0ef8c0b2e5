"""Country profiles: every bundled profile checks out against pycountry and babel; a bad data file fails loudly."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pycountry
import pytest
import yaml
from babel import Locale

from actors.localization.profiles import (
    PROFILES_FILE,
    ProfileError,
    UnknownMarket,
    all_profiles,
    country_profile,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 30)
EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
OTHERS = {"GB", "US", "CA", "AU", "CH", "NO", "JP", "CN", "BR", "MX", "IN", "AE", "SA", "TR", "KR"}
BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$")


def test_every_required_market_has_a_profile_that_checks_out_against_pycountry_and_babel() -> None:
    profiles = {p.country: p for p in all_profiles(today=TODAY)}
    assert EU | OTHERS <= set(profiles) and len(profiles) >= 30
    for code, p in profiles.items():
        assert pycountry.countries.get(alpha_2=code) is not None
        assert pycountry.currencies.get(alpha_3=p.currency) is not None, code
        assert all(BCP47.match(tag) for tag in p.languages), (code, p.languages)
        locale = Locale.parse(p.default_locale)
        assert locale.territory == code, code
        assert locale.language in {Locale.parse(t.replace("-", "_")).language for t in p.languages}, code
        assert p.rtl == (locale.character_order == "right-to-left")
        assert p.eu == (code in EU)
        assert all(TODAY <= h.date < TODAY + timedelta(days=365) for h in p.holidays), code
        assert [h.date for h in p.holidays] == sorted(h.date for h in p.holidays)
        assert p.legal_notes and all(n.source and n.text for n in p.legal_notes), code
    assert profiles["SA"].rtl and profiles["AE"].rtl and not profiles["DE"].rtl
    assert profiles["US"].measurement == "US" and profiles["GB"].measurement == "UK" and profiles["FR"].measurement == "metric"
    assert profiles["BE"].languages == ["nl", "fr", "de"] and profiles["CN"].languages == ["zh-Hans"]
    assert (profiles["DE"].formality.address, profiles["FR"].formality.address) == ("Sie", "vous")


def test_generated_facts_come_from_babel_and_holidays() -> None:
    de = country_profile("de", today=TODAY)
    assert de.formats.number_example == "1.234.567,891" and de.formats.currency_example == "1.234,50\xa0€"
    assert de.formats.date_example == "14. März 2026"
    assert {h.name for h in de.holidays} >= {"Erster Weihnachtstag", "Neujahr", "Tag der Deutschen Einheit"}
    jp = country_profile("JP", today=TODAY)
    assert jp.currency == "JPY" and any(h.name == "元日" for h in jp.holidays)
    notes = {n.id for n in country_profile("FR", today=TODAY).legal_notes}
    assert {"eu-dairy-terms", "eu-comparative", "eu-email-consent", "fr-toubon"} <= notes
    assert "eu-dairy-terms" not in {n.id for n in jp.legal_notes}
    dairy = next(n for n in de.legal_notes if n.id == "eu-dairy-terms")
    assert "C-422/16" in dairy.source


def test_an_unknown_market_is_a_clear_error() -> None:
    with pytest.raises(UnknownMarket, match="no country profile for 'XX'; profiles exist for AE, AT"):
        country_profile("XX", today=TODAY)


def _broken(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d["markets"]["DE"].update(languages=["xx-nonsense"]), "markets.DE.languages"),
    (lambda d: d["markets"]["DE"].update(default_locale="fr_FR"), "markets.DE.default_locale"),
    (lambda d: d["markets"]["DE"].update(default_locale="it_DE"), "markets.DE.default_locale"),
    (lambda d: d["markets"]["FR"].update(notes=["fr-nothing"]), "markets.FR.notes"),
    (lambda d: d["markets"]["FR"].update(formality={"level": "posh", "address": "vous"}), "markets.FR.formality"),
    (lambda d: d["markets"].update(QQ={"languages": ["en"], "default_locale": "en_US"}), "markets.QQ"),
    (lambda d: d["notes"]["fr-toubon"].pop("source"), "notes.fr-toubon.source"),
    (lambda d: d["notes"]["eu-dairy-terms"].update(keywords=[]), "notes.eu-dairy-terms.keywords"),
    (lambda d: d.pop("reviewed"), "reviewed"),
])
def test_a_bad_profile_file_fails_loudly_naming_the_field(tmp_path: Path, edit, field: str) -> None:  # type: ignore[no-untyped-def]
    path = _broken(tmp_path, edit)
    with pytest.raises(ProfileError) as raised:
        country_profile("DE", today=TODAY, path=path)
    assert f"profiles.yaml: {field}" in raised.value.message
