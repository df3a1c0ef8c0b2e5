"""Accuracy of a PII detector on the labeled set in tests/data/pii: per-entity precision, recall and F2.

Scoring (our own, documented here; entity-level, not token-level as presidio-evaluator is):
- a labeled entity counts as *recalled* when predicted spans of the same type cover every letter
  and digit of it (half a name or half an email found is a leak, so a miss);
- a predicted span counts as *correct* when it overlaps a labeled entity of the same type;
- precision = correct predictions / predictions, recall = recalled / labeled, F2 weighs recall
  twice as much as precision: 5·P·R / (4·P + R).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

__all__ = [
    "EVAL_DIR",
    "OUTSIDE_SPLITS",
    "LeakScore",
    "leaks",
    "load_outside_split",
    "EntityScore",
    "LabeledText",
    "Span",
    "format_table",
    "load_eval_set",
    "parse_markup",
    "predict",
    "restrict",
    "score",
]

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "pii"
"""Where the evaluation set lives in a source checkout."""

_MARK = re.compile(r"\{\{([A-Z_]+)\|(.*?)\}\}", re.DOTALL)
ALL = "ALL"


@dataclass(frozen=True)
class Span:
    """A typed character span of a text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True)
class LabeledText:
    """One evaluation text, its labeled PII, and the brief's allow-list terms."""

    id: str
    text: str
    entities: tuple[Span, ...]
    allow: tuple[str, ...] = ()
    source: str = "generated"
    keep: tuple[str, ...] = ()
    lang: str = "en"


@dataclass
class EntityScore:
    """Counts and rates of one entity type (or `ALL`)."""

    labeled: int = 0
    recalled: int = 0
    predicted: int = 0
    correct: int = 0
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Correct predictions over predictions (1.0 when nothing was predicted)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Recalled entities over labeled ones (1.0 when nothing was labeled)."""
        return self.recalled / self.labeled if self.labeled else 1.0

    @property
    def f2(self) -> float:
        """F-beta with beta 2."""
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


def parse_markup(marked: str) -> tuple[str, list[Span]]:
    """Turn `{{TYPE|value}}` markup into plain text and spans."""
    out: list[str] = []
    spans: list[Span] = []
    size = last = 0
    for match in _MARK.finditer(marked):
        out.append(marked[last : match.start()])
        size += match.start() - last
        value = match.group(2)
        spans.append(Span(match.group(1), size, size + len(value)))
        out.append(value)
        size += len(value)
        last = match.end()
    out.append(marked[last:])
    return "".join(out), spans


def load_eval_set(directory: Path = EVAL_DIR) -> list[LabeledText]:
    """Load generated.jsonl (Faker) and hard_cases.yaml (hand-written) from `directory`."""
    items: list[LabeledText] = []
    for line in (directory / "generated.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            spans = tuple(Span(e["type"], e["start"], e["end"]) for e in row["entities"])
            items.append(LabeledText(id=row["id"], text=row["text"], entities=spans, allow=tuple(row.get("allow", ()))))
    for case in yaml.safe_load((directory / "hard_cases.yaml").read_text(encoding="utf-8")):
        text, marked = parse_markup(case["text"])
        items.append(
            LabeledText(id=case["id"], text=text, entities=tuple(marked), allow=tuple(case.get("allow", ())), source="hard")
        )
    return items


OUTSIDE_SPLITS = ("tune", "test1", "test2")
"""Splits of the outside set (tests/data/pii/outside/): tuned on; held out after a first round; held out after the last."""


def load_outside_split(split: str, directory: Path = EVAL_DIR) -> list[LabeledText]:
    """Load one half of the outside set: `{{TYPE|value}}` markup, `allow` and `keep` per text."""
    items: list[LabeledText] = []
    for case in yaml.safe_load((directory / "outside" / f"{split}.yaml").read_text(encoding="utf-8")) or []:
        text, marked = parse_markup(case["text"])
        items.append(
            LabeledText(
                id=str(case["id"]),
                text=text,
                entities=tuple(marked),
                allow=tuple(case.get("allow") or ()),
                source=split,
                keep=tuple(str(k) for k in case.get("keep") or ()),
                lang=str(case.get("lang", "en")),
            )
        )
    return items


@dataclass
class LeakScore:
    """Leaks and kept facts over a set: a labeled value leaks when any of its words survives unredacted."""

    labeled: int = 0
    leaked: list[str] = field(default_factory=list)
    facts: int = 0
    lost: list[str] = field(default_factory=list)

    @property
    def leak_recall(self) -> float:
        """Share of labeled values with no word left in the output."""
        return 1 - len(self.leaked) / self.labeled if self.labeled else 1.0

    @property
    def keep_rate(self) -> float:
        """Share of listed non-PII facts that survive intact."""
        return 1 - len(self.lost) / self.facts if self.facts else 1.0


def leaks(items: Sequence[LabeledText], predictions: Sequence[Iterable[Span]], *, types: Iterable[str] | None = None) -> LeakScore:
    """Leak-recall (any type may cover a value) and keep-rate of predictions; `types` limits the labels counted."""
    wanted = set(types) if types is not None else None
    out = LeakScore()
    for item, predicted in zip(items, predictions, strict=True):
        preds = list(predicted)
        covered = set().union(*(_letters(item.text, p.start, p.end) for p in preds)) if preds else set()
        for gold in item.entities:
            if wanted is not None and gold.type not in wanted:
                continue
            out.labeled += 1
            words = [m.span() for m in re.finditer(r"\w+", item.text[gold.start : gold.end])]
            if any(not (_letters(item.text, gold.start + a, gold.start + b) <= covered) for a, b in words):
                out.leaked.append(f"{item.id}: {gold.type} {item.text[gold.start:gold.end]!r}")
        redacted = _apply(item.text, preds)
        for fact in item.keep:
            out.facts += 1
            if fact not in redacted:
                out.lost.append(f"{item.id}: {fact!r}")
    return out


def _apply(text: str, spans: Sequence[Span]) -> str:
    out = text
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        out = out[: span.start] + f"<{span.type}>" + out[span.end :]
    return out


def _letters(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if text[i].isalnum()}


def score(items: Sequence[LabeledText], predictions: Sequence[Iterable[Span]]) -> dict[str, EntityScore]:
    """Score predictions (one span list per item) against the labels; keys are types plus `ALL`."""
    table: dict[str, EntityScore] = {}

    def row(kind: str) -> list[EntityScore]:
        return [table.setdefault(kind, EntityScore()), table.setdefault(ALL, EntityScore())]

    for item, predicted in zip(items, predictions, strict=True):
        preds = list(predicted)
        for gold in item.entities:
            covered = set().union(*(_letters(item.text, p.start, p.end) for p in preds if p.type == gold.type))
            hit = _letters(item.text, gold.start, gold.end) <= covered
            for s in row(gold.type):
                s.labeled += 1
                s.recalled += hit
                if not hit:
                    s.missed.append(f"{item.id}: {item.text[gold.start:gold.end]!r}")
        for p in preds:
            ok = any(g.type == p.type and p.start < g.end and g.start < p.end for g in item.entities)
            for s in row(p.type):
                s.predicted += 1
                s.correct += ok
                if not ok:
                    s.wrong.append(f"{item.id}: {item.text[p.start:p.end]!r}")
    return dict(sorted(table.items(), key=lambda kv: (kv[0] == ALL, kv[0])))


def format_table(table: dict[str, EntityScore], *, title: str = "") -> str:
    """Render a score table as fixed-width text."""
    lines = [title] if title else []
    lines.append(f"{'entity':<16}{'labeled':>8}{'predicted':>10}{'precision':>10}{'recall':>8}{'F2':>7}")
    for kind, s in table.items():
        lines.append(f"{kind:<16}{s.labeled:>8}{s.predicted:>10}{s.precision:>10.3f}{s.recall:>8.3f}{s.f2:>7.3f}")
    return "\n".join(lines)


def restrict(predictions: Sequence[Iterable[Span]], keep: Callable[[Span], bool]) -> list[list[Span]]:
    """Keep only the predictions `keep` accepts (e.g. the entity types a set labels)."""
    return [[p for p in preds if keep(p)] for preds in predictions]


def predict(items: Sequence[LabeledText], *, analyzer: Any = None) -> list[list[Span]]:
    """Our engine's spans per item, as `mka redact` finds them, with each item's brief allow-list."""
    from actors.pii.redaction import redact_many

    out: list[list[Span]] = [[] for _ in items]
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item.allow, []).append(i)
    for allow, idx in groups.items():
        done = redact_many([items[i].text for i in idx], allow=allow, analyzer=analyzer)
        for i, (_, found) in zip(idx, done, strict=True):
            out[i] = [Span(e.type, e.start, e.end) for e in found]
    return out
