"""What a fake provider does with the next request: a scripted reply per model, and answers built from the prompt."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Reply", "Script", "answer_text", "claims_from_prompt", "count_tokens", "translation_from_prompt"]

ReplyKind = Literal["ok", "rate_limit", "server_error", "hang", "malformed", "content_filter", "dead_model", "auth", "cassette"]

_EVIDENCE = re.compile(r'<evidence id="([^"]+)" source="([^"]*)"[^>]*>\n(.*?)\n(?:data: (\{.*?\})\n)?</evidence>',
                       re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """One scripted reply; `ok` answers with claims built from the evidence in the prompt.

    `latency_s` delays any reply; `hang` waits until the client gives up or the server stops;
    `cassette` replays a recorded provider response (`recorded`) byte for byte.
    """

    kind: ReplyKind = "ok"
    latency_s: float = 0.0
    retry_after_s: float | None = None
    claims: list[dict[str, Any]] | None = None
    text: str | None = None
    recorded: dict[str, Any] | None = None


@dataclass
class Script:
    """Replies per model: queued ones first (in order), then the model's standing reply."""

    standing: dict[str, Reply] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    _queues: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, model: str, *replies: Reply) -> None:
        """Answer the next requests for `model` with these replies, in order."""
        with self._lock:
            self._queues[model].extend(replies)

    def always(self, model: str, reply: Reply) -> None:
        """Answer every later request for `model` with `reply` (after any queued ones)."""
        with self._lock:
            self.standing[model] = reply

    def next(self, model: str) -> Reply:
        """The reply for the next request to `model`."""
        with self._lock:
            queued = self._queues.get(model)
            if queued:
                return queued.popleft()
            return self.standing.get(model, self.default)

    def reset(self) -> None:
        """Forget every queued and standing reply."""
        with self._lock:
            self._queues.clear()
            self.standing.clear()
            self.default = Reply()


def claims_from_prompt(prompt: str) -> list[dict[str, Any]]:
    """Claims a well-behaved model makes: one finding per evidence item with data, citing its id, tied to the
    first question and to the market its source names."""
    claims: list[dict[str, Any]] = []
    for evidence_id, source, text, data in _EVIDENCE.findall(prompt):
        try:
            values = json.loads(data) if data else {}
        except ValueError:  # a model shrugs at data it cannot read; it does not crash
            continue
        if not values:
            continue
        unit, value = sorted(values.items())[0]
        claims.append(
            {
                "id": f"c{len(claims) + 1}",
                "text": f"{text.strip().rstrip('.')} ({unit.replace('_', ' ')}: {value:g}).",
                "evidence_ids": [evidence_id],
                "value": value,
                "unit": unit.replace("_", " "),
                "question": 0,
                "market": market.group(1) if (market := re.search(r"country=([A-Z]{2})", source)) else None,
                "kind": "finding",
            }
        )
    return claims


_SEGMENT = re.compile(r'<segment id="([^"]+)">(.*?)</segment>', re.DOTALL)
_LOCALE = re.compile(r"\(locale ([a-z]{2,3})[_A-Za-z]*\)")


def translation_from_prompt(prompt: str) -> str:
    """What a well-behaved model translates: each segment back, tagged with the target language, tokens intact."""
    language = m.group(1) if (m := _LOCALE.search(prompt)) else "xx"
    segments = [{"id": sid, "text": f"[{language}] " + text.replace("&lt;", "<").replace("&amp;", "&")}
                for sid, text in _SEGMENT.findall(prompt)]
    return json.dumps({"segments": segments}, ensure_ascii=False)


def answer_text(reply: Reply, prompt: str) -> str:
    """The model's raw text for an `ok` or `malformed` reply (a translation when the prompt asks for one)."""
    if reply.text is not None:
        return reply.text
    if reply.kind == "malformed":
        return "Sure! Here is what I found: the market is large and growing (see evidence)."
    if "<segment id=" in prompt:
        return translation_from_prompt(prompt)
    claims = reply.claims if reply.claims is not None else claims_from_prompt(prompt)
    return json.dumps({"claims": claims, "summary": f"{len(claims)} figures from the evidence answer the brief."})


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: four characters a token."""
    return max(1, len(text) // 4)
