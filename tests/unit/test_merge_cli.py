"""Unit tests of `mka merge` (cluster.merge_cli): input shapes, derived quorum, human and JSON output, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cluster.merge_cli import merge_command
from schemas import MergeResult

pytestmark = pytest.mark.unit

EVIDENCE = [{"id": "ev-de-market", "source": "mcp://market-data/market_size?country=DE",
             "text": "The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing "
                     "6.4% a year.", "data": {"value_eur_m": 1480.0, "growth_pct": 6.4}}]
ANSWERS = [
    {"provider": "openai", "model": "gpt", "status": "ok", "latency_s": 1.0,
     "claims": [{"id": "o1", "text": "Germany's market grows 6.4% a year.", "evidence_ids": ["ev-de-market"]}]},
    {"provider": "gemini", "model": "gem", "status": "ok", "latency_s": 1.0,
     "claims": [{"id": "g1", "text": "Germany's market grows 9.9% a year.", "evidence_ids": ["ev-de-market"]}]},
    {"provider": "xai", "model": "grok", "status": "timeout", "error": "deadline", "latency_s": 30.0, "claims": []},
]


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_json_output_is_a_merge_result_with_the_derived_quorum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = merge_command(write(tmp_path, "a.json", ANSWERS), write(tmp_path, "e.json", EVIDENCE), True)
    assert code == 0
    result = MergeResult.model_validate_json(capsys.readouterr().out)
    assert result.degraded and result.quorum.model_dump() == {"required": 2, "received": 2, "missing": ["xai"]}
    assert [d.claim_ids for d in result.disagreements] == [["o1", "g1"]]


def test_wrapped_inputs_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = merge_command(write(tmp_path, "a.json", {"answers": ANSWERS}),
                         write(tmp_path, "e.json", {"evidence": EVIDENCE}), True)
    assert code == 0 and json.loads(capsys.readouterr().out)["quorum"]["received"] == 2


def test_human_output_opens_with_the_degraded_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge_command(write(tmp_path, "a.json", ANSWERS), write(tmp_path, "e.json", EVIDENCE), False) == 0
    out = capsys.readouterr().out
    assert out.lstrip().startswith("DEGRADED")
    assert "missing: xai" in out.splitlines()[0]
    assert out.index("Merged claims") < out.index("Disagreements") < out.index("Flagged claims")
    assert "contradicts" in out and "(growth_pct)" in out


def test_complete_run_says_so_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = [a for a in ANSWERS if a["status"] == "ok"]
    assert merge_command(write(tmp_path, "a.json", answers), write(tmp_path, "e.json", EVIDENCE), False) == 0
    assert capsys.readouterr().out.startswith("Complete")


@pytest.mark.parametrize(("answers", "message"), [
    ("{not json", "is not valid JSON"),
    ({"claims": []}, "must hold a JSON list of answers"),
    ([{"provider": "openai", "status": "ok"}], "answer #1 is invalid"),
    ([], "holds no answers"),
])
def test_bad_input_is_a_message_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], answers: Any,
                                           message: str) -> None:
    code = merge_command(write(tmp_path, "a.json", answers), write(tmp_path, "e.json", EVIDENCE), False)
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err and "Traceback" not in captured.err + captured.out


def test_missing_file_and_bad_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge_command(tmp_path / "nope.json", write(tmp_path, "e.json", EVIDENCE), True) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_input"
    bad = write(tmp_path, "bad.json", [{"id": "ev-1", "source": "ftp://x", "text": "t"}])
    assert merge_command(write(tmp_path, "a.json", ANSWERS), bad, False) == 2
    assert "evidence item #1 is invalid" in capsys.readouterr().err
