"""PII, first level: Presidio (offline spaCy engine) tags PII; a per-job vault swaps it for placeholders.

Example:
    >>> from actors.pii import PiiAgent, Vault, redact_text
    >>> redact_text("Call Maria Keller on +49 170 1234567")["redacted"]
    'Call <PERSON_1> on <PHONE_NUMBER_1>'
"""

from __future__ import annotations

from actors.pii.agent import PiiAgent, brief_allow_list, country_names
from actors.pii.analyzer import (
    DEFAULT_ENTITIES,
    SPACY_MODEL,
    PiiEngineUnavailable,
    build_analyzer,
    get_analyzer,
)
from actors.pii.policy import DEFAULT_MIN_SCORE, AllowList, clean_entities
from actors.pii.pseudonymize import (
    KNOWN_VALUE_SCORE,
    apply_placeholders,
    detect,
    detect_many,
    known_values,
    pseudonymize,
    pseudonymize_many,
    redact_text,
)
from actors.pii.vault import Vault, VaultError, load_vault_key

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_MIN_SCORE",
    "KNOWN_VALUE_SCORE",
    "SPACY_MODEL",
    "AllowList",
    "PiiAgent",
    "PiiEngineUnavailable",
    "Vault",
    "VaultError",
    "apply_placeholders",
    "brief_allow_list",
    "build_analyzer",
    "clean_entities",
    "country_names",
    "detect",
    "detect_many",
    "get_analyzer",
    "known_values",
    "load_vault_key",
    "pseudonymize",
    "pseudonymize_many",
    "redact_text",
]
