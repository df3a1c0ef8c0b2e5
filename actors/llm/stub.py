"""The scripted stub provider: deterministic claims, injectable latency, hangs and error kinds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

from actors.llm.base import LlmAgent, Repair
from actors.llm.stub_claims import stub_answer
from actors.localization.text import PLACEHOLDER
from actors.retry import RetryPolicy
from schemas import AgentRequest, Claim, Evidence, ProviderError
from schemas.localization import TranslationRequest, TranslationResult
from schemas.pipeline import AnalysisRequest, ProviderBehaviour

__all__ = ["StubLlmAgent", "default_claims"]

_HANG_S = 24 * 3600.0


class StubLlmAgent(LlmAgent):
    """A provider that answers from the provider script, or writes claims from the evidence.

    Example:
        >>> agent = StubLlmAgent("openai")
        >>> # await agent.analyze(AgentRequest[AnalysisRequest](...)) -> ModelAnswer
    """

    def __init__(self, provider: str, *, model: str | None = None, retry: RetryPolicy | None = None) -> None:
        super().__init__(provider=provider, model=model or f"stub-{provider}", retry=retry)

    async def _complete(self, request: AnalysisRequest, *, timeout_s: float | None, repair: Repair | None = None) -> str:
        behaviour = request.behaviour or ProviderBehaviour()
        if behaviour.hang:
            await asyncio.sleep(_HANG_S)  # until cancelled or cut off by the deadline
        if behaviour.latency_s:
            await asyncio.sleep(behaviour.latency_s)
        if behaviour.error == "bad_output":
            return "Sure! Here are some insights about your market: it is big."
        if behaviour.error == "timeout":
            raise ProviderError("timeout", "scripted provider timeout")
        if behaviour.error is not None:
            raise ProviderError(behaviour.error, f"scripted {behaviour.error}")
        if behaviour.claims is not None:
            claims, summary = behaviour.claims, behaviour.summary
        else:
            answer = stub_answer(self.provider, request.brief, request.evidence)
            claims, summary = answer.claims, behaviour.summary or answer.summary
        out: dict[str, object] = {"claims": [c.model_dump(mode="json", exclude_none=True) for c in claims]}
        if summary:
            out["summary"] = summary
        return json.dumps(out)


    async def translate(self, envelope: AgentRequest[TranslationRequest]) -> TranslationResult:
        """A scripted translation (`translation` in the provider script); by default stubs do not translate."""
        request = envelope.payload
        mode = request.mode or "unsupported"

        def result(status: str, **kw: object) -> TranslationResult:
            return TranslationResult(provider=self.provider, model=self.model, status=status, **kw)  # type: ignore[arg-type]

        if mode == "unsupported":
            return result("unsupported", error="stub providers do not translate (the text stays in the source language)")
        if mode == "error":
            return result("error", error="server_error: scripted translation error")
        tag = request.target_locale.split("_")[0]
        out = {}
        for segment in request.segments:
            if mode == "echo":
                out[segment.id] = segment.text
            elif mode == "pseudo":
                out[segment.id] = f"[{tag}] {segment.text}"
            else:  # mangle: what careless models do to placeholders, numbers and names
                text = PLACEHOLDER.sub(lambda m: m.group(0)[1:-1].split("_")[0].title(), segment.text)
                text = re.sub(r"\d", lambda m: str((int(m.group(0)) + 1) % 10), text)
                out[segment.id] = f"[{tag}] " + "".join(t.lower() if t.isupper() else t for t in text)
        return result("ok", segments=out)


def default_claims(provider: str, evidence: list[Evidence]) -> list[Claim]:
    """One claim per evidence item with data, citing it (the merge golden's answers; jobs use `stub_answer`).

    Providers differ deterministically in which items they use, so merges see overlap and gaps.
    """
    claims: list[Claim] = []
    for item in evidence:
        if not item.data:
            continue
        digest = hashlib.sha256(f"{provider}:{item.id}".encode()).digest()
        if digest[0] % 5 == 0:  # each provider skips about a fifth of the items
            continue
        key, value = next(iter(sorted(item.data.items())))
        label = key.replace("_", " ")
        claims.append(
            Claim(
                id=f"{provider}-{len(claims) + 1}",
                text=f"{item.text.rstrip('.')} ({label}: {value:g}).",
                evidence_ids=[item.id],
                value=value,
                unit=label,
            )
        )
    if not claims and evidence:
        claims.append(Claim(id=f"{provider}-1", text=evidence[0].text, evidence_ids=[evidence[0].id]))
    return claims
