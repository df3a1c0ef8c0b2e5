"""Language of a paragraph by its function words: which NER pipeline reads it (CRM exports mix languages).

A cheap, dependency-free guess: count each language's most frequent function words in the
paragraph and take the language with the most hits; ties and texts without any go to English.
Only the choice of NER model depends on it; every pattern recognizer runs on every paragraph.

Example:
    >>> detect_language("Der Kunde hat die Rechnung nicht bezahlt und ist sehr unzufrieden.")
    'de'
    >>> [lang for _, _, lang in paragraphs("Hello there, how are you?\\n\\nBonjour, je suis à la maison avec les enfants.")]
    ['en', 'fr']
"""

from __future__ import annotations

import re

__all__ = ["FUNCTION_WORDS", "detect_language", "paragraphs"]

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to is was are were for with that this have has from you your our not but on at by it be will "
        "would can please thanks we they he she his her my me in a an as or if so all about just very",
        "de": "der die das und ist nicht ein eine einen mit für auf den dem des sich auch ich sie wir ihr zu von im "
        "bei nach wie aber oder wurde sind hat haben bitte danke noch schon",
        "fr": "le la les et est une un des du pour avec que qui dans sur pas ne je nous vous il elle au aux ce cette "
        "sont mais ou merci bonjour très été avons",
        "es": "el la los las y es una un del para con que por en no se su sus muy pero como está son gracias hola "
        "nosotros usted fue al este esta",
        "it": "il lo la gli le e è una un del della per con che non di da sono ma come questo questa molto grazie "
        "ciao nel alla siamo ha",
        "nl": "de het een en is van voor met niet dat die op zijn maar ook wij ik je u heeft wordt bij naar "
        "dank graag hoe deze dit",
        "pl": "i w na z że nie jest się do to jak ale czy od po dla jestem są bardzo dziękuję proszę pan pani "
        "przez był była oraz",
        "pt": "o a os as e é um uma do da para com que não em no na por mas como muito obrigado são foi você",
    }.items()
}
"""The most frequent function words of each language we read (lower case)."""

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def detect_language(text: str) -> str:
    """The language code of a text (one of `FUNCTION_WORDS`); English when nothing decides."""
    counts = dict.fromkeys(FUNCTION_WORDS, 0)
    for word in _WORD.findall(text.lower()):
        for lang, words in FUNCTION_WORDS.items():
            if word in words:
                counts[lang] += 1
    best = max(counts.values())
    if best == 0:
        return "en"
    leaders = [lang for lang, n in counts.items() if n == best]
    return "en" if "en" in leaders else leaders[0]


def paragraphs(text: str) -> list[tuple[int, str, str]]:
    """Blank-line-separated paragraphs as `(offset, paragraph, language)`; joined at offsets they give the text."""
    out: list[tuple[int, str, str]] = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        piece = text[start : match.end()]
        out.append((start, piece, detect_language(piece)))
        start = match.end()
    if start < len(text) or not out:
        piece = text[start:]
        out.append((start, piece, detect_language(piece)))
    return out
