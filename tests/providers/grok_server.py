"""A fake xAI API over gRPC: the Chat and Models services of the protos that ship inside `xai-sdk`.

Runs a `grpc.aio` server on 127.0.0.1 in a thread of its own (with its own event loop); hanging
calls end when the client cancels them or the fake stops.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import json_format, timestamp_pb2
from xai_sdk.proto import chat_pb2, chat_pb2_grpc, models_pb2, models_pb2_grpc, sample_pb2, usage_pb2

from tests.providers.scenario import Script, answer_text, count_tokens

__all__ = ["FakeGrok", "SeenCall"]

HANG_MAX_S = 120.0


@dataclass(frozen=True)
class SeenCall:
    """A call the fake received (the key replaced by whether it matched)."""

    method: str
    model: str
    key_ok: bool
    request: Any
    at: float = field(default_factory=time.monotonic)


class FakeGrok:
    """xAI's gRPC services; the script decides each reply (default: claims citing the prompt's evidence).

    Example:
        >>> with FakeGrok(models=["grok-test"]) as fake:                           # doctest: +SKIP
        ...     xai_sdk.AsyncClient(api_key=fake.api_key, api_host=fake.target, use_insecure_channel=True)
    """

    def __init__(self, *, api_key: str = "xai-test-grok-00000000000000000", models: list[str] | None = None,
                 lifetime_s: float = 900.0) -> None:
        self.api_key = api_key
        self.models = list(models or ["grok-test"])
        self.script = Script()
        self.calls: list[SeenCall] = []
        self.active = 0  # completion calls in flight (hanging ones end when the client cancels them)
        self.port = 0
        self._lifetime_s = lifetime_s
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="fake-grok", daemon=True)

    @property
    def target(self) -> str:
        """host:port for the SDK's `api_host`."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The agent's base URL form (http:// means an insecure channel)."""
        return f"http://{self.target}"

    def start(self) -> FakeGrok:
        """Serve in a thread; return once the server is listening."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake grok did not come up")
        return self

    def stop(self) -> None:
        """End hanging calls and stop the server (idempotent)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:
                pass
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeGrok:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def seen(self, method: str = "") -> list[SeenCall]:
        """Recorded calls to `method` (all when empty)."""
        return [c for c in self.calls if method in c.method]

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = grpc.aio.server()
        chat_pb2_grpc.add_ChatServicer_to_server(_Chat(self), server)
        models_pb2_grpc.add_ModelsServicer_to_server(_Models(self), server)
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._ready.set()
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=self._lifetime_s)
        except asyncio.TimeoutError:
            pass
        self._stop.set()
        await server.stop(grace=None)

    async def pause(self, seconds: float) -> None:
        """Wait in a handler, cut short when the fake stops."""
        assert self._stop is not None
        if seconds > 0:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=min(seconds, HANG_MAX_S))
            except asyncio.TimeoutError:
                pass

    def _check(self, method: str, model: str, request: Any, context: grpc.aio.ServicerContext) -> bool:
        auth = dict(context.invocation_metadata() or ()).get("authorization", "")
        ok = auth == f"Bearer {self.api_key}"
        self.calls.append(SeenCall(method, model, ok, request))
        return ok


class _Chat(chat_pb2_grpc.ChatServicer):
    def __init__(self, fake: FakeGrok) -> None:
        self.fake = fake

    async def GetCompletion(self, request: chat_pb2.GetCompletionsRequest, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        self.fake.active += 1
        try:
            return await self._complete(request, context)
        finally:
            self.fake.active -= 1

    async def _complete(self, request: chat_pb2.GetCompletionsRequest, context: grpc.aio.ServicerContext) -> Any:
        fake = self.fake
        if not fake._check("GetCompletion", request.model, request, context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                "Incorrect API key provided: xa***00. You can obtain an API key from https://console.x.ai.")
        reply = fake.script.next(request.model)
        await fake.pause(reply.latency_s)
        if reply.kind == "hang":
            await fake.pause(float("inf"))
            await context.abort(grpc.StatusCode.UNAVAILABLE, "server shutting down")
        if reply.kind == "cassette" and reply.recorded is not None:
            return await _replay(reply.recorded, context)
        if reply.kind == "dead_model" or request.model not in fake.models:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"The model {request.model} does not exist or your team "
                                "does not have access to it. Please ensure you're using the correct API key.")
        if reply.kind == "auth":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "The API key does not have permission to use this endpoint.")
        if reply.kind == "rate_limit":
            wait = reply.retry_after_s if reply.retry_after_s is not None else 1.0
            context.set_trailing_metadata((("retry-after", f"{wait:g}"),))
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "Too many requests: your team has exceeded its rate limit.")
        if reply.kind == "server_error":
            await context.abort(grpc.StatusCode.INTERNAL, "Internal server error")
        if reply.kind == "content_filter":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "Content violates usage guidelines. Failed check: SAFETY_CHECK_TYPE_VIOLENCE")
        prompt = "\n".join(c.text for m in request.messages for c in m.content)
        text = answer_text(reply, prompt)
        return _response(request.model, text, prompt)


class _Models(models_pb2_grpc.ModelsServicer):
    def __init__(self, fake: FakeGrok) -> None:
        self.fake = fake

    async def ListLanguageModels(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        if not self.fake._check("ListLanguageModels", "", request, context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Incorrect API key provided.")
        return models_pb2.ListLanguageModelsResponse(models=[
            models_pb2.LanguageModel(name=m, aliases=[f"{m}-latest"], version="1.0") for m in self.fake.models])


def _response(model: str, text: str, prompt: str) -> chat_pb2.GetChatCompletionResponse:
    created = timestamp_pb2.Timestamp()
    created.GetCurrentTime()
    prompt_tokens, completion_tokens = count_tokens(prompt), count_tokens(text)
    return chat_pb2.GetChatCompletionResponse(
        id=str(uuid.uuid4()),
        model=model,
        created=created,
        system_fingerprint="fp_fake_grok",
        outputs=[chat_pb2.CompletionOutput(
            finish_reason=sample_pb2.REASON_STOP, index=0,
            message=chat_pb2.CompletionMessage(content=text, role=chat_pb2.ROLE_ASSISTANT))],
        usage=usage_pb2.SamplingUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                      total_tokens=prompt_tokens + completion_tokens, prompt_text_tokens=prompt_tokens),
    )


async def _replay(recorded: dict[str, Any], context: grpc.aio.ServicerContext) -> Any:
    """A recorded call: the response message as JSON, or a status code with details and trailing metadata."""
    if recorded.get("code", "OK") != "OK":
        context.set_trailing_metadata(tuple((k, str(v)) for k, v in recorded.get("trailing_metadata", {}).items()))
        await context.abort(grpc.StatusCode[recorded["code"]], recorded.get("details", ""))
    return json_format.ParseDict(recorded["response"], chat_pb2.GetChatCompletionResponse())
