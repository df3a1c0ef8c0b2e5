"""The generated text a localized report translates, what must survive translation, and the retry-and-fallback walk.

Pure: the walk gets the call to a provider and an event sink from its caller (the localize step).
A translation is accepted segment by segment, and only when every placeholder (`<PERSON_1>`),
glossary term, number and evidence id of the source comes back unchanged and no placeholder is
added; rejected segments are asked again with what went wrong, then from the next provider, and
stay in the source language (marked untranslated) when no provider gets them right.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from schemas.localization import Segment, TranslationAttempt, TranslationResult
from schemas.pipeline import ReportInput

__all__ = ["PLACEHOLDER", "WalkResult", "check_translation", "protected_tokens", "segments_of", "translate_walk"]

PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*_\d+>")
# A figure as written: digits with their separators, not part of a longer figure ("27" is not in "1,270"). Letters
# may touch it (Japanese and Chinese put no space before "27%"); ids and names are taken out before looking.
_NUMBER = re.compile(r"(?<![\d.,])(?<![\d][.,])\d+(?:[.,]\d+)*(?![\d])")
MAX_ATTEMPTS_PER_PROVIDER = 2


def protected_tokens(text: str, glossary: Iterable[str], evidence_ids: Iterable[str]) -> list[str]:
    """The tokens of `text` a translation must keep exactly: placeholders, glossary terms, numbers, evidence ids."""
    found: list[str] = PLACEHOLDER.findall(text)
    terms = [term for term in glossary if term and term in text and not PLACEHOLDER.fullmatch(term)]
    ids = [eid for eid in evidence_ids if eid and eid in text]
    return list(dict.fromkeys([*found, *terms, *_numbers(text, [*terms, *ids]), *ids]))


# Letters of alphabetic scripts: a name followed or preceded by one was inflected ("Oatlys"); Japanese or Chinese
# characters may touch it ("Oatlyは").
_ALPHA = r"A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"


def _whole(term: str, text: str) -> int:
    """How often `term` occurs in `text` as itself, not inside a longer word of an alphabetic script."""
    return len(re.findall(rf"(?<![{_ALPHA}]){re.escape(term)}(?![{_ALPHA}])", text))


def _numbers(text: str, words: Iterable[str]) -> list[str]:
    """The figures of `text`, once the placeholders and the given names and ids (digits inside them) are out."""
    rest = PLACEHOLDER.sub(" ", text)
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, " ")
    return _NUMBER.findall(rest)


def segments_of(report: ReportInput, glossary: Sequence[str]) -> list[Segment]:
    """The report's generated text, each distinct string once: claims, model summaries, disagreement topics and
    flag reasons (the brief's own questions are the user's words and stay verbatim)."""
    texts: list[str] = []
    merge = report.merge
    if merge is not None:
        texts += [c.text for c in merge.claims]
        texts += [d.topic for d in merge.disagreements]
        texts += [reason for c in merge.claims if c.hallucination for reason in c.reasons]
    texts += [a.summary for a in report.answers if a.summary]
    ids = [e.id for e in report.evidence]
    unique = [t for t in dict.fromkeys(t.strip() for t in texts) if t]
    return [Segment(id=f"s{n}", text=t, protected=protected_tokens(t, glossary, ids)) for n, t in enumerate(unique, 1)]


def check_translation(segment: Segment, translated: str) -> list[str]:
    """What a translation broke, as `<code>: <token>` problems (empty: accepted)."""
    text = translated.strip()
    if not text:
        return ["empty: the translation is empty"]
    problems = []
    words = [t for t in segment.protected if not PLACEHOLDER.fullmatch(t) and not _NUMBER.fullmatch(t)]
    have, want = Counter(_numbers(text, words)), Counter(_numbers(segment.text, words))
    for token in segment.protected:
        if _NUMBER.fullmatch(token):
            if have[token] < want[token]:
                problems.append(f"number: {token} was lost or altered")
        elif PLACEHOLDER.fullmatch(token):
            if text.count(token) != segment.text.count(token):  # each placeholder exactly as often: no extra person
                problems.append(f"placeholder: {token} was lost, altered or repeated")
        elif _whole(token, text) < _whole(token, segment.text):
            problems.append(f"protected: {token} was lost or altered")
    added = set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(segment.text))
    problems += [f"placeholder: {token} was added" for token in sorted(added)]
    return problems


class WalkResult:
    """Accepted translations by segment id, every attempt made, and who translated most."""

    def __init__(self) -> None:
        self.translations: dict[str, str] = {}
        self.attempts: list[TranslationAttempt] = []
        self.by_provider: dict[str, int] = {}
        self.reasons: list[str] = []

    @property
    def reason(self) -> str:
        """Why text stayed untranslated, one line per distinct cause with the providers it applies to."""
        causes: dict[str, list[str]] = {}
        for line in self.reasons:
            provider, _, cause = line.partition(": ")
            causes.setdefault(cause, []).append(provider)
        return "; ".join(f"{', '.join(dict.fromkeys(p))}: {cause}" for cause, p in causes.items())

    @property
    def translated_by(self) -> str | None:
        """The provider that translated the most segments."""
        return max(self.by_provider, key=lambda p: self.by_provider[p]) if self.by_provider else None


def translate_walk(
    segments: list[Segment],
    providers: Sequence[str],
    call: Callable[[str, list[Segment], list[str]], TranslationResult],
    *,
    on_event: Callable[[str, dict[str, object]], None] = lambda kind, payload: None,
    max_attempts: int = MAX_ATTEMPTS_PER_PROVIDER,
) -> WalkResult:
    """Translate `segments` with one provider at a time: retry the rejected ones with their problems, then fall back.

    `call(provider, segments, problems)` asks one provider; `on_event(kind, payload)` announces each
    `retried` and `fell_back` (payloads carry provider names, counts and problem codes, never text).
    """
    result = WalkResult()
    remaining = {s.id: s for s in segments}
    if not remaining:  # nothing to translate: no provider is asked
        return result
    for index, provider in enumerate(providers):
        problems: list[str] = []
        for attempt in range(1, max_attempts + 1):
            answer = call(provider, list(remaining.values()), problems)
            if answer.status != "ok":
                outcome = "unsupported" if answer.status == "unsupported" else "error"
                result.attempts.append(TranslationAttempt(provider=provider, attempt=attempt, outcome=outcome,
                                                          problems=[outcome]))
                result.reasons.append(f"{provider}: {answer.error or outcome}")
                break
            problems, accepted = [], 0
            for seg_id, segment in list(remaining.items()):
                if seg_id not in answer.segments:
                    problems.append(f"{seg_id}: missing: no translation came back")
                    continue
                found = check_translation(segment, answer.segments[seg_id])
                if found:
                    problems += [f"{seg_id}: {p}" for p in found]
                    continue
                result.translations[seg_id] = answer.segments[seg_id].strip()
                del remaining[seg_id]
                accepted += 1
            result.by_provider[provider] = result.by_provider.get(provider, 0) + accepted
            codes = sorted({p.split(": ", 2)[1] for p in problems})
            outcome = "ok" if not remaining else "partial" if accepted else "rejected"
            result.attempts.append(TranslationAttempt(provider=provider, attempt=attempt, outcome=outcome,
                                                      accepted=accepted, problems=codes))
            if not remaining:
                return result
            result.reasons.append(f"{provider}: {len(remaining)} segment(s) failed the preservation check ({', '.join(codes)})")
            if attempt < max_attempts:
                on_event("retried", {"provider": provider, "attempt": attempt + 1, "segments": len(remaining),
                                     "problems": codes})
        if index + 1 < len(providers) and remaining and result.attempts[-1].outcome != "unsupported":
            on_event("fell_back", {"from_provider": provider, "to_provider": providers[index + 1],
                                   "segments": len(remaining), "problems": result.attempts[-1].problems})
    return result
