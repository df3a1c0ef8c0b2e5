"""Pattern recognizers for marketing data: phones, IBANs, cards, EU VAT ids, social handles, customer ids.

Each one finds candidates with one regular expression, validates them (checksums, phone metadata,
shape) and judges context from the text just before; none needs spaCy's lemmas or parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import phonenumbers
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from actors.pii._iban import IBAN_LENGTHS, iban_valid

__all__ = [
    "PHONE_REGIONS",
    "CustomerIdRecognizer",
    "EuVatRecognizer",
    "IbanChecksumRecognizer",
    "PaymentCardRecognizer",
    "PhoneFormatRecognizer",
    "SocialHandleRecognizer",
    "context_before",
]

PHONE_REGIONS: tuple[str, ...] = (
    "DE", "FR", "GB", "ES", "IT", "NL", "BE", "AT", "CH", "PL", "SE", "DK", "NO", "FI", "IE", "PT", "CZ",
    "GR", "HU", "RO", "SK", "SI", "HR", "BG", "LU", "LT", "LV", "EE", "MT", "CY", "US", "CA",
)  # fmt: skip
"""Regions whose national formats are tried for numbers without a `+CC` prefix (EU, EEA, UK, CH, NA)."""

_ID_LABEL = re.compile(
    r"\b(?:order|invoice|sku|ean|gtin|upc|isbn|article|art|item|ref|reference|version|batch|lot|ticket|"
    r"tracking|shipment|case|po|receipt|serial|model|coupon|voucher|code|nr|no|id)"
    r"(?:[\s.-]*(?:no|nr|number|id|#))?[\s.:#-]*$",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"^\s?(?:%|‰|€|\$|£|¥|eur\b|usd\b|gbp\b|chf\b|euros?\b|dollars?\b|units?\b|pcs\b|pieces?\b|items?\b|users?\b|"
    r"customers?\b|visitors?\b|views?\b|impressions?\b|likes?\b|people\b|times?\b|kg\b|g\b|ml\b|l\b|km\b|m\b|"
    r"mio\b|million\b|bn\b|k\b|stück\b|x\d)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:[€$£¥]|\b(?:eur|usd|gbp|chf|sek|dkk|nok|pln))\s?$", re.IGNORECASE)
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_DATE_INSIDE = re.compile(r"(?<!\d)\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d(?!\d)")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*[-–—/]\s*(?:19|20)\d\d$")
_DATE_RANGE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s*[-–]\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_GROUPED_AMOUNT = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^\d{1,2}(?: \d{3})+$")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PHONE = re.compile(
    r"(?<![\w+@/.:-])(?<!\d,)(?:\+|\b00)?\(?\d[\d \t().\-/–]*(?:\n[ \t]*)?[\d \t().\-/–]*\d"
    r"(?:[ \t]*(?:x|ext\.?|extension|#)[ \t]*\d{1,6})?(?![\w@]|[.,:/-]\d)",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"[ \t]*(?:x|ext\.?|extension|#)[ \t]*\d{1,6}$", re.IGNORECASE)
_PHONE_CONTEXT = frozenset(
    "phone telephone tel tel. tél tél. téléphone telefon telefono teléfono handy mobile mobil móvil portable cell "
    "call callback fax contact whatsapp sms hotline ring reach dial number nummer numéro número rufnummer".split()
)
_CARD = re.compile(r"(?<![\w.,/-])\d(?:[ -]?\d){11,18}(?![\w]|[.,/-]\d)")
_CARD_CONTEXT = frozenset(
    "card credit debit visa mastercard amex maestro discover jcb diners unionpay cc kreditkarte carte tarjeta paid pay".split()
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \-]?(?:\n[ \t]*)?[A-Za-z0-9]){10,32}")
_VAT = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"ATU\d{8}|BE[01]\d{9}|BE[01]\d{3}[.\s]\d{3}[.\s]\d{3}|BG\d{9,10}|CY\d{8}[A-Z]|CZ\d{8,10}|DE[ ]?\d{9}|DK[ ]?\d{8}|"
    r"EE\d{9}|EL\d{9}|ES[ ]?[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[ ]?[A-Za-z0-9]{2}[ ]?\d{9}|HR\d{11}|HU\d{8}|"
    r"IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}|IT[ ]?\d{11}|LT(?:\d{12}|\d{9})|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|"
    r"PL[ ]?\d{10}|PT[ ]?\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10}|XI\d{9}|GB(?:\d{9}(?:\d{3})?|GD\d{3}|HA\d{3})|"
    r"CHE[-\s]?\d{3}\.?\d{3}\.?\d{3}(?:\s?(?:MWST|TVA|IVA))?"
    r")(?![A-Za-z0-9])"
)
_VAT_CONTEXT = frozenset(
    "vat ust ust-idnr ust-id ustid mwst tva iva btw nif cif moms alv dph ddv pdv áfa piva p.iva tax tax-id".split()
)
_HANDLE = re.compile(r"(?<![\w@.+\-/])@(?=[\w.-]*[A-Za-z])[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,28}[A-Za-z0-9_])?(?![\w@])")
_NOT_HANDLES = frozenset({"@media", "@import", "@here", "@channel", "@everyone", "@all", "@font-face", "@keyframes"})
DEFAULT_ID_PATTERNS: tuple[str, ...] = (
    r"\b(?:CUST|CUS|CID|LEAD|LD|CRM|KD|KDNR|CLIENT|CLI|ACCT|ACC|MBR|MEMBER|CONTACT)[-_#:]?\d{4,12}\b",
    r"(?i)\b(?:customer|client|lead|member|account|contact)[ \t]*(?:id|no\.?|nr\.?|number|#)[ \t]*[:#]?[ \t]*"
    r"(?P<id>[A-Z0-9][A-Z0-9-]{3,19})\b",
    r"(?i)\b(?:kundennummer|kunden-nr\.?|kd\.?-?nr\.?|n°[ \t]?client|numéro[ \t]client|número[ \t]de[ \t]cliente)"
    r"[ \t]*[:#]?[ \t]*(?P<id>[A-Z0-9][A-Z0-9-]{3,19})\b",
)
"""Customer and lead id patterns used when settings name none (a group `id` marks the id inside a match)."""


def context_before(text: str, start: int, words: Iterable[str], *, window: int = 40) -> bool:
    """Tell whether one of `words` (lower case) appears in the `window` characters before `start`."""
    wanted = frozenset(words)
    before = text[max(0, start - window) : start].lower()
    return any(tok.strip(".:;,()[]\"'") in wanted for tok in re.split(r"[\s/|;]+", before))


class _Recognizer(EntityRecognizer):
    """A recognizer that needs no loading and builds its own results."""

    ENTITY = ""

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], supported_language="en", context=[])

    def load(self) -> None:
        """Nothing to load."""

    def result(self, start: int, end: int, score: float) -> RecognizerResult:
        """A result of this recognizer's entity."""
        return RecognizerResult(self.ENTITY, start, end, score)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        """Find this recognizer's entity in `text`."""
        return list(self.find(text))

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield results (implemented by each recognizer)."""
        raise NotImplementedError


class PhoneFormatRecognizer(_Recognizer):
    """Phone numbers in international and EU/UK/NA national formats, extensions included.

    Formatted numbers (`+CC`, `00CC`, area code in brackets, grouped digits) count when their digit
    count fits; unformatted digit runs need a phone word before them or a valid number in a region.
    Dates, year ranges, grouped amounts, prices, IP-like quads and id-labelled numbers are rejected.
    """

    ENTITY = "PHONE_NUMBER"

    def __init__(self, *, regions: Sequence[str] = PHONE_REGIONS) -> None:
        super().__init__()
        self.regions = tuple(regions)

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield phone numbers with a score by how phone-like they are."""
        for match in _PHONE.finditer(text):
            start, end = match.span()
            value = match.group()
            if value.startswith("(") and ")" not in value:
                start, value = start + 1, value[1:]
            while value and value[-1] in ")" and value.count(")") > value.count("("):
                end, value = end - 1, value[:-1]
            score = self._score(text, start, end, value)
            if score:
                yield self.result(start, end, score)

    def _score(self, text: str, start: int, end: int, value: str) -> float:
        core = _EXTENSION.sub("", value)
        digits = "".join(ch for ch in core if ch.isdigit())
        compact = " ".join(core.split())
        if not 7 <= len(digits) <= 15 or value.count("\n") > 1:
            return 0.0
        if _DATE.match(compact) or _YEAR_RANGE.match(compact) or _DATE_RANGE.match(compact) or _IPV4_SHAPE.match(compact):
            return 0.0
        if _DATE_INSIDE.search(compact):
            return 0.0  # "2025 (05/06/2025": a year and a date
        international = core.startswith(("+", "00"))
        if _GROUPED_AMOUNT.match(compact) and not international:
            return 0.0
        if _UNIT_AFTER.match(text[end : end + 12]) or _CURRENCY_BEFORE.search(text[max(0, start - 5) : start]):
            return 0.0
        if not international and _ID_LABEL.search(text[max(0, start - 24) : start]):
            return 0.0
        context = context_before(text, start, _PHONE_CONTEXT) or _is_field(text, start, end)
        if "\n" in value and not (international or context):
            return 0.0
        formatted = international or "(" in core or any(sep in core.strip() for sep in " -./–\t\n")
        if formatted and (context or value != core or self._possible(digits, international=international, valid=False)):
            return 0.75 if context or international else 0.6
        if not formatted and (context or self._possible(digits, international=False, valid=True)):
            return 0.6 if context else 0.45
        return 0.0

    def _possible(self, digits: str, *, international: bool, valid: bool) -> bool:
        """A possible number (or, for a bare digit run, a valid one) in some region."""
        check = phonenumbers.is_valid_number if valid else phonenumbers.is_possible_number
        try:
            if international:
                return check(phonenumbers.parse("+" + digits.removeprefix("00")))
            return any(check(phonenumbers.parse(digits, region)) for region in self.regions)
        except phonenumbers.NumberParseException:
            return False


def _is_field(text: str, start: int, end: int) -> bool:
    """A whole field of a delimited record (`;`, `|` or tab on both sides)."""
    before = text[start - 1] if start else "\n"
    after = text[end] if end < len(text) else "\n"
    return (before in ";|\t" and after in ";|\t\n") or (before in "\n" and after in ";|\t")


class IbanChecksumRecognizer(_Recognizer):
    """IBANs of every registry country: any case, grouped or not, split over lines; checksum-validated."""

    ENTITY = "IBAN_CODE"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield IBANs whose length fits their country and whose mod-97 checksum holds."""
        pos = 0
        while (match := _IBAN.search(text, pos)) is not None:
            pos = match.start() + 1
            want = IBAN_LENGTHS.get(match.group()[:2].upper())
            if want is None:
                continue
            count, end = 0, match.start()
            for i in range(match.start(), match.end()):
                if text[i].isalnum():
                    count += 1
                    if count == want:
                        end = i + 1
                        break
            if count != want or (end < len(text) and text[end].isalnum()):
                continue
            if iban_valid(text[match.start() : end]):
                pos = end
                yield self.result(match.start(), end, 1.0)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    """Issuer prefixes: Visa, Mastercard (incl. 2-series), Amex, Discover, JCB, Diners, Maestro, UnionPay, Mir."""
    return digits[0] in "3456" or digits.startswith(("2131", "1800")) or 2200 <= int(digits[:4]) <= 2720


class PaymentCardRecognizer(_Recognizer):
    """Payment card numbers (12 to 19 digits, Luhn-valid), grouped with spaces or dashes or not at all."""

    ENTITY = "CREDIT_CARD"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield card numbers; unusual issuer prefixes need a card word before them."""
        for match in _CARD.finditer(text):
            value = match.group()
            digits = value.replace(" ", "").replace("-", "")
            if (" " in value and "-" in value) or not _luhn(digits):
                continue
            if _ID_LABEL.search(text[max(0, match.start() - 24) : match.start()]):
                continue
            context = context_before(text, match.start(), _CARD_CONTEXT)
            if _card_prefix(digits):
                yield self.result(match.start(), match.end(), 1.0 if context or value != digits else 0.8)
            elif context:
                yield self.result(match.start(), match.end(), 0.6)


class EuVatRecognizer(_Recognizer):
    """VAT identification numbers of the EU member states, Northern Ireland, the UK and Switzerland."""

    ENTITY = "EU_VAT_ID"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield VAT ids by their national formats; a VAT word before them raises the score."""
        for match in _VAT.finditer(text):
            context = context_before(text, match.start(), _VAT_CONTEXT)
            yield self.result(match.start(), match.end(), 0.9 if context else 0.6)


class SocialHandleRecognizer(_Recognizer):
    """Social media handles (`@name`), never the domain part of an email address."""

    ENTITY = "SOCIAL_HANDLE"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield handles."""
        for match in _HANDLE.finditer(text):
            if match.group().lower() not in _NOT_HANDLES:
                yield self.result(match.start(), match.end(), 0.7)


class CustomerIdRecognizer(_Recognizer):
    """Customer, lead and account ids by configurable patterns (group `id` marks the id inside a match)."""

    ENTITY = "CUSTOMER_ID"

    def __init__(self, *, patterns: Sequence[str] = DEFAULT_ID_PATTERNS) -> None:
        super().__init__()
        self.patterns = [re.compile(p) for p in patterns]

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield ids matched by any pattern."""
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                group = "id" if "id" in pattern.groupindex and match.group("id") else 0
                if any(ch.isdigit() for ch in match.group(group)):
                    yield self.result(match.start(group), match.end(group), 0.8)
