"""The disagreement table: one entry per conflicting quantity (or statement), with each provider's position."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from actors.merge.analysis import ClaimView
from actors.merge.matching import Conflict
from schemas import Disagreement

__all__ = ["disagreements"]

Node = tuple[int, int]  # (claim index, figure index)


class _Sets:
    """Union-find over hashable nodes."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, node: Hashable) -> Hashable:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # type: ignore[type-var]


def disagreements(groups: list[list[int]], conflicts: list[Conflict], views: list[ClaimView],
                  links: Iterable[tuple[Node, Node]] = ()) -> list[Disagreement]:
    """One entry per conflicting quantity, and one per set of statements linked by polarity or fact conflicts.

    A quantity is a set of figures (`links`: pairs found to state one quantity, agreeing or not); its entry
    lists every claim with a figure in the set, with the claims merged with them, so the providers that agree
    with each other (or with the evidence) are listed beside the dissent. Statements without figures are
    linked through their merged claims. `positions` gives each provider's wording (its first claim, in input
    order); `claim_ids` are in input order; the topic is the first conflict's.
    """
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    figures = _Sets()
    for a, b in links:
        figures.union(a, b)
    statements = _Sets()
    buckets: dict[Hashable, list[Conflict]] = {}
    for c in conflicts:
        if c.figures is not None:
            figures.union(*c.figures)
        else:
            statements.union(group_of[c.a], group_of[c.b])
    for c in sorted(conflicts, key=lambda c: (views[c.a].order, views[c.b].order)):
        key = ("q", figures.find(c.figures[0])) if c.figures is not None else ("s", statements.find(group_of[c.a]))
        buckets.setdefault(key, []).append(c)
    out = []
    for (kind, root), found in buckets.items():
        if kind == "q":
            claims = {node[0] for node in list(figures.parent) if figures.find(node) == root}  # type: ignore[index]
        else:
            claims = {i for g in range(len(groups)) if statements.find(g) == root for i in groups[g]}
        claims |= {c.a for c in found} | {c.b for c in found}
        members = sorted({m for i in claims for m in groups[group_of[i]]}, key=lambda i: views[i].order)
        positions: dict[str, str] = {}
        for i in members:
            positions.setdefault(views[i].provider, views[i].claim.text)
        if len(positions) > 1:
            out.append(Disagreement(topic=found[0].topic, positions=positions,
                                    claim_ids=[views[i].claim.id for i in members]))
    out.sort(key=lambda d: (d.topic, d.claim_ids))
    return out
