"""The merge (pure): read claims, ground them, match them across providers, flag, order, list disagreements.

Agreement: `unanimous` when every provider that answered makes the claim (and more than one answered),
`single` when one provider makes it, `majority` otherwise (more than one, not all).

Hallucination flag (per merged claim): true when the claim is `contradicted` by the evidence, when it cites
evidence that does not exist, or when only one provider makes it and it is `unverifiable`. A claim made by
several providers that no evidence can confirm stays unflagged but `unverifiable`: "could not be judged"
is kept apart from "false", and the reasons say which it is.

Degraded first: the result is degraded when a provider is missing or the quorum was not reached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from actors.merge.analysis import ClaimView, read_claim
from actors.merge.disagreement import disagreements
from actors.merge.evidence import index_evidence
from actors.merge.grounding import Verdict, ground_claim
from actors.merge.matching import (
    Matcher,
    Similarity,
    group_claims,
    idf_weights,
    word_similarity,
)
from actors.merge.reliability import (
    GROUNDING_RANK,
    provider_reliability,
    representative,
)
from actors.merge.text import tokens
from actors.quorum import required_for
from schemas import Evidence, MergedClaim, MergeResult, ModelAnswer, Quorum

__all__ = ["Embed", "MergeOptions", "merge_answers", "quorum_of"]

Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]
_AGREEMENT_RANK = {"unanimous": 0, "majority": 1, "single": 2}


@dataclass(frozen=True)
class MergeOptions:
    """Knobs of the merge; the defaults are the lexical matcher used everywhere.

    Example:
        >>> MergeOptions(embed=load_minilm(), embedding_weight=0.5)  # doctest: +SKIP
    """

    embed: Embed | None = None  # sentence embeddings (texts -> vectors); None: words only
    embedding_weight: float = 0.5  # share of the embedding cosine in the blended similarity


def _vocabulary(answers: list[ModelAnswer], evidence: list[Evidence]) -> frozenset[str]:
    # data keys ("online_share_pct") are the evidence's own lower-case words too
    texts = [c.text for a in answers for c in a.claims] + [e.text for e in evidence] + [
        key.replace("_", " ") for e in evidence for key in (e.data or {})]
    words = {t.text for text in texts for t in tokens(text) if t.text.islower()}
    return frozenset(words | {part for w in words if "-" in w for part in w.split("-") if part})


def _similarity(views: list[ClaimView], evidence: list[Evidence], options: MergeOptions) -> Similarity:
    from actors.merge.entities import word_forms

    idf = idf_weights([v.words for v in views] + [[w for _, w in word_forms(e.text)] for e in evidence])
    vectors: list[list[float]] = []
    if options.embed is not None and views:
        raw = options.embed([v.claim.text for v in views])
        for vec in raw:
            norm = sum(x * x for x in vec) ** 0.5 or 1.0
            vectors.append([x / norm for x in vec])
    cache: dict[tuple[int, int], float] = {}

    def similarity(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in cache:
            lexical = word_similarity(views[i].words, views[j].words, idf)
            if vectors:
                cosine = max(0.0, sum(x * y for x, y in zip(vectors[i], vectors[j])))
                w = options.embedding_weight
                lexical = (1 - w) * lexical + w * cosine
            cache[key] = lexical
        return cache[key]

    return similarity


def _agreement(count: int, answering: int) -> str:
    if count <= 1:
        return "single"
    return "unanimous" if count >= answering else "majority"


def _merged(members: list[int], views: list[ClaimView], verdicts: list[Verdict], answering: int,
            reliability: dict[str, float]) -> MergedClaim:
    lead = representative(members, views, verdicts, reliability)
    verdict = verdicts[lead]
    agreement = _agreement(len(members), answering)
    unknown = sorted({i for m in members for i in verdicts[m].unknown_ids})
    flags = []
    if verdict.grounding == "contradicted":
        why = verdict.contradiction() or next((r for r in verdict.reasons if "contradict" in r or ", but " in r
                                               or ", not " in r), None)
        flags.append("flagged: contradicted by the evidence" + (f": {why}" if why else ""))
    if unknown:
        flags.append(f"flagged: cites evidence that does not exist ({', '.join(unknown)})")
    if agreement == "single" and verdict.grounding == "unverifiable":
        flags.append(f"flagged: only {views[lead].provider} makes this claim and no evidence confirms it "
                     "(unverified, not shown false)")
    reasons = flags + [r for r in verdict.reasons if not any(r in f for f in flags)]  # a flag names its reason
    for m in members:
        if m != lead:
            reasons += [f"{views[m].claim.id}: {r}" for r in verdicts[m].reasons if r not in verdict.reasons]
    return MergedClaim(
        text=views[lead].claim.text,
        providers=[views[m].provider for m in members],
        member_claim_ids=[views[m].claim.id for m in members],
        agreement=agreement,  # type: ignore[arg-type]
        grounding=verdict.grounding,  # type: ignore[arg-type]
        hallucination=bool(flags),
        reasons=list(dict.fromkeys(reasons)),
        evidence_ids=sorted({i for m in members for i in views[m].claim.evidence_ids}),
        question=_consensus([views[m].claim.question for m in members], views[lead].claim.question),
        market=_consensus([views[m].claim.market for m in members], views[lead].claim.market),
        kind=_consensus([views[m].claim.kind for m in members], views[lead].claim.kind),
    )


def _consensus(values: list[Any], lead: Any) -> Any:
    """The value most members give (None aside); the representative's own value breaks a tie."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    best = max(counts.values())
    return lead if counts.get(lead) == best else next(v for v in values if counts.get(v) == best)


def quorum_of(answers: list[ModelAnswer]) -> Quorum:
    """The quorum of a standalone merge: a majority of the answers given must be ok; the others are missing."""
    missing = [a.provider for a in answers if a.status != "ok"]
    return Quorum(required=required_for(max(1, len(answers))), received=len(answers) - len(missing), missing=missing)


def merge_answers(answers: list[ModelAnswer], evidence: list[Evidence], quorum: Quorum, *,
                  options: MergeOptions | None = None) -> MergeResult:
    """Merge the ok answers into claims with agreement, grounding, hallucination flags and disagreements."""
    options = options or MergeOptions()
    ok = [a for a in answers if a.status == "ok"]
    vocabulary = _vocabulary(ok, evidence)
    index = index_evidence(evidence, vocabulary)
    views = [read_claim(a.provider, (n, k), c, vocabulary=vocabulary, known=index.known)
             for n, a in enumerate(ok) for k, c in enumerate(a.claims)]
    verdicts = [ground_claim(v, index) for v in views]
    reliability = provider_reliability(views, verdicts)
    known = frozenset(n.lower() for v in views for n in v.names if index.mentions(n))
    matcher = Matcher(views, verdicts, _similarity(views, evidence, options), known)
    groups, conflicts = group_claims(matcher)
    answering = len({a.provider for a in ok})
    merged = [(_merged(g, views, verdicts, answering, reliability), g) for g in groups]

    def order(item: tuple[MergedClaim, list[int]]) -> tuple[object, ...]:
        claim, members = item
        trust = sum(reliability.get(p, 0.0) for p in claim.providers) / len(claim.providers)
        return (claim.hallucination, _AGREEMENT_RANK[claim.agreement], GROUNDING_RANK[claim.grounding],
                -round(trust, 6), min(views[m].order for m in members))

    merged.sort(key=order)
    degraded = bool(quorum.missing) or quorum.received < quorum.required
    table = disagreements(groups, conflicts, views, matcher.links)
    return MergeResult(claims=[c for c, _ in merged], disagreements=table,
                       degraded=degraded, quorum=quorum)
