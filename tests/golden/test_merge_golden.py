"""Golden tests: whole merge results for representative cases, byte for byte (regenerate with scripts/update_merge_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster.merge_cli import merge_command
from scripts.update_merge_golden import GOLDEN, expected_for

pytestmark = pytest.mark.unit

CASES = sorted(p for p in GOLDEN.iterdir() if (p / "answers.json").exists())


def test_there_are_representative_cases() -> None:
    names = {p.name for p in CASES}
    assert len(CASES) >= 10
    assert {"stub-pipeline", "mixed-three-answers", "degraded-one-missing", "pseudonym-agreement"} <= names


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_merge_result_matches_golden(case_dir: Path) -> None:
    expected = (case_dir / "expected.json").read_text(encoding="utf-8")
    assert expected_for(case_dir) == expected, f"run scripts/update_merge_golden.py and review {case_dir.name}"


@pytest.mark.parametrize("case_dir", CASES[:3], ids=[p.name for p in CASES[:3]])
def test_cli_json_prints_the_golden_result(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge_command(case_dir / "answers.json", case_dir / "evidence.json", True) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((case_dir / "expected.json").read_text(encoding="utf-8"))


def test_merge_is_deterministic_across_runs() -> None:
    case_dir = GOLDEN / "mixed-three-answers"
    assert len({expected_for(case_dir) for _ in range(3)}) == 1
