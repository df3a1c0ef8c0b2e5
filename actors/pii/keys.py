"""Vault keys: a master keyring (newest first), per-job keys derived by HKDF, and job-bound sealing.

Every secret at rest that belongs to one job (its PII vault, its raw brief) is sealed with a key
derived from the master key and the job id (HKDF-SHA256), with AES-GCM and the job id and purpose
as authenticated data: a blob copied to another job, or used for another purpose, fails to open.
A sealed blob names the master key it was sealed under (an 8-byte key id), so after a rotation the
keyring opens old blobs with the old key while new ones use the newest.

Example:
    >>> ring = Keyring([Keyring.generate()])
    >>> ring.open("job-1", ring.seal("job-1", b"secret"))
    b'secret'
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from schemas import AgentError

__all__ = ["MAGIC", "Keyring", "SealError", "VaultKeyError", "key_id"]

MAGIC = b"MKV2"
"""Prefix of a sealed blob (format 2: key id, nonce, AES-GCM ciphertext)."""

_ID_LEN = 8
_NONCE_LEN = 12
_SALT = b"mka-pii-vault-v2"


class SealError(AgentError):
    """A sealed blob could not be opened: another job's, another purpose's, tampered, or an unknown key."""

    code = "vault_error"
    retryable = False


class VaultKeyError(AgentError):
    """The master key is missing or malformed; retrying will not help."""

    code = "vault_key_error"
    retryable = False


def _raw(master: bytes) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(master)
    except (ValueError, TypeError) as exc:
        raise VaultKeyError("vault master key is not url-safe base64") from exc
    if len(raw) != 32:
        raise VaultKeyError("vault master key must be 32 bytes (a Fernet key)")
    return raw


def key_id(master: bytes) -> bytes:
    """The 8-byte id of a master key (a hash prefix; it reveals nothing of the key)."""
    return hashlib.sha256(b"mka-key-id:" + _raw(master)).digest()[:_ID_LEN]


def _aad(purpose: str, job_id: str) -> bytes:
    if not purpose or ":" in purpose:
        raise ValueError(f"invalid seal purpose {purpose!r}: non-empty, without ':'")
    return f"{purpose}:{job_id}".encode()


class Keyring:
    """Master keys, newest first: the first seals, every one opens (what `MultiFernet` is for Fernet)."""

    def __init__(self, keys: Iterable[bytes]) -> None:
        self.keys: tuple[bytes, ...] = tuple(k.strip() for k in keys if k and k.strip())
        if not self.keys:
            raise VaultKeyError("the vault keyring is empty")
        self._by_id = {key_id(k): k for k in self.keys}

    def __repr__(self) -> str:
        return f"Keyring(key ids {[key_id(k).hex() for k in self.keys]})"  # never the keys

    @staticmethod
    def generate() -> bytes:
        """A new random master key (Fernet format: 32 url-safe base64 bytes)."""
        return Fernet.generate_key()

    @property
    def primary(self) -> bytes:
        """The key new blobs are sealed with."""
        return self.keys[0]

    @property
    def primary_id(self) -> str:
        """Hex id of the primary key (safe to print and log)."""
        return key_id(self.primary).hex()

    def job_key(self, job_id: str, *, master: bytes | None = None) -> bytes:
        """The 32-byte key of one job under a master key (default: the primary)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=b"job:" + job_id.encode())
        return hkdf.derive(_raw(master or self.primary))

    def seal(self, job_id: str, plaintext: bytes, *, purpose: str = "vault") -> bytes:
        """Encrypt `plaintext` for one job and purpose under the primary key."""
        nonce = os.urandom(_NONCE_LEN)
        body = AESGCM(self.job_key(job_id)).encrypt(nonce, plaintext, _aad(purpose, job_id))
        return MAGIC + key_id(self.primary) + nonce + body

    def open(self, job_id: str, token: bytes, *, purpose: str = "vault") -> bytes:
        """Decrypt a blob sealed for this job and purpose; raise `SealError` otherwise.

        Blobs from before per-job keys (plain Fernet tokens under a master key) still open, for
        the vault only, so existing vaults survive the upgrade; `rotate` re-seals them.
        """
        token, aad = bytes(token), _aad(purpose, job_id)
        if not token.startswith(MAGIC):
            if purpose != "vault":
                raise SealError(f"not a sealed {purpose} blob")
            try:
                return MultiFernet([Fernet(k) for k in self.keys]).decrypt(token)
            except (InvalidToken, ValueError, TypeError) as exc:
                raise SealError("cannot decrypt PII vault: wrong key or tampered data") from exc
        head = len(MAGIC)
        kid = token[head : head + _ID_LEN]
        nonce, body = token[head + _ID_LEN : head + _ID_LEN + _NONCE_LEN], token[head + _ID_LEN + _NONCE_LEN :]
        master = self._by_id.get(kid)
        if master is None:
            raise SealError(f"cannot decrypt {purpose}: sealed under a master key this keyring does not hold")
        try:
            return AESGCM(self.job_key(job_id, master=master)).decrypt(nonce, body, aad)
        except (InvalidTag, ValueError) as exc:
            raise SealError(f"cannot decrypt {purpose} of job {job_id}: another job's blob, or tampered data") from exc

    def needs_rotation(self, token: bytes) -> bool:
        """Tell whether a blob is sealed under an older key (or in the old format)."""
        token = bytes(token)
        return not token.startswith(MAGIC) or token[len(MAGIC) : len(MAGIC) + _ID_LEN] != key_id(self.primary)

    def rotate(self, job_id: str, token: bytes, *, purpose: str = "vault") -> bytes:
        """Re-seal a blob under the primary key (unchanged content)."""
        return self.seal(job_id, self.open(job_id, token, purpose=purpose), purpose=purpose)
