"""Benchmark the quorum: providers at 1 s, 2 s and hanging, a 10 s deadline, against a gather-all baseline.

The three providers are the local fake servers of `tests/providers` (OpenAI REST at 1 s, Gemini REST
at 2 s, xAI gRPC that never answers), called by the real SDK agents inside Ray LLM actors. A job is
the job runner over a SQLite store with in-process stand-ins for PII, collection and the report, and
the real fan-out (`RayAgents`) for the analysis, so the analysis step is the orchestrator's own path.

- quorum job latency: should be about 2 s (the second answer) plus grace plus overhead;
- gather-all baseline: the same job, but the analysis awaits every provider up to the deadline, the
  way llm-council and Mixture-of-Agents call their models; the ratio shows what the quorum saves;
- orchestration overhead at 1, 10 and 50 concurrent jobs: job latency minus the quorum latency
  (2 s + grace, the ideal), and job latency minus the time the fan-out waited.

Run: python scripts/bench_quorum.py [--grace 0.5] [--deadline 10] [--concurrency 1 10 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.orchestrator.ports import AnalyzeOutput  # noqa: E402
from actors.orchestrator.fanout import fan_out  # noqa: E402
from actors.orchestrator.ray_agents import RayAgents, RayCalls  # noqa: E402
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key  # noqa: E402
from actors.quorum import decide_quorum  # noqa: E402
from cluster.objects import FsObjectStore  # noqa: E402
from cluster.ray_actors import LlmActor  # noqa: E402
from cluster.settings import Settings  # noqa: E402
from schemas import JobState  # noqa: E402
from tests.conftest import brief_data  # noqa: E402
from tests.fakes import FakeAgents  # noqa: E402
from tests.providers import FakeGemini, FakeGrok, FakeOpenAi, Reply  # noqa: E402
from tests.providers.golden import GOLDEN_EVIDENCE  # noqa: E402

PROVIDERS = ("openai", "gemini", "xai")
LATENCY = {"openai": 1.0, "gemini": 2.0}  # xai hangs
QUORUM_AT_S = 2.0  # the second answer arrives at 2 s


class GatherAll(RayAgents):
    """The baseline: ask every provider and await them all (up to the deadline), then decide."""

    def analyze(self, envelopes, *, required, deadline_s, grace_s, deadlines=None):  # type: ignore[no-untyped-def]
        """Await every call; no early quorum, no grace."""
        calls = RayCalls(self.llms)
        handles = {p: calls.start(p, e) for p, e in envelopes.items()}
        answers, reasons, waited = fan_out(calls, handles, required=len(handles), deadline_s=deadline_s, grace_s=0.0)
        decision = decide_quorum(providers=list(envelopes), answers=answers, missing_reasons=reasons, required=required,
                                 deadline_s=deadline_s, grace_s=0.0, waited_s=waited)
        return AnalyzeOutput(answers=[answers[p] for p in envelopes if p in answers], quorum=decision)


class BenchAgents(FakeAgents):
    """In-process PII, collection and report; the analysis goes through the Ray LLM actors."""

    def __init__(self, objects: Any, analysis: RayAgents) -> None:
        super().__init__(objects, evidence=list(GOLDEN_EVIDENCE))
        self.analysis = analysis

    def analyze(self, envelopes, *, required, deadline_s, grace_s, deadlines=None):  # type: ignore[no-untyped-def]
        """The real fan-out."""
        return self.analysis.analyze(envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s,
                                     deadlines=deadlines)


def start_fakes() -> dict[str, Any]:
    """The providers: OpenAI at 1 s, Gemini at 2 s, Grok hanging."""
    fakes = {"openai": FakeOpenAi(models=["gpt-bench"]), "gemini": FakeGemini(models=["gemini-bench"]),
             "xai": FakeGrok(models=["grok-bench"])}
    for fake in fakes.values():
        fake.start()
    fakes["openai"].script.always("gpt-bench", Reply(latency_s=LATENCY["openai"]))
    fakes["gemini"].script.always("gemini-bench", Reply(latency_s=LATENCY["gemini"]))
    fakes["xai"].script.always("grok-bench", Reply("hang"))
    return fakes


def llm_actors(fakes: dict[str, Any], home: Path) -> dict[str, Any]:
    """One SDK-backed LLM actor per provider, pointed at its fake."""
    settings = Settings(
        home=home, use_stubs=False,
        openai_api_key=fakes["openai"].api_key, openai_base_url=fakes["openai"].v1, openai_model="gpt-bench",
        gemini_api_key=fakes["gemini"].api_key, gemini_base_url=fakes["gemini"].base_url, gemini_model="gemini-bench",
        xai_api_key=fakes["xai"].api_key, xai_base_url=fakes["xai"].base_url, xai_model="grok-bench",
        openai_timeout_s=30, gemini_timeout_s=30, xai_timeout_s=30,
    )
    shell = ray.remote(LlmActor).options(num_cpus=0.05, max_restarts=0)
    handles = {p: shell.remote(settings, p) for p in PROVIDERS}
    ray.get([h.recent_requests.remote() for h in handles.values()])
    return handles


def run_jobs(runner: JobRunner, store: Any, objects: Any, count: int) -> list[dict[str, float]]:
    """Submit `count` jobs and run them concurrently; return each job's latency and the fan-out's wait."""
    from schemas import Brief

    def one(_: int) -> dict[str, float]:
        job = store.submit(Brief.model_validate(brief_data()))
        start = time.perf_counter()
        final = runner.run(job.id)
        latency = time.perf_counter() - start
        analysis = AnalyzeOutput.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "analyze")))
        assert final.state == JobState.COMPLETED, final.error
        return {"latency_s": latency, "waited_s": analysis.quorum.waited_s, "received": len(analysis.quorum.received)}

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def summarize(rows: list[dict[str, float]], ideal_s: float) -> dict[str, Any]:
    """Latency and overhead percentiles of a batch of jobs."""
    latency = [r["latency_s"] for r in rows]
    return {
        "jobs": len(rows),
        "latency_p50_s": round(statistics.median(latency), 3),
        "latency_p95_s": _pct(latency, 0.95),
        "waited_p50_s": round(statistics.median(r["waited_s"] for r in rows), 3),
        "overhead_vs_ideal_p50_s": round(statistics.median(x - ideal_s for x in latency), 3),
        "overhead_vs_ideal_p95_s": round(_pct(latency, 0.95) - ideal_s, 3),
        "overhead_outside_fan_out_p50_s": round(statistics.median(r["latency_s"] - r["waited_s"] for r in rows), 3),
    }


def main() -> None:
    """Run the measurements; print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=10.0)
    parser.add_argument("--grace", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from cluster.db import make_engine
    from actors.pii.keys import Keyring
    from cluster.sql_store import SqlJobStore

    ray.init(num_cpus=2, include_dashboard=False, namespace=f"mka-bench-{uuid.uuid4().hex[:8]}", log_to_driver=False)
    fakes = start_fakes()  # after Ray has forked its processes (gRPC threads and fork do not mix)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            handles = llm_actors(fakes, home)
            engine = make_engine(f"sqlite:///{home / 'bench.db'}")
            store = SqlJobStore(engine, keyring=Keyring([Keyring.generate()]))
            objects = FsObjectStore(home / "objects")
            config = RunnerConfig(providers=list(PROVIDERS), deadline_s=args.deadline, grace_s=args.grace,
                                  retry_base_delay_s=0.05)

            def runner(analysis: RayAgents) -> JobRunner:
                return JobRunner(store=store, objects=objects, agents=BenchAgents(objects, analysis), config=config)

            quorum = runner(RayAgents(roles={}, llms=handles))
            gather = runner(GatherAll(roles={}, llms=handles))
            run_jobs(quorum, store, objects, 2)  # warm up: SDK imports, connections, SQLite
            ideal = QUORUM_AT_S + args.grace
            report: dict[str, Any] = {"deadline_s": args.deadline, "grace_s": args.grace, "ideal_quorum_s": ideal,
                                      "providers": {"openai": "1 s", "gemini": "2 s", "xai": "hangs"}}
            single = summarize(run_jobs(quorum, store, objects, 1), ideal)
            baseline = summarize(run_jobs(gather, store, objects, 1), ideal)
            report["quorum_job_s"] = single["latency_p50_s"]
            report["gather_all_job_s"] = baseline["latency_p50_s"]
            report["gather_all_over_quorum"] = round(baseline["latency_p50_s"] / single["latency_p50_s"], 2)
            report["concurrency"] = {str(n): summarize(run_jobs(quorum, store, objects, n), ideal) for n in args.concurrency}
            engine.dispose()
    finally:
        ray.shutdown()
        for fake in fakes.values():
            fake.stop()

    print(f"providers: openai 1 s, gemini 2 s, xai hangs; deadline {args.deadline:g} s, grace {args.grace:g} s; "
          f"ideal quorum latency {ideal:g} s")
    print(f"quorum job      {report['quorum_job_s']:>7.3f} s")
    print(f"gather-all job  {report['gather_all_job_s']:>7.3f} s   (awaits every provider: the hang holds it to the deadline)")
    print(f"gather-all / quorum = {report['gather_all_over_quorum']:.2f}x")
    print()
    print(f"{'jobs':>5} {'p50 s':>7} {'p95 s':>7} {'waited s':>9} {'overhead p50':>13} {'overhead p95':>13} {'outside fan-out':>16}")
    for n, row in report["concurrency"].items():
        print(f"{n:>5} {row['latency_p50_s']:>7.3f} {row['latency_p95_s']:>7.3f} {row['waited_p50_s']:>9.3f} "
              f"{row['overhead_vs_ideal_p50_s']:>13.3f} {row['overhead_vs_ideal_p95_s']:>13.3f} "
              f"{row['overhead_outside_fan_out_p50_s']:>16.3f}")
    print("overhead = job latency - ideal quorum latency (2 s + grace); outside fan-out = job latency - time the fan-out waited")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
