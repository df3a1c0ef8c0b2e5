"""Fakes that subclass the real interfaces, for unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from actors.clock import Clock


class FakeClock(Clock):
    """A clock that moves only when told to (or when code sleeps on it); records every sleep."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._t = 0.0
        self._start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self._t

    def now(self) -> datetime:
        """Return the fake wall time."""
        return self._start + timedelta(seconds=self._t)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._t += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleep(seconds)


# --- agents -------------------------------------------------------------------------------------

import hashlib
import re
from collections import Counter

from actors.llm import StubLlmAgent
from actors.orchestrator.fanout import analyze_providers
from actors.orchestrator.local_agents import LocalCalls, LoopThread
from actors.orchestrator.ports import (
    Agents,
    AnalyzeOutput,
    CollectOutput,
    RedactOutput,
    merge_analysis,
)
from schemas import AgentRequest, Artifact, Evidence
from schemas.pipeline import AnalysisRequest, ReportInput

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


class FakeAgents(Agents):
    """In-process agents: an email-only redactor, fixed evidence, stub LLMs, the real merge, a tiny report.

    Counts calls per method and can be told to crash (raise `Crash`) on a given call.
    """

    def __init__(self, objects, *, evidence: list[Evidence] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.objects = objects
        self.calls: Counter[str] = Counter()
        self.crash_on: dict[str, int] = {}
        self.fail_on: dict[str, Exception] = {}
        self.sent_to_llm: list[AgentRequest[AnalysisRequest]] = []
        self.evidence = evidence or [
            Evidence(id="ev-de-market", source="mcp://market-data/market_size?country=DE", text="DE market is 1200 EUR m", data={"value_eur_m": 1200.0}),
            Evidence(id="ev-fr-market", source="mcp://market-data/market_size?country=FR", text="FR market is 800 EUR m", data={"value_eur_m": 800.0}),
        ]

    def _enter(self, name: str) -> None:
        self.calls[name] += 1
        if self.crash_on.get(name) == self.calls[name]:
            raise Crash(name)
        if name in self.fail_on:
            raise self.fail_on[name]

    def _redact(self, text: str, vault: dict[str, str]) -> str:
        def sub(m: re.Match[str]) -> str:
            return vault.setdefault(m.group(0), f"<EMAIL_ADDRESS_{len(vault) + 1}>")

        return _EMAIL.sub(sub, text)

    def redact_brief(self, envelope, vault):  # type: ignore[no-untyped-def]
        """Replace emails in the audience and notes."""
        self._enter("redact_brief")
        mapping = json.loads(vault or b"{}")
        brief = envelope.payload
        out = brief.model_copy(update={"audience": self._redact(brief.audience, mapping), "notes": self._redact(brief.notes, mapping)})
        return RedactOutput(brief=out, entities={"EMAIL_ADDRESS": len(mapping)}), json.dumps(mapping).encode()

    def collect(self, envelope):  # type: ignore[no-untyped-def]
        """Return the fixed evidence."""
        self._enter("collect")
        return list(self.evidence)

    def redact_evidence(self, envelope, vault, allow):  # type: ignore[no-untyped-def]
        """Replace emails in evidence text."""
        self._enter("redact_evidence")
        mapping = json.loads(vault)
        items = [e.model_copy(update={"text": self._redact(e.text, mapping)}) for e in envelope.payload]
        return CollectOutput(evidence=items), json.dumps(mapping).encode()

    def analyze(self, envelopes, *, required, deadline_s, grace_s, deadlines=None):  # type: ignore[no-untyped-def]
        """Ask stub LLMs in-process through the one fan-out (`LocalCalls` on a private loop)."""
        self._enter("analyze")
        self.sent_to_llm.extend(envelopes.values())
        loop = LoopThread("fake-agents")
        try:
            calls = LocalCalls({p: StubLlmAgent(p) for p in envelopes}, loop.submit)
            answers, decision = analyze_providers(
                calls, envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s, deadlines=deadlines
            )
        finally:
            loop.close()
        return AnalyzeOutput(answers=answers, quorum=decision)

    def merge(self, envelope, evidence):  # type: ignore[no-untyped-def]
        """The real merge agent."""
        self._enter("merge")
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope):  # type: ignore[no-untyped-def]
        """Store the report input as JSON instead of a PDF."""
        self._enter("render")
        report: ReportInput = envelope.payload
        data = report.model_dump_json().encode()
        key = f"jobs/{report.job_id}/report.json"
        stored = self.objects.put(key, data, content_type="application/json")
        return [
            Artifact(
                id=hashlib.sha256(key.encode()).hexdigest()[:32], job_id=report.job_id, kind="report", key=key,
                uri=stored.uri, content_type="application/json", size=stored.size, sha256=stored.sha256,
                created_at=report.generated_at,
            )
        ]


class Crash(BaseException):
    """Simulates the process dying mid-step (not an Exception: nothing catches it)."""


import json
