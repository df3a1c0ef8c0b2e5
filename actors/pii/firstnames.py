"""Names by their first name: a given-name list of many countries marks "Mehmet Öztürk", "ildikó varga", "Clara said".

The list is the name dictionary bundled with the `gender-guesser` package (about 45,000 given names
from Europe, Turkey, the Arab world, India, East Asia and the Americas), read offline. Given names
that are also common words or places ("Will", "May", "Florence") count only with a surname
beside them, never alone and never in lower case.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from presidio_analyzer import RecognizerResult

from actors.pii.names import _AFTER_VERBS, _CAP_WORD, _PARTICLE, _common, _extend, is_name_like
from actors.pii.recognizers import _Recognizer

__all__ = ["FirstNameRecognizer", "given_names", "is_given_name"]

_AMBIGUOUS = frozenset(
    """
    will may june april august mark rose grace summer hope joy faith dawn eve page max ray guy gene don bill pat sue
    rob art bob jack sky lane cliff bay chase hunter mason carter cash king prince major sterling star storm river
    rain brook brooke dale glen heath ivy jade olive pearl ruby amber crystal destiny honey angel baby love lucky
    christian justice liberty miles price rich sunny autumn winter stone wolf fox bear hawk paris florence austin
    victoria jordan chelsea georgia virginia carolina dakota sydney adelaide lima sofia santiago madison orlando
    delta alpha nova luna stella aurora venus iris lily daisy violet poppy holly hazel rosemary basil sage flora
    mercedes porsche lexus ford chevy tesla apple mango cherry berry peach candy ginger pepper coco cookie
    sale new free best top more most many much long short young old white black brown green gray grey
    """.split()
)
_WORDS = re.compile(  # a lookahead, so "Opinión de Guadalupe Ferrández" is tried at "Guadalupe" too
    rf"(?<![\w'’-])(?=(?P<first>{_CAP_WORD})(?:[ \t]+(?P<mid>[A-ZÀ-ÖØ-Þ]\.?|{_CAP_WORD}))??[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}"
    rf"(?P<last>{_CAP_WORD}))"
)
_LO = "a-zß-öø-ÿāăąćčďđēėęěğīįıłńňōőœřśşšţťūůűųźżž"
_LOWER = re.compile(  # a lookahead, so "and margaret ellison" is tried at "margaret" too
    rf"(?<![\w@.-])(?=(?P<first>[{_LO}]{{3,}})[ \t]+(?P<last>[{_LO}]{{3,}}(?:-[{_LO}]{{2,}})?(?:[ \t]+[{_LO}]{{4,}})?)(?![\w@-]))"
)
_WITH_INITIAL = re.compile(rf"(?P<first>{_CAP_WORD}|[{_LO}]{{3,}})[ \t]+(?P<initial>[A-Za-zÀ-ÖØ-Þ])\.(?![\w])")
_CAPS = r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’-]+"
_REVERSED = re.compile(rf"(?P<last>{_CAP_WORD}|{_CAPS}),[ \t]*(?P<first>{_CAP_WORD}|{_CAPS})(?![\w])")
_SINGLE = re.compile(rf"(?<![\w@#./-])(?P<first>{_CAP_WORD})(?![\w@]|\.\w)")
_HEADER_NAMES = frozenset(
    """
    name names full_name fullname first_name firstname first last_name lastname last surname given_name contact
    contact_name customer customer_name vorname nachname name_kunde kunde ansprechpartner nom prénom prenom
    nom_complet nombre apellido apellidos nome cognome voornaam achternaam naam imię imie nazwisko
    """.split()
)
_DELIMS = (",", ";", "\t", "|")
_ALONE = re.compile(rf"(?P<first>{_CAP_WORD})(?=[ \t]+(?:{_AFTER_VERBS})\b|,[ \t]*\d{{2}}\b)")


@functools.cache
def given_names() -> frozenset[str]:
    """Lower-cased given names of the bundled dictionary (accents kept and also folded)."""
    text = importlib.resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#") or len(line) < 30:
            continue
        for part in line[3:29].strip().replace("+", " ").replace("-", " ").split():
            if len(part) >= 2:
                names.add(part.lower())
                names.add(_fold(part.lower()))
    return frozenset(names)


def _fold(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


_INFLECTED = (("ą", "a"), ("ę", "a"), ("em", ""), ("owi", ""), ("ie", ""), ("iem", ""))
"""Polish case endings back to the nominative: "Agnieszką" → "Agnieszka", "Witoldem" → "Witold"."""


def is_given_name(word: str, *, strict: bool = False) -> bool:
    """Tell whether a word is a given name (also in a Polish case form); `strict` rules out common words and places."""
    w = word.lower()
    names = given_names()
    if "-" in w.strip("-") and all(part in names for part in w.split("-")):
        return not strict or not any(part in _AMBIGUOUS for part in w.split("-"))  # "Pieter-Jan", "Ji-woo"
    if w not in names:
        if len(w) < 5 or not word[:1].isupper() or not any(w.endswith(end) and w[: -len(end)] + base in names for end, base in _INFLECTED):
            return False
    return not (strict and (w in _AMBIGUOUS or _common(w) or w in _languages_and_countries()))


@functools.cache
def _languages_and_countries() -> frozenset[str]:
    """Language and country names ("German", "Jordan"): words before they are given names."""
    import pycountry

    names = {lang.name.lower() for lang in pycountry.languages}
    names.update(c.name.lower() for c in pycountry.countries)
    return frozenset(names)


class FirstNameRecognizer(_Recognizer):
    """A given name followed by a surname-shaped word, in any case; a strict given name before a verb or an age."""

    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield full names that start with a known given name."""
        for match in _WORDS.finditer(text):
            first, last = match.group("first"), match.group("last")
            if not is_given_name(first) or _common(first) or not is_name_like(f"{first} {last}"):
                continue
            if first.lower() in _AMBIGUOUS and not is_given_name(last):
                continue  # "Will Power", "May Sales": a word, unless a second given name follows
            yield self.result(*_extend(text, match.start("first"), match.end("last")), 0.7)
        for match in _LOWER.finditer(text):
            first, words = match.group("first"), match.group("last").split()
            if not is_given_name(first, strict=True) or _common(words[0]) or words[0].lower() in _AMBIGUOUS:
                continue
            end = match.start("last") + len(words[0])
            if len(words) > 1 and not _common(words[1]):
                end = match.end("last")
            yield self.result(match.start("first"), end, 0.55)
        for match in _WITH_INITIAL.finditer(text):
            if is_given_name(match.group("first"), strict=True):
                yield self.result(match.start(), match.end(), 0.65)
        for match in _ALONE.finditer(text):
            if is_given_name(match.group("first"), strict=True) and is_name_like(match.group("first")):
                yield self.result(match.start(), match.end(), 0.6)
        for match in _REVERSED.finditer(text):
            first, last = match.group("first"), match.group("last")
            if first.isupper() != last.isupper():
                continue  # "Venkataraman, NINO": a name, then a label
            if is_given_name(first, strict=True) and not is_given_name(last) and is_name_like(last):
                yield self.result(match.start(), match.end(), 0.65)
        for match in _SINGLE.finditer(text):
            word = match.group("first")
            if len(word) >= 3 and is_given_name(word, strict=True) and is_name_like(word):
                before = text[: match.start()].rstrip(" \t\"'(")
                sentence_start = not before or before[-1] in ".!?\n"
                if sentence_start and text[match.end() : match.end() + 1] not in (",", ":"):
                    continue  # "Urban coffee drinkers": a capitalized word, not (surely) a name
                yield self.result(match.start(), match.end(), 0.55)
        yield from _table_names(text, self.result)


def _table_names(text: str, result: Any) -> Iterable[RecognizerResult]:
    """Values of the name columns of a delimited table whose header names them (first_name, Nachname, nom…)."""
    lines = text.splitlines(keepends=True)
    offset = 0
    columns: list[int] = []
    delim = ""
    for line in lines:
        body = line.rstrip("\r\n")
        cells = _split(body, delim) if delim else []
        if not columns:
            for d in _DELIMS:
                header = [c.strip().strip('"').lower().replace(" ", "_").replace("-", "_") for c in _split(body, d)]
                found = [i for i, c in enumerate(header) if c in _HEADER_NAMES]
                if len(header) >= 2 and found:
                    columns, delim = found, d
                    break
        else:
            pos = 0
            for i, cell in enumerate(cells):
                if i in columns:
                    value = cell.strip().strip('"')
                    if value and any(ch.isalpha() for ch in value) and not any(ch.isdigit() or ch == "@" for ch in value):
                        start = offset + pos + cell.index(value)
                        yield result(start, start + len(value), 0.8)
                pos += len(cell) + len(delim)
        offset += len(line)


def _split(line: str, delim: str) -> list[str]:
    return line.split(delim)
