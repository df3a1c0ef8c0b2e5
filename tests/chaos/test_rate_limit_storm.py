"""Chaos: a 429 storm from a provider — retry-after honoured, the job degrades cleanly, the budget holds.

The pipeline runs in-process (JobRunner + LocalAgents) with the real OpenAI SDK agent pointed at the
local OpenAI-compatible server, which answers every request with 429 and a Retry-After; the other
two providers are stubs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.llm import StubLlmAgent
from actors.llm.config import ProviderConfig
from actors.llm.openai_agent import OpenAiAgent
from actors.orchestrator.ports import AnalyzeOutput
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key
from actors.pii import Keyring
from cluster.bootstrap import build_local_agents
from cluster.db import make_engine
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import JobState, parse_brief
from tests.conftest import TEST_KEYRING, brief_data
from tests.providers.contract import PRICE
from tests.providers.openai_server import FakeOpenAi
from tests.providers.scenario import Reply

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(300)]

RETRY_AFTER_S = 0.4


@pytest.fixture
def fake() -> Iterator[FakeOpenAi]:
    with FakeOpenAi(models=["gpt-test"]) as server:
        yield server


def _run(tmp_path: Path, fake: FakeOpenAi, **config: object) -> tuple[SqlJobStore, FsObjectStore, str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'mka.db'}")
    store, objects = SqlJobStore(engine, keyring=TEST_KEYRING), FsObjectStore(tmp_path / "objects")
    openai = OpenAiAgent(ProviderConfig(provider="openai", model="gpt-test", api_key=fake.api_key, base_url=fake.v1,
                                        timeout_s=5.0, price=PRICE, max_output_tokens=512))
    servers = {"market-data": {"command": sys.executable, "args": ["-m", "actors.mcp.market_data_server"]}}
    agents = build_local_agents(Settings(home=tmp_path, mcp_servers=servers, report_pdf=False), objects,
                                keyring=Keyring([Keyring.generate()]),
                                llms={"openai": openai, "gemini": StubLlmAgent("gemini"), "xai": StubLlmAgent("xai")})
    try:
        runner = JobRunner(store=store, objects=objects, agents=agents,
                           config=RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=8, grace_s=3, **config))
        job = store.submit(parse_brief(brief_data()))
        assert runner.run(job.id).state == JobState.COMPLETED
    finally:
        agents.close()
    return store, objects, job.id


def test_429_storm_honours_retry_after_and_degrades_cleanly(tmp_path: Path, fake: FakeOpenAi) -> None:
    fake.script.always("gpt-test", Reply(kind="rate_limit", retry_after_s=RETRY_AFTER_S))
    store, objects, job_id = _run(tmp_path, fake)
    job = store.get(job_id)
    assert job.degraded
    analysis = AnalyzeOutput.model_validate_json(objects.get(checkpoint_key(store.get(job_id).project, job_id, "analyze")))
    [openai] = [p for p in analysis.quorum.providers if p.provider == "openai"]
    assert openai.status == "error" and openai.error_kind == "rate_limit", openai
    calls = fake.seen("/chat/completions")
    assert 1 < len(calls) <= 3, "retries are bounded"
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:])]
    assert all(gap >= RETRY_AFTER_S * 0.95 for gap in gaps), gaps  # never sooner than Retry-After
    assert analysis.quorum.cost_usd == 0  # 429s are not billed


def test_cost_budget_stops_asking_when_it_would_be_exceeded(tmp_path: Path, fake: FakeOpenAi) -> None:
    store, objects, job_id = _run(tmp_path, fake, cost_budget_usd=0.000001)
    analysis = AnalyzeOutput.model_validate_json(objects.get(checkpoint_key(store.get(job_id).project, job_id, "analyze")))
    assert fake.seen("/chat/completions") == []  # the call would have passed the budget: never made
    assert analysis.quorum.cost_usd <= 0.000001
    [openai] = [p for p in analysis.quorum.providers if p.provider == "openai"]
    assert openai.status != "ok" and "budget" in openai.reason, openai
    assert store.get(job_id).degraded
