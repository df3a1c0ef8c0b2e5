"""The tune split of the collection evaluation runs in the suite (the outside split is reported, not tuned on)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "eval_collection.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("eval_collection", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tune_split_grades_every_claim_and_plans_every_case_exactly() -> None:
    module = _module()
    grounding, planner = module.grounding("tune"), module.planner("tune")
    assert grounding["claims"] >= 9 and grounding["misses"] == []
    assert planner["cases"] >= 3 and planner["misses"] == [] and planner["never_called"] == 0
