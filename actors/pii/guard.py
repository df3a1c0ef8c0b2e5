"""The egress guard: every outbound payload is checked against the job's vault values; fail closed.

A value matches in any case and spacing: texts are compared as sequences of case-folded words
("MARIA  KELLER", "maria-keller" match "Maria Keller"), and longer values also with every
separator removed ("+49 170 1234567" matches "+491701234567"). Values shorter than three
characters are not checked (as they are not replaced in texts either).

Channels: "llm:<provider>", "figma", "event", "log", "span" (any name works; it names the block).

Example:
    >>> guard = EgressGuard([("Maria Keller", "PERSON")])
    >>> guard.find("Write to MARIA\\nKELLER")
    'PERSON'
    >>> guard.check("event", {"payload": {"state": "collecting"}})  # passes silently
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from schemas import AgentError

__all__ = ["EgressBlocked", "EgressGuard", "GuardRegistry", "guard_registry"]

_MIN_LEN = 3
_MIN_COMPACT = 8
_MAX_JOBS = 256


class EgressBlocked(AgentError):
    """An outbound payload carried a value of the job's PII vault; it was not sent (never retried)."""

    code = "pii_egress_blocked"
    retryable = False


class _HasEntries(Protocol):
    def entries(self) -> list[tuple[str, str]]: ...


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    word: list[str] = []
    for ch in folded:
        if ch.isalnum():
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def _strings(payload: Any) -> Iterator[str]:
    """Every string in a payload: text, decoded bytes, mapping keys and values, model fields."""
    if payload is None or isinstance(payload, (bool, int, float)):
        return
    if isinstance(payload, str):
        yield payload
    elif isinstance(payload, (bytes, bytearray, memoryview)):
        yield bytes(payload).decode("utf-8", errors="replace")
    elif isinstance(payload, BaseModel):
        yield from _strings(payload.model_dump(mode="json"))
    elif isinstance(payload, Mapping):
        for key, value in payload.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(payload, Iterable):
        for item in payload:
            yield from _strings(item)
    else:
        yield str(payload)


class EgressGuard:
    """Finds a job's vault values (and near-variants) in outbound payloads."""

    def __init__(self, values: Iterable[tuple[str, str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._compact: list[tuple[str, str]] = []
        for value, entity_type in values:
            words = tuple(_words(value))
            compact = "".join(words)
            if len(compact) < _MIN_LEN:
                continue
            self._by_first.setdefault(words[0], []).append((words, entity_type))
            if len(compact) >= _MIN_COMPACT:
                self._compact.append((compact, entity_type))

    @classmethod
    def from_vault(cls, vault: _HasEntries) -> EgressGuard:
        """A guard over every surface form the vault holds."""
        return cls(vault.entries())

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, payload: Any) -> str | None:
        """Return the entity type of the longest vault value found in the payload, or None."""
        if not self._by_first:
            return None
        for text in _strings(payload):
            words = _words(text)
            best: tuple[int, str] | None = None
            for i, word in enumerate(words):
                for seq, entity_type in self._by_first.get(word, ()):
                    size = sum(map(len, seq))
                    if tuple(words[i : i + len(seq)]) == seq and (best is None or size > best[0]):
                        best = (size, entity_type)
            if self._compact:
                joined = "".join(words)
                for compact, entity_type in self._compact:
                    if (best is None or len(compact) > best[0]) and compact in joined:
                        best = (len(compact), entity_type)
            if best is not None:
                return best[1]
        return None

    def check(self, channel: str, payload: Any) -> None:
        """Raise `EgressBlocked` (naming the channel and entity type, never the value) on a match."""
        entity_type = self.find(payload)
        if entity_type is not None:
            raise EgressBlocked(f"blocked outbound {channel} payload: it carries a {entity_type} value of the job's PII vault")


class GuardRegistry:
    """This process's egress guards by job, the vault key to open vaults, and the vault retention.

    The orchestrator configures it with the key and registers a job's guard whenever the job's
    vault changes; the event store, log formatter and span exporter consult it. Unconfigured
    (no key), `register_vault` does nothing. At most the newest 256 jobs are kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: OrderedDict[str, EgressGuard] = OrderedDict()
        self._key: bytes | None = None
        self._retention_days: int | None = None

    def configure(self, *, key: bytes, retention_days: int | None = None) -> None:
        """Set the vault key (and the vault retention in days) of this process."""
        with self._lock:
            self._key, self._retention_days = key, retention_days

    def reset(self) -> None:
        """Forget the key, the retention and every guard (tests)."""
        with self._lock:
            self._guards.clear()
            self._key = self._retention_days = None

    def vault_metadata(self, now: datetime) -> dict[str, str]:
        """Object metadata for a vault stored at `now`: `retention-until` when a retention is set."""
        if self._retention_days is None:
            return {}
        return {"retention-until": (now + timedelta(days=self._retention_days)).isoformat()}

    def register(self, job_id: str, guard: EgressGuard) -> None:
        """Make `guard` the job's guard."""
        with self._lock:
            self._guards[job_id] = guard
            self._guards.move_to_end(job_id)
            while len(self._guards) > _MAX_JOBS:
                self._guards.popitem(last=False)

    def register_vault(self, job_id: str, blob: bytes | None) -> EgressGuard | None:
        """Decrypt a job's vault with the configured key and register its guard (no key: nothing)."""
        if self._key is None or not blob:
            return None
        from actors.pii.vault import Vault  # cryptography only when a vault is opened

        guard = EgressGuard.from_vault(Vault.decrypt(blob, self._key))
        self.register(job_id, guard)
        return guard

    def unregister(self, job_id: str) -> None:
        """Drop a job's guard."""
        with self._lock:
            self._guards.pop(job_id, None)

    def guard(self, job_id: str) -> EgressGuard | None:
        """The job's guard, if registered here."""
        with self._lock:
            return self._guards.get(job_id)

    def check(self, job_id: str, channel: str, payload: Any) -> None:
        """Check a payload of one job (no guard registered for it: nothing to check against)."""
        guard = self.guard(job_id)
        if guard is not None:
            guard.check(channel, payload)

    def find_any(self, payload: Any) -> str | None:
        """The entity type of a value of any registered job found in the payload, or None."""
        with self._lock:
            guards = list(self._guards.values())
        for guard in guards:
            found = guard.find(payload)
            if found is not None:
                return found
        return None

    def check_any(self, channel: str, payload: Any) -> None:
        """Check a payload not tied to one job (logs, spans) against every registered job."""
        found = self.find_any(payload)
        if found is not None:
            raise EgressBlocked(f"blocked outbound {channel} payload: it carries a {found} value of a job's PII vault")


_registry = GuardRegistry()


def guard_registry() -> GuardRegistry:
    """This process's registry."""
    return _registry
