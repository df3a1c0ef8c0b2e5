"""Quorum under real failure modes: SDK agents inside Ray actors against the three fake provider servers.

One Ray instance, one set of fakes and one set of LLM actors (real `openai`, `google-genai` and
`xai-sdk` clients) serve the module; each test scripts the fakes and fans out through `RayAgents`,
the orchestrator's own code path (deadlines, grace, per-provider deadlines, cost budget, cancel).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray  # noqa: E402 - a hard dependency: a missing Ray must fail, not skip

from actors.llm import build_llm_agent, provider_config  # noqa: E402
from actors.orchestrator.ports import AnalyzeOutput  # noqa: E402
from actors.orchestrator.ray_agents import RayAgents  # noqa: E402
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key  # noqa: E402
from actors.report import render_html  # noqa: E402
from cluster.client import job_summary  # noqa: E402
from cluster.objects import FsObjectStore  # noqa: E402
from cluster.ray_actors import LlmActor  # noqa: E402
from cluster.settings import Settings  # noqa: E402
from schemas import EventType, JobState  # noqa: E402
from schemas.pipeline import ProvidersScript  # noqa: E402
from tests.fakes import FakeAgents  # noqa: E402
from tests.providers import FakeGemini, FakeGrok, FakeOpenAi, Reply  # noqa: E402
from tests.providers.golden import golden_envelope  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.timeout(300)]

PROVIDERS = ("openai", "gemini", "xai")
MODELS = {"openai": "gpt-test", "gemini": "gemini-test", "xai": "grok-test"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    """The three fake providers."""
    servers = {"openai": FakeOpenAi(models=[MODELS["openai"]]), "gemini": FakeGemini(models=[MODELS["gemini"]]),
               "xai": FakeGrok(models=[MODELS["xai"]])}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(autouse=True)
def _fresh(fakes: dict[str, Any]) -> None:
    for fake in fakes.values():
        fake.script.reset()


def _settings(fakes: dict[str, Any], home: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = dict(
        home=home, use_stubs=False, llm_max_output_tokens=512,
        openai_api_key=fakes["openai"].api_key, openai_base_url=fakes["openai"].v1, openai_model=MODELS["openai"],
        gemini_api_key=fakes["gemini"].api_key, gemini_base_url=fakes["gemini"].base_url, gemini_model=MODELS["gemini"],
        xai_api_key=fakes["xai"].api_key, xai_base_url=fakes["xai"].base_url, xai_model=MODELS["xai"],
    )
    for p in PROVIDERS:
        fields[f"{p}_timeout_s"] = 5.0
        fields[f"{p}_price_input_per_1k"] = 0.001
        fields[f"{p}_price_output_per_1k"] = 0.004
    fields.update(overrides)
    return Settings(**fields)


@pytest.fixture(scope="module")
def cluster(fakes: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local Ray with one SDK-backed LLM actor per provider, plus an xai actor without a key."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, namespace=f"mka-quorum-{uuid.uuid4().hex[:8]}", log_to_driver=False)
    home = tmp_path_factory.mktemp("mka-home")
    settings = _settings(fakes, home)
    shell = ray.remote(LlmActor).options(num_cpus=0.05, max_restarts=0)
    handles = {p: shell.remote(settings, p) for p in PROVIDERS}
    handles["xai-unconfigured"] = shell.remote(_settings(fakes, home, xai_api_key=None), "xai")
    ray.get([h.recent_requests.remote() for h in handles.values()])  # actors are up
    state = {"settings": settings, "handles": handles, "home": home}
    assert _analyze(state).quorum.met  # warm up: SDK imports and connections, so timings below are the fakes'
    yield state
    for handle in handles.values():
        ray.kill(handle)
    if started:
        ray.shutdown()


def _agents(cluster: dict[str, Any], **swap: str) -> RayAgents:
    llms = {p: cluster["handles"][swap.get(p, p)] for p in PROVIDERS}
    return RayAgents(roles={}, llms=llms)


def _analyze(cluster: dict[str, Any], *, deadline_s: float = 10, grace_s: float = 0.3,
             own: dict[str, float] | None = None, budget: float | None = None, **swap: str) -> AnalyzeOutput:
    own = own or {}
    envelopes = {
        p: golden_envelope(p, deadline_s=own.get(p, deadline_s), cost_budget_usd=budget) for p in PROVIDERS
    }
    return _agents(cluster, **swap).analyze(envelopes, required=2, deadline_s=deadline_s, grace_s=grace_s,
                                            deadlines={p: d for p, d in own.items() if d < deadline_s})


def _wait_idle(fake: Any, timeout_s: float = 10) -> None:
    end = time.monotonic() + timeout_s
    while fake.active and time.monotonic() < end:
        time.sleep(0.02)
    assert fake.active == 0, "a cancelled straggler is still being served"


def _kinds(out: AnalyzeOutput) -> dict[str, str | None]:
    return {p.provider: p.error_kind for p in out.quorum.providers}


def test_all_three_answer(cluster: dict[str, Any]) -> None:
    out = _analyze(cluster)
    q = out.quorum
    assert q.met and not q.degraded and q.received == list(PROVIDERS)
    assert {a.model for a in out.answers} == set(MODELS.values())
    assert all(a.claims and a.usage and a.usage.cost > 0 for a in out.answers)
    assert q.cost_usd == pytest.approx(sum(a.usage.cost for a in out.answers if a.usage))
    assert all(p.cost and p.tokens for p in q.providers)


def test_degraded_two_of_three_when_grok_hangs_and_the_straggler_is_cancelled(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    fakes["openai"].script.always(MODELS["openai"], Reply(latency_s=0.2))
    fakes["gemini"].script.always(MODELS["gemini"], Reply(latency_s=0.5))
    fakes["xai"].script.always(MODELS["xai"], Reply("hang"))
    start = time.monotonic()
    out = _analyze(cluster, deadline_s=10, grace_s=0.3)
    elapsed = time.monotonic() - start
    q = out.quorum
    assert q.met and q.degraded and q.received == ["openai", "gemini"]
    assert 0.5 <= q.waited_s < 0.5 + 0.3 + 0.7 and elapsed < 3
    xai = next(p for p in q.providers if p.provider == "xai")
    assert xai.status == "cancelled" and xai.error_kind == "cancelled" and "grace" in xai.reason
    _wait_idle(fakes["xai"])  # ray.cancel reached the gRPC call: the fake saw it end


def test_degraded_with_classified_errors(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    fakes["gemini"].script.always(MODELS["gemini"], Reply("rate_limit", retry_after_s=60))
    out = _analyze(cluster, deadline_s=5)
    q = out.quorum
    assert q.met and q.degraded and q.received == ["openai", "xai"]
    assert _kinds(out)["gemini"] == "rate_limit"
    gemini = next(p for p in q.providers if p.provider == "gemini")
    assert gemini.status == "error" and gemini.reason.startswith("rate_limit:")


def test_below_quorum_with_auth_content_filter_and_a_hang(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    fakes["openai"].script.always(MODELS["openai"], Reply("auth"))
    fakes["gemini"].script.always(MODELS["gemini"], Reply("content_filter"))
    fakes["xai"].script.always(MODELS["xai"], Reply("hang"))
    out = _analyze(cluster, deadline_s=1.5)
    q = out.quorum
    assert not q.met and q.received == []
    kinds = _kinds(out)
    assert kinds["openai"] == "auth" and kinds["gemini"] == "content_filter" and kinds["xai"] == "timeout"
    assert q.missing["xai"] in ("no answer by the 1.5s deadline",) or q.missing["xai"].startswith("timeout:")
    _wait_idle(fakes["xai"])


def test_malformed_dead_model_and_server_error(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    fakes["openai"].script.always(MODELS["openai"], Reply("malformed"))
    fakes["gemini"].script.always(MODELS["gemini"], Reply("dead_model"))
    fakes["xai"].script.always(MODELS["xai"], Reply("server_error"))
    out = _analyze(cluster)
    assert not out.quorum.met
    assert _kinds(out) == {"openai": "bad_output", "gemini": "model_not_found", "xai": "server_error"}


def test_a_provider_deadline_cuts_only_that_provider(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    fakes["xai"].script.always(MODELS["xai"], Reply(latency_s=3))
    fakes["openai"].script.always(MODELS["openai"], Reply(latency_s=0.2))
    fakes["gemini"].script.always(MODELS["gemini"], Reply(latency_s=1.0))
    start = time.monotonic()
    out = _analyze(cluster, deadline_s=10, grace_s=5, own={"xai": 0.6})
    q = out.quorum
    assert q.met and q.received == ["openai", "gemini"]
    assert _kinds(out)["xai"] == "timeout"
    assert time.monotonic() - start < 3  # neither the 10 s deadline nor the 5 s grace was waited out
    _wait_idle(fakes["xai"])


def test_cost_budget_stops_asking_when_it_would_be_exceeded(cluster: dict[str, Any], fakes: dict[str, Any]) -> None:
    per_call = build_llm_agent(cluster["settings"], "openai").estimate_cost(golden_envelope("openai").payload)  # type: ignore[union-attr]
    budget = per_call * 2 * 2.5  # room for two providers' answers (call plus repair), not three
    before = len(fakes["xai"].seen("GetCompletion"))
    out = _analyze(cluster, budget=budget)
    q = out.quorum
    assert q.met and q.degraded and q.received == ["openai", "gemini"]
    xai = next(p for p in q.providers if p.provider == "xai")
    assert xai.status == "skipped" and xai.error_kind == "budget" and "cost budget" in xai.reason
    assert len(fakes["xai"].seen("GetCompletion")) == before  # never asked
    assert q.cost_budget_usd == budget and 0 < q.cost_usd <= budget


def test_unconfigured_provider_is_reported_not_dropped(cluster: dict[str, Any]) -> None:
    out = _analyze(cluster, xai="xai-unconfigured")
    q = out.quorum
    assert q.met and q.degraded
    xai = next(p for p in q.providers if p.provider == "xai")
    assert xai.status == "not_configured" and "XAI_API_KEY" in xai.reason
    assert provider_config(cluster["settings"], "xai").configured


class _RayLlmAgents(FakeAgents):
    """Fake PII, collection and report; the analysis goes through the Ray LLM actors."""

    def __init__(self, objects: Any, ray_agents: RayAgents) -> None:
        from tests.providers.golden import GOLDEN_EVIDENCE

        super().__init__(objects, evidence=list(GOLDEN_EVIDENCE))
        self.ray_agents = ray_agents

    def analyze(self, envelopes, *, required, deadline_s, grace_s, deadlines=None):  # type: ignore[no-untyped-def]
        """The real fan-out."""
        self._enter("analyze")
        return self.ray_agents.analyze(envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s,
                                       deadlines=deadlines)


def test_a_job_persists_and_shows_each_provider_outcome(cluster: dict[str, Any], fakes: dict[str, Any],
                                                        sqlite_store: Any, make_brief: Any, tmp_path: Path) -> None:
    fakes["gemini"].script.always(MODELS["gemini"], Reply("rate_limit", retry_after_s=60))
    fakes["xai"].script.always(MODELS["xai"], Reply("hang"))
    objects = FsObjectStore(tmp_path / "objects")
    config = RunnerConfig(providers=list(PROVIDERS), deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=sqlite_store, objects=objects, agents=_RayLlmAgents(objects, _agents(cluster)), config=config)

    failed = sqlite_store.submit(make_brief())
    final = runner.run(failed.id)
    assert final.state == JobState.FAILED and final.error and final.error["code"] == "below_quorum"
    reasons = [m.event.payload.get("reason", "") for m in sqlite_store.events(failed.id)
               if m.event.type == EventType.JOB_STATE_CHANGED]
    assert "below_quorum: quorum not met (1 of 3 answered, 2 required): openai=ok gemini=rate_limit xai=timeout" in reasons

    fakes["gemini"].script.reset()
    job = sqlite_store.submit(make_brief())
    runner.save_script(job, ProvidersScript(grace_s=0.2))
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED and final.degraded
    analysis = AnalyzeOutput.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "analyze")))  # persisted
    summary = job_summary(final, [], analysis)
    assert summary.providers["xai"].status == "cancelled" and summary.quorum and summary.quorum.received == ["openai", "gemini"]
    events = [m.event.payload for m in sqlite_store.events(job.id) if m.event.payload.get("to_state") == "merging"]
    assert events[0]["reason"] == "quorum met (2 of 3 answered, 2 required): openai=ok gemini=ok xai=cancelled" and events[0]["degraded"] is True
    report = sqlite_store.artifacts(job.id)
    assert report
    from schemas.pipeline import ReportInput

    html = render_html(ReportInput.model_validate_json(objects.get(report[0].key)))
    assert "xai" in html and "cancelled: no answer within the 2s deadline plus 0.2s grace" in html


def test_doctor_checks_every_provider_against_the_fakes(fakes: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from cluster.doctor import doctor_command

    env = {
        "MKA_USE_STUBS": "false",
        "OPENAI_API_KEY": fakes["openai"].api_key, "MKA_LLM__OPENAI__BASE_URL": fakes["openai"].v1, "MKA_LLM__OPENAI__MODEL": "gpt-test",
        "GEMINI_API_KEY": "AIza-revoked-0000000000000", "MKA_LLM__GEMINI__BASE_URL": fakes["gemini"].base_url,
        "MKA_LLM__GEMINI__MODEL": "gemini-test",
        "XAI_API_KEY": fakes["xai"].api_key, "MKA_LLM__XAI__BASE_URL": fakes["xai"].base_url, "MKA_LLM__XAI__MODEL": "grok-2-retired",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = doctor_command(as_json=True)
    out = capsys.readouterr().out
    report = json.loads(out)
    rows = {r["provider"]: r for r in report["providers"]}
    assert code == 1 and not report["ok"]
    assert rows["openai"]["reachable"] and rows["openai"]["model_listed"] and not rows["openai"]["problems"]
    assert rows["openai"]["key_source"] == "OPENAI_API_KEY" and rows["openai"]["key"].startswith("****")
    assert rows["gemini"]["problems"][0]["kind"] == "auth" and "GEMINI_API_KEY" in rows["gemini"]["problems"][0]["advice"]
    assert rows["xai"]["model_listed"] is False and "grok-test" in rows["xai"]["problems"][0]["advice"]
    for value in (fakes["openai"].api_key, fakes["xai"].api_key, "AIza-revoked-0000000000000"):
        assert value not in out

    monkeypatch.setenv("MKA_LLM__OPENAI__BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    monkeypatch.setenv("GEMINI_API_KEY", fakes["gemini"].api_key)
    monkeypatch.setenv("MKA_LLM__XAI__MODEL", "grok-test")
    assert doctor_command(as_json=False) == 1
    text = capsys.readouterr().out
    assert "openai: unreachable" in text and "MKA_LLM__OPENAI__BASE_URL" in text and "gemini:" not in text


def _closed_port() -> int:
    from tests.providers.contract import closed_port

    return closed_port()
