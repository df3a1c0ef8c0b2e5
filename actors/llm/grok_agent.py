"""Grok through the official `xai-sdk` (gRPC); `http://host:port` base URLs use an insecure local channel."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

from actors.llm._sdk import SdkLlmAgent, clip, retry_after_s
from actors.llm.base import Completion, Repair
from actors.llm.config import ProviderConfig
from actors.llm.prompt import ask_for, clip_previous
from actors.retry import RetryPolicy
from schemas import ProviderError
from schemas.localization import TranslationRequest
from schemas.pipeline import AnalysisRequest

__all__ = ["GrokAgent", "classify_grpc_error", "grpc_target"]

_FILTER = re.compile(r"usage guidelines|content polic|moderat|safety[ _]check|SAFETY_CHECK", re.IGNORECASE)
_NO_MODEL = re.compile(r"model.*(not found|does not exist|doesn't exist|unknown|retired|deprecated)", re.IGNORECASE)


def grpc_target(base_url: str | None) -> tuple[str, bool]:
    """`(host:port, insecure)` from a base URL: none → api.x.ai over TLS; http:// → insecure channel."""
    if not base_url:
        return "api.x.ai", False
    if "://" not in base_url:
        return base_url, False
    parts = urlsplit(base_url)
    return parts.netloc, parts.scheme in ("http", "grpc")


class GrokAgent(SdkLlmAgent):
    """Chat.GetCompletion with a JSON-schema response format; gRPC's own retries are off.

    The SDK's OpenTelemetry spans are kept, but without prompt or completion text
    (`XAI_SDK_DISABLE_SENSITIVE_TELEMETRY_ATTRIBUTES=1` is set when the agent is built).
    """

    def __init__(self, config: ProviderConfig, *, retry: RetryPolicy | None = None) -> None:
        os.environ["XAI_SDK_DISABLE_SENSITIVE_TELEMETRY_ATTRIBUTES"] = "1"  # no prompt text in span attributes
        super().__init__(config, retry=retry)

    def _make_client(self) -> Any:
        from xai_sdk import AsyncClient

        host, insecure = grpc_target(self.config.base_url)
        return AsyncClient(
            api_key=self.config.api_key,
            api_host=host,
            use_insecure_channel=insecure,
            timeout=self.config.timeout_s,
            channel_options=[("grpc.enable_retries", 0)],
        )

    async def _complete(self, request: AnalysisRequest | TranslationRequest, *, timeout_s: float | None, repair: Repair | None = None) -> Completion:
        from xai_sdk.chat import assistant, system, user
        from xai_sdk.proto import chat_pb2

        ask = ask_for(request)
        prompt = ask.prompt
        messages = [system(prompt.system), user(prompt.user)]
        if repair is not None:
            messages += [assistant(clip_previous(repair.previous)), user(ask.repair(repair.problem))]
        chat = self._client().chat.create(
            model=self.model,
            messages=messages,
            response_format=chat_pb2.ResponseFormat(
                format_type=chat_pb2.FORMAT_TYPE_JSON_SCHEMA, schema=json.dumps(ask.schema)
            ),
            max_tokens=self.max_output_tokens,
        )
        response = await self._rpc(chat.sample())
        usage = response.usage
        tokens_in = usage.prompt_tokens
        tokens_out = usage.completion_tokens + usage.reasoning_tokens
        return Completion(response.content, tokens_in, tokens_out, cost_usd=response.cost_usd)

    async def _list_models(self) -> list[str]:
        models = await self._rpc(self._client().models.list_language_models())
        return sorted({name for m in models for name in (m.name, *m.aliases)})

    async def _rpc(self, awaitable: Any) -> Any:
        import grpc

        try:
            return await awaitable
        except grpc.aio.AioRpcError as exc:
            raise classify_grpc_error(exc, endpoint=grpc_target(self.config.base_url)[0]) from exc


def classify_grpc_error(exc: Any, *, endpoint: str = "api.x.ai") -> ProviderError:
    """Map a gRPC status (`grpc.aio.AioRpcError`) to a ProviderError kind; retry-after from trailing metadata."""
    import grpc

    code = exc.code()
    name = code.name if code is not None else "UNKNOWN"
    message = clip(exc.details())
    label = f"{name} {message}"
    refusable = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION)
    if code in refusable and _FILTER.search(message):
        return ProviderError("content_filter", label)
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return ProviderError("auth", label)
    if code == grpc.StatusCode.NOT_FOUND or (code == grpc.StatusCode.INVALID_ARGUMENT and _NO_MODEL.search(message)):
        return ProviderError("model_not_found", label)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        metadata = {**dict(exc.initial_metadata() or ()), **dict(exc.trailing_metadata() or ())}
        return ProviderError("rate_limit", label, retry_after_s=retry_after_s(metadata))
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ProviderError("timeout", f"no response from {endpoint} within the request timeout ({name})")
    if code == grpc.StatusCode.UNAVAILABLE and re.search(r"failed to connect|connection refused|dns", message, re.IGNORECASE):
        return ProviderError("server_error", f"cannot reach {endpoint} (unreachable): {label}")
    return ProviderError("server_error", label)
