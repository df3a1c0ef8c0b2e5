"""The labeled evaluation set meets the issue's targets (and stays big enough and well-formed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.eval_merge import DEFAULT_CASES, evaluate, load_cases
from tests.data.merge.build_cases import all_cases

pytestmark = pytest.mark.unit


def test_the_set_is_current_and_large_enough() -> None:
    cases = load_cases(DEFAULT_CASES)
    assert len(cases) >= 60
    assert [json.dumps(c, ensure_ascii=False, sort_keys=True) for c in all_cases()] == \
        Path(DEFAULT_CASES).read_text(encoding="utf-8").splitlines(), "run python -m tests.data.merge.build_cases"
    tags = {t for c in cases for t in c["tags"]}
    assert {"wrong-number", "magnitude", "invented-source", "invented-competitor", "contradiction", "paraphrase",
            "pseudonymized", "holdout"} <= tags


def test_targets_hallucination_flags_and_numeric_disagreements() -> None:
    report = evaluate(load_cases(DEFAULT_CASES))
    flags = report["hallucination_flags"]
    assert flags["recall"] >= 0.9 and flags["precision"] >= 0.9
    found, planted = map(int, report["planted_numeric_found"].split("/"))
    assert found == planted > 20
    assert report["disagreements"]["precision"] >= 0.9
