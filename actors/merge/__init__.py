"""The merge agent: combines the providers' answers claim by claim against the evidence.

    merge_answers(answers, evidence, quorum) -> MergeResult

Rules in short (details in each module's docstring):
- numbers: "2.1bn", "2,100 million", "$2.1 billion" are one figure; agreement within 2 % or the claim's own
  rounding (numbers);
- matching: same claim when figures agree (same evidence figure, or same dimension, topic, names, place)
  and the wording is close, or the wording alone is close; one claim per provider per group (matching);
- agreement: unanimous (every answering provider), majority (several), single (one) (core);
- disagreements: shared quantities with conflicting values (or currencies), opposite polarity, a different
  leader named (matching, disagreement);
- grounding: cited ids exist, figures match the evidence, names and places appear in it (grounding, ranking);
- hallucination: contradicted, or cites missing evidence, or single and unverifiable (core);
- reliability: share of a provider's claims supported; picks wording and orders claims (reliability).
"""

from __future__ import annotations

from actors.merge.core import Embed, MergeOptions, merge_answers, quorum_of
from actors.merge.embeddings import load_minilm
from actors.merge.numbers import REL_TOLERANCE, ROUNDING_CAP, Quantity, agree, extract_quantities, parse_unit

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
