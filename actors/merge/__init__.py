"""The merge agent: combines the providers' answers claim by claim against the evidence.

    merge_answers(answers, evidence, quorum) -> MergeResult

Rules in short (details in each module's docstring):
- numbers: "2.1bn", "2,100 million", "$2.1 billion", "four in ten" are figures; units convert (27 kg = 0.027 t,
  km² / mi², l / hl); percent and percentage points, and two currencies, never agree; agreement within 2 % or
  the claim's own rounding (numbers);
- measurement: each figure is read as a quantity — subject (names, places), metric (topic word, the word it
  counts, or the evidence figure grounding aligned it to), period (its year, else the aligned figure's) —
  (analysis, grounding);
- matching: claims about the same quantity meet whatever their values; same claim when figures agree and
  the wording is close, or the wording alone is close; one claim per provider per group (matching);
- agreement: unanimous (every answering provider), majority (several), single (one) (core);
- disagreements: one per conflicting quantity — values beyond tolerance, another currency or unit, opposite
  direction, the same figure for another year (period), a different leader named — listing every claim about
  it (matching, disagreement);
- grounding: cited ids exist; a figure that matches the evidence's figure for the same quantity supports the
  claim, one that differs (value, direction, currency, unit, magnitude, year) contradicts it with the field and
  both values named — only when the item speaks of the figure's subject (a segment it never mentions stays
  unverifiable); no counterpart is unverifiable; names and places must appear; a leader named against the
  evidence's ranking or its own sentence, or a one-of-a-kind role (headquarters, chief executive) the evidence
  gives someone else, is contradicted (grounding, ranking);
- hallucination: contradicted, or cites missing evidence, or single and unverifiable (core);
- reliability: share of a provider's claims supported; picks wording and orders claims (reliability).
"""

from __future__ import annotations

from actors.merge.core import Embed, MergeOptions, merge_answers, quorum_of
from actors.merge.embeddings import load_minilm
from actors.merge.numbers import (
    REL_TOLERANCE,
    ROUNDING_CAP,
    Quantity,
    agree,
    extract_quantities,
    parse_unit,
)

__all__ = [
    "REL_TOLERANCE",
    "ROUNDING_CAP",
    "Embed",
    "MergeOptions",
    "Quantity",
    "agree",
    "extract_quantities",
    "load_minilm",
    "merge_answers",
    "parse_unit",
    "quorum_of",
]
