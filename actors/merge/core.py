"""First-level merge (pure): group equal claims, agreement, grounding by cited evidence, disagreements.

Rules, kept deliberately simple until the merge issue deepens them:
- claims group when their normalized text is equal, or when they cite the same evidence with the
  same unit and values within `TOLERANCE`;
- grounding: `supported` when a cited item's data holds the claim's value (within tolerance) or,
  for claims without a value, when most of the claim's words occur in the cited text;
  `contradicted` when the cited data holds the unit but a different value; else `unverifiable`;
- hallucination: contradicted, or cites evidence that does not exist, or single and unverifiable;
- a disagreement is one evidence item + unit about which providers state different values.
"""

from __future__ import annotations

import re
from collections import defaultdict

from schemas import Claim, Disagreement, Evidence, MergedClaim, MergeResult, ModelAnswer, Quorum

__all__ = ["TOLERANCE", "merge_answers"]

TOLERANCE = 0.02
_WORD = re.compile(r"[a-z0-9]+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-9)


def _grounding(claim: Claim, evidence: dict[str, Evidence]) -> tuple[str, list[str]]:
    cited = [evidence[i] for i in claim.evidence_ids if i in evidence]
    reasons = [f"cites unknown evidence {i}" for i in claim.evidence_ids if i not in evidence]
    if claim.value is not None:
        for item in cited:
            values = (item.data or {}).values()
            if any(_close(claim.value, v) for v in values):
                return "supported", reasons + [f"value {claim.value:g} matches {item.id}"]
        for item in cited:
            if claim.unit and claim.unit.replace(" ", "_") in (item.data or {}):
                return "contradicted", reasons + [f"value {claim.value:g} differs from {item.id}"]
    else:
        words = set(_norm(claim.text).split())
        for item in cited:
            if words and len(words & set(_norm(item.text).split())) / len(words) >= 0.6:
                return "supported", reasons + [f"text matches {item.id}"]
    return "unverifiable", reasons + (["no cited evidence confirms it"] if not reasons else [])


def merge_answers(answers: list[ModelAnswer], evidence: list[Evidence], quorum: Quorum) -> MergeResult:
    """Merge the ok answers into claims with agreement, grounding and hallucination flags."""
    ok = [a for a in answers if a.status == "ok"]
    by_id = {e.id: e for e in evidence}
    groups: list[list[tuple[str, Claim]]] = []
    index: dict[object, int] = {}
    for answer in ok:
        for claim in answer.claims:
            keys: list[object] = [("text", _norm(claim.text))]
            if claim.value is not None:
                keys.append(("value", tuple(sorted(claim.evidence_ids)), claim.unit, round(claim.value, 2)))
            found = next((index[k] for k in keys if k in index), None)
            if found is None or any(p == answer.provider for p, _ in groups[found]):
                found = len(groups)
                groups.append([])
            groups[found].append((answer.provider, claim))
            for k in keys:
                index.setdefault(k, found)
    merged = [_merged(group, len(ok), by_id) for group in groups]
    merged.sort(key=lambda c: (-len(c.providers), c.hallucination, c.text))
    return MergeResult(claims=merged, disagreements=_disagreements(ok), degraded=bool(quorum.missing), quorum=quorum)


def _merged(group: list[tuple[str, Claim]], answering: int, evidence: dict[str, Evidence]) -> MergedClaim:
    providers = [p for p, _ in group]
    if len(providers) == answering and answering > 1:
        agreement = "unanimous"
    elif len(providers) > 1 and len(providers) * 2 > answering:
        agreement = "majority"
    else:
        agreement = "single"
    verdicts = [_grounding(claim, evidence) for _, claim in group]
    grounding = (
        "contradicted" if any(v == "contradicted" for v, _ in verdicts)
        else "supported" if any(v == "supported" for v, _ in verdicts)
        else "unverifiable"
    )
    reasons = sorted({r for _, rs in verdicts for r in rs})
    unknown = any(r.startswith("cites unknown") for r in reasons)
    hallucination = grounding == "contradicted" or unknown or (agreement == "single" and grounding == "unverifiable")
    return MergedClaim(
        text=group[0][1].text,
        providers=providers,
        member_claim_ids=[c.id for _, c in group],
        agreement=agreement,  # type: ignore[arg-type]
        grounding=grounding,  # type: ignore[arg-type]
        hallucination=hallucination,
        reasons=reasons,
        evidence_ids=sorted({i for _, c in group for i in c.evidence_ids}),
    )


def _disagreements(answers: list[ModelAnswer]) -> list[Disagreement]:
    topics: dict[tuple[str, str], dict[str, Claim]] = defaultdict(dict)
    for answer in answers:
        for claim in answer.claims:
            if claim.value is not None and claim.unit and len(claim.evidence_ids) == 1:
                topics[(claim.evidence_ids[0], claim.unit)].setdefault(answer.provider, claim)
    out = []
    for (evidence_id, unit), claims in sorted(topics.items()):
        values = [c.value for c in claims.values() if c.value is not None]
        if len(claims) > 1 and not all(_close(values[0], v) for v in values[1:]):
            out.append(
                Disagreement(
                    topic=f"{unit} ({evidence_id})",
                    positions={p: f"{c.value:g} {c.unit}" for p, c in claims.items()},
                    claim_ids=[c.id for c in claims.values()],
                )
            )
    return out
