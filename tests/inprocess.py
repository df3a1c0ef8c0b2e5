"""Run one job in-process (JobRunner + LocalAgents on SQLite, real PII, MCP server, stub LLMs, merge, report).

Used by the golden end-to-end test, the report benchmark and the report evaluation.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.llm import StubLlmAgent
from actors.object_store import job_key
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key
from cluster.bootstrap import build_local_agents
from cluster.db import make_engine
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import Artifact, JobRecord, parse_brief
from schemas.pipeline import ProvidersScript
from tests.conftest import TEST_KEYRING, TEST_SIGNING_KEY

__all__ = ["InProcessJob", "run_in_process"]

PROVIDERS = ["openai", "gemini", "xai"]


@dataclass(frozen=True)
class InProcessJob:
    """What a finished in-process job left: its record, merge result, report exports and artifacts."""

    job: JobRecord
    merge: dict[str, Any] | None
    html: str | None
    markdown: str | None
    artifacts: list[Artifact]
    objects: FsObjectStore
    events: list[Any]


def run_in_process(tmp_path: Path, brief: dict[str, Any], script: dict[str, Any] | None = None, *,
                   pdf: bool = False, templates: list[Path] | None = None,
                   objects_dir: Path | None = None) -> InProcessJob:
    """Run a brief to a terminal state with deterministic ids and the trace id "0" * 32; `templates` (Figma file
    JSON) are added to the brief's project first, named by their files' names. The database is `tmp_path/mka.db`
    (the embedded default's under MKA_HOME=tmp_path); the objects go to `objects_dir` (default tmp_path/objects)."""
    from actors.pii import Keyring

    ids = (f"00000000-0000-4000-8000-{n:012d}" for n in itertools.count(1))
    engine = make_engine(f"sqlite:///{tmp_path / 'mka.db'}")
    store = SqlJobStore(engine, new_id=lambda: next(ids), keyring=TEST_KEYRING, signer=TEST_SIGNING_KEY.sign)
    objects = FsObjectStore(objects_dir or tmp_path / "objects")
    servers = {"market-data": {"command": sys.executable, "args": ["-m", "actors.mcp.market_data_server"],
                               "source_type": "dataset"}}
    agents = build_local_agents(Settings(home=tmp_path, mcp_servers=servers, report_pdf=pdf), objects,
                                keyring=Keyring([Keyring.generate()]), llms={p: StubLlmAgent(p) for p in PROVIDERS})
    try:
        runner = JobRunner(store=store, objects=objects, agents=agents, config=RunnerConfig(providers=PROVIDERS))
        for path in templates or []:
            from datetime import datetime, timezone

            from actors.figma.store import add_template

            add_template(store, objects, project=brief.get("project", "default"), name=None, source="upload",
                         doc=json.loads(path.read_text(encoding="utf-8")), now=datetime.now(timezone.utc))
        job = store.submit(parse_brief(brief), trace_id="0" * 32)
        if script is not None:
            runner.save_script(job, ProvidersScript.model_validate(script))
        final = runner.run(job.id)
        merge_key = checkpoint_key(job.project, job.id, "merge")
        merge = json.loads(objects.get(merge_key)) if objects.exists(merge_key) else None

        def text(name: str) -> str | None:
            key = job_key(job.project, job.id, name)
            return objects.get(key).decode() if objects.exists(key) else None

        return InProcessJob(final, merge, text("report.html"), text("report.md"), store.artifacts(job.id), objects,
                            [m.event for m in store.events(job.id)])
    finally:
        agents.close()
        engine.dispose()
