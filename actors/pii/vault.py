"""The per-job PII vault: original values ↔ `<TYPE_N>` placeholders, sealed per job at rest; its master keys.

Master keys (`load_keyring`) come from `MKA_VAULT_KEY` (comma-separated, newest first) or else the
key file `MKA_HOME/vault.key` (one key per line, newest first, mode 0600), generated on first use.

The key check: when a key is generated, or on the first load that finds no marker, the marker
`MKA_HOME/vault.keycheck` is written, a constant sealed under the primary key. A later load
refuses to start (`VaultKeyError`) when no key is configured but sealed data exists (the marker,
or any `jobs/*/vault.bin` in the filesystem object store), or when the keyring cannot open the
marker: a lost key is never silently replaced by a new one. Only a rotation
(`mka pii rotate-key`) re-seals the marker, after every job's blobs were re-sealed, so the marker
always names the oldest key still needed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.pii.keys import Keyring, SealError, VaultKeyError
from actors.pii.policy import PLACEHOLDER_RE, normalize
from schemas import AgentError

if TYPE_CHECKING:
    from cluster.settings import Settings

__all__ = [
    "KEYCHECK_FILE", "KEY_FILE", "VAULT_FORMAT", "VAULT_PURPOSE", "Vault", "VaultError", "VaultKeyError",
    "add_key", "load_keyring", "seal_keycheck",
]

VAULT_FORMAT = 1
"""Version of the `to_json()` document."""

VAULT_PURPOSE = "vault"
"""Seal purpose of a job's vault."""

KEY_FILE = "vault.key"
"""Master keys under `MKA_HOME`, one per line, newest first."""

KEYCHECK_FILE = "vault.keycheck"
"""Marker under `MKA_HOME`: a constant sealed under the oldest master key still needed."""

_KEYCHECK_JOB = "mka-keycheck"  # no job has this id (job ids are uuids)
_KEYCHECK_PURPOSE = "keycheck"
_KEYCHECK_TEXT = b"mka vault keycheck v1"
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

    def encrypt(self, keyring: Keyring, job_id: str) -> bytes:
        """Return the vault sealed for `job_id` under the keyring's newest key (what is stored at rest)."""
        return keyring.seal(job_id, self.to_json().encode(), purpose=VAULT_PURPOSE)

    @classmethod
    def decrypt(cls, token: bytes, keyring: Keyring, job_id: str) -> Vault:
        """Open a blob from `encrypt()`; raise `VaultError` for another job's vault, an unknown key or tampering."""
        try:
            plain = keyring.open(job_id, token, purpose=VAULT_PURPOSE)
        except SealError as exc:
            raise VaultError(exc.message) from exc
        return cls.from_json(plain)


def _key(value: str, entity_type: str) -> str:
    norm = normalize(value)
    if entity_type in _NUMBERISH:
        return _SEPARATORS.sub("", norm)
    if entity_type in _NAMES:  # "MARIA-KELLER" is "Maria Keller"
        return " ".join(part for part in re.split(r"[\s\-_.]+", norm) if part)
    return norm


_ENV = "MKA_VAULT_KEY"
_NEW_KEY_HINT = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def load_keyring(settings: Settings) -> Keyring:
    """The master keyring: `MKA_VAULT_KEY`, else the key file (generated on first use), key-checked.

    Raises `VaultKeyError` for a malformed key, for a missing key while sealed data exists (never a
    silent new key), and for keys that do not open the key check.
    """
    home = Path(settings.home)
    found = _configured_keys(settings)
    if found is None:
        _refuse_if_sealed_data(settings)
        _write_private(home / KEY_FILE, Keyring.generate() + b"\n", replace=False)  # another process's key may win
        found = _configured_keys(settings)
        assert found is not None
    keys, origin = found
    try:
        keyring = Keyring(keys)
    except VaultKeyError as exc:
        raise VaultKeyError(f"{exc.message} (from {origin}; one url-safe base64 key per entry, newest first)") from exc
    _check_keys(settings, keyring, origin)
    return keyring


def add_key(settings: Settings) -> Keyring:
    """Generate a master key and put it first in the key file; return the new keyring (rotation).

    Blobs sealed under the older keys still open; re-seal them, then `seal_keycheck`. Refused with
    `VaultKeyError` when the keys come from `MKA_VAULT_KEY`, which only the operator can change.
    """
    if _env_keys(settings):
        raise VaultKeyError(
            f"the vault keys come from {_ENV}, which this command cannot change: prepend a new key to it "
            f"({_ENV}=<new>,<old>; make one with `{_NEW_KEY_HINT}`), restart every process, "
            "then run `mka pii rotate-key --reseal-only`"
        )
    keyring = Keyring([Keyring.generate(), *load_keyring(settings).keys])
    _write_private(Path(settings.home) / KEY_FILE, b"".join(k + b"\n" for k in keyring.keys), replace=True)
    return keyring


def seal_keycheck(settings: Settings, keyring: Keyring) -> None:
    """Re-seal the key check under the primary key: call only once every older blob is re-sealed."""
    _write_private(Path(settings.home) / KEYCHECK_FILE, _keycheck(keyring), replace=True)


def _env_keys(settings: Settings) -> list[bytes]:
    raw = settings.vault_key.get_secret_value() if settings.vault_key is not None else ""
    return [part.strip().encode() for part in raw.split(",") if part.strip()]


def _configured_keys(settings: Settings) -> tuple[list[bytes], str] | None:
    """The keys and where they come from; None when neither the variable nor the key file exists."""
    if keys := _env_keys(settings):
        return keys, _ENV
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        return None
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()], str(path)


def _keycheck(keyring: Keyring) -> bytes:
    return keyring.seal(_KEYCHECK_JOB, _KEYCHECK_TEXT, purpose=_KEYCHECK_PURPOSE)


def _sealed_sample(settings: Settings) -> Path | None:
    """Some vault in the filesystem object store, if there is one (S3 stores rely on the marker)."""
    jobs = Path(settings.artifacts_dir) / "jobs"
    return next(jobs.glob("*/vault.bin"), None) if jobs.is_dir() else None


def _refuse_if_sealed_data(settings: Settings) -> None:
    home = Path(settings.home)
    marker = home / KEYCHECK_FILE
    found = marker if marker.exists() else _sealed_sample(settings)
    # A key file that appeared meanwhile is another process's first start (it writes the key before the marker).
    if found is not None and not (home / KEY_FILE).exists():
        raise VaultKeyError(
            f"no vault key: {_ENV} is unset and {home / KEY_FILE} is missing, but sealed PII data exists ({found}). "
            f"Restore {KEY_FILE} from a backup (one key per line, newest first, mode 0600) or set {_ENV} to the "
            "keys (comma-separated, newest first); a new key would leave every existing vault unreadable, "
            "so none is generated"
        )


def _check_keys(settings: Settings, keyring: Keyring, origin: str) -> None:
    """Open the key check (or, before there is one, a stored vault), then write a missing key check."""
    marker = Path(settings.home) / KEYCHECK_FILE
    restore = (
        f"restore the key file from a backup or set {_ENV} to the original keys (comma-separated, newest first); "
        f"never delete {marker.name} to get past this: every vault sealed before would stay unreadable"
    )
    if marker.exists():
        try:
            keyring.open(_KEYCHECK_JOB, marker.read_bytes(), purpose=_KEYCHECK_PURPOSE)
        except SealError as exc:
            raise VaultKeyError(
                f"the vault keys from {origin} ({len(keyring.keys)}) do not open {marker}: sealed data needs a "
                f"master key they lack; {restore}"
            ) from exc
        return
    sample = _sealed_sample(settings)
    if sample is not None:
        try:
            keyring.open(sample.parent.name, sample.read_bytes(), purpose=VAULT_PURPOSE)
        except SealError as exc:
            raise VaultKeyError(f"the vault keys from {origin} do not open the stored vault {sample}; {restore}") from exc
    try:
        _write_private(marker, _keycheck(keyring), replace=False)
    except OSError:
        pass  # a read-only home: no key check, as before it existed


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    from cluster.private_files import write_private

    write_private(path, data, replace=replace)
