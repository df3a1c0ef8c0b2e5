"""The per-job PII vault: original values ↔ `<TYPE_N>` placeholders, Fernet-encrypted at rest."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken

from actors.pii.policy import PLACEHOLDER_RE, normalize
from schemas import AgentError

if TYPE_CHECKING:
    from cluster.settings import Settings

__all__ = ["VAULT_FORMAT", "Vault", "VaultError", "load_vault_key"]

VAULT_FORMAT = 1
"""Version of the `to_json()` document."""

_KEY_FILE = "vault.key"
_SEPARATORS = re.compile(r"[\s\-./()]")
_NUMBERISH = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE"})
_NAMES = frozenset({"PERSON", "LOCATION"})


class VaultError(AgentError):
    """A vault could not be decrypted or parsed (wrong key, tampered or foreign data)."""

    code = "vault_error"


@dataclass
class _Entry:
    placeholder: str
    type: str
    values: list[str] = field(default_factory=list)  # surface forms in order of first appearance


class Vault:
    """Placeholders of one job, numbered per type in order of first appearance; one vault per job.

    Not thread-safe: a job's PII agent owns it.

    Example:
        >>> vault = Vault()
        >>> vault.placeholder_for("Maria Keller", "PERSON"), vault.placeholder_for("maria  KELLER", "PERSON")
        ('<PERSON_1>', '<PERSON_1>')
        >>> vault.reidentify("Hello <PERSON_1>")
        'Hello Maria Keller'
    """

    def __init__(self) -> None:
        self._by_key: dict[str, _Entry] = {}
        self._by_placeholder: dict[str, _Entry] = {}
        self._counters: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def placeholder_for(self, value: str, entity_type: str) -> str:
        """Return the placeholder of a value, allocating `<TYPE_N>` the first time it is seen."""
        key = _key(value, entity_type)
        entry = self._by_key.get(key)
        if entry is None:
            number = self._counters.get(entity_type, 0) + 1
            self._counters[entity_type] = number
            entry = _Entry(placeholder=f"<{entity_type}_{number}>", type=entity_type)
            self._by_placeholder[entry.placeholder] = entry
            self._by_key[key] = entry
        if value not in entry.values:
            entry.values.append(value)
        return entry.placeholder

    def lookup(self, value: str) -> str | None:
        """Return the placeholder of a known value (any case or spacing), or None."""
        norm = normalize(value)
        entry = (
            self._by_key.get(norm)
            or self._by_key.get(_SEPARATORS.sub("", norm))
            or self._by_key.get(" ".join(re.split(r"[\s\-_.]+", norm)))  # "MARIA-KELLER"
        )
        return entry.placeholder if entry else None

    def values(self) -> frozenset[str]:
        """Every original value seen (all surface forms): what must never leave the process."""
        return frozenset(v for entry in self._by_placeholder.values() for v in entry.values)

    def entries(self) -> list[tuple[str, str]]:
        """Every original value seen, with its entity type (what the egress guard looks for)."""
        return [(v, entry.type) for entry in self._by_placeholder.values() for v in entry.values]

    def placeholders(self) -> dict[str, str]:
        """Map each placeholder to its entity type."""
        return {p: entry.type for p, entry in self._by_placeholder.items()}

    def reidentify(self, text: str) -> str:
        """Put the first-seen original back in place of every known placeholder."""

        def original(match: re.Match[str]) -> str:
            entry = self._by_placeholder.get(match.group(0))
            return entry.values[0] if entry else match.group(0)

        return PLACEHOLDER_RE.sub(original, text)

    def to_json(self) -> str:
        """Serialize the mapping (plaintext PII: encrypt before storing)."""
        entries = [
            {"placeholder": e.placeholder, "type": e.type, "values": list(e.values)}
            for e in self._by_placeholder.values()
        ]
        return json.dumps({"format": VAULT_FORMAT, "entries": entries}, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> Vault:
        """Rebuild a vault from `to_json()` output."""
        try:
            doc: Any = json.loads(data)
            if doc.get("format") != VAULT_FORMAT:
                raise ValueError(f"unsupported vault format {doc.get('format')!r}")
            vault = cls()
            for raw in doc["entries"]:
                match = PLACEHOLDER_RE.fullmatch(raw["placeholder"])
                if match is None or match.group(1) != raw["type"] or not raw["values"]:
                    raise ValueError(f"bad vault entry {raw['placeholder']!r}")
                entry = _Entry(placeholder=raw["placeholder"], type=raw["type"], values=[str(v) for v in raw["values"]])
                vault._by_placeholder[entry.placeholder] = entry
                for value in entry.values:
                    vault._by_key[_key(value, entry.type)] = entry
                vault._counters[entry.type] = max(vault._counters.get(entry.type, 0), int(match.group(2)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VaultError(f"not a PII vault document: {exc}") from exc
        return vault

    def encrypt(self, key: bytes) -> bytes:
        """Return the vault as a Fernet token (what is stored at rest)."""
        return Fernet(key).encrypt(self.to_json().encode())

    @classmethod
    def decrypt(cls, token: bytes, key: bytes) -> Vault:
        """Decrypt a token from `encrypt()`; raise `VaultError` on a wrong key or tampered token."""
        try:
            plain = Fernet(key).decrypt(token)
        except (InvalidToken, ValueError, TypeError) as exc:
            raise VaultError("cannot decrypt PII vault: wrong key or tampered data") from exc
        return cls.from_json(plain)


def _key(value: str, entity_type: str) -> str:
    norm = normalize(value)
    if entity_type in _NUMBERISH:
        return _SEPARATORS.sub("", norm)
    if entity_type in _NAMES:  # "MARIA-KELLER" is "Maria Keller"
        return " ".join(part for part in re.split(r"[\s\-_.]+", norm) if part)
    return norm


def load_vault_key(settings: Settings) -> bytes:
    """Return the Fernet key: `settings.vault_key`, else one generated once under `settings.home` (0600)."""
    if settings.vault_key is not None and settings.vault_key.get_secret_value():
        key = settings.vault_key.get_secret_value().encode()
        _check_key(key, "MKA_VAULT_KEY")
        return key
    path = Path(settings.home) / _KEY_FILE
    if not path.exists():
        _create_key_file(path)
    key = path.read_bytes().strip()
    _check_key(key, str(path))
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key atomically: a complete 0600 file appears, or another process's key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
        os.link(tmp, path)  # fails if the key exists: never replace a key vaults were encrypted with
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def _check_key(key: bytes, origin: str) -> None:
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise VaultError(f"vault key from {origin} is not a Fernet key (32 url-safe base64 bytes)") from exc
