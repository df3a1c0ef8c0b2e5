"""A provider's REST API faked on 127.0.0.1: a threaded HTTP server that records requests and stops itself."""

from __future__ import annotations

import abc
import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.providers.scenario import Script

__all__ = ["FakeHttpProvider", "HttpReply", "SeenRequest"]

HANG_MAX_S = 120.0
_SECRET_HEADERS = {"authorization", "x-goog-api-key", "api-key", "x-figma-token"}


@dataclass(frozen=True)
class SeenRequest:
    """A request the fake received (secret headers replaced by whether they matched)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class HttpReply:
    """What the fake sends back."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeHttpProvider(abc.ABC):
    """Base of the REST fakes: routing is the subclass's job; threads, recording and stopping are here.

    Use as a context manager; it also stops itself after `lifetime_s` so a crashed test leaks nothing.
    """

    def __init__(self, *, api_key: str, models: list[str], lifetime_s: float = 900.0) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.script = Script()
        self.requests: list[SeenRequest] = []
        self.active = 0  # requests in flight (a hanging one ends when its client hangs up)
        self._local = threading.local()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{type(self).__name__}", daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    @property
    def port(self) -> int:
        """The port the fake listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root URL of the fake (the SDK's base URL, plus a version path for OpenAI)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHttpProvider:
        """Serve in a thread; return once the port accepts connections."""
        self._thread.start()
        self._timer.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("fake provider did not come up") from None
                time.sleep(0.01)

    def stop(self) -> None:
        """Wake hanging handlers, stop serving and close the socket (idempotent)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHttpProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self, seconds: float) -> None:
        """Sleep in a handler, cut short when the fake stops or the client hangs up (its timeout, a cancel)."""
        end = time.monotonic() + min(seconds, HANG_MAX_S)
        conn: socket.socket | None = getattr(self._local, "conn", None)
        while (left := end - time.monotonic()) > 0:
            if self._stopping.wait(min(left, 0.05)):
                return
            if conn is not None and _hung_up(conn):
                return

    def seen(self, path_part: str = "") -> list[SeenRequest]:
        """Recorded requests whose path contains `path_part`."""
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    def authorized(self, headers: dict[str, str]) -> bool:
        """True when the request carries this fake's key; a fake without a key (like Ollama) takes any."""
        return not self.api_key or self.key_in(headers) == self.api_key

    @abc.abstractmethod
    def key_in(self, headers: dict[str, str]) -> str | None:
        """The API key a request carries."""

    @abc.abstractmethod
    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> HttpReply:
        """Answer one request."""

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        key = "<key ok>" if self.authorized(headers) else "<key wrong>"
        safe = {k: key if k in _SECRET_HEADERS else v for k, v in headers.items()}
        with self._lock:
            self.requests.append(SeenRequest(method, path, safe, body))


def _hung_up(conn: socket.socket) -> bool:
    """True when the peer closed the connection (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _handler_for(fake: FakeHttpProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: tests read `fake.requests` instead
            return

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake._record(self.command, self.path, headers, body)
            fake._local.conn = self.connection
            with fake._lock:
                fake.active += 1
            try:
                reply = fake.route(self.command, self.path, headers, body)
            finally:
                with fake._lock:
                    fake.active -= 1
            if fake._stopping.is_set():
                return
            data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout) while we were slow

        do_GET = do_POST = _serve

    return Handler
