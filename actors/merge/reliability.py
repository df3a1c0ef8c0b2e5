"""Provider reliability within one job, and what it decides: merged wording, grounding and claim order.

A provider's reliability is the share of its claims that grounding found `supported` (0 for a provider
without claims). In a merged claim the best-grounded member speaks (ties: the more reliable provider, then
input order), and the merged grounding is that member's: a weak member never drags a good claim down.
Members that are contradicted or cite evidence that does not exist never merge with clean ones (see
`matching`), so they cannot hide behind a good claim either.
"""

from __future__ import annotations

from collections import defaultdict

from actors.merge.analysis import ClaimView
from actors.merge.grounding import Verdict

__all__ = ["GROUNDING_RANK", "provider_reliability", "representative"]

GROUNDING_RANK = {"supported": 0, "unverifiable": 1, "contradicted": 2}


def provider_reliability(views: list[ClaimView], verdicts: list[Verdict]) -> dict[str, float]:
    """Share of each provider's claims that are supported."""
    made: dict[str, int] = defaultdict(int)
    supported: dict[str, int] = defaultdict(int)
    for view, verdict in zip(views, verdicts):
        made[view.provider] += 1
        supported[view.provider] += verdict.grounding == "supported"
    return {p: supported[p] / made[p] for p in made}


def representative(members: list[int], views: list[ClaimView], verdicts: list[Verdict],
                   reliability: dict[str, float]) -> int:
    """The member whose wording and grounding the merged claim takes."""
    return min(members, key=lambda i: (GROUNDING_RANK[verdicts[i].grounding],
                                       -reliability.get(views[i].provider, 0.0), views[i].order))
