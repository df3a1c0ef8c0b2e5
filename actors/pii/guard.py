"""The egress guard: every outbound payload is checked against the job's vault values; fail closed.

A value matches in any case and spacing: texts are compared as sequences of folded words
("MARIA  KELLER", "maria-keller" match "Maria Keller"), and longer values also with every
separator removed ("+49 170 1234567" matches "+491701234567"). Folding (`_fold`) also takes
compatibility forms, Cyrillic and Greek look-alike letters, accents and umlaut spellings apart
("Маria" with a Cyrillic М, "Jürgen"/"Juergen"/"Jurgen", "Straße"/"Strasse"). Near-variants
(`_variants`) match too: name order and initials ("Keller, Maria", "M. Keller"; a lone "Maria" or
"Keller Street" does not), emails without their plus-tag, and phone numbers in national or
international spelling, compared as E.164. Values shorter than three characters are not checked
(as they are not replaced in texts either).

Channels: "llm:<provider>", "figma", "event", "log", "span" (any name works; it names the block).

Example:
    >>> guard = EgressGuard([("Maria Keller", "PERSON")])
    >>> guard.find("Write to MARIA\\nKELLER")
    'PERSON'
    >>> guard.check("event", {"payload": {"state": "collecting"}})  # passes silently
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from actors.pii._fold import fold
from actors.pii._variants import WORDS, Emails, People, Phones, split_words
from schemas import AgentError

if TYPE_CHECKING:
    from actors.pii.keys import Keyring

__all__ = ["BLOCKED", "EgressBlocked", "EgressGuard", "GuardRegistry", "guard_registry"]

BLOCKED = "<BLOCKED>"
"""What `EgressGuard.scrub` puts in place of a string that carries a vault value."""

_MIN_LEN = 3
_MIN_COMPACT = 8
_MAX_JOBS = 256


class EgressBlocked(AgentError):
    """An outbound payload carried a value of the job's PII vault; it was not sent (never retried).

    `channel` ("llm:openai", "event", ...) and `entity_type` name the block; the value never is.
    """

    code = "pii_egress_blocked"
    retryable = False

    def __init__(self, message: str, *, channel: str = "", entity_type: str = "") -> None:
        super().__init__(message)
        self.channel = channel
        self.entity_type = entity_type

    def to_dict(self) -> dict[str, Any]:
        """Return the error with the channel and entity type it was blocked for."""
        out = super().to_dict()
        if self.channel:
            out["channel"] = self.channel
        if self.entity_type:
            out["entity_type"] = self.entity_type
        return out


class _HasEntries(Protocol):
    def entries(self) -> list[tuple[str, str]]: ...


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
    """Finds a job's vault values (and near-variants) in outbound payloads.

    Every vault value is folded and split into words once, here; `find` folds each payload text
    once and looks its words up in dictionaries, so a check costs about one pass over the text.
    """

    def __init__(self, values: Iterable[tuple[str, str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], int, str]]] = {}
        self._compact: list[tuple[str, int, str]] = []
        people: list[tuple[list[str], int, str, bool]] = []
        emails: list[tuple[str, int, str]] = []
        phones: list[tuple[str, int, str]] = []
        for value, entity_type in values:
            size = len("".join(WORDS.findall(value)))
            folded = fold(value)
            words = split_words(folded)
            if size < _MIN_LEN or not words:
                continue
            self._by_first.setdefault(words[0], []).append((tuple(words), size, entity_type))
            compact = "".join(words)
            if len(compact) >= _MIN_COMPACT:
                self._compact.append((compact, size, entity_type))
            if entity_type == "PERSON":
                # A value written all in lowercase may be a run of everyday words the NER model took for a person
                # ("general competitor data"): its reorderings must hold every part ("keller, maria"), not two
                # of them ("sample competitor data"). Names with capitals, and scripts without case, keep all.
                people.append((words, size, entity_type, value.islower()))
            if "@" in folded:
                emails.append((folded, size, entity_type))
            if "PHONE" in entity_type:
                phones.append((value, size, entity_type))
        self._people = People(people)
        self._emails = Emails(emails)
        self._phones = Phones(phones)
        # A text none of whose words is one of these needs no word-by-word look.
        self._keys = frozenset(self._by_first) | self._people.keys()

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
            found = self._find_in(text)
            if found is not None:
                return found[1]
        return None

    def _find_in(self, text: str) -> tuple[int, str] | None:
        folded = fold(text)
        words = split_words(folded)
        best: tuple[int, str] | None = None
        if not self._keys.isdisjoint(words):
            by_first = self._by_first
            for i, word in enumerate(words):
                starts = by_first.get(word)
                if starts is None:
                    continue
                for seq, size, entity_type in starts:
                    if (best is None or size > best[0]) and tuple(words[i : i + len(seq)]) == seq:
                        best = (size, entity_type)
            if self._people:
                found = self._people.find(words, folded)
                if found is not None and (best is None or found[0] > best[0]):
                    best = found
        joined = "".join(words)
        if len(joined) >= _MIN_COMPACT:
            for compact, size, entity_type in self._compact:
                if (best is None or size > best[0]) and compact in joined:
                    best = (size, entity_type)
        for found in (
            self._emails.find(folded) if self._emails else None,
            self._phones.find(folded, joined) if self._phones else None,
        ):
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best

    def check(self, channel: str, payload: Any) -> None:
        """Raise `EgressBlocked` (naming the channel and entity type, never the value) on a match."""
        entity_type = self.find(payload)
        if entity_type is not None:
            raise EgressBlocked(
                f"blocked outbound {channel} payload: it carries a {entity_type} value of the job's PII vault",
                channel=channel,
                entity_type=entity_type,
            )

    def scrub(self, payload: Any) -> Any:
        """A JSON-like copy of the payload without vault values: such strings become `BLOCKED`, such keys go.

        Example:
            >>> EgressGuard([("Maria Keller", "PERSON")]).scrub({"to": "M. Keller", "n": 2, "Keller, Maria": 1})
            {'to': '<BLOCKED>', 'n': 2}
        """
        if payload is None or isinstance(payload, (bool, int, float)):
            return payload
        if isinstance(payload, str):
            return BLOCKED if self._find_in(payload) is not None else payload
        if isinstance(payload, (bytes, bytearray, memoryview)):
            return self.scrub(bytes(payload).decode("utf-8", errors="replace"))
        if isinstance(payload, BaseModel):
            return self.scrub(payload.model_dump(mode="json"))
        if isinstance(payload, Mapping):
            return {k: self.scrub(v) for k, v in payload.items() if not (isinstance(k, str) and self._find_in(k))}
        if isinstance(payload, Iterable):
            return [self.scrub(item) for item in payload]
        return self.scrub(str(payload))


class GuardRegistry:
    """This process's egress guards by job, the vault keyring to open vaults, and the vault retention.

    The orchestrator configures it with the keyring and registers a job's guard whenever the job's
    vault changes; the event store, log formatter and span exporter consult it. Unconfigured
    (no keyring), `register_vault` does nothing. At most the newest 256 jobs are kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: OrderedDict[str, EgressGuard] = OrderedDict()
        self._keyring: Keyring | None = None
        self._retention_days: int | None = None

    def configure(self, *, keyring: Keyring, retention_days: int | None = None) -> None:
        """Set the vault keyring (and the vault retention in days) of this process."""
        with self._lock:
            self._keyring, self._retention_days = keyring, retention_days

    def reset(self) -> None:
        """Forget the keyring, the retention and every guard (tests)."""
        with self._lock:
            self._guards.clear()
            self._keyring = self._retention_days = None

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
        """Open a job's vault with the configured keyring and register its guard (no keyring: nothing)."""
        if self._keyring is None or not blob:
            return None
        from actors.pii.vault import Vault  # cryptography only when a vault is opened

        guard = EgressGuard.from_vault(Vault.decrypt(blob, self._keyring, job_id))
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
            raise EgressBlocked(
                f"blocked outbound {channel} payload: it carries a {found} value of a job's PII vault",
                channel=channel,
                entity_type=found,
            )


_registry = GuardRegistry()


def guard_registry() -> GuardRegistry:
    """This process's registry."""
    return _registry
