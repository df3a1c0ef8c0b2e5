"""Markdown to evidence-sized pieces: text chunks on headings and paragraphs, and tables row by row with numbers.

Pure functions. A chunk carries the headings it sits under, so "Pricing: shelf prices ranged from
EUR 2.19…" keeps its topic. A table row becomes a sentence plus numbers named after its columns:
in a wide table (`market | year | growth_pct | oat_share_pct`) each numeric column is a figure
named by its header; in a long table (`market | metric | year | value`) the metric cell names the
value ("oat share" -> `oat_share_pct`, a share being a percentage). A brand column puts the brand
first (`Alpro barista_price_eur`), as the merge reads brand figures. A country, by code or name,
is spelled out in the sentence, which is where the merge finds an item's places.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

__all__ = ["Chunk", "Table", "chunk_markdown", "humanize", "parse_number", "phrase", "row_facts"]

MAX_CHARS = 1200


@dataclass(frozen=True)
class Chunk:
    """A piece of prose under its headings."""

    headings: tuple[str, ...]
    text: str

    def render(self) -> str:
        """The chunk as evidence text: its headings, then the prose."""
        where = " / ".join(h for h in self.headings if h)
        return f"{where}: {self.text}" if where else self.text


@dataclass
class Table:
    """A table found in the Markdown: its heading (a sheet name, a section), header and rows of cells."""

    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


# Linear patterns only: these run on any text a user or a server hands us (no nested or adjacent
# quantifiers over the same characters, which backtrack for minutes on a long line of spaces).
_HEADING = re.compile(r"(#{1,6})[ \t]+(\S.*)")
_SEPARATOR_CELL = re.compile(r":?-{2,}:?")
MAX_HEADING = 200


def _heading(line: str) -> tuple[int, str] | None:
    """`## Pricing ##` -> (2, "Pricing"); None for any other line."""
    match = _HEADING.fullmatch(line)
    if not match:
        return None
    text = match.group(2).rstrip().rstrip("#").rstrip().rstrip(":").strip()
    return len(match.group(1)), text[:MAX_HEADING]


def _is_separator(line: str) -> bool:
    """A Markdown table's header separator: `| --- | :--: |`."""
    body = line.strip().strip("|")
    cells = [c.strip() for c in body.split("|")]
    return bool(cells) and all(_SEPARATOR_CELL.fullmatch(c) for c in cells)


def _drop_comments(text: str) -> str:
    """HTML comments removed (an unclosed one runs to the end), in one pass."""
    out, start = [], 0
    while True:
        opening = text.find("<!--", start)
        if opening < 0:
            out.append(text[start:])
            return "".join(out)
        out.append(text[start:opening])
        closing = text.find("-->", opening + 4)
        if closing < 0:
            return "".join(out)
        out.append("\n")
        start = closing + 3
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells = re.split(r"(?<!\\)\|", body)
    return [re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", c.strip()) for c in cells]


def chunk_markdown(markdown: str, *, max_chars: int = MAX_CHARS) -> tuple[list[Chunk], list[Table]]:
    """Split Markdown into prose chunks (on headings, then paragraphs, at most `max_chars`) and tables."""
    text = _drop_comments(markdown)
    headings: list[str] = []
    chunks: list[Chunk] = []
    tables: list[Table] = []
    paragraph: list[str] = []
    pending: list[str] = []  # paragraphs of the current section not yet emitted
    lines = text.split("\n")

    def end_paragraph() -> None:
        if paragraph:
            joined = " ".join(part.strip() for part in paragraph if part.strip())
            if joined:
                pending.append(joined)
            paragraph.clear()

    def flush() -> None:
        end_paragraph()
        for piece in _pack(pending, max_chars):
            chunks.append(Chunk(tuple(headings), piece))
        pending.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        heading = _heading(stripped)
        if heading:
            flush()
            level, title = heading
            del headings[level - 1:]
            headings.extend([""] * (level - 1 - len(headings)))
            headings.append(title)
        elif stripped.startswith("|") and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            end_paragraph()
            header = _cells(stripped)
            rows: list[list[str]] = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            if header and not any(header) and rows:  # a header-less table (DOCX): its first row names the columns
                header, rows = rows[0], rows[1:]
            title = next((h for h in reversed(headings) if h), "")
            tables.append(Table(title, header, [r[: len(header)] + [""] * (len(header) - len(r)) for r in rows]))
            continue
        elif not stripped:
            end_paragraph()
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    return chunks, tables


def _pack(paragraphs: list[str], max_chars: int) -> list[str]:
    """Paragraphs joined up to `max_chars`; a longer paragraph is cut at sentence ends (or hard, at worst)."""
    pieces: list[str] = []
    for paragraph in paragraphs:
        pieces += _split_long(paragraph, max_chars)
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 2 + len(piece) <= max_chars:
            out[-1] = f"{out[-1]}\n\n{piece}"
        else:
            out.append(piece)
    return out


def _split_long(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > max_chars:  # one endless sentence: cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return out


_NUMBER = re.compile(
    r"^(?P<sign>[-+−]?)\s*(?P<cur>[€$£¥]|[A-Z]{3}\s)?\s*(?P<num>\d{1,3}(?:[,\u00a0 ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"\s*(?P<pct>%)?\s*$"
)


def parse_number(cell: str) -> float | None:
    """A cell's number: "52", "1,180.5", "6.8%", "€2.29", "-3"; None for text, dates and empty cells."""
    text = cell.strip()
    if len(text) > 40:  # no figure is that long; a 400-digit cell would be infinity
        return None
    match = _NUMBER.match(text)
    if not match:
        return None
    value = float(re.sub(r"[,\u00a0 ]", "", match.group("num")))
    if not math.isfinite(value):
        return None
    return -value if match.group("sign") in ("-", "−") else value


_YEAR_HEADER = re.compile(r"^(year|yr|jahr|année|annee|año|anno|jaar|fy|period)$", re.IGNORECASE)
_METRIC_HEADER = re.compile(r"^(metric|measure|indicator|kpi|variable|series|item)$", re.IGNORECASE)
_VALUE_HEADER = re.compile(r"^(value|amount|figure|number|val|count|total)$", re.IGNORECASE)
_BRAND_HEADER = re.compile(r"^(brand|company|competitor|manufacturer|player|vendor|name)$", re.IGNORECASE)
_PERCENT_WORDS = re.compile(r"\b(share|rate|growth|penetration|percent|percentage|pct|cagr)\b", re.IGNORECASE)
_UNIT_WORDS = {"pct": "%", "percent": "%", "m": "million", "mn": "million", "bn": "billion", "k": "thousand"}


def _slug(text: str) -> str:
    return re.sub(r"[\W_]+", "_", text.casefold()).strip("_")  # letters of any script stay ("größe", "売上")


_PLACE_HEADER = re.compile(r"market|country|countries|region|geo|territor|nation|land|pays|país|paese|kraj|iso|"
                           r"location|^cc$", re.IGNORECASE)
_SYMBOLS = {"€": "eur", "$": "usd", "£": "gbp", "¥": "jpy"}


def _cell_unit(cell: str) -> str | None:
    """The unit a numeric cell writes: `pct` for "6.8%", a currency for "€2.29" or "EUR 12"."""
    match = _NUMBER.match(cell.strip())
    if not match:
        return None
    if match.group("pct"):
        return "pct"
    currency = (match.group("cur") or "").strip()
    return _SYMBOLS.get(currency) or (currency.lower() if currency else None)


def _has_unit(key: str) -> bool:
    words = key.lower().split("_")
    return any(w in ("pct", "percent", *_CURRENCIES) for w in words)


def _country(cell: str) -> str | None:
    import pycountry

    text = cell.strip()
    if len(text) == 2 and text.isalpha() and text.isupper():
        return text if pycountry.countries.get(alpha_2=text) is not None else None
    if len(text) < 4:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def _country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code


def humanize(header: str) -> str:
    """A column name in words: "market_value_eur_m" -> "market value EUR million", "growth_pct" -> "growth %"."""
    words = [w for w in re.split(r"[_\s]+", header.strip()) if w]
    out = []
    for word in words:
        lower = word.lower()
        if lower in _UNIT_WORDS:
            out.append(_UNIT_WORDS[lower])
        elif len(word) == 3 and lower in ("eur", "usd", "gbp", "jpy", "chf", "cny", "sek", "pln", "dkk", "nok"):
            out.append(word.upper())
        else:
            out.append(word)
    return " ".join(out) or header


MAX_CELL = 300
MAX_SENTENCE = 4000


def row_facts(header: list[str], row: list[str]) -> tuple[str, dict[str, float]]:
    """A table row as a sentence and numbers named after its columns (see the module docstring); long cells are
    cut (at 300 characters), and so is the sentence (at 4,000)."""
    cells: dict[str, str] = {}
    for raw_head, cell in zip(header, row):
        head = raw_head.strip()[:MAX_CELL]
        if not head:
            continue
        if head in cells:  # a repeated column name: keep both, numbered
            n = 2
            while f"{head} {n}" in cells:
                n += 1
            head = f"{head} {n}"
        cells[head] = cell.strip()[:MAX_CELL]
    numbers = {h: parse_number(c) for h, c in cells.items()}
    metric_col = next((h for h in cells if _METRIC_HEADER.match(h) and numbers[h] is None and cells[h]), None)
    value_cols = [h for h in cells if _VALUE_HEADER.match(h) and numbers[h] is not None]
    brand = next((cells[h] for h in cells if _BRAND_HEADER.match(h) and numbers[h] is None and cells[h]), None)
    data: dict[str, float] = {}
    parts: list[str] = []
    for head, cell in cells.items():
        if not cell:
            continue
        value = numbers[head]
        if value is None:
            code = _country(cell) if _PLACE_HEADER.search(head) else None  # "Jordan" in a name column is a name
            parts.append(f"{humanize(head)} {_country_name(code)} ({code})" if code else f"{humanize(head)} {cell}")
            continue
        if _YEAR_HEADER.match(head) and value.is_integer() and 1900 <= value <= 2100:
            data["year"] = value
            parts.append(f"year {int(value)}")
            continue
        if head in value_cols and metric_col:
            metric = cells[metric_col]
            key = _slug(metric)
            if _PERCENT_WORDS.search(metric) and not key.endswith("_pct") and abs(value) <= 100:
                key += "_pct"  # a share or a rate without a unit is a percentage
            label = humanize(key)
        else:
            key = _slug(head)
            label = humanize(head)
        unit = _cell_unit(cell)
        if unit and not _has_unit(key):  # "growth | 6.8%" is a percentage, "price | €2.29" an amount in EUR
            key = f"{key}_{unit}"
        if brand:
            key = f"{brand} {key}"
        if not key or key in data:
            continue
        data[key] = value
        parts.append(phrase(key.split(" ")[-1] if brand else key, f"{value:,.{_decimals(cell)}f}", label))
    sentence = "; ".join(parts)
    return (sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"), data


_CURRENCIES = ("eur", "usd", "gbp", "jpy", "chf", "cny", "sek", "pln", "dkk", "nok")


def phrase(key: str, shown: str, label: str = "") -> str:
    """A figure in words with its unit where it belongs: "growth 6.8%", "market value EUR 1,180 million"."""
    words = [w for w in re.split(r"[_\s]+", key.strip()) if w]
    currency = next((w.upper() for w in words if w.lower() in _CURRENCIES), "")
    scale = next((_UNIT_WORDS[w.lower()] for w in words if w.lower() in ("m", "mn", "bn", "k")), "")
    percent = any(w.lower() in ("pct", "percent") for w in words)
    rest = [w for w in words if w.lower() not in _CURRENCIES and w.lower() not in _UNIT_WORDS]
    name = " ".join(rest) or label or key
    return f"{name} {currency + ' ' if currency else ''}{shown}{'%' if percent else ''}{' ' + scale if scale else ''}"


def _decimals(cell: str) -> int:
    match = re.search(r"\.(\d+)", cell)
    return min(len(match.group(1)), 4) if match else 0
