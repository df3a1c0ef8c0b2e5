"""Error texts from outside the system (LLM providers, MCP servers) made fit to store: secrets masked, vault values
blocked by the job's egress guard, before a checkpoint, a job's error, a step record or an event carries them.

An upstream error may echo the request: a URL with `?key=…`, a bearer token, a value of the brief. Each text is
masked (`cluster.secrets.mask_secrets`), then scrubbed by the guard; a text carrying a vault value becomes
`<BLOCKED>` but keeps its kind prefix (`auth: <BLOCKED>`), so the quorum and the advice still know what failed.

Example:
    >>> clean_error("auth: 401 for https://api.example/v1?key=abc", None)
    'auth: 401 for https://api.example/v1?key=****'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from cluster.secrets import mask_secrets
from schemas import ModelAnswer
from schemas.localization import TranslationResult
from schemas.pipeline import QuorumDecision, SourceReport

if TYPE_CHECKING:
    from actors.pii.guard import EgressGuard

__all__ = ["clean_answers", "clean_error", "clean_sources", "clean_translation"]

_KIND = re.compile(r"[a-z][a-z_]*")
T = TypeVar("T", bound=str | None)


def clean_error(text: T, guard: EgressGuard | None) -> T:
    """`text` with secrets masked and, when the job has a guard, vault values blocked (the `kind: ` prefix kept)."""
    if not text:
        return text
    kind, sep, message = text.partition(": ")
    if not sep or not _KIND.fullmatch(kind):
        kind, sep, message = "", "", text
    message = mask_secrets(message)
    if guard is not None:
        message = guard.scrub(message)
    return f"{kind}{sep}{message}"  # type: ignore[return-value]


def clean_answers(answers: list[ModelAnswer], quorum: QuorumDecision,
                  guard: EgressGuard | None) -> tuple[list[ModelAnswer], QuorumDecision]:
    """The answers' errors and the quorum's reasons (which quote them), cleaned."""
    answers = [a.model_copy(update={"error": clean_error(a.error, guard)}) if a.error else a for a in answers]
    quorum = quorum.model_copy(update={
        "missing": {p: clean_error(why, guard) for p, why in quorum.missing.items()},
        "providers": [s.model_copy(update={"reason": clean_error(s.reason, guard)}) if s.reason else s
                      for s in quorum.providers],
    })
    return answers, quorum


def clean_sources(sources: list[SourceReport], guard: EgressGuard | None) -> list[SourceReport]:
    """Each source report's error, cleaned."""
    return [s.model_copy(update={"error": clean_error(s.error, guard)}) if s.error else s for s in sources]


def clean_translation(result: TranslationResult, guard: EgressGuard | None) -> TranslationResult:
    """A translation result's error, cleaned."""
    return result.model_copy(update={"error": clean_error(result.error, guard)}) if result.error else result
