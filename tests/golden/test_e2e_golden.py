"""Golden end-to-end run: recorded provider answers → byte-stable merge result and stable report text.

The whole pipeline runs in-process (JobRunner + LocalAgents: real PII, real MCP market-data
server, stub LLMs replaying recorded answers, real merge, real report HTML) on SQLite. Ids and
times are deterministic or normalized. Regenerate after an intended change with
`MKA_UPDATE_GOLDEN=1 python -m pytest tests/golden/test_e2e_golden.py`.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from actors.llm import StubLlmAgent
from actors.orchestrator.local_agents import LocalAgents
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key, script_key
from cluster.db import make_engine
from cluster.objects import FsObjectStore
from cluster.sql_store import SqlJobStore
from schemas import JobState
from schemas.pipeline import ProvidersScript
from tests.conftest import TEST_KEYRING

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HERE = Path(__file__).parent / "e2e"
ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("MKA_UPDATE_GOLDEN") == "1"


def run_recorded_job(tmp_path: Path) -> tuple[str, str]:
    """Run the example brief with the recorded answers in-process; the merge result JSON and the report HTML."""
    ids = (f"00000000-0000-4000-8000-{n:012d}" for n in itertools.count(1))
    engine = make_engine(f"sqlite:///{tmp_path / 'mka.db'}")
    store = SqlJobStore(engine, new_id=lambda: next(ids), keyring=TEST_KEYRING)
    objects = FsObjectStore(tmp_path / "objects")
    providers = ["openai", "gemini", "xai"]
    servers = {"market-data": {"command": sys.executable, "args": ["-m", "actors.mcp.market_data_server"]}}
    from actors.pii import Keyring

    agents = LocalAgents(
        objects=objects, keyring=Keyring([Keyring.generate()]), mcp_servers=servers,
        llms={p: StubLlmAgent(p) for p in providers}, pdf=False,
    )
    try:
        runner = JobRunner(store=store, objects=objects, agents=agents, config=RunnerConfig(providers=providers))
        brief = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())
        from schemas import parse_brief

        job = store.submit(parse_brief(brief), trace_id="0" * 32)
        recorded = json.loads((HERE / "recorded_answers.json").read_text())
        recorded.pop("_comment", None)
        script = ProvidersScript.model_validate(recorded)
        objects.put(script_key(job.id), script.model_dump_json().encode(), content_type="application/json")
        final = runner.run(job.id)
        assert final.state == JobState.COMPLETED, final.error
        merge = json.loads(objects.get(checkpoint_key(job.id, "merge")))
        report_html = objects.get(f"jobs/{job.id}/report.html").decode()
    finally:
        agents.close()
        engine.dispose()
    merge_text = json.dumps(merge, indent=2, sort_keys=True) + "\n"
    return merge_text, report_html


def _report_text(page: str) -> str:
    """Visible text of the report, one block per line, with times and latencies normalized."""
    page = re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", "", page)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out = "\n".join(line for line in lines if line) + "\n"
    out = re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}(:\d{2})? UTC", "<TIME>", out)
    out = re.sub(r"\b\d+\.\d+ s\b", "<SECONDS>", out)
    return out


def test_recorded_answers_give_golden_merge_and_report(tmp_path: Path) -> None:
    merge_text, report_html = run_recorded_job(tmp_path)
    report_text = _report_text(report_html)
    if UPDATE:
        (HERE / "merge_result.json").write_text(merge_text)
        (HERE / "report.txt").write_text(report_text)
    assert merge_text == (HERE / "merge_result.json").read_text(), "merge result changed (MKA_UPDATE_GOLDEN=1 to accept)"
    assert report_text == (HERE / "report.txt").read_text(), "report text changed (MKA_UPDATE_GOLDEN=1 to accept)"
    # The planted PII of the example brief never reaches the report.
    assert "Maria Keller" not in report_text and "maria.keller@example.com" not in report_text
    # Figures read the way a person writes them: no data-key spelling, no grouped years.
    keys = re.findall(r"(?<![/\w])[a-z0-9]+_[a-z0-9_]+\b(?![?\w])", report_text)  # tool paths in URIs aside
    assert not keys, keys
    assert "2,024" not in report_text and "EUR million" not in report_text
    assert "EUR 1.48 bn" in report_text and "6.4 %" in report_text
