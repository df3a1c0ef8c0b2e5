"""The raw brief at rest: sealed with its job's key, masked in the job store, fingerprinted by a keyed hash.

From submit until the redact step has run, a brief is kept three ways, none of them in clear:

- sealed (`seal_brief`): the brief as submitted, sealed for its job (purpose `raw_brief`); only
  a holder of the keyring opens it, and only for that job (`open_brief`, which validates again);
- masked (`mask_brief`): what the job record shows, every FREE_TEXT field (`schemas.pii_fields`)
  replaced by a marker that still validates; the redact step later writes the pseudonymized
  brief in its place;
- keyed fingerprint (`request_hashes`): the idempotency check's hash is an HMAC under a key derived
  from the keyring, so a stored hash cannot be matched against guessed briefs without the key.

The sealed copy is deleted with the job's vault when its retention ends (`retention.purge_expired`).

Example:
    >>> ring = Keyring([Keyring.generate()])
    >>> brief = Brief.model_validate({"product": {"name": "Oat milk"}, "markets": ["de"],
    ...     "audience": "Fans of maria@example.org", "questions": ["How big is it?"], "locale": "de_DE"})
    >>> masked = mask_brief(brief)
    >>> masked.audience, masked.questions, is_masked(masked)
    ('[withheld until redaction]', ['[withheld until redaction] #1'], True)
    >>> open_brief(ring, "job-1", seal_brief(ring, "job-1", brief)) == brief
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from actors.pii.keys import Keyring
from schemas import Brief, PiiClass, parse_brief, pii_fields

__all__ = ["RAW_BRIEF_PURPOSE", "WITHHELD", "is_masked", "mask_brief", "open_brief", "request_hashes", "seal_brief"]

RAW_BRIEF_PURPOSE = "raw_brief"
"""Seal purpose of a job's raw brief."""

WITHHELD = "[withheld until redaction]"
"""What a masked free-text field says (list items add ` #n`, so lists keep their length)."""

# Longer than any job id (36 characters), so no job's key is the idempotency hash key.
_HASH_KEY_ID = "mka/idempotency-request-hash/hmac-sha256/v1"


def _canonical(brief: Brief) -> bytes:
    return json.dumps(brief.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal_brief(keyring: Keyring, job_id: str, brief: Brief) -> bytes:
    """The brief as submitted, sealed for one job under the keyring's primary key."""
    return keyring.seal(job_id, _canonical(brief), purpose=RAW_BRIEF_PURPOSE)


def open_brief(keyring: Keyring, job_id: str, sealed: bytes) -> Brief:
    """Open a job's sealed raw brief and validate it again.

    Raises `SealError` for another job's blob, another purpose's, tampered data or an unknown key,
    and `InvalidBrief` when the contract no longer accepts the brief.
    """
    return parse_brief(json.loads(keyring.open(job_id, sealed, purpose=RAW_BRIEF_PURPOSE)))


def _free_text_paths() -> list[list[str]]:
    return [path.split(".") for path, cls in pii_fields(Brief).items() if cls is PiiClass.FREE_TEXT]


def _withhold(value: Any, number: int | None = None) -> Any:
    """Every string inside `value` replaced by the marker (empty strings stay empty: nothing to withhold)."""
    if isinstance(value, str):
        return value and (WITHHELD if number is None else f"{WITHHELD} #{number}")
    if isinstance(value, list):
        return [_withhold(item, i) for i, item in enumerate(value, start=1)]
    if isinstance(value, dict):
        return {key: _withhold(item) for key, item in value.items()}
    return value


def _free_text(data: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(containing mapping, field name) of every FREE_TEXT field present in a dumped brief."""
    found = []
    for path in _free_text_paths():
        node: Any = data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            found.append((node, path[-1]))
    return found


def mask_brief(brief: Brief) -> Brief:
    """A copy of the brief with every FREE_TEXT field withheld; every other field as it was.

    The markers satisfy each field's limits (non-empty where required, list lengths kept, list
    items distinct), so the masked brief is a valid `Brief`.
    """
    data = brief.model_dump(mode="json")
    for node, name in _free_text(data):
        node[name] = _withhold(node[name])
    return Brief.model_validate(data)


def is_masked(brief: Brief) -> bool:
    """Tell whether a brief still has withheld free text (the redact step has not replaced it yet)."""
    return any(text.startswith(WITHHELD) for node, name in _free_text(brief.model_dump(mode="json")) for text in _texts(node[name]))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    return []


def request_hashes(keyring: Keyring, brief: Brief, script: dict[str, Any] | None = None) -> list[str]:
    """The request's idempotency fingerprint under each master key, primary first (the first is stored).

    An HMAC-SHA256 of the canonical JSON under a key derived from the master key: without the key,
    a stored fingerprint says nothing about the brief. Older keys' fingerprints let a retry match a
    job submitted before a key rotation. The whole request counts: with a provider script, the brief
    and the script (a request without one hashes as before, so stored fingerprints still match).
    """
    data = _canonical(brief)
    if script is not None:
        data = json.dumps({"brief": json.loads(data), "providers_script": script}, sort_keys=True,
                          ensure_ascii=False, separators=(",", ":")).encode()
    return [hmac.new(keyring.job_key(_HASH_KEY_ID, master=k), data, hashlib.sha256).hexdigest() for k in keyring.keys]
