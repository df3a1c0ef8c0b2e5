"""Near-variant matchers of vault values for the egress guard: name order and initials, email tags, phone formats.

Each matcher is built once from folded vault values (see `_fold`) and asked per payload text
for the longest value it finds, as `(size, entity type)`. The rules, and what they leave alone:

- People ("Maria Keller"): two different parts of one name next to each other, in any order
  ("Keller, Maria", "Keller Maria"), or the surname (4+ letters) next to the initial of a given
  name ("M. Keller", "Keller, M.", "A. M. Keller"). One single-letter token may sit between the two
  ("Maria J. Keller"). A lone part never blocks ("Maria", "Keller Street"), and name particles
  ("de", "van", "von", ...) do not count as parts. The initials a, e, i, o, u, y are also words,
  so they count only when written with a full stop ("A. Keller", not "a Keller grill"). A value written
  all in lowercase ("maria keller", or a phrase the NER model mistook for a name) is reordered only as a
  whole: every part next to the others ("keller, maria"), or its surname with a dotted initial.
- Emails: compared without their plus-tag ("anna+promo@example.com" is "anna@example.com").
- Phone numbers: a vault number in international form is looked for in national and international
  spellings ("020 7946 0958", "0044 20 7946 0958" for "+44 20 7946 0958"): digit runs that end in
  its national number are parsed with `phonenumbers` in the number's region and compared as E.164.
  Numbers stored without a country code are only matched digit for digit (by the guard itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Emails", "People", "Phones", "WORDS", "split_words"]

WORDS = re.compile(r"[^\W_]+")
Found = tuple[int, str]
_SPACES = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def split_words(folded: str) -> list[str]:
    """The words (runs of letters and digits) of a folded text; ASCII text takes a faster path."""
    return folded.translate(_SPACES).split() if folded.isascii() else WORDS.findall(folded)

_PARTICLES = frozenset(
    "al bin binti da das de del della der des di do dos du el ibn la le lo san st ten ter van vom von y zu zum zur".split()
)
_WORD_INITIALS = frozenset("aeiouy")


@dataclass(frozen=True)
class _Person:
    others: tuple[frozenset[str], ...]  # per part: the other parts of the name
    surname_pos: int
    initials: frozenset[str]  # initials of the given names (empty when the surname is short)
    size: int
    entity_type: str
    whole: bool = False  # a reordering must hold every part (values written all in lowercase)


class People:
    """Name order and initials of multi-part PERSON values."""

    def __init__(self, values: Iterable[tuple[list[str], int, str, bool]]) -> None:
        self._people: list[_Person] = []
        self._index: dict[str, list[tuple[int, int]]] = {}
        for words, size, entity_type, whole in values:
            parts = [w for w in words if len(w) > 1 and w not in _PARTICLES]
            if len(parts) < 2:
                continue
            others = tuple(
                frozenset(q for j, q in enumerate(parts) if j != i) for i in range(len(parts))
            )
            surname = parts[-1]
            initials = frozenset(p[0] for p in parts[:-1] if p[0].isalpha()) if len(surname) >= 4 else frozenset()
            person_id = len(self._people)
            self._people.append(_Person(others, len(parts) - 1, initials, size, entity_type, whole))
            for pos, part in enumerate(parts):
                self._index.setdefault(part, []).append((person_id, pos))

    def __bool__(self) -> bool:
        return bool(self._people)

    def keys(self) -> frozenset[str]:
        """Every name part a variant can start from."""
        return frozenset(self._index)

    def find(self, words: list[str], folded: str) -> Found | None:
        """The longest name found as a variant in the text's words."""
        best: Found | None = None
        index = self._index
        for i, word in enumerate(words):
            hits = index.get(word)
            if hits is None:
                continue
            for person_id, pos in hits:
                person = self._people[person_id]
                if (best is None or person.size > best[0]) and self._paired(person, pos, words, i, folded):
                    best = (person.size, person.entity_type)
        return best

    @staticmethod
    def _paired(person: _Person, pos: int, words: list[str], i: int, folded: str) -> bool:
        others = person.others[pos]
        surname = pos == person.surname_pos and person.initials
        if person.whole:
            size = len(others) + 2  # every part side by side, with room for one initial or particle among them
            if any(others <= set(words[start:start + size]) for start in range(max(0, i - size + 1), i + 1)):
                return True
            others = frozenset()  # no pair of parts: only the dotted initial below
        for j in _neighbours(words, i):
            near = words[j]
            if near in others:
                return True
            if surname and len(near) == 1 and near in person.initials:
                if near not in _WORD_INITIALS or _dotted(near, words[i], folded):
                    return True
        return False


def _neighbours(words: list[str], i: int) -> Iterator[int]:
    """The words next to word i, and the ones behind a single-letter word next to it."""
    if i > 0:
        yield i - 1
        if i > 1 and len(words[i - 1]) == 1 and words[i - 1].isalpha():
            yield i - 2
    if i + 1 < len(words):
        yield i + 1
        if i + 2 < len(words) and len(words[i + 1]) == 1 and words[i + 1].isalpha():
            yield i + 2


def _dotted(initial: str, surname: str, folded: str) -> bool:
    """`initial` is written as an initial next to `surname`: "a. keller", "a. m. keller", "keller, a."."""
    pattern = (
        rf"(?<![^\W_]){initial}\.\s*(?:[^\W\d_]\.\s*)?{surname}(?![^\W_])"
        rf"|(?<![^\W_]){surname}\s*,?\s*(?:[^\W\d_]\.\s*)?{initial}\."
    )
    return re.search(pattern, folded) is not None


_EMAIL = re.compile(r"([^\W_][\w.+-]{0,63})@([^\W_][\w-]{0,62}(?:\.[\w-]{1,63}){1,8})")  # bounded: linear on "a.a.a…"


def _email_key(local: str, domain: str) -> str:
    return f"{local.split('+', 1)[0].strip('.')}@{domain.strip('.')}"


class Emails:
    """Email addresses compared without their plus-tag (and in folded case)."""

    def __init__(self, values: Iterable[tuple[str, int, str]]) -> None:
        self._keys: dict[str, Found] = {}
        for folded, size, entity_type in values:
            match = _EMAIL.fullmatch(folded.strip())
            if match is not None:
                self._keys[_email_key(*match.groups())] = (size, entity_type)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def find(self, folded: str) -> Found | None:
        """The longest vault address found in the text, with or without a plus-tag."""
        if "@" not in folded:
            return None
        best: Found | None = None
        for match in _EMAIL.finditer(folded):
            found = self._keys.get(_email_key(*match.groups()))
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best


@dataclass(frozen=True)
class _Phone:
    e164: str
    region: str
    national: str  # the national significant number: every spelling of the number ends in it
    size: int
    entity_type: str


_RUN = re.compile(r"\+?\d+(?:[ \t\u00a0\-./()]{1,3}\d+)*")
_DIGITS = re.compile(r"\d+")
_MAX_PREFIX = 6  # "00440" before the national number, at most


class Phones:
    """Phone numbers compared as E.164 (`phonenumbers`, imported only for vaults holding a number)."""

    def __init__(self, values: Iterable[tuple[str, int, str]]) -> None:
        self._phones: list[_Phone] = []
        values = list(values)
        if not values:
            return
        import phonenumbers

        self._pn: Any = phonenumbers
        for value, size, entity_type in values:
            text = value.strip()
            if text.startswith("00"):
                text = "+" + text[2:]
            if not text.startswith("+"):
                continue  # no country code: which region's number it is stays unknown
            try:
                number = phonenumbers.parse(text, None)
            except phonenumbers.NumberParseException:
                continue
            national = phonenumbers.national_significant_number(number)
            region = phonenumbers.region_code_for_number(number)
            if len(national) >= 6 and region:
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                self._phones.append(_Phone(e164, region, national, size, entity_type))

    def __bool__(self) -> bool:
        return bool(self._phones)

    def find(self, folded: str, joined: str) -> Found | None:
        """The longest vault number in the text (`joined`: its words without separators, a cheap pre-check)."""
        best: Found | None = None
        for phone in self._phones:
            if phone.national in joined and (best is None or phone.size > best[0]) and self._present(phone, folded):
                best = (phone.size, phone.entity_type)
        return best

    def _present(self, phone: _Phone, folded: str) -> bool:
        for run in _RUN.finditer(folded):
            text = run.group()
            groups = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
            digits = "".join(text[a:b] for a, b in groups)
            starts, ends, offset = [], set(), 0
            for a, b in groups:
                starts.append((offset, a))
                offset += b - a
                ends.add((offset, b))
            at = digits.find(phone.national)
            while at >= 0:
                end = at + len(phone.national)
                stop = next((b for d, b in ends if d == end), None)
                if stop is not None:
                    for digit_start, char_start in starts[:1] if text.startswith("+") else starts:
                        if digit_start <= at and at - digit_start <= _MAX_PREFIX:
                            candidate = text[0 if digit_start == 0 else char_start : stop]
                            if self._same(candidate, phone):
                                return True
                at = digits.find(phone.national, at + 1)
        return False

    def _same(self, candidate: str, phone: _Phone) -> bool:
        pn = self._pn
        try:
            number = pn.parse(candidate, phone.region)
        except pn.NumberParseException:
            return False
        return bool(pn.format_number(number, pn.PhoneNumberFormat.E164) == phone.e164)
