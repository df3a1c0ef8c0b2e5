"""Evaluate `mask_secrets` on a JSONL split: how many planted secrets survive, and how many clean texts it changes.

Each line is `{"id", "text", "secrets": [exact substrings that are credentials]}`. A secret leaks when its substring
is still in the masked text; a clean text (no secrets) is damaged when masking changes it at all.

    python scripts/eval_secrets.py                          # both splits
    python scripts/eval_secrets.py --data tests/data/secrets/outside.jsonl --show
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster.secrets import mask_secrets  # noqa: E402

SPLITS = {"own": ROOT / "tests/data/secrets/own.jsonl", "outside": ROOT / "tests/data/secrets/outside.jsonl"}


def evaluate(path: Path, *, show: bool = False) -> dict[str, object]:
    """Secret recall (masked / planted), leaking lines, and clean texts changed, for one split."""
    planted = leaked = clean = damaged = 0
    leaking: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        out = mask_secrets(case["text"])
        if case["secrets"]:
            lost = [s for s in case["secrets"] if s in out]
            planted += len(case["secrets"])
            leaked += len(lost)
            if lost:
                leaking.append(case["id"])
                if show:
                    print(f"LEAK {case['id']}: {lost} in {out!r}")
        else:
            clean += 1
            if out != case["text"]:
                damaged += 1
                if show:
                    print(f"CHANGED {case['id']}: {case['text']!r} -> {out!r}")
    return {"split": path.stem, "secrets": planted, "masked": planted - leaked,
            "recall": round((planted - leaked) / planted, 3) if planted else None, "leaking_lines": leaking,
            "clean_texts": clean, "clean_changed": damaged,
            "false_positive_rate": round(damaged / clean, 3) if clean else None}


def main() -> None:
    """Print one JSON line per split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="A JSONL split (default: own and outside).")
    parser.add_argument("--show", action="store_true", help="Print each leak and each changed clean text.")
    args = parser.parse_args()
    for path in args.data or list(SPLITS.values()):
        print(json.dumps(evaluate(path, show=args.show)))


if __name__ == "__main__":
    main()
