"""Time the merge for three answers of 30 claims each, lexical and (optionally) with sentence embeddings.

    python scripts/bench_merge.py [--runs 20] [--embeddings] [--json]

The answers are built from the evaluation worlds' evidence: one claim per evidence figure, worded
differently by each provider, with a few wrong figures and invented names mixed in. Reported: the median
and best wall time of one `merge_answers` call, and with `--embeddings` the model load time and the
per-merge time including encoding the 90 claims (all-MiniLM-L6-v2 on CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.merge import MergeOptions, merge_answers, quorum_of  # noqa: E402
from schemas import Claim, Evidence, ModelAnswer  # noqa: E402
from tests.data.merge.worlds import AT_INTERVIEWS, DE_DAIRY, ES_CARE, FR_COFFEE  # noqa: E402

PHRASES = {
    "openai": "{subject} {what} is {value}.",
    "gemini": "According to the data, {what} for {subject} stands at {value}.",
    "xai": "{subject}: {what} of {value}",
}
WHAT = {"value_eur_m": ("market size", "EUR {v:,.0f} million"), "growth_pct": ("annual growth", "{v:g}%"),
        "share_pct": ("market share", "{v:g}%"), "price_eur": ("shelf price", "EUR {v:.2f}"),
        "price_rise_pct": ("expected price rise", "{v:g}%"), "households_pct": ("household reach", "{v:g}%")}


def build_answers(claims_per_answer: int = 30) -> tuple[list[ModelAnswer], list[Evidence]]:
    """Three ok answers of `claims_per_answer` claims over four markets' evidence."""
    evidence = [Evidence.model_validate(e) for world in (DE_DAIRY, FR_COFFEE[:2], ES_CARE, AT_INTERVIEWS)
                for e in world]
    facts = []
    for item in evidence:
        for key, value in sorted((item.data or {}).items()):
            name, _, spec = key.rpartition(" ")
            if spec in WHAT:
                place = item.id.split("-")[1].upper()
                facts.append((item.id, f"{name or 'The market'} in {place}", spec, value))
    answers = []
    for n, (provider, phrase) in enumerate(PHRASES.items()):
        claims = []
        for k in range(claims_per_answer):
            evidence_id, subject, spec, value = facts[(k + n) % len(facts)]
            if k % 11 == n + 3:
                value *= 1.3  # a wrong figure
            what, fmt = WHAT[spec]
            text = phrase.format(subject=subject, what=what, value=fmt.format(v=value))
            if k % 13 == n + 5:
                text, evidence_id = f"Brandix{k} is a new challenger with {k}% share.", "ev-invented"
            claims.append(Claim(id=f"{provider[0]}{k + 1}", text=text, evidence_ids=[evidence_id]))
        answers.append(ModelAnswer(provider=provider, model=f"{provider}-bench", status="ok", claims=claims,
                                   latency_s=1.0))
    return answers, evidence


def time_merge(answers: list[ModelAnswer], evidence: list[Evidence], runs: int,
               options: MergeOptions | None = None) -> dict[str, float]:
    """Median and best seconds of one merge, cold: the per-text caches are emptied before each run."""
    from actors.merge.entities import _entities, _name_words, mentions
    from actors.merge.text import negated, tokens, trend

    quorum = quorum_of(answers)
    times = []
    for _ in range(runs):
        for cached in (mentions, negated, trend, tokens, _entities, _name_words):
            cached.cache_clear()
        started = time.perf_counter()
        merge_answers(answers, evidence, quorum, options=options)
        times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 4), "best_s": round(min(times), 4)}


def main(argv: list[str] | None = None) -> int:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    answers, evidence = build_answers()
    report: dict[str, object] = {"claims": sum(len(a.claims) for a in answers), "evidence": len(evidence),
                                 "lexical": time_merge(answers, evidence, args.runs)}
    if args.embeddings:
        from actors.merge import load_minilm

        started = time.perf_counter()
        embed = load_minilm()
        embed(["warm up"])
        report["embedding_load_s"] = round(time.perf_counter() - started, 3)
        report["with_embeddings"] = time_merge(answers, evidence, max(3, args.runs // 4), MergeOptions(embed=embed))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
