"""Refresh the report's gettext catalogs: extract `locale/report.pot`, then merge it into every language's `.po`.

Run after changing a template string, a `_("...")` in the report code or a legal note:
    python scripts/update_catalogs.py [--add LANG ...]
Existing translations are kept; new messages arrive empty (the catalog test then names them), and
messages no longer used are dropped. English is the source: its catalog is written as an identity.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.report.i18n import (
    DOMAIN,
    LOCALE_DIR,
    POT_FILE,
    catalog_languages,
    extract_catalog,
)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=110, no_location=True, omit_header=False, ignore_obsolete=True)


def main() -> None:
    """Extract the template, merge it into each catalog, write English as an identity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", nargs="*", default=[], help="Languages to start a catalog for.")
    args = parser.parse_args()
    template = extract_catalog()
    _write(POT_FILE, template)
    for language in sorted({*catalog_languages(), *args.add, "en"}):
        path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=DOMAIN)
        else:
            catalog = Catalog(locale=Locale.parse(language), domain=DOMAIN, project="marketing-assistant")
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)  # update shares the template's messages
        if language == "en":
            for message in catalog:
                if message.id:
                    message.string = message.id
        _write(path, catalog)
        total = sum(1 for m in catalog if m.id)
        done = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        print(f"{language}: {done}/{total} translated")


if __name__ == "__main__":
    main()
