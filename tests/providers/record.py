"""Recording proxies: put one between an SDK and a provider, and every exchange lands in a cassette.

REST (OpenAI, Gemini): an HTTP proxy that forwards to the upstream base URL. gRPC (xAI): a proxy that
forwards raw messages of any method to the upstream channel. Keys pass through and are never stored.

To record from the real providers (needs keys and network; not possible on CI):

    python -m tests.providers.record openai  --out openai_chat_claims
    python -m tests.providers.record gemini  --out gemini_generate_claims
    python -m tests.providers.record xai     --out xai_chat_claims
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from typing import Any

import grpc
import httpx
from google.protobuf import json_format
from xai_sdk.proto import chat_pb2

from tests.providers._http import FakeHttpProvider, HttpReply
from tests.providers.cassettes import CASSETTES, Cassette

__all__ = ["GrpcRecorder", "HttpRecorder"]

_KEEP_HEADERS = ("content-type", "retry-after", "retry-after-ms", "x-ratelimit-", "openai-model", "openai-processing-ms",
                 "x-request-id", "server-timing")
_DROP_REQUEST = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


class HttpRecorder(FakeHttpProvider):
    """Forwards every request to `upstream` and records the exchange (headers trimmed, keys dropped)."""

    def __init__(self, upstream: str, *, provider: str) -> None:
        super().__init__(api_key="", models=[])
        self.upstream = upstream.rstrip("/")
        self.cassette = Cassette(provider=provider, note=f"recorded from {self.upstream}")
        self._http = httpx.Client(timeout=120)

    def key_in(self, headers: dict[str, str]) -> str | None:
        """Keys are forwarded, not checked."""
        return ""

    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> HttpReply:
        """Forward, record, answer with the upstream's response."""
        forward = {k: v for k, v in headers.items() if k not in _DROP_REQUEST}
        response = self._http.request(method, self.upstream + path, headers=forward,
                                      content=json.dumps(body).encode() if body is not None else None)
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        kept = {k: v for k, v in response.headers.items() if k.lower().startswith(_KEEP_HEADERS) and k.lower() != "content-type"}
        model = body.get("model") if isinstance(body, dict) else None
        self.cassette.interactions.append({
            "request": {"method": method, "path": path.split("?")[0], "model": model},
            "response": {"status": response.status_code, "headers": kept, "body": payload},
        })
        return HttpReply(response.status_code, payload, kept)

    def stop(self) -> None:
        """Stop serving and close the upstream client."""
        super().stop()
        self._http.close()


class GrpcRecorder:
    """A gRPC proxy on 127.0.0.1 forwarding raw messages to `upstream`; records Chat.GetCompletion exchanges."""

    def __init__(self, upstream: str, *, secure: bool = True) -> None:
        self.upstream = upstream
        self.secure = secure
        self.cassette = Cassette(provider="xai", note=f"recorded from {upstream}")
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @property
    def base_url(self) -> str:
        """The agent's base URL for the proxy (insecure local channel)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GrpcRecorder:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        channel = (grpc.aio.secure_channel(self.upstream, grpc.ssl_channel_credentials()) if self.secure
                   else grpc.aio.insecure_channel(self.upstream))
        recorder = self

        class Forward(grpc.GenericRpcHandler):
            def service(self, details: grpc.HandlerCallDetails) -> Any:
                method = details.method

                async def call(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
                    metadata = tuple(context.invocation_metadata() or ())
                    upstream = channel.unary_unary(method)
                    try:
                        response = await upstream(request, metadata=metadata)
                    except grpc.aio.AioRpcError as exc:
                        recorder._note(method, {"code": exc.code().name, "details": exc.details(),
                                                "trailing_metadata": dict(exc.trailing_metadata() or ())})
                        await context.abort(exc.code(), exc.details() or "")
                    recorder._note(method, {"code": "OK", "raw": response})
                    return response

                return grpc.unary_unary_rpc_method_handler(call)

        server = grpc.aio.server()
        server.add_generic_rpc_handlers((Forward(),))
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._ready.set()
        await self._stop.wait()
        await server.stop(None)
        await channel.close()

    def _note(self, method: str, outcome: dict[str, Any]) -> None:
        if not method.endswith("/GetCompletion"):
            return
        if "raw" in outcome:
            message = chat_pb2.GetChatCompletionResponse.FromString(outcome.pop("raw"))
            outcome["response"] = json_format.MessageToDict(message)
        self.cassette.interactions.append({"request": {"method": method}, "response": outcome})


def main() -> None:  # pragma: no cover - needs real keys and network
    """Record one analysis answer from a real provider into tests/data/cassettes/<out>.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("provider", choices=["openai", "gemini", "xai"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    from actors.llm import build_llm_agent
    from cluster.settings import Settings
    from tests.providers.golden import golden_envelope

    settings = Settings(use_stubs=False)
    upstream = {"openai": (settings.openai_base_url or "https://api.openai.com/v1").removesuffix("/v1"),
                "gemini": settings.gemini_base_url or "https://generativelanguage.googleapis.com",
                "xai": (settings.xai_base_url or "api.x.ai:443").removeprefix("https://")}[args.provider]
    recorder: Any = GrpcRecorder(upstream) if args.provider == "xai" else HttpRecorder(upstream, provider=args.provider)
    with recorder:
        proxy = recorder.base_url + ("/v1" if args.provider == "openai" else "")
        agent = build_llm_agent(settings.model_copy(update={f"{args.provider}_base_url": proxy}), args.provider)
        assert agent is not None, f"{args.provider} is not configured (API key?)"
        answer = asyncio.run(agent.analyze(golden_envelope(args.provider)))
    print(answer.model_dump_json(indent=2))
    print(recorder.cassette.save(CASSETTES / f"{args.out}.json"))


if __name__ == "__main__":  # pragma: no cover
    main()
