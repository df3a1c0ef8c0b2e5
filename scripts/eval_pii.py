"""Evaluate the PII engine: per-entity precision and recall, leak-recall and keep-rate, on each evaluation set.

Run: python scripts/eval_pii.py [--set old|tune|test|all] [--misses] [--json]

Sets (all in tests/data/pii/):
- old:  generated.jsonl (Faker) and hard_cases.yaml, written by the hand that first tuned the engine;
- tune:  outside/tune.yaml, written independently of the code, tuned on;
- test1: outside/test1.yaml, written after a first round of tuning and measured once (commit 5da9c2b);
         tuning went on afterwards on `tune` only, its misses never read, so it is no longer pristine;
- test2: outside/test2.yaml, written after the last tuning and never tuned on (the one the targets use).

Each text is redacted as `mka redact` does it (fresh vault, per-paragraph language, country names
and bundled brands kept) with its brief allow-list. Entity scoring is described in
`actors.pii.evaluation`; leak-recall counts a labeled value as leaked when any of its words
survives unredacted, whatever type covered the rest; keep-rate is the share of listed non-PII
facts (cities, brands, prices) that survive intact. Targets (checked on the newest test split, exit 1
when missed): PERSON leak-recall >= 0.97, recall 1.0 for every structured type, keep-rate >= 0.97.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from actors.pii.evaluation import ALL, EVAL_DIR, leaks, load_eval_set, load_outside_split, predict, score

NAME_TYPES = ("PERSON", "LOCATION")


def evaluate(name: str, items: list[Any], *, misses: bool) -> dict[str, Any]:
    """Score one set; print its table unless JSON is wanted."""
    predictions = predict(items)
    table = score(items, predictions)
    person = leaks(items, predictions, types=["PERSON"])
    every = leaks(items, predictions)
    structured = {k: s.recall for k, s in table.items() if k not in (*NAME_TYPES, ALL, "URL")}
    result = {
        "set": name,
        "texts": len(items),
        "entities": {
            k: {"labeled": s.labeled, "predicted": s.predicted, "precision": round(s.precision, 4), "recall": round(s.recall, 4)}
            for k, s in table.items()
        },
        "person_leak_recall": round(person.leak_recall, 4),
        "leak_recall": round(every.leak_recall, 4),
        "keep_rate": round(every.keep_rate, 4),
        "facts": every.facts,
        "structured_recall_min": round(min(structured.values()), 4) if structured else 1.0,
    }
    if misses:
        result["leaked"] = every.leaked
        result["lost"] = every.lost
        result["wrong"] = [w for k, s in table.items() if k != ALL for w in s.wrong]
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"== {result['set']}: {result['texts']} texts")
    for kind, row in result["entities"].items():
        print(f"  {kind:<16}{row['labeled']:>6} labeled {row['predicted']:>6} predicted  P {row['precision']:.3f}  R {row['recall']:.3f}")
    print(
        f"  PERSON leak-recall {result['person_leak_recall']:.3f}  leak-recall (all) {result['leak_recall']:.3f}  "
        f"keep-rate {result['keep_rate']:.3f} ({result['facts']} facts)"
    )
    for key in ("leaked", "lost", "wrong"):
        for line in result.get(key, []):
            print(f"  {key:<7} {line}")


def main() -> int:
    """Print the tables (and misses); return 1 when a target on the test half is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EVAL_DIR)
    parser.add_argument("--set", choices=["old", "tune", "test1", "test2", "all"], default="all")
    parser.add_argument("--misses", action="store_true", help="list leaked values, lost facts and wrong predictions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    wanted = ["old", "tune", "test1", "test2"] if args.set == "all" else [args.set]
    results = []
    for name in wanted:
        if name == "old":
            items = load_eval_set(args.data)
        elif (args.data / "outside" / f"{name}.yaml").exists():
            items = load_outside_split(name, args.data)
        else:
            continue
        result = evaluate(name, items, misses=args.misses)
        results.append(result)
        if not args.json:
            _print(result)
    failed: list[str] = []
    tests = [r for r in results if r["set"].startswith("test")]
    for result in tests[-1:]:
        if result["person_leak_recall"] < 0.97:
            failed.append(f"{result['set']} PERSON leak-recall {result['person_leak_recall']:.3f} < 0.97")
        if result["structured_recall_min"] < 1.0:
            failed.append(f"{result['set']} structured recall {result['structured_recall_min']:.3f} < 1.0")
        if result["keep_rate"] < 0.97:
            failed.append(f"{result['set']} keep-rate {result['keep_rate']:.3f} < 0.97")
    if args.json:
        print(json.dumps({"sets": results, "targets_missed": failed}, indent=2, ensure_ascii=False))
    else:
        print("targets (newest test split): " + ("all met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
