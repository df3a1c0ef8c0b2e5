"""Write the labeled merge evaluation set (`cases.jsonl`) from the case modules: `python -m tests.data.merge.build_cases`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.data.merge import cases_a, cases_b, cases_c, cases_d

OUT = Path(__file__).with_name("cases.jsonl")


def all_cases() -> list[dict[str, Any]]:
    """Every labeled case, names unique (part D is the held-out part, tagged "holdout")."""
    cases = cases_a.CASES + cases_b.CASES + cases_c.CASES + cases_d.CASES
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


def main() -> None:
    """Write one case per line."""
    with OUT.open("w", encoding="utf-8") as fh:
        for case in all_cases():
            fh.write(json.dumps(case, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(all_cases())} cases to {OUT}")


if __name__ == "__main__":
    main()
