"""Person names beyond the small NER model: cue words, CRM records, cleaned-up NER spans, all-caps text.

The small spaCy model misses many European names, takes some for organizations and runs spans
across line breaks. Here NER spans are trimmed and completed, and names are also found by what
stands before them (honorifics, field labels, greetings, sign-offs) and by where they stand (the
name field of a delimited record that carries an email or phone number).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from actors.pii.recognizers import _Recognizer

__all__ = ["NerRecognizer", "PersonCueRecognizer", "RecordNameRecognizer", "is_name_like", "ner_view"]

_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİŁŃŇŌŐŒŘŚŞŠŢŤŪŮŰŲŹŻŽ"
_LO = "a-zß-öø-ÿāăąćčďđēėęěğīįıłńňōőœřśşšţťūůűųźżž"
_NAME_PREFIX = r"(?:Mc|Mac|O['’]|D['’]|L['’]|d['’]|l['’]|dell['’]|Di|De|Da|Du|Le|La|Van|Von|Fitz)?"  # McDonald, O'Connor, DiCaprio
_CAP_PART = rf"{_NAME_PREFIX}[{_UP}][{_LO}'’]+(?:-[{_LO}]{{2,}}(?![{_LO}]))?"  # "Ji-woo"
_CAP_WORD = rf"{_CAP_PART}(?:-(?:(?:van|von|de|der|den|la|le|di|da|du)[ \t]+){{0,2}}{_CAP_PART})*(?![{_UP}{_LO}0-9])"
_CAPS_WORD = rf"[{_UP}]{{2,}}(?:-[{_UP}]{{2,}})*(?![{_UP}{_LO}0-9])"
_PARTICLE = r"(?:de|la|le|du|des|del|della|di|da|dos|das|do|van|von|der|den|ten|ter|zu|y|e|af|al|bin)"
_WORD = rf"(?:{_CAP_WORD}|{_CAPS_WORD})"
_INITIAL = rf"[{_UP}]\.?(?=[ \t]+[{_UP}])"  # "Ildikó R Varga", "J. Smith"
NAME = (
    rf"(?:{_INITIAL}[ \t]+)?{_WORD}"
    rf"(?:(?:[ \t]+|[ \t]*\n[ \t]*)(?:{_PARTICLE}[ \t]+){{0,2}}(?:{_INITIAL}[ \t]+)?{_WORD}){{0,3}}"
)
_NAME_RE = re.compile(NAME)
_LOWER_NAME = rf"[{_LO}]{{2,}}[ \t]+[{_LO}]{{2,}}"

# Capitalized words that are not names: sentence starters, labels, roles, org words, calendar words.
STOP_WORDS = frozenset(
    """
    a an the and or but for with without from to of in on at by via per our your my his her their we you they
    i it this that these those there here hi hello hey dear thanks thank regards best kind cheers sincerely
    yours greetings good morning afternoon evening welcome please note re fw fwd cc bcc attn subject
    name names contact contacts email e-mail mail phone tel fax mobile address company customer client lead
    leads owner account manager team sales marketing support service services office head director ceo cto
    cfo cmo coo vp founder buyer barista influencer panel feedback quote quotes interview review reviewed
    reviewer signed signature distributor partner agency vendor supplier retailer shop store brand product
    products order orders invoice ticket case payment refund card iban vat id total price offer campaign
    newsletter event registration webinar survey question answer q a met ask asked call called spoke
    meeting mentioned wants wrote says said mr mrs ms miss mx dr prof sir herr frau hr fr m mme mlle sr sra
    srta don doña monsieur madame sig dott ing ansprechpartner ansprechpartnerin kontakt nom prénom nombre contacto
    january february march july september october november december monday tuesday
    wednesday thursday friday saturday sunday today tomorrow yesterday q1 q2 q3 q4 north south east west
    street road avenue city country region market markets europe eu uk usa us gmbh ag kg ug ltd llc inc
    corp co sa sl sas sarl bv nv plc oy ab as spa srl group holding foods farms fest expo ok yes no new
    united kingdom states republic sku ean gtin art nr visa mastercard amex maestro paypal adresse dirección
    direccion anschrift flat suite apt unit piso calle rue chemin avenue boulevard allee allée street st
    teléfono telefono telefon téléphone handy courriel correo
    later then also yesterday however finally next meanwhile recently unfortunately fortunately afterwards
    still so because when while after before since although though if once now again first second last only
    even just maybe perhaps sadly luckily overall actually honestly anyway besides instead otherwise
    launch launching buy try get order shop discover enjoy visit join book download test compare switch grab taste
    drink eat save win see read watch listen explore introducing introduce new free sale zero sugar light original
    classic premium organic vegan buying purchasing procurement category trade retail wholesale logistics
    finance operations legal hr it einkauf vertrieb achats ventes compras ventas acquisti vendite inkoop verkoop
    zakupy sprzedaż cliente clienta clientes kunde kundin kunden klant klanten klient klientka klienci
    agente agent hola gracias merci bonjour bonsoir salut hallo danke grazie buongiorno buonasera dziękuję dzień
    groetjes pozdrawiam saludos grüße gruß ciao hoi goedemiddag goedemorgen dobry prego atención atencion servicio
    service kundenservice kundendienst webcare equipo équipe squadra zespół
    gern gerne verified anonymous provincia województwo azienda firma telefono telefon cognome nome nazwisko imię
    like as such including incl e.g vs versus feb mar apr jun jul aug sep sept oct nov dec
    januar februar märz juni juli oktober dezember janvier février mars avril juin juillet août septembre octobre
    novembre décembre enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre januari februari maart mei augustus
    styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień
    """.split()
)
_ORG_MARKERS = re.compile(
    r"\b(?:GmbH|AG|KG|UG|e\.?\s?G\.?|e\.?\s?V\.?|Ltd\.?|LLC|Inc\.?|Corp\.?|S\.?\s?A\.?|S\.?\s?L\.?|SAS|SARL|"
    r"B\.?V\.?|N\.?V\.?|PLC|Oy|AB|S\.?p\.?A\.?|S\.?r\.?l\.?|& Co\.?|and Sons|Group|Holding)(?![\w])"
)
_ORG_AFTER = re.compile(
    r"^[ \t]*,?[ \t]*(?:&|and[ \t]+Co|GmbH|AG\b|KG\b|UG\b|e\.[ \t]?[GV]\.|Ltd|LLC|Inc\b|Corp\b|PLC\b|S\.?[ \t]?[AL]\.|"
    r"S\.?A\.?S\.?|SARL|S\.?Coop|S\.?p\.?A|S\.?r\.?l|B\.?V\.|N\.?V\.|Oy\b|AB\b|Group\b|Holding\b)"
)
_ORG_BEFORE = re.compile(
    r"(?i:\b(?:company|firm|firma|unternehmen|société|entreprise|empresa|compañía|distributor|distributeur|"
    r"distribuidor|retailer|wholesaler|vendor|supplier|lieferant|fournisseur|proveedor|agency|agentur|agence|"
    r"employer|organi[sz]ation|brand|marke|marque|marca|bank|banco|banque)[\"']?[ \t]*:?[ \t]*[\"']?)$"
)
_HONORIFIC = (
    r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Hr|Fr|M|Mme|Mlle|Monsieur|Madame|Sr|Sra|Srta|Don|Doña|"
    r"Dott|Sig|Sig\.ra|Dipl\.-Ing|Ing)\.?"
)
_STRONG_CUES = (
    rf"\b{_HONORIFIC}(?:[ \t]+{_HONORIFIC})?[ \t]+",
    r"(?i:\b(?:full[ \t]?name|name|contact(?:[ \t]person)?|customer|client|lead[ \t]owner|owner|account[ \t]manager|"
    r"(?:account|card)[ \t]?holder|holder|beneficiary|recipient|payee|sender|applicant|guest|attendee|speaker|participant|"
    r"member|subscriber|caller|persona|assigned[ \t]to|handled[ \t]by|created[ \t]by|escalated[ \t]to|co-?founders?|"
    r"founders?|reviewer|buyer|agent|rep|titulaire|titular|intestatario|rekeninghouder|właściciel|inhaber(?:in)?|"
    r"ansprechpartner(?:in)?|kontakt|nom|prénom|nombre|contacto|interlocutor|author|attn|attention|signed|"
    rf"signature|from|to|cc)[\"']?[ \t]*[:=][ \t]*\n?[ \t]*[\"']?(?:{_HONORIFIC}[ \t]+){{0,2}})",
    r"(?i:\b(?:my[ \t]name[ \t]is|name[ \t]is|i'm|i[ \t]am|this[ \t]is|call[ \t]me)[ \t]+)",
    r"(?i:\b(?:my|our|his|her|their|mein(?:e|em)?|ma|mon|mi|mio|mia|mijn|moja|mój)[ \t]+(?:little[ \t]|older[ \t]|younger[ \t]|big[ \t])?"
    r"(?:sister|brother|mum|mom|mother|dad|father|wife|husband|son|daughter|friend|best[ \t]friend|colleague|boss|partner|"
    r"girlfriend|boyfriend|cousin|aunt|uncle|grandma|grandpa|granny|neighbou?r|kid|child|coworker|co-worker|teammate|"
    r"schwester|bruder|mutter|vater|tochter|sohn|freundin|freund|kollegin|kollege|sœur|soeur|frère|frere|mère|père|fille|"
    r"fils|amie?|collègue|hermana|hermano|madre|padre|hija|hijo|amig[oa]|sorella|fratello|figlia|figlio|zus|broer|"
    r"dochter|zoon|vriend(?:in)?|siostra|brat|córka|syn|przyjaciółka|przyjaciel),?[ \t]+)",
    r"(?i:\b(?:shout-?out[ \t]to|kudos[ \t]to|props[ \t]to|big[ \t]thanks[ \t]to|thanks[ \t]to|danke[ \t]an|merci[ \t]à|gracias[ \t]a|"
    r"grazie[ \t]a|dank[ \t]aan|dzięki[ \t]dla)[ \t]+)",
    r"(?i:\b(?:reviewed|posted|submitted|written|signed|sent|approved|moderated|requested|quoted|answered)"
    r"[ \t]+by[ \t]+)",
    r"(?i:\b(?:dear|hi|hello|hey|bonjour|hola|hallo|liebe|lieber|ciao|salut|estimad[oa]|sehr[ \t]geehrte[rs]?)"
    r"(?:[ \t]+(?:Mr|Mrs|Ms|Dr|Herr|Frau)\.?)?[ \t]+)",
    r"(?i:(?:regards|cheers|sincerely|thanks|thank[ \t]you|best|grüße|gruß|cordialement|saludos)[ \t]*,?[ \t]*\n[ \t]*)",
    r"(?:^|(?<=[.!?\"'\n]))[ \t]*[—–][ \t]*",  # a sign-off: "… stays. — Lena"
)
_WEAK_CUES = (
    r"(?i:\b(?:met|thanks[ \t]to|thank[ \t]you|meeting[ \t]with|call[ \t]with|spoke[ \t](?:with|to)|talked[ \t]to|ask|contact|email|"
    r"feedback[ \t]from|quotes?[ \t](?:by|from)|interview[ \t]with|by|account[ \t-]?manager|accountmanager|"
    r"(?:sales|key[ \t]account|marketing|brand|product|store|category)[ \t]manager|ceo|cfo|cmo|cto|coo|founder|"
    r"co-founder|buyer|einkäufer(?:in)?|geschäftsführer(?:in)?|director|consultant|representative|colleague|"
    r"kollege|kollegin|intern|assistant|owner)[ \t]+"
    rf"(?:{_HONORIFIC}[ \t]+){{0,2}})",
)
_AFTER_VERBS = (
    r"says|said|wrote|writes|asked|asks|reports|reported|mentioned|complained|explained|confirmed|agreed|"
    r"disagrees|disagreed|called|emailed|replied|commented|posted|tweeted|shared|loved|bought|ordered|approved|"
    r"signed|joined|left|visited|requested|prefers|recommends|recommended|thinks|thought|noted|subscribed|"
    r"unsubscribed|registered|won|attended|purchased|paid|returned|cancelled|canceled|answered|responded|rated|"
    r"reviewed|liked|follows|followed|moderated|presented|hosted|organized|organised|spoke|talked|met|tested|tried"
)
_SIGN_OFF = re.compile(
    r"(?i:\b(?:groetjes|groeten|pozdrawiam|pozdrowienia|saludos|un[ \t]saludo|cordialement|bisous|bises|grüße|gruß|lg|vg|mfg|"
    r"cheers|thanks|regards|best|saluti|un[ \t]saluto|abrazos|besos|xoxo|love|ciao|a[ \t]presto|bis[ \t]bald|tot[ \t]ziens),?[ \t]+)"
    rf"(?P<name>{NAME})(?=[ \t]*(?:$|\n|[.!]))"
)
_FIELD_NAME = re.compile(rf"(?m)(?:^|[:(\[])[ \t]*(?P<name>{NAME})[ \t]*(?:$|[)\]])")
_NAME_BEFORE_VERB = re.compile(rf"(?P<name>{NAME})(?:[ \t]+(?:{_AFTER_VERBS})\b|[ \t]*[<(\[][ \t]*(?:mailto:)?[^\s@<>()]*@)")
_CUE_NAME = re.compile(rf"(?:{'|'.join(_STRONG_CUES)})(?P<name>{NAME})")
_WEAK_CUE_NAME = re.compile(rf"(?:{'|'.join(_WEAK_CUES)})(?P<weak>{NAME})")
_INTRO_LOWER = re.compile(
    r"(?i:\b(?:my[ \t]name[ \t]is|i'm|i[ \t]am|name[ \t]?:|call[ \t]back|callback|ring[ \t]back|call|ask(?:ed)?[ \t]for|"
    r"spoke[ \t](?:with|to)|talked[ \t](?:with|to)|speak[ \t](?:with|to)|meeting[ \t]with|met(?:[ \t]with)?|contact|cc|"
    r"ask|tell|remind|email|e-mail|message|ping|text|page|"
    r"dear|hi|hello|hey|thanks|thank[ \t]you|signed|regards,?|rückruf|zurückrufen|rappeler|llamar[ \t]a|richiamare|"
    r"terugbellen|oddzwonić[ \t]do|holder:?|owner:?|from:?|"
    r"(?:my|his|her|our|their)[ \t]+(?:boss|manager|colleague|sister|brother|mum|mom|dad|wife|husband|friend|partner|"
    r"daughter|son|contact|buyer|rep)|frau|herr|mr\.?|mrs\.?|ms\.?|pani|pan|mevrouw|meneer|señora|señor|signora|"
    r"signor|madame|monsieur|mme\.?)[ \t]+)"
    rf"(?P<name>[{_LO}]{{2,}}(?:[ \t]+[{_LO}]{{2,}}){{0,2}})(?![{_LO}{_UP}0-9])"
)
_LOWER_HONORIFIC = re.compile(
    r"(?i:\b(?:frau|herr|mr\.?|mrs\.?|ms\.?|pani|pan|mevrouw|meneer|señora|señor|signora|signor|madame|monsieur|mme\.?))[ \t]+$"
)
_NOT_LOWER_NAMES = frozenset(
    "tomorrow today tonight yesterday asap later soon again now back monday tuesday wednesday thursday friday "
    "saturday sunday morning afternoon evening week month year team support sales office customer client store "
    "shop manager supplier buyer about regarding please before after".split()
)
_COMMON_SUFFIXES = ("ing", "ed", "ly", "tion", "ment", "ness", "ity", "ies", "ous", "ful", "able", "ive")
_FIELD_SPLIT = re.compile(r"[;|\t]|,(?=\s*\S)")
_RECORD_PII = re.compile(r"@\w|\d[\d \-()/.]{6,}\d")
_JSON_NAME = re.compile(rf"\"(?:name|full_?name|contact|customer)\"[ \t]*:[ \t]*\"(?P<name>{NAME})\"", re.IGNORECASE)
_CAPS_RUN = re.compile(rf"{_CAPS_WORD}(?:[ \t]+{_CAPS_WORD}){{1,3}}")


@functools.cache
def _function_words() -> frozenset[str]:
    """spaCy's stop words of the languages we read: words a lowercase name never is.

    The word lists are read from their own files: importing `spacy.lang.fr` would first build the
    French tokenizer exceptions, which takes seconds.
    """
    import importlib.util
    from pathlib import Path

    import spacy

    words: set[str] = set()
    for lang in ("en", "de", "fr", "es", "it", "nl", "pl", "pt"):
        path = Path(spacy.__file__).parent / "lang" / lang / "stop_words.py"
        spec = importlib.util.spec_from_file_location(f"_mka_stop_words_{lang}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        words.update(module.STOP_WORDS)
    return frozenset(words)


def _common(word: str) -> bool:
    """A lowercase word that is a function word, a stop word or has a common-word ending."""
    w = word.lower()
    return w in STOP_WORDS or w in _NOT_LOWER_NAMES or w in _function_words() or w.endswith(_COMMON_SUFFIXES)


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s]+", value) if w]


def org_context(text: str, start: int, end: int) -> bool:
    """Tell whether a name-shaped span is a company: a legal form after it or a company word before it."""
    return bool(_ORG_AFTER.match(text[end : end + 12]) or _ORG_BEFORE.search(text[max(0, start - 24) : start]))


def is_name_like(value: str, *, min_words: int = 1) -> bool:
    """Tell whether a value looks like a personal name: name-shaped words, not stop words or an org."""
    if not _NAME_RE.fullmatch(value.strip()) or _ORG_MARKERS.search(value):
        return False
    words = [w for w in _words(value) if not re.fullmatch(_PARTICLE, w)]
    if len(words) < min_words:
        return False
    return not any(w.lower().strip(".") in STOP_WORDS for w in words)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a person span to its leading name-shaped run (stop words off the left, lines kept apart)."""
    value = text[start:end]
    match = _NAME_RE.search(value)
    while match is not None and match.group().split()[0].lower() in STOP_WORDS:
        head = match.group().split()[0]
        nxt = _NAME_RE.search(value, match.start() + len(head))
        match = nxt
    if match is None:
        return None
    s, e = start + match.start(), start + match.end()
    lines = text[s:e].split("\n")
    first = s + len(lines[0].rstrip())
    if len(lines) > 1 and (len(_words(lines[0])) >= 2 or not is_name_like(text[s:e])):
        e = first  # "Maria Keller\nHead": the name ends at the line; "Sabine\nFischer" stays whole
    if org_context(text, s, e):
        return None
    return (s, e) if is_name_like(text[s:e]) else None


def _extend(text: str, start: int, end: int) -> tuple[int, int]:
    """Take in particles and name words that directly follow a person span on the same line."""
    tail = re.match(rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}(?:{_INITIAL}[ \t]+)?{_WORD})+", text[end:])
    if tail is not None:
        extra = tail.group()
        words = [w for w in _words(extra) if not re.fullmatch(_PARTICLE, w)]
        if words and not any(w.lower() in STOP_WORDS for w in words) and not _ORG_MARKERS.search(extra):
            end += len(extra)
    return start, end


class NerRecognizer(EntityRecognizer):
    """spaCy's PERSON and LOCATION entities; person spans trimmed of labels and completed on their line."""

    def __init__(self, *, entities: Iterable[str] = ("PERSON", "LOCATION")) -> None:
        super().__init__(supported_entities=sorted(set(entities)), supported_language="en", context=[])

    def load(self) -> None:
        """Nothing to load: entities come with the NLP artifacts."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        """Turn the artifacts' entities into results.

        A one-word person counts only as part of a longer name found in the same text (a lone
        surname is most often a company or a place to the small model); locations score below
        names found by cue words, so "Hi Giulia" stays a person.
        """
        if nlp_artifacts is None:
            return []
        places: list[RecognizerResult] = []
        people: list[tuple[int, int, float]] = []
        for ent in nlp_artifacts.entities:
            label, start, end = ent.label_, ent.start_char, ent.end_char
            if label == "LOCATION" and "LOCATION" in self.supported_entities:
                if text[start:end].lower().removeprefix("the ") not in STOP_WORDS:
                    places.append(RecognizerResult("LOCATION", start, end, 0.6))
            elif label == "PERSON" and "PERSON" in self.supported_entities:
                span = _trim(text, start, end)
                if span is not None:
                    people.append((*_extend(text, *span), 0.85))
        known = {w.lower() for s, e, _ in people for w in _words(text[s:e]) if len(_words(text[s:e])) > 1}
        out = [
            RecognizerResult("PERSON", s, e, score if len(_words(text[s:e])) > 1 or text[s:e].lower() in known else 0.4)
            for s, e, score in people
        ]
        return out + places


class PersonCueRecognizer(_Recognizer):
    """Names after honorifics, field labels, self-introductions, greetings, sign-offs and a few verbs."""

    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield names by the words before them; weak cues need a two-word name."""
        for match in [*_CUE_NAME.finditer(text), *_WEAK_CUE_NAME.finditer(text)]:
            strong = "name" in match.re.groupindex
            group = "name" if strong else "weak"
            span = _trim(text, match.start(group), match.end(group))
            if span is None or (not strong and len(_words(text[span[0] : span[1]])) < 2):
                continue
            yield self.result(*_extend(text, *span), 0.8 if strong else 0.65)
        for match in _SIGN_OFF.finditer(text):
            span = _trim(text, match.start("name"), match.end("name"))
            if span is not None:
                yield self.result(*span, 0.75)
        for match in _NAME_BEFORE_VERB.finditer(text):
            span = _trim(text, match.start("name"), match.end("name"))
            if span is not None and len(_words(text[span[0] : span[1]])) >= 2:
                yield self.result(*span, 0.65)
        for match in _FIELD_NAME.finditer(text):
            span = _trim(text, match.start("name"), match.end("name"))
            if span is not None and len(_words(text[span[0] : span[1]])) >= 2:
                yield self.result(*span, 0.55)
        for match in _INTRO_LOWER.finditer(text):
            words = list(re.finditer(r"\S+", match.group("name")))
            run: list[re.Match[str]] = []
            for word in words[:3]:
                if _common(word.group()):
                    break
                run.append(word)
            if len(run) == 3 and not re.match(r"[ \t]*(?:$|[,.;:!?)\n])", text[match.start("name") + run[2].end() :]):
                run = run[:2]  # "thandeka dlamini signs off": a third word only before punctuation
            honorific = _LOWER_HONORIFIC.search(text[max(0, match.start("name") - 12) : match.start("name")]) is not None
            if len(run) >= 2 or (honorific and run):
                yield self.result(match.start("name"), match.start("name") + run[-1].end(), 0.55)


class RecordNameRecognizer(_Recognizer):
    """The name field of a delimited or JSON record that also carries an email address or phone number."""

    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[RecognizerResult]:
        """Yield name-shaped fields standing next to an email or phone field."""
        for match in _JSON_NAME.finditer(text):
            yield self.result(match.start("name"), match.end("name"), 0.8)
        offset = 0
        for line in text.splitlines(keepends=True):
            if _RECORD_PII.search(line) and _FIELD_SPLIT.search(line):
                yield from self._fields(line, offset)
            offset += len(line)

    def _fields(self, line: str, offset: int) -> Iterable[RecognizerResult]:
        bounds = [0, *(m.end() for m in _FIELD_SPLIT.finditer(line))]
        fields = [(b, (bounds[i + 1] - 1) if i + 1 < len(bounds) else len(line)) for i, b in enumerate(bounds)]
        for i, (s, e) in enumerate(fields):
            raw = line[s:e]
            value = raw.strip()
            if not is_name_like(value, min_words=2):
                continue
            neighbours = [line[a:b] for a, b in fields[max(0, i - 1) : i] + fields[i + 1 : i + 2]]
            if any(_RECORD_PII.search(n) for n in neighbours):
                start = offset + s + (len(raw) - len(raw.lstrip()))
                yield self.result(start, start + len(value), 0.7)


def ner_view(text: str) -> str:
    """The text as the NER model should see it: runs of all-caps words title-cased (same length)."""

    def title(match: re.Match[str]) -> str:
        run = match.group()
        titled = run.title()
        return titled if len(titled) == len(run) else run

    return _CAPS_RUN.sub(title, text)
