"""Recognizers for personal ids and dates: birth dates, national ids of our markets, obfuscated emails, profile URLs.

Each validates what it can (check digits, date ranges) and scores by context: a label such as
"DOB", "Steuer-ID" or "BSN" just before a value raises the score, and ids whose shape alone is
too common (nine or eleven plain digits) need that label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from presidio_analyzer import RecognizerResult

from actors.pii.recognizers import _Recognizer, context_before

__all__ = [
    "DateOfBirthRecognizer",
    "SteuerIdRecognizer",
    "FrNirRecognizer",
    "NlBsnRecognizer",
    "ObfuscatedEmailRecognizer",
    "PeselRecognizer",
    "ProfileUrlRecognizer",
    "UkNinoSpacedRecognizer",
]

_MONTHS = (
    r"jan(?:uary|uar|vier|\.)?|feb(?:ruary|ruar|\.)?|févr(?:ier)?|fevr(?:ier)?|mar(?:ch|\.)?|märz|mars|apr(?:il|\.)?|avril|"
    r"may|mai|jun(?:e|i|\.)?|juin|jul(?:y|i|\.)?|juil(?:let)?|aug(?:ust|\.)?|août|sep(?:t(?:ember|embre)?|\.)?|"
    r"oct(?:ober|obre|\.)?|okt(?:ober|\.)?|nov(?:ember|embre|\.)?|dec(?:ember|\.)?|dez(?:ember|\.)?|déc(?:embre)?|"
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|"
    r"gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    r"januari|februari|maart|mei|juni|juli|augustus|oktober|"
    r"stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|pazdziernika|października|listopada|grudnia"
)
_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d\d"
    r"|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er)?\.?[ \t]+(?:de[ \t]+)?(?i:{_MONTHS})[ \t]+(?:de[ \t]+)?(?:19|20)\d\d"
    rf"|(?i:{_MONTHS})[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+(?:19|20)\d\d)"
)
_DOB_CUE = (
    r"(?i:\b(?:born(?:[ \t]+on)?|b\.|d\.?o\.?b\.?|date[ \t]of[ \t]birth|birth[ \t]?date|birthday|geb\.|geboren(?:[ \t]am)?|"
    r"geburtsdatum|geburtstag|n[ée]e?(?:[ \t]le)?|date[ \t]de[ \t]naissance|nacid[oa](?:[ \t]el)?|fecha[ \t]de[ \t]nacimiento|"
    r"f\.[ \t]?nac\.|nat[oa](?:[ \t]il)?|data[ \t]di[ \t]nascita|geboren[ \t]op|geboortedatum|ur\.|urodzon[ya]|"
    r"data[ \t]urodzenia)(?![\w]))"
)
_DOB = re.compile(rf"{_DOB_CUE}[ \t]*[:=\-–]?[ \t]*(?:\([^)]{{0,20}}\)[ \t]*)?(?P<date>{_DATE})(?![\w])")


class DateOfBirthRecognizer(_Recognizer):
    """Dates given as someone's birth date ("born 14/03/1988", "DOB: 1979-11-02", "geb. 03.07.1990")."""

    ENTITY = "DATE_OF_BIRTH"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield the date after a birth-date label."""
        for match in _DOB.finditer(text):
            yield self.result(match.start("date"), match.end("date"), 0.9)


_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-TW-Z][A-CEGHJ-TW-Z]"  # QQ: HMRC's specimen prefix
    r"(?:[ \t]?\d\d){3}[ \t]?[A-D](?![A-Za-z0-9])"
)


class UkNinoSpacedRecognizer(_Recognizer):
    """UK National Insurance numbers, grouped with spaces or not ("QQ 12 34 56 C")."""

    ENTITY = "UK_NINO"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield NINO-shaped values (prefix rules applied)."""
        for match in _NINO.finditer(text):
            yield self.result(match.start(), match.end(), 0.85)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _steuer_id_valid(d: str) -> bool:
    """ISO 7064 MOD 11,10 check digit and the digit-repetition rule of the German tax id."""
    if len(d) != 11 or d[0] == "0":
        return False
    counts = [d[:10].count(c) for c in set(d[:10])]
    if not (max(counts) in (2, 3) and counts.count(max(counts)) == 1):
        return False
    product = 10
    for ch in d[:10]:
        total = (int(ch) + product) % 10 or 10
        product = (total * 2) % 11
    return (11 - product) % 10 == int(d[10])


_STEUER = re.compile(r"(?<![\w.,/-])\d{2}[ \t]?\d{3}[ \t]?\d{3}[ \t]?\d{3}(?![\w]|[.,/-]\d)")
_STEUER_CONTEXT = frozenset(
    "steuer-id steuerid steuer-idnr steueridnr idnr id-nr steueridentifikationsnummer identifikationsnummer tin tax-id "
    "taxid steuernummer st-idnr".split()
)


class SteuerIdRecognizer(_Recognizer):
    """German tax ids (Steuer-ID, 11 digits, check digit valid); plain runs need a label before them."""

    ENTITY = "DE_TAX_ID"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield valid Steuer-IDs, grouped "12 345 678 903" or labelled."""
        for match in _STEUER.finditer(text):
            valid = _steuer_id_valid(_digits(match.group()))
            context = context_before(text, match.start(), _STEUER_CONTEXT, window=40) or re.search(
                r"(?i)steuer|tax[ \t]?id|identifikations", text[max(0, match.start() - 40) : match.start()]
            )
            if context:  # a labelled value is redacted even with a typo in its check digit
                yield self.result(match.start(), match.end(), 0.95 if valid else 0.7)
            elif valid and " " in match.group():
                yield self.result(match.start(), match.end(), 0.6)


_NIR = re.compile(
    r"(?<![\w])[12][ \t.]?\d\d[ \t.]?(?:0[1-9]|1[0-2]|[2-9]\d)[ \t.]?(?:\d\d|2[AaBb])[ \t.]?\d{3}[ \t.]?\d{3}"
    r"(?:[ \t.]?\d\d)?(?![\w])"
)


def _nir_valid(value: str) -> bool:
    compact = re.sub(r"[ \t.]", "", value).upper()
    if len(compact) != 15:
        return False
    body, key = compact[:13], int(compact[13:])
    body = body.replace("2A", "19").replace("2B", "18")
    return 97 - int(body) % 97 == key


class FrNirRecognizer(_Recognizer):
    """French social security numbers (NIR, 13 digits and a 2-digit key), key-validated."""

    ENTITY = "FR_NIR"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield NIRs whose key matches."""
        for match in _NIR.finditer(text):
            if _nir_valid(match.group()):
                yield self.result(match.start(), match.end(), 0.9)


_BSN = re.compile(r"(?<![\w.,/-])\d{4}[ .]?\d{2}[ .]?\d{3}(?![\w]|[.,/-]\d)")
_BSN_CONTEXT = re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofi-?nummer|sofinummer|citizen[ \t]service[ \t]number)\b")


def _bsn_valid(d: str) -> bool:
    if len(d) != 9 or d == "000000000":
        return False
    total = sum(int(ch) * w for ch, w in zip(d[:8], range(9, 1, -1), strict=True)) - int(d[8])
    return total % 11 == 0


class NlBsnRecognizer(_Recognizer):
    """Dutch citizen service numbers (BSN, nine digits passing the 11-test); a BSN label raises the score."""

    ENTITY = "NL_BSN"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield valid BSNs; without a label only when dotted or spaced like a BSN."""
        for match in _BSN.finditer(text):
            if not _bsn_valid(_digits(match.group())):
                continue
            context = _BSN_CONTEXT.search(text[max(0, match.start() - 40) : match.start()]) is not None
            yield self.result(match.start(), match.end(), 0.95 if context else 0.45)


_PESEL = re.compile(r"(?<![\w.,/-])\d{11}(?![\w]|[.,/-]\d)")
_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


def _pesel_valid(d: str) -> bool:
    if len(d) != 11:
        return False
    month, day = int(d[2:4]) % 20, int(d[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31 and int(d[2:4]) < 93):
        return False
    check = (10 - sum(int(ch) * w for ch, w in zip(d[:10], _PESEL_WEIGHTS, strict=True)) % 10) % 10
    return check == int(d[10])


class PeselRecognizer(_Recognizer):
    """Polish PESEL numbers (11 digits: a birth date and a checksum)."""

    ENTITY = "PL_PESEL"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield valid PESELs; a PESEL label raises the score."""
        for match in _PESEL.finditer(text):
            if _pesel_valid(match.group()):
                context = re.search(r"(?i)pesel", text[max(0, match.start() - 30) : match.start()]) is not None
                yield self.result(match.start(), match.end(), 0.95 if context else 0.6)


_AT_WORD = r"(?:at|@|arroba|chiocciola|małpa|malpa|klammeraffe|apenstaartje|arobase|snabel-a)"
_DOT_WORD = r"(?:dot|\.|punto|punkt|point|kropka|punt|prik)"
_AT = (
    rf"(?:[ \t]*(?:\[[ \t]*{_AT_WORD}[ \t]*\]|\([ \t]*{_AT_WORD}[ \t]*\)|\{{[ \t]*{_AT_WORD}[ \t]*\}}|<[ \t]*{_AT_WORD}[ \t]*>)[ \t]*"
    rf"|[ \t]+{_AT_WORD}[ \t]+|_at_|-at-)"
)
_DOT = (
    rf"(?:[ \t]*(?:\[[ \t]*{_DOT_WORD}[ \t]*\]|\([ \t]*{_DOT_WORD}[ \t]*\)|\{{[ \t]*{_DOT_WORD}[ \t]*\}}|<[ \t]*{_DOT_WORD}[ \t]*>)[ \t]*"
    rf"|[ \t]+{_DOT_WORD}[ \t]+|_dot_|\.)"
)
_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])(?P<local>(?:[A-Za-z0-9]+[ \t]+{_DOT_WORD}[ \t]+)*[A-Za-z0-9][A-Za-z0-9._%+-]*){_AT}(?P<domain>[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}(?P<tld>[A-Za-z]{{2,12}}))(?![\w])",
    re.IGNORECASE,
)


class ObfuscatedEmailRecognizer(_Recognizer):
    """Email addresses written to fool scrapers: "anna[at]example[dot]com", "j.doe (at) firma.de", "ann at x dot org"."""

    ENTITY = "EMAIL_ADDRESS"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield obfuscated addresses (a plain address is Presidio's job); " at " alone needs " dot " too."""
        for match in _OBFUSCATED.finditer(text):
            value = match.group()
            if "@" in value and not re.search(r"[\[\({<]|[ \t]@[ \t]", value):
                continue  # a plain address
            marked = re.search(rf"[\[\({{<_-][ \t]*{_AT_WORD}[ \t]*[\]\)}}>_-]", value, re.IGNORECASE) is not None
            spelled_dot = re.search(rf"(?i)[\[\({{<_ \t]{_DOT_WORD}[\]\)}}>_ \t]", value) is not None
            if marked or spelled_dot or re.search(r"[ \t]@[ \t]", value):
                yield self.result(match.start(), match.end(), 0.85)


_PROFILE = re.compile(
    r"(?i)(?:https?://)?(?:[a-z]{2,3}\.|www\.)?"
    r"(?:linkedin\.com/(?:in|pub)/|xing\.com/profile/|facebook\.com/(?!pages/|groups/|events/)|fb\.com/|"
    r"instagram\.com/(?!p/|explore/)|twitter\.com/|x\.com/|tiktok\.com/@|github\.com/|about\.me/|medium\.com/@|"
    r"threads\.net/@|bsky\.app/profile/|youtube\.com/@|pinterest\.[a-z.]+/)"
    r"[\w%.\-@]{2,100}/?"
)


class ProfileUrlRecognizer(_Recognizer):
    """Personal profile URLs (LinkedIn, Xing, social networks): their path names a person."""

    ENTITY = "URL"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield profile URLs, whole."""
        for match in _PROFILE.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in ".,;:":
                end -= 1
            yield self.result(match.start(), end, 1.0)


def is_profile_url(value: str) -> bool:
    """Tell whether a URL is a personal profile (kept as PII by the policy)."""
    return _PROFILE.search(value) is not None
