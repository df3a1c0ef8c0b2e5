"""Text folding for the egress guard: one form per spelling of a value, whatever its case or script.

`fold` maps every spelling a reader would take for the same word to one string:

- case and width: NFKD compatibility forms ("ｍａｒｉａ", "𝐌𝐚𝐫𝐢𝐚"), then case folding ("MARIA", "Straße" → "strasse");
- look-alike letters: Cyrillic and Greek letters that read as Latin ones ("Маria" with a Cyrillic М);
- accents: combining marks are dropped ("José" → "jose"), letters without a decomposition are
  spelled out ("Søren" → "soren", "Łukasz" → "lukasz", "Æ" → "ae");
- umlaut spellings: "ae", "oe", "ue" become "a", "o", "u", so "Jürgen", "Juergen" and "Jurgen"
  (and "Müller", "Mueller", "Muller") fold alike. Words differing only so ("Michael", "Michal")
  fold alike too; on both sides of a comparison, that is a stricter guard, not a leak.

Pure ASCII text takes a fast path (lower case and the umlaut spellings only).

Example:
    >>> fold("Маria MÜLLER") == fold("maria mueller") == "maria muller"
    True
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold"]

# Letters of other scripts that read as Latin letters (by glyph, case by case).
_LOOK_ALIKES = {
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "һ": "h", "ү": "y", "ӏ": "l", "ѵ": "v",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "χ": "x",
    # Latin letters without a decomposition to a base letter
    "ß": "ss", "ẞ": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
    "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Ł": "L", "ł": "l", "Þ": "TH", "þ": "th",
    "ı": "i", "ŋ": "n", "ɑ": "a", "ɡ": "g",
}
_LOOKS = re.compile("[" + "".join(_LOOK_ALIKES) + "]")


def _look_alike(match: re.Match[str]) -> str:
    return _LOOK_ALIKES[match.group()]


_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Punctuation and symbols outside ASCII (dashes, quotes, guillemets, bullets, currency signs):
# spaces, so that European text is plain ASCII once folded and splits fast.
_PUNCT = re.compile("[\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u20a0-\u20cf\u2190-\u23ff\u2500-\u27bf\u3000-\u303f]")


def fold(text: str) -> str:
    """The folded form of a text (see the module docstring); word separators stay separators."""
    if text.isascii():
        folded = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text)
        folded = _LOOKS.sub(_look_alike, folded)  # few matches: cheaper than str.translate on long text
        folded = _PUNCT.sub(" ", _MARKS.sub("", unicodedata.normalize("NFKD", folded.casefold())))
    return folded.replace("ae", "a").replace("oe", "o").replace("ue", "u")
