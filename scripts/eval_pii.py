"""Evaluate the PII engine on the labeled set: per-entity precision, recall and F2, and the targets.

Run: python scripts/eval_pii.py [--misses] [--json] [--data tests/data/pii]

The set is tests/data/pii/generated.jsonl (Faker, made by scripts/make_pii_eval.py) plus
tests/data/pii/hard_cases.yaml (hand-written). Each text is redacted as `mka redact` does it
(fresh vault, country names kept) with its brief allow-list. Scoring is entity-level and is
described in `actors.pii.evaluation`. Exit status 1 when a target is missed: recall 1.0 for
EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE, IP_ADDRESS and PHONE_NUMBER; PERSON recall >= 0.90;
overall precision >= 0.90.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from actors.pii.evaluation import ALL, EVAL_DIR, format_table, load_eval_set, predict, score

STRUCTURED = ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER")


def main() -> int:
    """Print the table (and misses); return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EVAL_DIR)
    parser.add_argument("--misses", action="store_true", help="list missed and wrongly predicted spans")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    items = load_eval_set(args.data)
    table = score(items, predict(items))
    failed = [f"{k} recall {table[k].recall:.3f} < 1.0" for k in STRUCTURED if k in table and table[k].recall < 1.0]
    if table["PERSON"].recall < 0.90:
        failed.append(f"PERSON recall {table['PERSON'].recall:.3f} < 0.90")
    if table[ALL].precision < 0.90:
        failed.append(f"overall precision {table[ALL].precision:.3f} < 0.90")
    if args.json:
        rows = {k: {"labeled": s.labeled, "predicted": s.predicted, "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4), "f2": round(s.f2, 4)} for k, s in table.items()}
        print(json.dumps({"texts": len(items), "entities": rows, "targets_missed": failed}, indent=2))
        return 1 if failed else 0
    generated = sum(1 for i in items if i.source == "generated")
    title = f"PII evaluation: {len(items)} texts ({generated} generated, {len(items) - generated} hand-written)"
    print(format_table(table, title=title))
    if args.misses:
        for kind, row in table.items():
            if kind != ALL:
                for miss in row.missed:
                    print(f"missed {kind}: {miss}")
                for wrong in row.wrong:
                    print(f"wrong  {kind}: {wrong}")
    print("targets: " + ("all met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
