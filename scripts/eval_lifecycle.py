"""Evaluate the cleanup rules on case files: what each case expects deleted and held, against `rules.plan`.

Usage: python scripts/eval_lifecycle.py [--set tune|outside] [--json]

A case (tests/data/lifecycle/<set>/*.yaml) gives rules, now, jobs, rows and the expected deleted and held
ids. Prints the share of cases decided exactly and of rows decided right (deleted, held or kept), and the
cases that differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.lifecycle.rules import JobFacts, plan  # noqa: E402
from schemas import Artifact, JobState  # noqa: E402
from schemas.lifecycle import CleanupRules  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "lifecycle"


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value is not None else None


def run_case(case: dict) -> tuple[set[str], set[str]]:
    """The (deleted, held) ids `plan` decides for one case."""
    rules = CleanupRules.model_validate(case.get("rules") or {})
    jobs = {
        j["id"]: JobFacts(id=j["id"], project=j["project"], state=JobState(j["state"]), created_at=_when(j["created_at"]),
                          ended_at=_when(j.get("ended_at")), title=str(j.get("title", "")).strip().casefold())
        for j in case.get("jobs") or []
    }
    rows = []
    for r in case["rows"]:
        key = f"projects/{r['project']}/jobs/{r.get('job_id')}/{r['id']}"
        rows.append(Artifact(
            id=r["id"], job_id=r.get("job_id"), project=r["project"], kind=r["kind"], step=r.get("step"), key=key,
            uri=f"memory://{key}", content_type="application/octet-stream", size=1, sha256="0" * 64,
            created_at=_when(r["created_at"]), legal_hold=bool(r.get("legal_hold", False)),
            status=r.get("status", "stored"),
        ))
    decided = plan(rows, jobs, _when(case["now"]), rules)  # type: ignore[arg-type]
    return {d.artifact.id for d in decided.delete}, {d.artifact.id for d in decided.held}


def evaluate(split: str) -> dict:
    """Run every case of a split; return the figures and the differing cases."""
    cases = sorted((DATA / split).glob("*.yaml"))
    exact, rows_right, rows_total, misses = 0, 0, 0, []
    for path in cases:
        case = yaml.safe_load(path.read_text())
        want_deleted, want_held = set(case["expect"].get("deleted") or []), set(case["expect"].get("held") or [])
        try:
            got_deleted, got_held = run_case(case)
        except Exception as exc:  # noqa: BLE001 - a case the engine rejects counts as wrong, with its error
            misses.append({"case": path.name, "error": f"{type(exc).__name__}: {exc}"})
            rows_total += len(case["rows"])
            continue
        ids = [r["id"] for r in case["rows"]]

        def verdict(i: str, deleted: set[str], held: set[str]) -> str:
            return "deleted" if i in deleted else "held" if i in held else "kept"

        wrong = {i: {"want": verdict(i, want_deleted, want_held), "got": verdict(i, got_deleted, got_held)}
                 for i in ids if verdict(i, want_deleted, want_held) != verdict(i, got_deleted, got_held)}
        rows_total += len(ids)
        rows_right += len(ids) - len(wrong)
        if wrong:
            misses.append({"case": path.name, "rows": wrong})
        else:
            exact += 1
    return {"set": split, "cases": len(cases), "cases_exact": exact, "case_accuracy": round(exact / len(cases), 3)
            if cases else None, "rows": rows_total, "row_accuracy": round(rows_right / rows_total, 3) if rows_total else None,
            "misses": misses}


def main() -> None:
    """Print the figures of one split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="tune", choices=sorted(p.name for p in DATA.iterdir() if p.is_dir()))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = evaluate(args.set)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['set']}: {result['cases_exact']}/{result['cases']} cases exact ({result['case_accuracy']}), "
          f"row accuracy {result['row_accuracy']} over {result['rows']} rows")
    for miss in result["misses"]:
        print(f"  {miss['case']}: {miss.get('error') or miss['rows']}")


if __name__ == "__main__":
    main()
