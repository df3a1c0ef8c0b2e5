"""Detect PII in texts and swap it for vault placeholders; `redact_text` is the `mka redact` core."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from presidio_analyzer import AnalyzerEngine, RecognizerResult

from actors.pii.analyzer import get_analyzer
from actors.pii.brands import known_brands
from actors.pii.chunking import chunk_text
from actors.pii.config import PiiConfig
from actors.pii.firstnames import is_given_name
from actors.pii.language import paragraphs
from actors.pii.names import _function_words, ner_view
from actors.pii.people import refine
from actors.pii.policy import _HONORIFIC_BEFORE, PLACEHOLDER_RE, AllowList, clean_entities, countries_allowed
from actors.pii.vault import Vault
from schemas import PiiEntity

__all__ = [
    "KNOWN_VALUE_SCORE",
    "apply_placeholders",
    "detect",
    "detect_many",
    "known_values",
    "pseudonymize",
    "pseudonymize_many",
    "redact_many",
    "redact_text",
]

KNOWN_VALUE_SCORE = 1.0
"""Score of a further occurrence of a value the job already pseudonymized."""

_LANGUAGE = "en"
_MIN_KNOWN_LEN = 3


def _config(engine: AnalyzerEngine) -> PiiConfig:
    config = getattr(engine, "config", None)
    return config if isinstance(config, PiiConfig) else PiiConfig()


def detect_many(
    texts: Sequence[str],
    *,
    analyzer: AnalyzerEngine | None = None,
    entities: Iterable[str] | None = None,
    allow: AllowList | Iterable[str] = (),
    min_score: float | Mapping[str, float] | None = None,
    batch_size: int | None = None,
) -> list[list[PiiEntity]]:
    """Find PII in many texts at once: one spaCy `pipe` pass over sentence-aligned chunks.

    Entities, thresholds and batch size default to the engine's `PiiConfig`; one sorted entity
    list per text, offsets into that text.
    """
    engine = analyzer if analyzer is not None else get_analyzer()
    config = _config(engine)
    wanted = tuple(entities) if entities is not None else config.entities
    threshold = min_score if min_score is not None else config.min_score
    allow_list = AllowList.of(allow).merged(config.allow_terms)
    ner_language = getattr(engine, "ner_language", lambda lang: _LANGUAGE)
    jobs: dict[str, list[tuple[int, int, str]]] = {}  # NER language → (text index, offset, piece)
    languages: list[dict[int, str]] = [{} for _ in texts]  # text index → piece offset → paragraph language
    for i, text in enumerate(texts):
        if text and not text.isspace():
            for start, paragraph, lang in paragraphs(text):
                pieces = chunk_text(paragraph, config.chunk_chars)
                jobs.setdefault(ner_language(lang), []).extend((i, start + off, piece) for off, piece in pieces)
                languages[i].update((start + off, lang) for off, _ in pieces)
    raw: list[list[RecognizerResult]] = [[] for _ in texts]
    for lang, group in jobs.items():
        views = [ner_view(piece) for _, _, piece in group]
        batch = engine.nlp_engine.process_batch(views, language=lang, batch_size=batch_size or config.batch_size)
        for (i, offset, piece), (_, artifacts) in zip(group, batch, strict=True):
            for res in engine.analyze(text=piece, language=_LANGUAGE, entities=list(wanted), nlp_artifacts=artifacts):
                if lang != languages[i].get(offset, lang) and not _corroborated(piece, res, languages[i].get(offset, lang)):
                    trimmed = _from_given_name(piece, res)
                    if trimmed is None:
                        continue  # the English model read a paragraph of another language
                    res = trimmed
                res.start, res.end = res.start + offset, res.end + offset
                raw[i].append(res)
    return [
        clean_entities(text, refine(text, found, allow_list), entities=wanted, allow=allow_list, min_score=threshold)
        if text and not text.isspace()
        else []
        for text, found in zip(texts, raw, strict=True)
    ]


def _corroborated(piece: str, res: RecognizerResult, language: str) -> bool:
    """A detection that stands without the NER model's say: any non-NER result, or a name led by a given name.

    Outside German (which capitalizes every noun), a run of two or more capitalized words that the
    English model calls a person is taken as one too.
    """
    if res.entity_type != "PERSON" or (res.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) != "NerRecognizer":
        return True  # places stay as a signal (a given name that is a place); the policy drops them later
    words = piece[res.start : res.end].split()
    if res.entity_type != "PERSON" or len(words) < 2:
        return False
    first = words[0].strip(".,")
    return is_given_name(first, strict=True) or (language != "de" and first.lower() not in _function_words() and all(w[:1].isupper() for w in words))


def _from_given_name(piece: str, res: RecognizerResult) -> RecognizerResult | None:
    """The part of an uncorroborated NER person span that starts at a given name ("Opinión de Guadalupe Ferrández")."""
    if res.entity_type != "PERSON":
        return None
    for word in re.finditer(r"\S+", piece[res.start : res.end]):
        rest = piece[res.start + word.start() : res.end]
        if is_given_name(word.group().strip(".,"), strict=True) and len(rest.split()) >= 2:
            start = res.start + word.start()
            return RecognizerResult("PERSON", start, res.end, res.score, recognition_metadata=res.recognition_metadata)
    return None


def detect(text: str, **options: Any) -> list[PiiEntity]:
    """Find PII in one text (options as for `detect_many`)."""
    return detect_many([text], **options)[0]


def apply_placeholders(text: str, found: Sequence[PiiEntity], vault: Vault) -> str:
    """Replace non-overlapping entity spans with their vault placeholders (right to left)."""
    for ent in sorted(found, key=lambda e: e.start):
        vault.placeholder_for(text[ent.start : ent.end], ent.type)  # number in reading order
    out = text
    for ent in sorted(found, key=lambda e: e.start, reverse=True):
        out = out[: ent.start] + vault.placeholder_for(text[ent.start : ent.end], ent.type) + out[ent.end :]
    return out


def known_values(
    text: str, vault: Vault, *, taken: Sequence[PiiEntity] = (), allow: AllowList | Iterable[str] = ()
) -> list[PiiEntity]:
    """Find further occurrences of values already in the vault (any case), outside the `taken` spans.

    The small NER model misses a name it found elsewhere ("MARIA KELLER", "maria keller"); a value
    the job already pseudonymized gets its placeholder wherever it appears.
    """
    values = sorted((v for v in vault.values() if len(v.strip()) >= _MIN_KNOWN_LEN), key=len, reverse=True)
    if not values:
        return []
    alternatives = "|".join(r"[\s\-_.]+".join(map(re.escape, v.split())) for v in values)  # any spacing
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    found: list[PiiEntity] = []
    brands = AllowList.of(allow).occurrences(text)
    for match in pattern.finditer(text):
        start, end = match.span()
        if any(s <= start and end <= e for s, e in brands) and not _HONORIFIC_BEFORE.search(text[max(0, start - 12) : start]):
            continue  # the brand "Müller" stays where the vault holds the person "Müller" ("Herr Müller")
        placeholder = vault.lookup(match.group())
        if placeholder is None or any(start < t.end and t.start < end for t in (*taken, *found)):
            continue
        kind = PLACEHOLDER_RE.fullmatch(placeholder)
        found.append(PiiEntity(type=kind.group(1) if kind else "PII", start=start, end=end, score=KNOWN_VALUE_SCORE))
    return found


def pseudonymize_many(
    texts: Sequence[str],
    vault: Vault,
    *,
    allow: AllowList | Iterable[str] = (),
    **options: Any,
) -> list[tuple[str, list[PiiEntity]]]:
    """Pseudonymize texts of one job in reading order; options as for `detect_many`.

    Placeholders are numbered in order of first appearance across the texts, and every value
    detected anywhere is replaced everywhere.
    """
    detected = detect_many(texts, allow=allow, **options)
    for text, found in zip(texts, detected, strict=True):
        for ent in found:
            vault.placeholder_for(text[ent.start : ent.end], ent.type)
    out: list[tuple[str, list[PiiEntity]]] = []
    for text, found in zip(texts, detected, strict=True):
        known = known_values(text, vault, taken=found, allow=AllowList.of(allow))
        everything = sorted([*found, *known], key=lambda e: (e.start, e.end))
        out.append((apply_placeholders(text, everything, vault), everything))
    return out


def pseudonymize(
    text: str,
    vault: Vault,
    *,
    allow: AllowList | Iterable[str] = (),
    analyzer: AnalyzerEngine | None = None,
    min_score: float | Mapping[str, float] | None = None,
) -> tuple[str, list[PiiEntity]]:
    """Return the text with PII replaced by placeholders, and the entities (offsets into `text`).

    Example:
        >>> vault = Vault()
        >>> pseudonymize("Write to ann.lee@example.com", vault)[0]
        'Write to <EMAIL_ADDRESS_1>'
    """
    return pseudonymize_many([text], vault, allow=allow, analyzer=analyzer, min_score=min_score)[0]


def redact_many(
    texts: Sequence[str], *, allow: AllowList | Iterable[str] = (), analyzer: AnalyzerEngine | None = None
) -> list[tuple[str, list[PiiEntity]]]:
    """Redact texts independently (a fresh vault each) in one batch; country names are never redacted."""
    allow_list = countries_allowed().merged(known_brands()).merged(allow)
    detected = detect_many(texts, analyzer=analyzer, allow=allow_list)
    out: list[tuple[str, list[PiiEntity]]] = []
    for text, found in zip(texts, detected, strict=True):
        vault = Vault()
        for ent in found:
            vault.placeholder_for(text[ent.start : ent.end], ent.type)
        known = known_values(text, vault, taken=found, allow=allow_list)
        everything = sorted([*found, *known], key=lambda e: (e.start, e.end))
        out.append((apply_placeholders(text, everything, vault), everything))
    return out


def redact_text(
    text: str, *, analyzer: AnalyzerEngine | None = None, allow: AllowList | Iterable[str] = ()
) -> dict[str, Any]:
    """Redact one text with a fresh vault: `{"redacted", "entities": [{"type", "start", "end", "score"}]}`.

    The JSON shape of `mka redact`; offsets index `text`, types are Presidio names (plus EU_VAT_ID,
    SOCIAL_HANDLE, CUSTOMER_ID); country names and `allow` terms are kept.
    """
    redacted, found = redact_many([text], allow=allow, analyzer=analyzer)[0]
    return {"redacted": redacted, "entities": [ent.model_dump() for ent in found]}
