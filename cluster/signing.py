"""Event signing: Ed25519 keys (active and retired), the canonical form an event is signed over, sign and check.

An event is signed over the RFC 8785 (JCS) canonical JSON of the envelope's `SIGNED_FIELDS`: id,
type, job, project, time, schema version, payload, sequence and the `key_id` itself, so a signature
cannot be moved to another key, event or position. Fields a view adds around an event (`seq`,
`verification`, `subject`) are not covered, so the portal's and the CLI's JSON still verifies. The signature is base64url without
padding; `key_id` is `ed25519-` and the first 16 hex digits of the SHA-256 of the raw public key.

Keys: `MKA_SIGNING_KEY` (a PEM private key, or the path of one) is the active key; without it the
key in `MKA_HOME/signing_key.pem` (0600) is used, generated on first use. Public keys of retired
keys stay in `MKA_HOME/signing_public_keys.pem` (newest first), so events signed before a
rotation still verify. Only public keys leave the process (`GET /v1/signing-keys`, `mka keys
export-public`).

Example:
    >>> key = SigningKey.generate()
    >>> envelope = {"id": "e1", "type": "job.submitted", "payload": {}}
    >>> signed = key.sign(envelope)
    >>> KeySet([key.public]).check(signed) is None
    True
    >>> KeySet([key.public]).check({**signed, "payload": {"x": 1}})
    'bad signature'
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cluster.private_files import private_file, write_private
from schemas import MkaError

if TYPE_CHECKING:
    from cluster.settings import Settings

__all__ = [
    "PUBLIC_FILE",
    "SIGNED_FIELDS",
    "SIGNING_FILE",
    "KeySet",
    "PublicKey",
    "SigningKey",
    "SigningKeyError",
    "canonical",
    "load_keyset",
    "load_signing_key",
    "pin_signing_key",
    "rotate_signing_key",
]

SIGNING_FILE = "signing_key.pem"
PUBLIC_FILE = "signing_public_keys.pem"
_ENV = "MKA_SIGNING_KEY"
_PEM_BEGIN = b"-----BEGIN "


class SigningKeyError(MkaError):
    """A signing key cannot be read, made or rotated."""

    code = "signing_key_error"


SIGNED_FIELDS = ("id", "type", "job_id", "project", "occurred_at", "schema_version", "payload", "sequence", "key_id")
"""The envelope fields a signature covers (event schema 1.1); a field a later version adds must join them with it."""


def canonical(envelope: dict[str, Any]) -> bytes:
    """The bytes an event is signed over: RFC 8785 canonical JSON of the envelope's `SIGNED_FIELDS`."""
    return rfc8785.dumps({k: envelope[k] for k in SIGNED_FIELDS if k in envelope})


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PublicKey:
    """A public verification key and its id."""

    key_id: str
    key: Ed25519PublicKey

    @classmethod
    def of(cls, key: Ed25519PublicKey) -> PublicKey:
        """The public key with its derived id."""
        return cls(_key_id(key), key)

    def pem(self) -> bytes:
        """The key as a SubjectPublicKeyInfo PEM block."""
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict[str, str]:
        """The key as an RFC 8037 OKP JWK (`kid` is the key id)."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.key_id, "x": _b64(raw)}


@dataclass(frozen=True)
class SigningKey:
    """The private key events are signed with."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes, *, origin: str) -> SigningKey:
        """Read a PEM (PKCS#8) Ed25519 private key; `SigningKeyError` names `origin` when it is not one."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            # `from None`: the parser's error may quote the key material, and a traceback would print it
            raise SigningKeyError(f"the signing key from {origin} is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"the signing key from {origin} is not an Ed25519 key")
        return cls(key)

    @property
    def public(self) -> PublicKey:
        """Its public half."""
        return PublicKey.of(self.private.public_key())

    @property
    def key_id(self) -> str:
        """The id events signed with it carry."""
        return self.public.key_id

    def pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (written only to 0600 files)."""
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def sign(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The envelope with this key's `key_id` and the `signature` over both."""
        body = {**envelope, "key_id": self.key_id}
        body.pop("signature", None)
        return {**body, "signature": _b64(self.private.sign(canonical(body)))}


class KeySet:
    """The public keys events may be signed with, by id (active and retired)."""

    def __init__(self, keys: list[PublicKey]) -> None:
        self._keys = {k.key_id: k for k in keys}
        self.ids = [k.key_id for k in keys]  # newest first

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def get(self, key_id: str) -> PublicKey | None:
        """The key with this id, if known."""
        return self._keys.get(key_id)

    def check(self, envelope: dict[str, Any]) -> str | None:
        """Why the envelope's signature does not hold ('unsigned', 'unknown key', 'bad signature'), or None."""
        signature, key_id = envelope.get("signature"), envelope.get("key_id")
        if not signature or not key_id:
            return "unsigned"
        key = self._keys.get(str(key_id))
        if key is None:
            return "unknown key"
        try:
            key.key.verify(_unb64(str(signature)), canonical(envelope))
        except (InvalidSignature, binascii.Error, ValueError, rfc8785.CanonicalizationError):
            return "bad signature"
        return None

    def jwks(self, active: str | None = None) -> dict[str, Any]:
        """The keys as a JWK set; each says whether it is the `active` one or `retired`."""
        return {"keys": [{**self._keys[i].jwk(), "status": "active" if i == active else "retired"} for i in self.ids]}


def _env_key(settings: Settings) -> SigningKey | None:
    raw = settings.signing_key.get_secret_value().strip() if settings.signing_key is not None else ""
    if not raw:
        return None
    if raw.encode().startswith(_PEM_BEGIN):
        return SigningKey.from_pem(raw.encode(), origin=_ENV)
    try:
        data = Path(raw).expanduser().read_bytes()
    except (OSError, ValueError) as exc:
        # The value may be a key in another encoding: never quote it, nor chain an error that does.
        raise SigningKeyError(f"{_ENV} is neither a PEM key nor a readable file ({type(exc).__name__})") from None
    return SigningKey.from_pem(data, origin=f"{_ENV} (a file)")


def load_signing_key(settings: Settings, *, create: bool = True) -> SigningKey:
    """The active signing key: `MKA_SIGNING_KEY`, else `MKA_HOME/signing_key.pem`, generated (0600) on first use
    when `create` (a process that only verifies never makes a key: `SigningKeyError` instead)."""
    key = _env_key(settings)
    if key is not None:
        return key
    path = Path(settings.home) / SIGNING_FILE
    if not path.exists():
        if not create:
            raise SigningKeyError(
                f"no signing key here: {_ENV} is unset and MKA_HOME has no {SIGNING_FILE}; run this where the "
                f"deployment's key is, or set {_ENV} (verification needs the keys events were signed with)"
            )
        write_private(path, SigningKey.generate().pem(), replace=False)  # another process's key may win
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the signing key {path.name} under MKA_HOME ({type(exc).__name__})") from None
    return SigningKey.from_pem(data, origin=str(path))


def pin_signing_key(settings: Settings) -> Settings:
    """The settings with the active key in `signing_key`, so processes started from them (Ray actors on any node)
    sign with this one instead of making their own under another machine's MKA_HOME."""
    from pydantic import SecretStr

    if settings.signing_key is not None and settings.signing_key.get_secret_value().strip():
        return settings
    return settings.model_copy(update={"signing_key": SecretStr(load_signing_key(settings).pem().decode())})


def _retired(settings: Settings) -> list[PublicKey]:
    path = Path(settings.home) / PUBLIC_FILE
    if not path.exists():
        return []
    out: list[PublicKey] = []
    for block in path.read_bytes().split(b"-----END PUBLIC KEY-----"):
        if _PEM_BEGIN not in block:
            continue
        pem = block[block.index(_PEM_BEGIN):] + b"-----END PUBLIC KEY-----\n"
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise SigningKeyError(f"{path} holds a block that is not a PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{path} holds a key that is not Ed25519")
        out.append(PublicKey.of(key))
    return out


def load_keyset(settings: Settings, active: SigningKey | None = None) -> KeySet:
    """Every key events of this deployment may carry: the active one first, then the retired ones (never makes a
    key: `SigningKeyError` where there is none)."""
    active = active or load_signing_key(settings, create=False)
    keys = [active.public] + [k for k in _retired(settings) if k.key_id != active.key_id]
    return KeySet(keys)


def rotate_signing_key(settings: Settings) -> tuple[SigningKey, KeySet]:
    """Make a new active key and keep the old public key for verification; the new key and the key set.

    Refused when the key comes from `MKA_SIGNING_KEY`, which only the operator can change.
    """
    if _env_key(settings) is not None:
        raise SigningKeyError(
            f"the signing key comes from {_ENV}, which this command cannot change: set it to a new key, "
            f"append the old public key (`mka keys export-public`) to MKA_HOME/{PUBLIC_FILE}, and restart every process"
        )
    home = Path(settings.home)
    with _rotation_lock(home):  # two rotations at once must not both keep only the first key's public half
        old = load_keyset(settings, load_signing_key(settings))
        new = SigningKey.generate()
        # The old public key is kept before the new private key replaces it, so no event is left unverifiable.
        write_private(home / PUBLIC_FILE, b"".join(k.pem() for k in _publics(old)), replace=True)
        write_private(home / SIGNING_FILE, new.pem(), replace=True)
    return new, load_keyset(settings, new)


@contextlib.contextmanager
def _rotation_lock(home: Path) -> Iterator[None]:
    fd = os.open(private_file(home / f"{SIGNING_FILE}.lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _publics(keys: KeySet) -> list[PublicKey]:
    return [k for i in keys.ids if (k := keys.get(i)) is not None]
