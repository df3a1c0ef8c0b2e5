"""The disagreement table: merged claims that conflict, with each provider's position and the claim ids."""

from __future__ import annotations

from actors.merge.analysis import ClaimView
from actors.merge.matching import Conflict
from schemas import Disagreement

__all__ = ["disagreements"]


def disagreements(groups: list[list[int]], conflicts: list[Conflict], views: list[ClaimView]) -> list[Disagreement]:
    """One entry per set of groups linked by conflicts that involves at least two providers.

    `positions` gives each provider's wording (its first claim in the set, in input order); `claim_ids`
    lists every member claim of the conflicting groups, in input order. The topic is the first conflict's.
    """
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    parent = list(range(len(groups)))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for c in conflicts:
        ga, gb = find(group_of[c.a]), find(group_of[c.b])
        if ga != gb:
            parent[max(ga, gb)] = min(ga, gb)
    topics: dict[int, str] = {}
    for c in sorted(conflicts, key=lambda c: (views[c.a].order, views[c.b].order)):
        topics.setdefault(find(group_of[c.a]), c.topic)
    out = []
    for root, topic in topics.items():
        members = sorted((i for g, ms in enumerate(groups) if find(g) == root for i in ms), key=lambda i: views[i].order)
        positions: dict[str, str] = {}
        for i in members:
            positions.setdefault(views[i].provider, views[i].claim.text)
        if len(positions) > 1:
            out.append(Disagreement(topic=topic, positions=positions, claim_ids=[views[i].claim.id for i in members]))
    out.sort(key=lambda d: (d.topic, d.claim_ids))
    return out
