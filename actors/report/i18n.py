"""The report's own words in other languages: gettext catalogs (`locale/<lang>/LC_MESSAGES/report.po`), compiled
with babel when first used, and the extraction that keeps the catalog template (`locale/report.pot`) in step.

Messages come from the Jinja templates, from the report's Python modules (`_("...")`), and from the
curated legal notes (topic and text), so a localized report shows its notes in its language too.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from actors.localization.profiles import PROFILES_FILE, load_curated

__all__ = ["DOMAIN", "LOCALE_DIR", "POT_FILE", "catalog_languages", "extract_catalog", "translations_for"]

DOMAIN = "report"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
POT_FILE = LOCALE_DIR / f"{DOMAIN}.pot"
_HERE = Path(__file__).resolve().parent
_SOURCES = [
    (_HERE / "templates" / "report.html.j2", "jinja2.ext:babel_extract"),
    (_HERE / "templates" / "report.md.j2", "jinja2.ext:babel_extract"),
    (_HERE / "render.py", "python"),
    (_HERE / "charts.py", "python"),
]
_JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def catalog_languages() -> list[str]:
    """Languages with a catalog (directory names under `locale/`)."""
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _catalog_for(locale: Locale) -> Path | None:
    """The most specific catalog for a locale: `de_AT`, then `de`; zh_Hant_TW falls to zh only when written Hans."""
    names = [str(locale), f"{locale.language}_{locale.territory}" if locale.territory else "", locale.language]
    for name in dict.fromkeys(n for n in names if n):
        path = LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            return path
    return None


@functools.lru_cache(maxsize=32)
def _compiled(path: Path, mtime: float) -> Translations:
    with path.open("rb") as handle:
        catalog = read_po(handle, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def translations_for(locale: str | Locale) -> NullTranslations:
    """The report's translations for a locale; the English source text when no catalog covers its language."""
    parsed = locale if isinstance(locale, Locale) else Locale.parse(str(locale).replace("-", "_"))
    path = _catalog_for(parsed)
    if path is None or parsed.language == "en":
        return NullTranslations()
    return _compiled(path, path.stat().st_mtime)


def _note_messages() -> Iterator[tuple[str, str]]:
    """(msgid, where) of every legal note's topic and text."""
    for note_id, note in load_curated(PROFILES_FILE)["notes"].items():
        yield note.topic, f"profiles.yaml:notes.{note_id}.topic"
        yield note.text, f"profiles.yaml:notes.{note_id}.text"


def extract_catalog() -> Catalog:
    """Every translatable message of the report, with where it comes from (the catalog template)."""
    catalog = Catalog(domain=DOMAIN, project="marketing-assistant", charset="utf-8")
    for path, method in _SOURCES:
        options = _JINJA_OPTIONS if method.startswith("jinja2") else {}
        for lineno, message, comments, context in extract_from_file(method, str(path), options=options):
            catalog.add(message, locations=[(path.name, lineno)], auto_comments=comments, context=context)
    for message, where in _note_messages():
        catalog.add(message, locations=[(where.split(":")[0], 0)], auto_comments=[where.split(":", 1)[1]])
    return catalog
