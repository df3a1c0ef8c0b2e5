"""Claim text for matching: placeholder-safe tokens, light stemming, topic synonyms, clauses, polarity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "DECLINE_WORDS",
    "NEGATIONS",
    "STOPWORDS",
    "SUPERLATIVES",
    "Token",
    "canonical",
    "clause_spans",
    "content_words",
    "mask_placeholders",
    "negated",
    "tokens",
    "trend",
]

# Pseudonymization placeholders (<PERSON_1>, <EMAIL_ADDRESS_2>) are one opaque token each.
PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]*)_(\d+)>")
_TOKEN = re.compile(r"<[A-Z][A-Z_]*_\d+>|[A-Za-z\u00C0-\u024F][A-Za-z0-9\u00C0-\u024F'’&-]*|\d+(?:[.,]\d+)*")

STOPWORDS = frozenset(
    """a about above after again against all almost also am among an and any are around as at be been before
    being below between both but by can could did do does doing down during each either few for from further had
    has have having he her here hers him his how i if in into is it its itself just least less let like ll
    may me might more most much must my near nearly of off on once one only or other our ours out over own per
    roughly same she should so some such than that the their theirs them then there these they this those through
    to too under until upon us very was we were what when where which while who whom why will with would yet you
    your approximately approx about estimated around some currently today now year years annual annually yearly
    a-year per-year last this next""".split()
)
NEGATIONS = frozenset("not no never none neither nor cannot without isn't aren't wasn't weren't doesn't don't "
                      "didn't hasn't haven't won't can't".split())
DECLINE_WORDS = frozenset(
    "decline declines declined declining decrease decreases decreased decreasing fall falls fell falling "
    "shrink shrinks shrank shrinking shrunk drop drops dropped dropping contracted contracting "
    "contraction down lower slump slumped slumping stagnating negative plunge plunges plunged plunging plummet "
    "plummets plummeted plummeting slip slips slipped slipping slide slides slid sliding sink sinks sank sinking "
    "tumble tumbles tumbled tumbling dip dips dipped dipping erode erodes eroded eroding retreat retreated "
    "retreating weaken weakened weakening".split()
)
GROWTH_WORDS = frozenset(
    "grow grows grew grown growing growth increase increases increased increasing rise rises rose rising "
    "expand expands expanded expanding expansion up gain gains gained gaining cagr climb climbs climbed climbing "
    "surge surges surged surging soar soars soared soaring jump jumps jumped jumping rebound rebounds rebounded "
    "rebounding boom booms boomed booming accelerate accelerates accelerated accelerating".split()
)
SUPERLATIVES = frozenset(
    "leader leaders lead leads leading largest biggest top dominant dominates dominate cheapest priciest "
    "smallest first number-one no1 market-leader most".split()
)
# Quantity vocabulary: words that say *which* figure a number is; synonyms share one canonical word.
_TOPICS = {
    "value": "value worth size sized sales revenue revenues turnover valued spending spend totalled totaled "
             "totalling totaling amounted",
    "growth": " ".join(sorted(GROWTH_WORDS | DECLINE_WORDS - {"down", "lower", "negative"}))
    + " change changes changed changing",
    "share": "share shares stake account accounts accounted accounting represent represents represented "
             "representing hold holds held holding",
    "price": "price prices priced pricing cost costs costing charge charges charged fare fares fee fees",
    "population": "population inhabitants residents people",
    "area": "area km2 km²",
}
MAKE_FORMS = frozenset(("make", "makes", "made", "making"))
PER_HEAD = frozenset(("person", "head", "inhabitant", "resident", "citizen", "capita"))
_MAKE_UP = re.compile(r"\b(make|makes|made|making)\s+up\b", re.IGNORECASE)
_CANON = {word: topic for topic, words in _TOPICS.items() for word in words.split()}
_CANON.update(dict.fromkeys("lead leads leading leader leaders dominant dominates dominate largest biggest".split(),
                            "lead"))
_CANON.update({"avg": "averag", "avge": "averag"})
_CANON.update(dict.fromkeys("headquarter headquarters headquartered hq".split(), "headquarter"))
_CANON.update(dict.fromkeys("ecommerce e-commerce internet web".split(), "onlin"))
TOPIC_WORDS = frozenset(_TOPICS)
_SUFFIXES = ("ies", "ing", "ed", "es", "s")


@dataclass(frozen=True)
class Token:
    """A word or number with its character span in the text."""

    text: str
    start: int
    end: int


_SUBJECT_TYPES = frozenset(("ORGANIZATION", "ORG", "COMPANY", "BRAND", "PRODUCT"))


def quoted_only(name: str) -> bool:
    """True for a placeholder that stands for a person or contact (a source quoted), not a brand or company."""
    match = PLACEHOLDER.fullmatch(name.upper())
    return match is not None and match.group(1) not in _SUBJECT_TYPES


def mask_placeholders(text: str) -> str:
    """Blank out placeholders (same length) so their digits are never read as numbers."""
    return PLACEHOLDER.sub(lambda m: " " * len(m.group()), text)


@lru_cache(maxsize=16384)
def tokens(text: str) -> tuple[Token, ...]:
    """Words, numbers and placeholders of `text`, in order."""
    return tuple(Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text))


def _stem(word: str) -> str:
    if len(word) <= 4:
        return word[:-1] if len(word) == 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            break
    return word[:-1] if word.endswith("e") and len(word) > 5 else word


def canonical(word: str) -> str:
    """One form per word: placeholders kept, topic synonyms merged, others lowercased and stemmed."""
    if word.startswith("<"):
        return word
    low = word.lower().strip("'’-").replace("’", "'")
    if low.endswith("'s"):
        low = low[:-2]
    return _CANON.get(low) or _stem(low)


def content_words(text: str) -> list[str]:
    """Canonical content words of `text` (no stopwords, numbers, negations or bare letters), in order."""
    out = []
    for token in tokens(text):
        low = token.text.lower()
        if token.text[0].isdigit() or low in STOPWORDS or low in NEGATIONS or len(low) < 2:
            continue
        out.append(canonical(token.text))
    return out


_CLAUSE_BREAK = re.compile(r"[;:()\[\]]|,(?!\d{3})|\.(?!\d)|\s(?:and|but|while|whereas|whilst)\s")


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of `text` (split at punctuation and coordinating words)."""
    spans, start = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _outside_parentheses(text: str) -> str:
    return re.sub(r"\([^()]*\)", " ", text)


_UP, _DOWN = frozenset(("up", "higher", "more")), frozenset(("down", "lower", "fewer", "less"))
_BASE_YEAR = re.compile(r"(?:\bthan(?:\s+in)?|\bsince|\bfrom|\bon|\bover|\bvs\.?|\bversus|"
                        r"\bcompared\s+(?:to|with))(?:\s+the)?\s*$",
                        re.IGNORECASE)


_STOOD = frozenset("stood stands stand standing was is were are remained remains".split())


def is_level(text: str, start: int) -> bool:
    """True for a figure a change ends at or stands at ("fell 2.5 points to 71 %", "stood at 71 %")."""
    before = text[max(0, start - 24):start].lower().split()
    if not before:
        return False
    if before[-1] in ("to", "reaching", "reached", "reaches", "hitting", "totalling", "totaling"):
        return True
    return before[-1] == "at" and len(before) > 1 and before[-2] in _STOOD  # not "grows at"


def change_near(text: str, start: int, end: int) -> int:
    """+1 / -1 when a percentage is a change by its own words ("up 6 %", "down by 6 %", "6 % fewer"), else 0."""
    before = text[max(0, start - 24):start].lower().replace(",", " ").split()
    if before and before[-1] == "by":
        before = before[:-1]
    after = text[end:end + 12].lower().split()[:1]
    for word in before[-1:] + after:
        if word in _UP:
            return 1 if word != "more" or after == [word] else 0
        if word in _DOWN:
            return -1
    return 0


def is_base_year(text: str, start: int) -> bool:
    """True for a year a figure is compared with ("than in 2022", "on 2023", "since 2019"), not its period."""
    return _BASE_YEAR.search(text[max(0, start - 20):start]) is not None


@lru_cache(maxsize=8192)
def negated(text: str) -> bool:
    """True when the claim's main text (parentheses aside) carries an odd number of negations."""
    words = [t.text.lower().replace("’", "'") for t in tokens(_outside_parentheses(text))]
    return sum(w in NEGATIONS or w.endswith("n't") for w in words) % 2 == 1


@lru_cache(maxsize=8192)
def trend(text: str) -> int:
    """+1 when the main text says something grows, -1 when it declines, 0 when it says neither (or both)."""
    plain = _MAKE_UP.sub(r"\1", _outside_parentheses(text))  # "makes up 40 %" says nothing about growth
    words = {part for t in tokens(plain) for part in t.text.lower().split("-")}
    up, down = bool(words & GROWTH_WORDS), bool(words & DECLINE_WORDS)
    sign = 1 if up and not down else -1 if down and not up else 0
    return -sign if negated(text) else sign
