"""Building labeled merge cases: answers in the DESIGN.md shape plus the labels the evaluation scores."""

from __future__ import annotations

from typing import Any

from tests.data.merge.worlds import WORLDS

ClaimSpec = tuple[Any, ...]  # (id, text, evidence_ids[, value, unit])


def C(name: str, world: str, tags: list[str], claims: dict[str, list[ClaimSpec]], *,
      hallucinated: list[str] | None = None, disagreements: list[tuple[list[str], str]] | None = None,
      groups: list[list[str]] | None = None, missing: dict[str, str] | None = None,
      extra_evidence: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One case: three providers' answers (missing ones time out), the evidence and the labels.

    Labels: `hallucinated` member claim ids that must be flagged; `disagreements` (claim ids, kind) that
    must be listed; `groups` of claim ids that say the same thing and should merge.
    """
    answers = []
    for provider, specs in claims.items():
        out = []
        for spec in specs:
            claim: dict[str, Any] = {"id": spec[0], "text": spec[1], "evidence_ids": list(spec[2])}
            if len(spec) > 3:
                claim["value"], claim["unit"] = spec[3], spec[4]
            out.append(claim)
        answers.append({"provider": provider, "model": f"{provider}-model", "status": "ok", "claims": out,
                        "latency_s": 1.0})
    for provider, status in (missing or {}).items():
        answers.append({"provider": provider, "model": f"{provider}-model", "status": status,
                        "error": f"scripted {status}", "claims": [], "latency_s": 30.0})
    return {
        "name": name,
        "tags": tags,
        "answers": answers,
        "evidence": WORLDS[world] + (extra_evidence or []),
        "labels": {
            "hallucinated": sorted(hallucinated or []),
            "disagreements": [{"claim_ids": sorted(ids), "kind": kind} for ids, kind in (disagreements or [])],
            "groups": [sorted(g) for g in (groups or [])],
        },
    }
