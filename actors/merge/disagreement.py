"""The disagreement table: one entry per conflicting quantity (or statement), with each provider's position."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from actors.merge.analysis import ClaimView
from actors.merge.matching import Conflict
from schemas import Disagreement

__all__ = ["disagreements"]

Node = tuple[int, int]  # (claim index, figure index)


T = TypeVar("T", bound=Hashable)


class _Sets(Generic[T]):
    """Union-find over hashable nodes."""

    def __init__(self) -> None:
        self.parent: dict[T, T] = {}

    def find(self, node: T) -> T:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: T, b: T) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


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
    figures: _Sets[Node] = _Sets()
    for a, b in links:
        figures.union(a, b)
    statements: _Sets[int] = _Sets()
    quantities: dict[Node, list[Conflict]] = {}
    others: dict[int, list[Conflict]] = {}
    for c in conflicts:
        if c.figures is not None:
            figures.union(*c.figures)
        else:
            statements.union(group_of[c.a], group_of[c.b])
    for c in sorted(conflicts, key=lambda c: (views[c.a].order, views[c.b].order)):
        if c.figures is not None:
            quantities.setdefault(figures.find(c.figures[0]), []).append(c)
        else:
            others.setdefault(statements.find(group_of[c.a]), []).append(c)
    buckets: list[tuple[set[int], list[Conflict]]] = []
    for node, found in quantities.items():
        buckets.append(({n[0] for n in list(figures.parent) if figures.find(n) == node}, found))
    for root, found in others.items():
        buckets.append(({i for g in range(len(groups)) if statements.find(g) == root for i in groups[g]}, found))
    out = []
    for claims, found in buckets:
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
