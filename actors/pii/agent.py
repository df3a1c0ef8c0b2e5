"""The PII agent: pseudonymizes the brief's free text and the evidence before any LLM agent sees them."""

from __future__ import annotations

import re

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pycountry
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from presidio_analyzer import AnalyzerEngine
from pydantic import BaseModel

from actors.pii.analyzer import get_analyzer
from actors.pii.brands import known_brands
from actors.pii.firstnames import is_given_name
from actors.pii.config import PiiConfig
from actors.pii.policy import AllowList, countries_allowed, country_names
from actors.pii.redaction import apply_placeholders, detect_many, known_values, pseudonymize_many
from actors.pii.vault import Vault
from schemas import Brief, Evidence, PiiClass, PiiEntity, pii_fields

__all__ = ["PiiAgent", "brief_allow_list", "country_names"]


def _countries_allowed() -> AllowList:
    return countries_allowed()


def _market_names(code: str, languages: set[str]) -> set[str]:
    """A market's English names, and its name in each of the given languages."""
    names = {code}
    country = pycountry.countries.get(alpha_2=code)
    if country is not None:
        names.update(getattr(country, a, "") for a in ("name", "common_name", "official_name"))
    for lang in languages:
        try:
            names.add(Locale.parse(lang).territories.get(code, ""))
        except (UnknownLocaleError, ValueError):
            continue
    names.discard("")
    return names


def brand_terms(brief: Brief) -> list[str]:
    """The brief's own market terms: product name, product category and competitors (allow-list candidates)."""
    return [t for t in [brief.product.name, brief.product.category, *brief.competitors] if t.strip()]


def brief_allow_list(brief: Brief, *, people: Iterable[str] = ()) -> AllowList:
    """Terms of a brief that are not PII: its brand terms (less `people`), bundled brands, and country names.

    Every country's English names count as places; the brief's markets also in the report
    language and in every market's official languages ("Frankreich" for a DE+FR brief). Brand
    terms match exactly and whole; a term in `people` (a person's name typed into `competitors`)
    is not allowed and is pseudonymized like any other name.
    """
    languages = {"en", brief.locale}
    for code in brief.markets:
        languages.update(get_official_languages(code, de_facto=True))
    places: set[str] = set()
    for code in brief.markets:
        places.update(_market_names(code, languages))
    excluded = set(people)
    brands = AllowList.of([t for t in brand_terms(brief) if t not in excluded])
    return _countries_allowed().merged(known_brands()).merged(brands).merged(AllowList(places=frozenset(places)))


class PiiAgent:
    """Tags and pseudonymizes PII in the brief and the evidence; placeholders come from the job's vault.

    Example:
        >>> agent, vault = PiiAgent(), Vault()
        >>> agent.redact_evidence([Evidence(id="e1", source="mcp://x/1", text="Ask Maria Keller")], vault)[0].text
        'Ask <PERSON_1>'
    """

    def __init__(
        self,
        *,
        analyzer: AnalyzerEngine | None = None,
        config: PiiConfig | None = None,
        entities: Iterable[str] | None = None,
        min_score: float | Mapping[str, float] | None = None,
        batch_size: int | None = None,
    ) -> None:
        self._analyzer = analyzer
        self._config = config
        self._entities = tuple(entities) if entities is not None else None
        self._min_score = min_score
        self._batch_size = batch_size

    @property
    def analyzer(self) -> AnalyzerEngine:
        """The Presidio engine (this process's one for the configuration unless one was injected)."""
        if self._analyzer is None:
            self._analyzer = get_analyzer(self._config)
        return self._analyzer

    def scan(self, text: str, *, allow: AllowList | Iterable[str] = ()) -> list[PiiEntity]:
        """Find PII in a text without changing it."""
        return detect_many([text], allow=allow, **self._options())[0]

    def redact_brief(self, brief: Brief, vault: Vault) -> Brief:
        """Return a copy of the brief with every FREE_TEXT field pseudonymized; other fields untouched."""
        paths = [p for p, cls in pii_fields(type(brief)).items() if cls is PiiClass.FREE_TEXT]
        slots: list[tuple[str, int | None]] = []  # (path, list index) of each text, in field order
        texts: list[str] = []
        for path in paths:
            value = _get_path(brief, path)
            items = [(None, value)] if isinstance(value, str) else list(enumerate(value or []))
            for index, text in items:
                if isinstance(text, str):
                    slots.append((path, index))
                    texts.append(text)
        terms = brand_terms(brief)
        # A term the brief gives as a brand or category is a person only when it opens with a given name
        # ("Maria Keller" typed into competitors); NER alone takes "Oat Milk" or "Blue Bottle Coffee" for one.
        people = [p for p in self._people(terms) if is_given_name(p.split()[0], strict=True)]
        redacted = self._redact_texts(texts, vault, brief_allow_list(brief, people=people))
        updates: dict[str, Any] = {}
        for (path, index), text in zip(slots, redacted, strict=True):
            if index is None:
                updates[path] = text
            else:
                updates.setdefault(path, list(_get_path(brief, path)))[index] = text
        for path, value in updates.items():
            brief = _set_path(brief, path, value)
        return brief

    def redact_evidence(
        self, items: Sequence[Evidence], vault: Vault, *, allow: AllowList | Iterable[str] = ()
    ) -> list[Evidence]:
        """Return the evidence with its text and data keys pseudonymized (ids, sources and values untouched).

        Names a curated dataset's item carries as data keys ("Oatfield share_pct" → "Oatfield") are
        dataset labels, allowed in the texts, unless the job's vault already holds them (a name the
        brief's notes made a placeholder) or the label is a person's name as a whole (it joins the
        vault). Only items of `source_type` dataset (or none, as before sources were typed) lend their
        labels: a user's spreadsheet or a CRM server names people in the same place ("Dr. Anna Schmidt
        deal_value_eur"), so their names are redacted like any text. Keys get the vault's placeholders
        wherever they hold a vault value, so they never carry one to an LLM.
        """
        curated = [item for item in items if item.source_type in (None, "dataset")]
        labels = [name for name in _data_names(curated) if vault.lookup(name) is None]
        people = [p for p in self._people(labels) if is_given_name(p.split()[0], strict=True)]  # not "Nutty Grove"
        for person in people:  # "Anna Schmidt share_pct": a person, not a dataset label
            vault.placeholder_for(person, "PERSON")
            labels.remove(person)
        allow_list = _countries_allowed().merged(known_brands()).merged(allow).merged(labels)
        redacted = self._redact_texts([item.text for item in items], vault, allow_list)
        out: list[Evidence] = []
        for item, text in zip(items, redacted, strict=True):
            data = None
            if item.data is not None:
                data = {}
                for key, value in item.data.items():
                    name = _key_text(key)
                    known = known_values(name, vault)
                    data[_key_back(key, apply_placeholders(name, known, vault)) if known else key] = value
            out.append(item.model_copy(update={"text": text, "data": data}))
        return out

    def _people(self, terms: list[str]) -> list[str]:
        """The terms that are a person's name as a whole (not a bundled brand): never allow-listed."""
        found = detect_many(terms, allow=known_brands(), **self._options())
        return [
            term
            for term, ents in zip(terms, found, strict=True)
            if any(e.type == "PERSON" and e.start == 0 and e.end >= len(term.rstrip()) for e in ents)
        ]

    def _redact_texts(self, texts: list[str], vault: Vault, allow: AllowList) -> list[str]:
        done = pseudonymize_many(texts, vault, allow=allow, **self._options())
        return [text for text, _ in done]

    def _options(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "entities": self._entities,
            "min_score": self._min_score,
            "batch_size": self._batch_size,
        }  # None: the engine's PiiConfig decides


def _data_names(items: Sequence[Evidence]) -> list[str]:
    return sorted({_key_text(key).strip() for item in items for key in item.data or {} if _DATA_KEY_SUFFIX.search(key)})


def _key_text(key: str) -> str:
    """A data key as text for the detector: the name part, without the metric suffix ("Oatfield share_pct")."""
    return _DATA_KEY_SUFFIX.sub("", key) if _DATA_KEY_SUFFIX.search(key) else key


def _key_back(key: str, redacted_name: str) -> str:
    suffix = _DATA_KEY_SUFFIX.search(key)
    return redacted_name + suffix.group() if suffix else redacted_name


_DATA_KEY_SUFFIX = re.compile(r"\s+[a-z0-9]+_[a-z0-9_]+$")


def _get_path(model: BaseModel, path: str) -> Any:
    value: Any = model
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def _set_path(model: BaseModel, path: str, value: Any) -> Any:
    """Copy `model` with the dotted field replaced (nested models copied, not re-validated)."""
    head, _, rest = path.partition(".")
    if not rest:
        return model.model_copy(update={head: value})
    return model.model_copy(update={head: _set_path(getattr(model, head), rest, value)})
