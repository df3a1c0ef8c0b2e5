"""Postal addresses (as LOCATION): street lines and postcode lines of EU, UK and US formats, joined.

A locality (postcode with town, US `Town, ST 12345`, a UK postcode) anchors an address; the
comma- or line-separated parts just before it are taken in while they look like address parts
(numbers, capitalized words, street words), so "Ship to Hauptstraße 12, 10115 Berlin" yields the
street and the town but not the words of the sentence. A street line with a known street word
and a house number counts on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from presidio_analyzer import RecognizerResult

from actors.pii.recognizers import _Recognizer

__all__ = ["AddressRecognizer"]

_UP = "A-ZÀ-ÖØ-ÞĀ-Ž"
_TOWN_WORD = rf"[{_UP}][\w'’]*(?:-[\w'’]+)*"
_TOWN_PARTICLE = r"(?:sur|sous|les|la|le|de|del|am|an|im|in|der|bei|en|upon|on)"
# Hyphens belong to the word ("Frankfurt-am-Main"), spaces join words: one way to read "Aa-Aa-Aa", not 2^n.
_TOWN = rf"{_TOWN_WORD}(?:[ \t]+(?:{_TOWN_PARTICLE}[ \t]+)*{_TOWN_WORD})*"
_STREET_WORDS = (
    r"straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|steig|pfad|markt|"
    r"rue|avenue|av\.|boulevard|bd\.?|chemin|place|impasse|allée|quai|route|cours|square|passage|voie|"
    r"calle|c/|avenida|avda\.?|paseo|plaza|camino|callejón|carrer|ronda|vía|via|travesía|cuesta|rambla|"
    r"acceso|pasaje|glorieta|alameda|carretera|cañada|pasadizo|vial|senda|calleja|urbanización|"
    r"street|st\.|road|rd\.?|lane|ln\.?|drive|dr\.|court|ct\.?|boulevard|blvd\.?|way|parkway|pkwy|terrace|"
    r"close|crescent|row|highway|hwy|circle|trail|gardens?|mews|grove|hill|park|square|view|walk"
)
_STREET_WORD_RE = re.compile(rf"(?i:(?<![\w])(?:{_STREET_WORDS})(?![\w]))|(?i:\w(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm))")
_HOUSE = r"\d{1,5}[a-zA-Z]?(?:[ \t]*[-/][ \t]*\d{1,5}[a-zA-Z]?)?"
_STREET = re.compile(
    rf"(?:[{_UP}][\w'’.-]*(?i:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee)[ \t]+{_HOUSE})"
    rf"|(?:{_HOUSE},?[ \t]+(?i:rue|avenue|boulevard|chemin|place|impasse|allée|quai|route)[ \t]+(?:[\w'’-]+[ \t]?){{1,5}})"
    rf"|(?:(?i:calle|avenida|paseo|plaza|camino|callejón|carrer|ronda|travesía|rambla)[ \t]+"
    rf"(?:(?:de|del|la|las|los|el)[ \t]+|[{_UP}][\w'’-]*[ \t]+){{1,5}}\d{{1,4}})"
    rf"|(?:\d{{1,6}}[A-Z]?[ \t]+(?:[{_UP}][a-z]+[ \t]+){{1,3}}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.?|Lane|Drive|"
    rf"Court|Boulevard|Blvd\.?|Way|Parkway|Terrace|Close|Crescent|Highway|Place|Square)(?![\w]))"
)
_UNITS = r"(?i:euros?|eur|usd|dollars?|pounds?|units?|stück|pcs|pieces|users|kunden|customers|visitors|views|likes)\b"
_LOCALITY = re.compile(
    rf"(?<![\w-])(?:\d{{5}}[ \t]+(?!{_UNITS}){_TOWN}"  # 10115 Berlin, 69002 Lyon
    rf"|{_TOWN},[ \t]*[A-Z]{{2}}[ \t]+\d{{5}}(?:-\d{{4}})?"  # Mountain View, CA 94043
    rf"|{_TOWN},[ \t]*\d{{5}}(?![ \t]+[{_UP}])"  # Albacete, 30687
    rf"|(?:{_TOWN}[ \t]+)?[A-Z]{{1,2}}\d[A-Z\d]?[ \t]?\d[A-Z]{{2}}"  # London NW1 6XE
    rf"|\d{{4}}[ \t]?[A-Z]{{2}}[ \t]+{_TOWN}"  # 3511 AX Utrecht
    rf"|\d{{2}}-\d{{3}}[ \t]+{_TOWN})(?![\w])"  # 00-514 Warszawa
)
_PART_TOKEN = re.compile(
    rf"(?:\d{{1,5}}[a-zA-Zºª°]?(?:[-/]\d{{1,5}}[a-zA-Z]?)?,?|C/|(?i:ul|al|lok|pl|os|m|nr|no)\.|[{_UP}][\w'’.-]*|(?i:apt\.?|suite|flat|piso|puerta|unit)"
    rf"|de|la|le|du|des|del|los|las|y|of|the|am|an|der|sur|(?i:{_STREET_WORDS}))"
)
_MAX_PARTS = 3
_STREET_PREFIX = re.compile(r"(?i:ul|al|pl|os)\.|C/")  # "ul. Długa 17/4", "C/ Asunción 48"


def _address_tail(part: str) -> int | None:
    """Offset in `part` where its tail of address tokens starts ("Ship to 12 Main St" → at "12"); None if empty."""
    tokens = list(re.finditer(r"\S+", part))
    first = len(tokens)
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i].group()
        if not _PART_TOKEN.fullmatch(token) or token.endswith(":"):
            break
        first = i
    while first < len(tokens):
        token = tokens[first].group()
        if token[0].isupper() or token[0].isdigit() or _STREET_WORD_RE.fullmatch(token) or _STREET_PREFIX.fullmatch(token):
            return tokens[first].start()
        first += 1
    return None


def _solid(part: str) -> bool:
    return any(ch.isdigit() for ch in part) or _STREET_WORD_RE.search(part) is not None


class AddressRecognizer(_Recognizer):
    """Postal addresses reported as LOCATION (Presidio's name for places)."""

    ENTITY = "LOCATION"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield addresses anchored on a locality, then stand-alone street lines."""
        taken: list[tuple[int, int]] = []
        for match in _LOCALITY.finditer(text):
            start = self._walk_back(text, match.start())
            taken.append((start, match.end()))
            yield self.result(start, match.end(), 0.9 if start < match.start() else 0.7)
        for match in _STREET.finditer(text):
            start, end = match.start(), match.end()
            if not any(s < end and start < e for s, e in taken):
                yield self.result(start, len(text[:end].rstrip(" \t,")), 0.8)

    def _walk_back(self, text: str, start: int) -> int:
        """Extend an address start over preceding address-like parts (at most three)."""
        accepted: list[int] = []
        cursor = start
        for _ in range(_MAX_PARTS):
            sep = re.search(r"(?:,[ \t]*|[ \t]*\n[ \t]*)$", text[max(0, cursor - 4) : cursor])
            if sep is None:
                break
            part_end = cursor - len(sep.group())
            part_start = max(text.rfind("\n", 0, part_end), text.rfind(",", 0, part_end)) + 1
            offset = _address_tail(text[part_start:part_end])
            if offset is None:
                break
            cursor = part_start + offset
            accepted.append(cursor)
            if text[part_start:cursor].strip():
                break  # the part held sentence words: the address starts inside it
        bounds = [start, *accepted]
        while accepted and not _solid(text[bounds[len(accepted)] : bounds[len(accepted) - 1]]):
            accepted.pop()  # an outermost part without number or street word is likely a name
        return accepted[-1] if accepted else start
