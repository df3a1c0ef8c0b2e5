"""Who is calling: an `Authorization: Bearer` API key or JWT becomes a `Principal`, or `Unauthenticated`."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

from actors.clock import Clock, SystemClock
from schemas import AdapterError, Unauthenticated
from serve_app.auth.identity import IdentityStore, KeyRecord
from serve_app.auth.keys import KEY_PREFIX, parse_key, verify_secret
from serve_app.auth.rbac import Principal, Role
from serve_app.auth.tokens import JwtVerifier
from serve_app.limits import RateLimiter

__all__ = ["Authenticator"]

_TOUCH_EVERY = timedelta(seconds=60)


class Authenticator:
    """Resolve credentials against the identity store (and the JWT issuer, when configured).

    A key's row is read on every request, so revocation and expiry apply at once; only the slow argon2 check
    of a key already seen is remembered (by its SHA-256, for `verified_ttl_s` after its last use). With `enabled=False`
    (MKA_AUTH=off, development only) every caller is the local developer, admin everywhere.

    Example:
        >>> auth = Authenticator(identity, jwt=None)           # doctest: +SKIP
        >>> auth.authenticate("Bearer mka_…").roles            # doctest: +SKIP
        {'default': <Role.ANALYST: 'analyst'>}
    """

    def __init__(
        self, identity: IdentityStore, *, jwt: JwtVerifier | None = None, enabled: bool = True,
        clock: Clock | None = None, verified_ttl_s: float = 300.0, dev_pii_reader: bool = False,
        max_hashing: int = 4,
    ) -> None:
        """`dev_pii_reader` lets the development user re-identify (MKA_ALLOW_PII, auth off only)."""
        self.identity = identity
        self.jwt = jwt
        self.enabled = enabled
        self._clock = clock or SystemClock()
        self._ttl = timedelta(seconds=verified_ttl_s)
        self._verified: dict[str, object] = {}
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(max_hashing)  # argon2 takes 64 MiB and ~0.1 s of a core
        self._inflight: dict[str, threading.Lock] = {}
        self._dev = Principal(kind="dev", id="local", deployment_admin=True,
                              pii_reader=frozenset({"*"}) if dev_pii_reader else frozenset())

    def authenticate(self, authorization: str | None, *, client: str = "-",
                     failures: RateLimiter | None = None) -> Principal:
        """The caller behind an Authorization header value.

        `failures` bounds the argon2 work wrong secrets cost: per (client, key id), a known key whose secret does
        not match spends a token, and once the bucket is empty that pair is refused (429) before any check. A key
        already verified (cached) is never refused.
        """
        if not self.enabled:
            return self._dev
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send Authorization: Bearer <api key or token>")
        if token.startswith(KEY_PREFIX):
            return self._key_principal(token, client=client, failures=failures)
        if self.jwt is not None and token.count(".") == 2:
            return self._jwt_principal(token)
        raise Unauthenticated("the credential is not valid")

    def _key_principal(self, api_key: str, *, client: str, failures: RateLimiter | None) -> Principal:
        parsed = parse_key(api_key)
        record = self.identity.get_key(parsed[0]) if parsed else None
        if record is None:
            raise Unauthenticated("the credential is not valid")  # no argon2 work for an unknown id
        if not self._cached(api_key, record):
            self._check_secret(api_key, record, client=client, failures=failures)
        now = self._clock.now()
        problem = record.problem(now)
        if problem:
            raise Unauthenticated(f"the API key is {problem}")
        if record.last_used_at is None or now - record.last_used_at >= _TOUCH_EVERY:
            self.identity.touch_key(record.key_id, now)
        return Principal(kind="key", id=record.key_id, roles={record.project: record.role},
                         pii_reader=frozenset({record.project}) if record.pii_reader else frozenset(),
                         deployment_admin=record.deployment_admin)

    def _check_secret(self, api_key: str, record: KeyRecord, *, client: str, failures: RateLimiter | None) -> None:
        """The argon2 check, bounded three ways.

        Requests with the same key share one check (the others wait for it, then find the key verified); each
        check spends a token of the (client, key id) bucket before it runs, given back unless the secret was
        wrong, so concurrent wrong secrets cannot outrun the budget; at most `max_hashing` checks run at once.
        """
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        with self._lock:
            flight = self._inflight.setdefault(digest, threading.Lock())
        if not flight.acquire(timeout=5.0):
            raise AdapterError("this key is being checked; retry shortly", retryable=True)
        try:
            if self._cached(api_key, record):
                return
            bucket = f"{client}|{record.key_id}"
            if failures is not None:
                failures.take(bucket)
            wrong = False
            try:
                if not self._hashing.acquire(timeout=2.0):
                    raise AdapterError("too many sign-ins are being checked; retry shortly", retryable=True)
                try:
                    wrong = not self._verify(api_key, record)
                finally:
                    self._hashing.release()
            finally:
                if failures is not None and not wrong:
                    failures.refund(bucket)  # only a wrong secret costs the caller a token
            if wrong:
                raise Unauthenticated("the credential is not valid")
        finally:
            flight.release()
            with self._lock:
                if not flight.locked():
                    self._inflight.pop(digest, None)

    def _cached(self, api_key: str, record: KeyRecord) -> bool:
        """Whether this key was verified lately; each use keeps it remembered (sliding expiry)."""
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        now = self._clock.now()
        with self._lock:
            seen = self._verified.get(digest)
            if isinstance(seen, tuple) and seen[0] == record.key_hash and seen[1] > now:
                self._verified[digest] = (record.key_hash, now + self._ttl)
                return True
        return False

    def _verify(self, api_key: str, record: KeyRecord) -> bool:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        now = self._clock.now()
        if not verify_secret(api_key, record.key_hash):
            return False
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = (record.key_hash, now + self._ttl)
        return True

    def _jwt_principal(self, token: str) -> Principal:
        assert self.jwt is not None
        claims = self.jwt.verify(token)
        roles: dict[str, Role] = dict(claims.roles)
        readers = set()
        for member in self.identity.memberships(claims.subject):
            if member.project not in roles or _rank(member.role) > _rank(roles[member.project]):
                roles[member.project] = member.role
            if member.pii_reader:
                readers.add(member.project)
        return Principal(kind="jwt", id=claims.subject, roles=roles, pii_reader=frozenset(readers),
                         deployment_admin=claims.subject in self.jwt.config.admin_subjects)


def _rank(role: Role) -> int:
    return list(Role).index(role)
