"""Secret masking for everything shown or written (`mka config`, `mka doctor`, logs, error messages): one function.

`mask_secrets(value)` returns a copy of `value` with every credential it can recognise replaced by `****`:

- in text: the user part of URLs (`scheme://user:pass@host`, `nats://token@host`, `user:pass@host`); the values
  of `name=value` pairs and command-line flags (`--token X`, `--api-key=X`) named like password, token, key, secret,
  signature or credential (any case, `api-key`/`api_key`/`apiKey` alike); `Bearer`/`Basic` credentials;
  `name: value` pairs named like a password, token, secret or API key; tokens shaped like vendors' keys
  (`sk-…`, `ghp_…`, `xoxb-…`, `AIza…`, `figd_…`, JWTs, PEM private keys);
- `SecretStr` values (`****`, or `""` when empty);
- mappings and sequences, recursively: every value of an `env` or `headers` mapping (MCP servers); string values
  under keys named like a password, token, secret or API key; in an `args` list, the value after a secret flag
  and long random-looking strings;
- pydantic models, as a mapping of their fields (so `Settings` masks as a whole).

Other values are returned as they are. It is pure: no I/O, no settings, no state.

Example:
    >>> mask_secrets("postgresql://mka:pw@db/mka?sslmode=require&password=pw")
    'postgresql://****@db/mka?sslmode=require&password=****'
    >>> mask_secrets({"command": "srv", "args": ["--token", "abc"], "env": {"API": "x"}})
    {'command': 'srv', 'args': ['--token', '****'], 'env': {'API': '****'}}
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["MASK", "mask_secrets"]

MASK = "****"
"""What a secret is replaced with."""

# Words that make a name (a query parameter, a flag, `name=value`) a secret's name.
_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "token", "key", "apikey", "secret", "signature", "sig",
    "credential", "credentials", "auth", "authorization",
})
# The stricter set for `name: value` text and mapping keys, where `key` or `auth` alone name ordinary things
# (an object key, `MKA_AUTH=on`).
_STRICT = frozenset({
    "password", "passwd", "pwd", "passphrase", "token", "apikey", "secret", "signature", "credential", "credentials",
    "authorization",
})
_ENDINGS = ("token", "secret", "password", "passwd", "apikey", "signature", "credential", "credentials")
_KEY_QUALIFIERS = frozenset({"api", "secret", "private", "signing", "vault", "encryption", "master", "client", "session"})
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# `user:password@`, where the password may hold `/`, `?`, `#` or `@` (SQLAlchemy reads them so), up to the last `@`
# before the next URL; else a token without a colon (`nats://token@`).
_URL_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?P<userinfo>[^\s/?#\"'<>@:]*:(?:(?!://)[^\s\"'<>])*@|[^\s/?#\"'<>]+@)"
)
# `Authorization: <scheme> <credentials>` with any scheme (`Token`, `Digest`, ...), quoted or not.
_AUTH_HEADER = re.compile(
    r"(?P<name>\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?P<value>(?:[A-Za-z][A-Za-z0-9-]*\s+)?[^\s\"',;]+)",
    re.IGNORECASE,
)
# `user:password@host` without a scheme (a gRPC target, `host:port` settings); an e-mail address has no colon.
_BARE_USERINFO = re.compile(r"(?<![\w.:/@*-])[^\s/?#@\"'<>:()\[\]]+:[^\s/?#@\"'<>()\[\]]+@(?=[A-Za-z0-9\[])")
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+(?P<value>[A-Za-z0-9._~+/=-]{6,})", re.IGNORECASE)
# `--token X`, `--token=X`, and as a serialized argument list: `"--token", "X"`.
_FLAG = re.compile(
    r"(?<![\w-])(?P<flag>--?(?P<name>[A-Za-z][\w.-]*))(?P<sep>=|[\"']?(?:\s*,\s*|\s+)[\"']?)(?P<value>[^\s\"'<>,;]+)"
)
_PAIR = re.compile(
    r"(?<![\w.-])(?P<name>[A-Za-z][\w.-]*)(?P<sep>[\"']?\s*(?P<op>[=:])\s*[\"']?)"
    r"(?P<value>(?:(?:Bearer|Basic)\s+)?(?:[^\s\"'&#,;<>)\]}]|,(?!\s))+)",
)
_SHAPED = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-[A-Za-z0-9_-]{16,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|xai-[A-Za-z0-9]{20,}"
    r"|glpat-[A-Za-z0-9_-]{20,}|figd_[A-Za-z0-9_-]{20,}|mka_[a-z0-9]{12}_[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r")(?![A-Za-z0-9_-])"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    re.DOTALL,
)
_RANDOM_MIN_LEN = 20
_RANDOM_MIN_BITS = 3.5  # Shannon entropy per character: English words and paths stay below, keys above


def mask_secrets(value: Any) -> Any:
    """Return `value` with its secrets masked (see the module docstring); it is never modified in place.

    Example:
        >>> mask_secrets("GET https://api.example/v1?api-key=abc&q=1 failed: 401")
        'GET https://api.example/v1?api-key=****&q=1 failed: 401'
    """
    return _mask(value, key=None)


def _mask(value: Any, *, key: str | None) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (SecretStr, SecretBytes)):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, str):
        return MASK if value and key is not None and _secret_name(key, strict=True) else _mask_text(value)
    if isinstance(value, BaseModel):
        return {name: _mask(getattr(value, name), key=name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        if key is not None and key.lower() in ("env", "headers"):  # an MCP server's environment and HTTP headers
            return {k: _mask_all(v) for k, v in value.items()}
        return {k: _mask(v, key=k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return _mask_args(value, random=key == "args")
    return value


def _mask_all(value: Any) -> Any:
    if isinstance(value, (str, SecretStr, SecretBytes)):
        raw = value.get_secret_value() if isinstance(value, (SecretStr, SecretBytes)) else value
        return MASK if raw else ""
    return _mask(value, key=None) if isinstance(value, (Mapping, list, tuple, BaseModel)) else MASK


def _mask_args(items: list[Any] | tuple[Any, ...], *, random: bool) -> list[Any] | tuple[Any, ...]:
    """A command line: each item masked as text, the item after a secret flag (`--token X`) masked whole, and in
    `args` also every long random-looking item."""
    out: list[Any] = []
    after_flag = False
    for item in items:
        if isinstance(item, str):
            if after_flag or (random and _looks_random(item)):
                masked: Any = MASK if item else item
            else:
                masked = _mask_text(item)
            flag = re.fullmatch(r"--?(?P<name>[A-Za-z][\w.-]*)", item)
            after_flag = flag is not None and _secret_name(flag["name"], strict=False)
        else:
            masked, after_flag = _mask(item, key=None), False
        out.append(masked)
    return tuple(out) if isinstance(items, tuple) else out


def _mask_text(text: str) -> str:
    if not text:
        return text
    text = _SHAPED.sub(MASK, text)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _BARE_USERINFO.sub(f"{MASK}@", text)
    text = _AUTH_HEADER.sub(lambda m: m[0] if m["value"].endswith(MASK) else f"{m['name']}{MASK}", text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m['scheme']} {MASK}", text)
    text = _mask_values(_FLAG, text, lambda m: _secret_name(m["name"], strict=False))
    return _mask_values(_PAIR, text, _secret_pair)


def _secret_pair(m: re.Match[str]) -> bool:
    """`name=value` with a secret's name; `auth` counts only as a URL's query parameter (`?auth=…`), not in
    `MKA_AUTH=off`; `name: value` only with the stricter names."""
    if m["op"] == ":":
        return _secret_name(m["name"], strict=True)
    in_query = m.start() > 0 and m.string[m.start() - 1] in "?&;"
    return _secret_name(m["name"], strict=False, query=in_query)


def _mask_values(pattern: re.Pattern[str], text: str, secret: Callable[[re.Match[str]], bool]) -> str:
    """Mask the `value` group of each match whose name is a secret's; a match that is not one consumes only its
    name, so its would-be value is looked at again (`https://h/?key=x`, `-v --token x`)."""
    out: list[str] = []
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        if secret(m) and m["value"] != MASK:
            out.append(text[pos:m.start("value")] + MASK)
            pos = m.end("value")
        else:
            out.append(text[pos:m.start("value")])
            pos = m.start("value")
    out.append(text[pos:])
    return "".join(out)


def _secret_name(name: str, *, strict: bool, query: bool = True) -> bool:
    """Whether `name` names a secret: one of its words (split at `-`, `_`, `.` and case changes) is a secret word,
    it ends like one (`sessiontoken`), or it is a key qualified as secret (`api_key`, `x-api-key`, `vault_key`)."""
    words = [w.lower() for w in _NAME_WORD.findall(name)]
    if not words:
        return False
    if any(w in (_STRICT if strict else _WORDS) and (query or w != "auth") for w in words):
        return True
    if any(w.endswith(_ENDINGS) for w in words):
        return True
    return any(w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words))


def _looks_random(text: str) -> bool:
    """A long token of letters and digits with a high entropy per character: a key, not a word, path or flag."""
    if len(text) < _RANDOM_MIN_LEN or text.startswith("-") or re.search(r"[\s/\\]", text):
        return False
    if not (re.search(r"[A-Za-z]", text) and re.search(r"[0-9]", text)):
        return False
    counts = Counter(text)
    bits = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return bits >= _RANDOM_MIN_BITS
