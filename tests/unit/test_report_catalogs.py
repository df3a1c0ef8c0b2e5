"""The report's gettext catalogs: the template is current, and every catalog translates every message, keeping
its `%(name)s` placeholders."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from actors.report.i18n import (
    DOMAIN,
    LOCALE_DIR,
    POT_FILE,
    catalog_languages,
    extract_catalog,
    translations_for,
)

pytestmark = pytest.mark.unit

REQUIRED = ["en", "de", "fr", "es", "it", "nl", "pl", "ja", "zh"]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _read(path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle, domain=DOMAIN)


def test_the_catalog_template_holds_every_message_of_the_templates_code_and_notes() -> None:
    committed = {m.id for m in _read(POT_FILE) if m.id}
    current = {m.id for m in extract_catalog() if m.id}
    assert committed == current, "run: python scripts/update_catalogs.py"
    assert "Check before you publish" in current and "Dairy terms for plant-based products" in current


def test_the_required_languages_have_catalogs() -> None:
    assert set(REQUIRED) <= set(catalog_languages())


@pytest.mark.parametrize("language", sorted(set(REQUIRED) | set(catalog_languages())))
def test_every_message_is_translated_and_keeps_its_placeholders(language: str) -> None:
    template = {m.id for m in _read(POT_FILE) if m.id}
    catalog = _read(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")
    messages = {m.id: m for m in catalog if m.id}
    missing = sorted(template - set(messages))
    untranslated = sorted(i for i, m in messages.items() if i in template and (not m.string or m.fuzzy))
    assert not missing and not untranslated, f"{language}: untranslated: {(missing + untranslated)[:5]}"
    for msgid, message in messages.items():
        assert sorted(_PLACEHOLDER.findall(message.string)) == sorted(_PLACEHOLDER.findall(msgid)), (language, msgid)
        assert "%" not in _PLACEHOLDER.sub("", message.string).replace("%%", "") or "%(" not in msgid, (language, msgid)
    page = messages["Page %(page)s of %(pages)s"].string
    assert not set(page) & set('"\\<'), "the page label goes into CSS"


@pytest.mark.parametrize(("locale", "word"), [("de_DE", "Zusammenfassung"), ("fr_FR", "Résumé"), ("ja_JP", "概要")])
def test_a_locale_gets_its_languages_catalog(locale: str, word: str) -> None:
    assert word in translations_for(locale).gettext("Executive summary")
    assert translations_for("en_GB").gettext("Executive summary") == "Executive summary"
    assert translations_for("sw_KE").gettext("Executive summary") == "Executive summary"  # no catalog: the source
