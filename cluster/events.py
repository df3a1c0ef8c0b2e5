"""Event verification for consumers: signature, headers, subject and replay checks on one event at a time.

`verify` checks one event as it arrived (NATS data, headers and subject, or an outbox row) and
returns a `Verdict`. An `EventVerifier` keeps the replay window between calls: an event id seen
before, or a sequence older than the newest one seen minus the window, is a replay. JetStream
delivers at least once, so a consumer that did not ack sees a message again: the verifier calls
that a replay too (ack it and drop it); a consumer that failed to process a verified event and
naks it calls `forget(event_id)` first, so the redelivery is checked afresh.

Example:
    >>> from cluster.signing import KeySet, SigningKey
    >>> key = SigningKey.generate()
    >>> event = key.sign({"id": "e1", "type": "job.submitted", "job_id": "j1", "project": "default",
    ...                   "occurred_at": "2026-12-01T00:00:00Z", "schema_version": "1.1", "sequence": 1,
    ...                   "payload": {}})
    >>> verifier = EventVerifier(KeySet([key.public]))
    >>> verifier.verify(event).ok, verifier.verify(event).reason
    (True, 'replayed')
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from schemas import event_subject, parse_event
from schemas.events import UnsupportedEventVersion

if TYPE_CHECKING:
    from actors.job_store import OutboxMessage
    from cluster.signing import KeySet

__all__ = ["VERIFIED", "EventVerifier", "Verdict", "check_stored", "verify"]

VERIFIED = "verified"
DEFAULT_WINDOW = 4096

# Headers the relay sets from the signed envelope; a header that disagrees with it was changed on the way.
_HEADER_FIELDS = {"Nats-Msg-Id": "id", "Mka-Event-Type": "type", "Mka-Correlation-Id": "job_id",
                  "Mka-Key-Id": "key_id", "Mka-Signature": "signature"}


@dataclass(frozen=True)
class Verdict:
    """The outcome for one event: `reason` is None when it verified."""

    event_id: str | None
    reason: str | None
    sequence: int | None = None
    type: str | None = None

    @property
    def ok(self) -> bool:
        """True when the event verified."""
        return self.reason is None

    @property
    def status(self) -> str:
        """`verified`, or why not."""
        return self.reason or VERIFIED

    def to_dict(self) -> dict[str, Any]:
        """As JSON data."""
        return {"id": self.event_id, "type": self.type, "sequence": self.sequence, "status": self.status}


class EventVerifier:
    """Verifies events in arrival order and remembers the last `window` of them to refuse replays."""

    def __init__(self, keys: KeySet, *, window: int = DEFAULT_WINDOW) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.keys = keys
        self.window = window
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._highest = 0

    def verify(self, data: bytes | str | Mapping[str, Any], *, headers: Mapping[str, str] | None = None,
               subject: str | None = None) -> Verdict:
        """Check one event (and, when given, the headers and subject it arrived with); a verified one is remembered."""
        verdict, envelope = _check(self.keys, data, headers, subject)
        if not verdict.ok:
            return verdict
        event_id, sequence = str(envelope["id"]), envelope.get("sequence")
        if event_id in self._seen:
            return _with(verdict, "replayed")
        if not isinstance(sequence, int) or sequence < 1:
            return _with(verdict, "no sequence")
        if sequence <= self._highest - self.window:
            return _with(verdict, "replayed (older than the replay window)")
        self._seen[event_id] = None
        if len(self._seen) > self.window:
            self._seen.popitem(last=False)
        self._highest = max(self._highest, sequence)
        return verdict

    def forget(self, event_id: str) -> None:
        """Let a verified event through once more: call it when processing failed and the message is nak'ed, so
        its redelivery is not taken for a replay."""
        self._seen.pop(event_id, None)


def verify(data: bytes | str | Mapping[str, Any], keys: KeySet, *, headers: Mapping[str, str] | None = None,
           subject: str | None = None, verifier: EventVerifier | None = None) -> Verdict:
    """Check one event against `keys`: signed by a known key, untampered, headers and subject matching it, and
    (with a `verifier`, which keeps the window) not a replay."""
    if verifier is not None:
        return verifier.verify(data, headers=headers, subject=subject)
    return _check(keys, data, headers, subject)[0]


def check_stored(message: OutboxMessage, keys: KeySet) -> Verdict:
    """Check an outbox row as stored: its signature, and that it sits at the sequence it was signed at."""
    verdict = verify(message.event.model_dump(mode="json"), keys, headers=message.headers, subject=message.subject)
    if verdict.ok and message.event.sequence != message.seq:
        return _with(verdict, "sequence mismatch (moved or copied row)")
    return verdict


def _check(keys: KeySet, data: bytes | str | Mapping[str, Any], headers: Mapping[str, str] | None,
           subject: str | None) -> tuple[Verdict, dict[str, Any]]:
    try:
        envelope = json.loads(data) if isinstance(data, (bytes, str)) else dict(data)
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError):
        return Verdict(None, "malformed"), {}
    if not isinstance(envelope, dict):
        return Verdict(None, "malformed"), {}
    sequence = envelope.get("sequence")
    verdict = Verdict(_text(envelope.get("id")), None, sequence if isinstance(sequence, int) else None,
                      _text(envelope.get("type")))
    reason = keys.check(envelope)
    if reason is not None:
        return _with(verdict, reason), envelope
    try:
        event = parse_event(envelope)
    except (ValidationError, UnsupportedEventVersion):
        return _with(verdict, "malformed"), envelope
    if headers is not None:
        changed = [h for h, field in _HEADER_FIELDS.items() if h in headers and headers[h] != envelope.get(field)]
        missing = [h for h in ("Mka-Key-Id", "Mka-Signature") if h not in headers]
        if changed or missing:
            return _with(verdict, f"headers do not match the signed event ({', '.join(changed + missing)})"), envelope
    if subject is not None and subject != event_subject(event.project, event.job_id, event.type):
        return _with(verdict, "subject does not match the signed event"), envelope
    return verdict, envelope


def _with(verdict: Verdict, reason: str) -> Verdict:
    return Verdict(verdict.event_id, reason, verdict.sequence, verdict.type)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
