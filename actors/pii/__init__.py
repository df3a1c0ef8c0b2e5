"""PII: tag it (Presidio, offline spaCy), swap it for vault placeholders, and guard every egress.

Names load lazily, so `actors.pii.guard` (imported by logging, tracing and the event store)
does not pull in spaCy and Presidio.

Example:
    >>> from actors.pii import PiiAgent, Vault, redact_text
    >>> redact_text("Call Maria Keller on +49 170 1234567")["redacted"]
    'Call <PERSON_1> on <PHONE_NUMBER_1>'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.pii.agent import PiiAgent, brief_allow_list, country_names
    from actors.pii.analyzer import SPACY_MODEL, PiiAnalyzer, PiiEngineUnavailable, build_analyzer, get_analyzer
    from actors.pii.config import DEFAULT_ENTITIES, DEFAULT_MIN_SCORES, PiiConfig
    from actors.pii.guard import EgressBlocked, EgressGuard, GuardRegistry, guard_registry
    from actors.pii.policy import DEFAULT_MIN_SCORE, AllowList, clean_entities
    from actors.pii.redaction import (
        KNOWN_VALUE_SCORE,
        apply_placeholders,
        detect,
        detect_many,
        known_values,
        pseudonymize,
        pseudonymize_many,
        redact_many,
        redact_text,
    )
    from actors.pii.retention import PurgeResult, purge_expired
    from actors.pii.readers import load_job_vault, reveal, reveal_model
    from actors.pii.keys import Keyring, SealError, VaultKeyError
    from actors.pii.rotation import RotationResult, reseal_jobs, rotate_key
    from actors.pii.vault import Vault, VaultError, load_keyring

_WHERE = {
    "DEFAULT_ENTITIES": "config",
    "DEFAULT_MIN_SCORE": "policy",
    "DEFAULT_MIN_SCORES": "config",
    "KNOWN_VALUE_SCORE": "redaction",
    "SPACY_MODEL": "analyzer",
    "AllowList": "policy",
    "EgressBlocked": "guard",
    "EgressGuard": "guard",
    "GuardRegistry": "guard",
    "Keyring": "keys",
    "PiiAgent": "agent",
    "PiiAnalyzer": "analyzer",
    "PiiConfig": "config",
    "PiiEngineUnavailable": "analyzer",
    "PurgeResult": "retention",
    "RotationResult": "rotation",
    "SealError": "keys",
    "Vault": "vault",
    "VaultError": "vault",
    "VaultKeyError": "keys",
    "apply_placeholders": "redaction",
    "brief_allow_list": "agent",
    "build_analyzer": "analyzer",
    "clean_entities": "policy",
    "country_names": "agent",
    "detect": "redaction",
    "detect_many": "redaction",
    "get_analyzer": "analyzer",
    "guard_registry": "guard",
    "known_values": "redaction",
    "load_job_vault": "readers",
    "load_keyring": "vault",
    "pseudonymize": "redaction",
    "pseudonymize_many": "redaction",
    "purge_expired": "retention",
    "redact_many": "redaction",
    "redact_text": "redaction",
    "reseal_jobs": "rotation",
    "reveal": "readers",
    "reveal_model": "readers",
    "rotate_key": "rotation",
}

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_MIN_SCORES",
    "KNOWN_VALUE_SCORE",
    "SPACY_MODEL",
    "AllowList",
    "EgressBlocked",
    "EgressGuard",
    "GuardRegistry",
    "Keyring",
    "PiiAgent",
    "PiiAnalyzer",
    "PiiConfig",
    "PiiEngineUnavailable",
    "PurgeResult",
    "RotationResult",
    "SealError",
    "Vault",
    "VaultError",
    "VaultKeyError",
    "apply_placeholders",
    "brief_allow_list",
    "build_analyzer",
    "clean_entities",
    "country_names",
    "detect",
    "detect_many",
    "get_analyzer",
    "guard_registry",
    "known_values",
    "load_job_vault",
    "load_keyring",
    "pseudonymize",
    "pseudonymize_many",
    "purge_expired",
    "redact_many",
    "redact_text",
    "reseal_jobs",
    "reveal",
    "reveal_model",
    "rotate_key",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'actors.pii' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"actors.pii.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
