"""Evaluate data collection on case files: documents grounding claims, and the planner on unseen tool schemas.

Usage: python scripts/eval_collection.py [--set tune|outside] [--json]

Grounding cases (tests/data/collection/<set>/grounding/<case>/): a `document.*` and a `case.json` with claims,
the evidence ids each cites and the expected grounding. The document goes through the real conversion and
chunking, each claim alone through the real merge; the figure is the share of claims graded as expected.

Planner cases (tests/data/collection/<set>/planner/*.json): a brief, tools (names, input schemas,
annotations), the exact set of calls expected and tools never to call. The figures are the share of cases
planned exactly, call precision and recall, and calls to tools that must never be called.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.collection.planner import plan_tools  # noqa: E402
from actors.documents.convert import Limits, convert_document  # noqa: E402
from actors.documents.evidence import document_evidence  # noqa: E402
from actors.merge import merge_answers, quorum_of  # noqa: E402
from schemas import Brief, McpToolDescriptor, ModelAnswer  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "collection"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def grounding(split: str) -> dict[str, Any]:
    """Grade each claim of each grounding case through conversion, chunking and the merge."""
    right, total, misses = 0, 0, []
    for folder in sorted(p for p in (DATA / split / "grounding").glob("*") if p.is_dir()):
        case = json.loads((folder / "case.json").read_text())
        [document] = [p for p in folder.iterdir() if p.name.startswith("document.")]
        converted = convert_document(document.name, document.read_bytes(), Limits())
        evidence, _ = document_evidence(converted, base_id=case["document_id"], source=f"doc://{case['document_id']}",
                                        source_type="document", retrieved_at=NOW)
        known = {e.id for e in evidence}
        for n, claim in enumerate(case["claims"], start=1):
            answer = ModelAnswer(provider="openai", model="eval", status="ok", latency_s=0.0, claims=[
                {"id": f"c{n}", "text": claim["text"], "evidence_ids": claim["cites"]}])
            merged = merge_answers([answer], evidence, quorum_of([answer]))
            got = merged.claims[0].grounding if merged.claims else "missing"
            total += 1
            if got == claim["expect"]:
                right += 1
            else:
                misses.append({"case": folder.name, "claim": claim["text"], "expect": claim["expect"], "got": got,
                               "cites_known": all(c in known for c in claim["cites"])})
    return {"claims": total, "right": right, "accuracy": round(right / total, 3) if total else None, "misses": misses}


def _brief(data: dict[str, Any]) -> Brief:
    return Brief.model_validate({
        "product": {"name": data.get("product") or "Product", "category": data.get("category") or ""},
        "markets": data["markets"], "audience": "evaluation audience", "locale": "en_GB",
        "questions": data.get("questions") or ["What matters?"], "competitors": data.get("competitors") or [],
    })


def _key(tool: str, arguments: dict[str, Any]) -> str:
    return json.dumps([tool, {k: v for k, v in sorted(arguments.items())}], sort_keys=True)


def planner(split: str) -> dict[str, Any]:
    """Plan each case's tools for its brief and compare with the expected calls."""
    exact, expected_n, planned_n, hit, forbidden, misses = 0, 0, 0, 0, 0, []
    cases = sorted((DATA / split / "planner").glob("*.json"))
    for path in cases:
        case = json.loads(path.read_text())
        tools = [McpToolDescriptor.model_validate(t) for t in case["tools"]]
        calls = plan_tools("eval", tools, _brief(case["brief"]))
        got = {_key(c.tool or "", dict(c.arguments)) for c in calls}
        want = {_key(c["tool"], c.get("arguments") or {}) for c in case["expect_calls"]}
        bad = [c.tool for c in calls if c.tool in set(case.get("never") or [])]
        expected_n, planned_n, hit, forbidden = expected_n + len(want), planned_n + len(got), hit + len(got & want), forbidden + len(bad)
        if got == want and not bad:
            exact += 1
        else:
            misses.append({"case": path.name, "missing": sorted(want - got), "extra": sorted(got - want), "never": bad})
    return {"cases": len(cases), "exact": exact, "exact_share": round(exact / len(cases), 3) if cases else None,
            "precision": round(hit / planned_n, 3) if planned_n else None,
            "recall": round(hit / expected_n, 3) if expected_n else None, "never_called": forbidden, "misses": misses}


def main() -> int:
    """Print the figures of one split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="tune", choices=["tune", "outside"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"set": args.set, "grounding": grounding(args.set), "planner": planner(args.set)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    g, p = result["grounding"], result["planner"]
    print(f"[{args.set}] grounding: {g['right']}/{g['claims']} claims graded as expected ({g['accuracy']})")
    print(f"[{args.set}] planner: {p['exact']}/{p['cases']} cases exact; precision {p['precision']}, "
          f"recall {p['recall']}; calls to never-call tools: {p['never_called']}")
    for miss in g["misses"] + p["misses"]:
        print("  miss:", json.dumps(miss, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
