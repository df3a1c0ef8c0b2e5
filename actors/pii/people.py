"""A second pass over one text's detections: places that are market facts, and people the first pass half-found.

Rules, each applied to the results of every recognizer for one whole text:
- Places are not people, nor personal data: a place the NER model found stays in the text; only
  postal addresses (the address recognizer's) are redacted.
- Lists: once one member of a list of names is a person ("founded by Lindqvist, Okafor and
  Brandt", "Moreau and Castellanos"), or a list cue stands before it ("founders:"), every
  name-shaped member is a person.
- Dialogue: speakers at the start of chat lines ("Tobias: did you see…") and the people they
  address (", Clara?") are people.
- Propagation: every further occurrence, in any case, of a word of a full name found in the text
  is a person too ("Keller said…" after "Maria Keller").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from presidio_analyzer import RecognizerResult

from actors.pii.names import _NAME_RE, NAME, STOP_WORDS, _function_words, is_name_like, org_context
from actors.pii.firstnames import is_given_name
from actors.pii.places import is_place
from actors.pii.policy import AllowList

__all__ = ["LABEL_WORDS", "refine"]

_NER = "NerRecognizer"
_ADDRESS = "AddressRecognizer"
_SEED_SCORE = 0.4

LABEL_WORDS = frozenset(
    """
    note notes update reminder summary status action warning tip example result question answer feedback comment
    source context goal budget timeline agenda pros cons verdict rating location date time topic title headline
    product channel market segment audience insight outcome issue problem solution reply response edit ps nb fyi
    agent bot system user moderator host interviewer respondent customer client caller support operator admin
    team staff guest visitor member anonymous unknown internal external bcc subject re fw fwd cc from to sent
    hinweis betreff notiz antwort frage kommentar ergebnis objet réponse remarque question sujet asunto respuesta
    pregunta nota oggetto risposta domanda onderwerp antwoord opmerking vraag temat odpowiedź uwaga pytanie
    step steps next todo to-do price prices cost costs total overview background objective objectives q a
    """.split()
)
"""Words that end in a colon at a line start without being a speaker ("Note:", "Betreff:")."""

_TIMESTAMP = r"(?:[\[(]?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[ \t]?[AaPp][Mm])?[\])]?[ \t]*[-–]?[ \t]*)"
_SPEAKER = re.compile(
    rf"(?m)^[ \t>*-]*(?P<ts>{_TIMESTAMP})?(?P<name>{NAME})[ \t]*(?:\([^)\n]{{0,30}}\))?[ \t]*:[ \t]+(?P<said>\S[^\n]*)"
)
_VOCATIVE = re.compile(rf",[ \t]*(?P<name>{NAME})[ \t]*(?P<end>[?!.])")
_LEADING_VOCATIVE = re.compile(rf":[ \t]+(?P<name>{NAME}),[ \t]")
_CONJ = r"(?:and|und|et|y|e|en|i|oraz|&|ou|o|oder|or|of)"
_ITEM = r"(?:[A-ZÀ-ÖØ-Þ]\.?[ \t]+)?" + NAME.replace("{0,3}", "{0,2}")
_ASIDE = r"(?:[ \t]*\([^()\n]{1,40}\))?"  # "Jordi Vilaseca (Mango), Nerea Castaño (Desigual)"
_LIST = re.compile(rf"{_ITEM}{_ASIDE}(?:(?:[ \t]*,[ \t]*(?:{_CONJ}[ \t]+)?|[ \t]+{_CONJ}[ \t]+|[ \t]*/[ \t]*){_ITEM}{_ASIDE})+")
_ASIDES = re.compile(r"[ \t]*\([^()\n]{1,40}\)")
_LIST_SPLIT = re.compile(rf"[ \t]*,[ \t]*(?:{_CONJ}[ \t]+)?|[ \t]+{_CONJ}[ \t]+|[ \t]*/[ \t]*")
_LIST_CUE = re.compile(
    r"(?i:(?:founded|co-founded|started|run|led|hosted|presented|moderated|organi[sz]ed|signed|joined)[ \t]+by|"
    r"founders?|co-founders?|team|speakers?|panel(?:ists)?|attendees?|participants?|guests?|hosts?|judges?|winners?|"
    r"authors?|contacts?|members?|partners?|owners?|people|staff|employees|colleagues|with|cc|"
    r"gegründet[ \t]von|gründer(?:innen)?|teilnehmer(?:innen)?|mit|fondée?s?[ \t]par|fondateurs?|fondatrices?|"
    r"participants?|avec|fundad[oa]s?[ \t]por|by|par|von|por|door|przez|asistentes|deelnemers|partecipanti|"
    r"fundador(?:es|as)?|asistentes|con|fondat[oa][ \t]da|fondatori|"
    r"partecipanti|opgericht[ \t]door|oprichters?|deelnemers|met|założon[aey][ \t]przez|założyciele|uczestnicy|z)"
    r"[ \t]*:?[ \t]*$"
)


def refine(text: str, results: Sequence[RecognizerResult], allow: AllowList) -> list[RecognizerResult]:
    """Apply the rules above to one text's raw results; returns the kept results and the new ones."""
    raw = list(results)
    places = [(r.start, r.end) for r in raw if r.entity_type == "LOCATION"]
    brands = allow.occurrences(text)

    def plausible(r: RecognizerResult) -> bool:
        inside_brand = any(s <= r.start and r.end <= e for s, e in brands) and _name(r) == "PeopleRefiner"
        return not (inside_brand or _brand_line(text, r, brands) or _city_guess(text, r) or _business(text, r))

    kept = [r for r in _places(text, raw) if plausible(r)]  # before they seed lists and propagation
    found: list[RecognizerResult] = []
    found.extend(_speakers(text))
    people = [r for r in kept + found if r.entity_type == "PERSON" and r.score >= 0.5]
    found.extend(r for r in _propagate(text, people) if not _locative(text, r, places) and plausible(r))
    seeds = [r for r in kept + found if r.entity_type == "PERSON" and r.score >= _SEED_SCORE]
    found.extend(_lists(text, seeds, places))
    people = [r for r in kept + found if r.entity_type == "PERSON" and r.score >= 0.5]
    found.extend(r for r in _propagate(text, people) if not _locative(text, r, places))
    found = [r for r in found if plausible(r)]
    return kept + found


_BUSINESS_WORDS = (
    r"bakery|bäckerei|baeckerei|boulangerie|pâtisserie|patisserie|panadería|panaderia|panificio|pasticceria|bakkerij|"
    r"piekarnia|cukiernia|pastificio|traiteur|enoteca|oleificio|conservas|koffiebranderij|rösterei|roesterei|torréfaction|"
    r"tostadero|torrefazione|palarnia|mleczarnia|molkerei|laiterie|lechería|caseificio|zuivel|zuivelhoeve|manufaktura|"
    r"manufaktur|brewery|brauerei|birrificio|brasserie|cervecería|cerveceria|brouwerij|browar|winery|weingut|bodegas?|"
    r"cantina|wijnhuis|winnica|distillery|destillerie|distillerie|destilería|distilleria|stokerij|gorzelnia|farm|hofladen|"
    r"ferme|granja|fattoria|boerderij|gospodarstwo|café|cafe|restaurant|bistro|trattoria|osteria|pizzeria|deli|"
    r"delikatessen|épicerie|epicerie|alimentari|toko|sklep|tienda|negozio|winkel|boutique|metzgerei|boucherie|carnicería|"
    r"macelleria|slagerij|fromagerie|quesería|imports?|exports?|trading|foods|distribution|distribuzione|distribución|"
    r"vertrieb|handel|hurtownia|groothandel|mayorista|grossiste|agency|agentur|agence|agencia|agenzia|studio|atelier|"
    r"maison|casa|haus|huis|dom|hotel|hostel|pension|gasthof|gasthaus|albergo|hostal|pensione"
)
_BUSINESS_BEFORE = re.compile(rf"(?i:\b(?:{_BUSINESS_WORDS}))[ \t]+$")
_BUSINESS_FIRST = re.compile(rf"(?i:(?:{_BUSINESS_WORDS}))(?:[ \t]|$)")
_BUSINESS_AFTER = re.compile(
    r"^[ \t]*(?:&[ \t]*(?:Co|Figli|Fils|Söhne|Sons|Hijos|Zonen|Synowie)\b|Cash[ \t]&[ \t]Carry|(?:Ltd|GmbH|BV|B\.V\.|S\.?r\.?l|"
    r"S\.?L\.?|S\.?A\.?|SAS|SARL|Sp\.[ \t]z[ \t]o\.o\.|KG|AG|Inc|LLC|PLC)\b)"
)


def _business(text: str, r: RecognizerResult) -> bool:
    """A name-shaped run that names a business ("Piekarnia Wiśniewski", "Bassani & Figli"), from a weak source."""
    if r.entity_type != "PERSON" or _name(r) not in _WEAK:
        return False
    value = text[r.start : r.end]
    return bool(
        _BUSINESS_FIRST.match(value)
        or _BUSINESS_BEFORE.search(text[max(0, r.start - 20) : r.start])
        or _BUSINESS_AFTER.match(text[r.end : r.end + 16])
    )


_WEAK = frozenset({_NER, "FirstNameRecognizer", "PeopleRefiner"})


def _city_guess(text: str, r: RecognizerResult) -> bool:
    """A person guess that is exactly a place ("Valencia", "Île-de-France"): a place, unless a cue said otherwise."""
    return r.entity_type == "PERSON" and _name(r) in _WEAK and is_place(text[r.start : r.end])


_LOCATIVE = re.compile(r"(?i:\b(?:in|at|from|to|near|en|à|a|de|aus|nach|bei|im|w|z|we|ze|do|uit|naar|bij|di|da|per))[ \t]+$")


def _locative(text: str, r: RecognizerResult, places: list[tuple[int, int]]) -> bool:
    """An occurrence the NER model calls a place, after a locative word ("in Paris"): not the person "Paris Hilton"."""
    return any(s <= r.start and r.end <= e for s, e in places) and _LOCATIVE.search(text[max(0, r.start - 12) : r.start]) is not None


def _brand_line(text: str, r: RecognizerResult, brands: list[tuple[int, int]]) -> bool:
    """A person span that runs over a brand into words that are no given name ("Dr. Oetker Ristorante", "Oetker, Johnnie")."""
    if r.entity_type != "PERSON":
        return False
    touched = [(s, e) for s, e in brands if s < r.end and r.start < e]
    if not touched or any(s <= r.start and r.end <= e for s, e in touched):
        return False
    rest = "".join(" " if any(s <= i < e for s, e in touched) else text[i] for i in range(r.start, r.end)).split()
    return not any(is_given_name(w.strip(".,"), strict=True) for w in rest) or len(touched) >= 2 or not rest


def _name(r: RecognizerResult) -> str:
    return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")


def _places(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop NER places (market facts), and given-name guesses that the NER model calls a place ("Florence")."""
    places = [(r.start, r.end) for r in results if r.entity_type == "LOCATION" and _name(r) == _NER]
    out: list[RecognizerResult] = []
    for r in results:
        if r.entity_type == "LOCATION" and _name(r) != _ADDRESS:
            continue
        if _name(r) == "FirstNameRecognizer" and r.score < 0.75 and " " not in text[r.start : r.end].strip():
            if any(s <= r.start and r.end <= e for s, e in places):
                continue
        out.append(r)
    return out


def _result(start: int, end: int, score: float) -> RecognizerResult:
    return RecognizerResult("PERSON", start, end, score, recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "PeopleRefiner"})


def _words(value: str) -> list[str]:
    return value.split()


def _speaker_span(m: re.Match[str]) -> tuple[int, int]:
    """The speaker's name without a leading role word ("Agent Gregor" → "Gregor")."""
    start, end = m.start("name"), m.end("name")
    for word in re.finditer(r"\S+", m.group("name")):
        if word.group().lower().strip(".") not in LABEL_WORDS:
            return start + word.start(), end
    return end, end


def _speaker_ok(name: str) -> bool:
    words = _words(name)
    if not 1 <= len(words) <= 3 or not is_name_like(name):
        return False
    return not any(w.lower().strip(".") in LABEL_WORDS for w in words)


def _speakers(text: str) -> Iterable[RecognizerResult]:
    """Chat speakers and the people they address."""
    lines = [(m, *_speaker_span(m)) for m in _SPEAKER.finditer(text)]
    lines = [(m, s, e) for m, s, e in lines if e > s and _speaker_ok(text[s:e])]
    dialogue = len(lines) >= 2
    for m, s, e in lines:
        said = m.group("said")
        speech = bool(m.group("ts")) or dialogue or len(_words(text[s:e])) >= 2
        speech = speech or said[:1].islower() or "?" in said or said.split()[0].lower() in _SPEECH_STARTS
        speech = speech or "(" in text[m.end("name") : m.start("said")]  # "Annika (Support): …"
        if speech:
            yield _result(s, e, 0.75)
    if not lines and "?" not in text and "!" not in text:
        return
    for m in _VOCATIVE.finditer(text):
        value = m.group("name")
        if (m.group("end") in "?!" or lines) and len(_words(value)) <= 2 and _speaker_ok(value):
            yield _result(m.start("name"), m.end("name"), 0.6)
    for m in _LEADING_VOCATIVE.finditer(text):
        if lines and len(_words(m.group("name"))) == 1 and _speaker_ok(m.group("name")):
            yield _result(m.start("name"), m.end("name"), 0.6)


_SPEECH_STARTS = frozenset(
    "i i'm i've we you hi hey hello yes yeah no ok okay sure thanks thank sorry please did do does can could "
    "would will is are was hallo ja nein danke bitte bonjour oui non merci salut hola sí gracias ciao grazie "
    "hoi ja nee dank cześć tak nie dzięki".split()
)


def _lists(text: str, seeds: list[RecognizerResult], places: list[tuple[int, int]]) -> Iterable[RecognizerResult]:
    """Members of a name list that holds a person or follows a list cue."""
    for match in _LIST.finditer(text):
        items: list[tuple[int, int]] = []
        pos = match.start()
        for sep in _LIST_SPLIT.finditer(text, match.start(), match.end()):
            items.append((pos, sep.start()))
            pos = sep.end()
        items.append((pos, match.end()))
        items = [(s, _before_aside(text, s, e)) for s, e in items if e > s]
        if len(items) < 2:
            continue
        seeded = any(r.start < e and s < r.end for r in seeds for s, e in items)
        cued = _LIST_CUE.search(text[max(0, match.start() - 40) : match.start()]) is not None
        if not (seeded or cued) or org_context(text, match.start(), match.end()):
            continue  # "Distributor Skinner, Simon and Webb": a firm
        for s, e in items:
            value = text[s:e]
            if is_place(value) or (not cued and any(a <= s and e <= b for a, b in places)):
                continue  # "Lena Berg, Hamburg": a place, in a list of people
            if value.split()[0].lower() in _function_words():
                continue  # "How do Alpro": a sentence, not a name
            if is_name_like(value) or _initialled(value):
                yield _result(s, e, 0.7)


def _before_aside(text: str, start: int, end: int) -> int:
    """The end of a list item without its parenthetical aside."""
    aside = _ASIDES.search(text, start, end)
    return aside.start() if aside else end


def _initialled(value: str) -> bool:
    words = _words(value)
    return len(words) >= 2 and bool(re.fullmatch(r"[A-ZÀ-ÖØ-Þ]\.?", words[0])) and is_name_like(" ".join(words[1:]))


def _propagate(text: str, people: list[RecognizerResult]) -> Iterable[RecognizerResult]:
    """Other occurrences (any case) of the words of full names found in the text."""
    tokens: set[str] = set()
    for r in people:
        words = [w.strip(".,") for w in _words(text[r.start : r.end])]
        if len(words) >= 2 or r.score >= 0.7:
            tokens.update(w for w in words if len(w) >= 3 and w.lower() not in STOP_WORDS and _NAME_RE.fullmatch(w))
    if not tokens:
        return
    pattern = _token_pattern(frozenset(tokens))
    taken = [(r.start, r.end) for r in people]
    for m in pattern.finditer(text):
        if not any(s <= m.start() and m.end() <= e for s, e in taken):
            yield _result(m.start(), m.end(), 0.6)


@functools.lru_cache(maxsize=1024)
def _token_pattern(tokens: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(map(re.escape, sorted(tokens, key=len, reverse=True)))
    return re.compile(rf"(?<![\w@.])(?:{alternatives})(?![\w@]|\.\w)", re.IGNORECASE)
