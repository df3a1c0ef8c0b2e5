"""What the three SDK agents share: a client per event loop, claim ids per provider, retry-after parsing, probes."""

from __future__ import annotations

import abc
import asyncio
import email.utils
import re
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actors.llm.base import LlmAgent
from actors.llm.config import ProviderConfig
from actors.retry import RetryPolicy
from schemas import Claim, ProviderError

__all__ = ["Probe", "SdkLlmAgent", "clip", "retry_after_s"]

_MAX_MESSAGE = 240


def clip(message: object) -> str:
    """A provider's error message, one line and short (it goes into answers, reports and events' reasons)."""
    text = " ".join(str(message or "").split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def retry_after_s(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None when absent."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lower:
        try:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def duration_s(value: object) -> float | None:
    """A protobuf Duration in JSON form ("38s", "1.5s") as seconds."""
    match = _DURATION.match(str(value)) if value is not None else None
    return float(match.group(1)) if match else None


@dataclass(frozen=True)
class Probe:
    """What a provider said when asked for its models: reachable, the model ids, or the classified error."""

    reachable: bool
    models: list[str] = field(default_factory=list)
    error: ProviderError | None = None


class SdkLlmAgent(LlmAgent):
    """An agent on an official SDK: one client per event loop (SDK clients bind to the loop that uses them)."""

    def __init__(self, config: ProviderConfig, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(
            provider=config.provider,
            model=config.model,
            retry=retry,
            price=config.price,
            max_output_tokens=config.max_output_tokens,
        )
        self.config = config
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    @abc.abstractmethod
    def _make_client(self) -> Any:
        """Build the SDK client (called inside the event loop that will use it)."""

    @abc.abstractmethod
    async def _list_models(self) -> list[str]:
        """Ask the provider for its model ids (raises ProviderError)."""

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._make_client()
        return client

    def _timeout(self, timeout_s: float | None) -> float:
        """The request timeout: the configured one, cut to what the attempt has left."""
        return self.config.timeout_s if timeout_s is None else max(0.05, min(self.config.timeout_s, timeout_s))

    def _own_claims(self, claims: list[Claim]) -> list[Claim]:
        """Make claim ids unique across providers (`openai-c1`), as the merge expects."""
        prefix = f"{self.provider}-"
        return [c if c.id.startswith(prefix) else c.model_copy(update={"id": prefix + c.id}) for c in claims]

    async def probe(self, *, timeout_s: float = 10.0) -> Probe:
        """List the provider's models: reachable or not, with the error classified."""
        try:
            models = await asyncio.wait_for(self._list_models(), timeout=timeout_s)
        except ProviderError as exc:
            reachable = exc.kind != "timeout" and "unreachable" not in exc.message
            return Probe(reachable=reachable, error=exc)
        except (TimeoutError, asyncio.TimeoutError):
            return Probe(reachable=False, error=ProviderError("timeout", f"no answer within {timeout_s:g}s (unreachable)"))
        return Probe(reachable=True, models=models)

    async def aclose(self) -> None:
        """Close the client of the running event loop, if any."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await self._close_client(client)

    async def _close_client(self, client: Any) -> None:
        close = getattr(client, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
