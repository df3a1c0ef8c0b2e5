"""Score the translation preservation check (accept or reject a translation) on a labelled split.

Each case gives an English source, its glossary and evidence ids, a translation and the expected
verdict under the contract (placeholders, glossary terms, numbers and evidence ids unchanged; no
placeholder added; not empty). Prints accuracy, the rejection precision and recall, per language,
and every disagreement.

Run: python scripts/eval_localization.py [--set tune|outside|outside2]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.localization.text import check_translation, protected_tokens
from schemas.localization import Segment

SETS = {"tune": "tests/data/localization/tune/cases.jsonl", "outside": "tests/data/localization/outside/cases.jsonl",
        "outside2": "tests/data/localization/outside2/cases.jsonl"}


def main() -> None:
    """Score one split and print the figures as text and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="tune", choices=sorted(SETS))
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    cases = [json.loads(line) for line in (root / SETS[args.set]).read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = tn = 0
    by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for case in cases:
        segment = Segment(id="s1", text=case["source"],
                          protected=protected_tokens(case["source"], case["glossary"], case["evidence_ids"]))
        problems = check_translation(segment, case["translation"])
        got = "reject" if problems else "accept"
        want = case["expected"]
        tp += got == want == "reject"
        tn += got == want == "accept"
        fp += got == "reject" and want == "accept"
        fn += got == "accept" and want == "reject"
        by_language[case["language"]][0] += got == want
        by_language[case["language"]][1] += 1
        if got != want:
            misses.append({"id": case["id"], "expected": want, "got": got, "problems": problems, "why": case.get("why")})
    result = {
        "set": args.set, "cases": len(cases), "accuracy": round((tp + tn) / len(cases), 3),
        "reject_precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "reject_recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "by_language": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_language.items())},
        "misses": misses,
    }
    print(f"{args.set}: {len(cases)} cases, accuracy {result['accuracy']}, reject precision {result['reject_precision']}, "
          f"recall {result['reject_recall']}")
    for miss in misses:
        print(f"  {miss['id']}: expected {miss['expected']}, got {miss['got']} {miss['problems']} ({miss['why']})")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
