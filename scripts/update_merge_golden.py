"""Regenerate (or check) the merge golden files: `tests/golden/merge/<case>/expected.json`.

    python scripts/update_merge_golden.py            # rewrite every expected.json from its inputs
    python scripts/update_merge_golden.py --check    # exit 1 and list the cases whose output changed
    python scripts/update_merge_golden.py --seed     # (re)create the case inputs from the eval set and the stub

Each case directory holds `answers.json` and `evidence.json` (the `mka merge` inputs) and `expected.json`
(the merge result as `mka merge --json` prints it). Review the diff before committing regenerated files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.merge import merge_answers, quorum_of  # noqa: E402
from schemas import Evidence, ModelAnswer  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "merge"
EVAL_CASES = ROOT / "tests" / "data" / "merge" / "cases.jsonl"
SEEDED = ["mixed-three-answers", "mixed-coffee-answers", "degraded-one-missing", "degraded-single-answer",
          "magnitude-structured-unit", "pseudonym-agreement", "contradiction-leader-swap",
          "invented-source-correct-figure", "polarity-growing-vs-shrinking", "paraphrase-usd"]


def expected_for(case_dir: Path) -> str:
    """The merge result JSON for a case directory's inputs, exactly as `mka merge --json` prints it."""
    answers = [ModelAnswer.model_validate(a) for a in json.loads((case_dir / "answers.json").read_text())]
    evidence = [Evidence.model_validate(e) for e in json.loads((case_dir / "evidence.json").read_text())]
    return merge_answers(answers, evidence, quorum_of(answers)).model_dump_json(indent=2) + "\n"


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def seed() -> None:
    """Create the inputs of the seeded cases: picks from the eval set plus a stub-provider pipeline run."""
    from actors.llm.stub import default_claims
    from tests.data.merge.worlds import DE_DAIRY

    cases = {c["name"]: c for c in map(json.loads, EVAL_CASES.read_text().splitlines())}
    for name in SEEDED:
        target = GOLDEN / name
        target.mkdir(parents=True, exist_ok=True)
        _write(target / "answers.json", cases[name]["answers"])
        _write(target / "evidence.json", cases[name]["evidence"])
    target = GOLDEN / "stub-pipeline"
    target.mkdir(parents=True, exist_ok=True)
    evidence = [Evidence.model_validate(e) for e in DE_DAIRY]
    answers = [ModelAnswer(provider=p, model=f"stub-{p}", status="ok", claims=default_claims(p, evidence),
                           latency_s=0.2).model_dump(mode="json", exclude_none=True) for p in ("openai", "gemini")]
    answers.append({"provider": "xai", "model": "stub-xai", "status": "timeout", "error": "no answer by the deadline",
                    "claims": [], "latency_s": 2.0})
    _write(target / "answers.json", answers)
    _write(target / "evidence.json", [e.model_dump(mode="json", exclude_none=True) for e in evidence])


def main(argv: list[str] | None = None) -> int:
    """Rewrite or check the expected files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report cases whose output changed")
    parser.add_argument("--seed", action="store_true", help="recreate the seeded case inputs first")
    args = parser.parse_args(argv)
    if args.seed:
        seed()
    changed = []
    for case_dir in sorted(p for p in GOLDEN.iterdir() if (p / "answers.json").exists()):
        text = expected_for(case_dir)
        target = case_dir / "expected.json"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changed.append(case_dir.name)
            if not args.check:
                target.write_text(text, encoding="utf-8")
    verb = "differ" if args.check else "rewritten"
    print(f"{len(changed)} golden case(s) {verb}: {', '.join(changed) or 'none'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
