"""Test helper: an S3-protocol server (moto's `ThreadedMotoServer`) started by the test run on 127.0.0.1."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer

__all__ = ["S3Server", "s3_server", "start_s3_server"]


@dataclass(frozen=True)
class S3Server:
    """Where the test S3 server listens and the (arbitrary) credentials to use with it."""

    endpoint: str  # host:port, the form MKA_S3_ENDPOINT takes
    access_key: str = "mka-test"
    secret_key: str = "mka-test-secret"
    region: str = "us-east-1"


def _wait_ready(endpoint: str, *, timeout_s: float = 15.0) -> None:
    """Poll the server until it answers HTTP, or raise after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://{endpoint}/", timeout=1.0):
                return
        except urllib.error.HTTPError:
            return  # an S3 error document is still an answer
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"S3 test server at {endpoint} did not answer within {timeout_s}s") from None
            time.sleep(0.05)


def start_s3_server() -> tuple[S3Server, ThreadedMotoServer]:
    """Start moto on a free port chosen by the OS (port 0, no race) and return once it answers."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    info = S3Server(endpoint=f"{host}:{port}")
    try:
        _wait_ready(info.endpoint)
    except BaseException:
        server.stop()
        raise
    return info, server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A running S3-protocol server for the whole test session, stopped at the end."""
    info, server = start_s3_server()
    try:
        yield info
    finally:
        server.stop()
