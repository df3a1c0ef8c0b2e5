"""Shared fixtures: briefs with unique projects, SQLite and PostgreSQL job stores, the session's services."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from actors.pii.keys import Keyring
from cluster.signing import SigningKey
from schemas import Brief
from tests.services import resolve

SERVICES = resolve()
"""PostgreSQL and NATS for the session: the configured or running ones, else our own (started on demand)."""
PG_URL = SERVICES.pg_url
NATS_URL = SERVICES.nats_url
TEST_KEYRING = Keyring([Keyring.generate()])
TEST_SIGNING_KEY = SigningKey.generate()  # the stores the fixtures build sign every event with it
"""Vault keyring of the test stores (raw briefs are sealed with it)."""


@pytest.fixture(scope="session", autouse=True)
def _own_services(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Start our own PostgreSQL and NATS when the session runs tests beyond pure units and none is running."""
    if any(item.get_closest_marker("unit") is None for item in request.session.items):
        SERVICES.start()
    yield
    SERVICES.stop()


def wait_for_port(host: str, port: int, timeout_s: float = 30.0) -> None:
    """Block until a TCP port accepts connections, or fail the test."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"service at {host}:{port} did not come up in {timeout_s}s")
            time.sleep(0.1)


def unique_project(prefix: str = "t") -> str:
    """A project name no other test uses (projects scope subjects and keys)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def brief_data(**overrides: Any) -> dict[str, Any]:
    """A valid raw brief with a unique project; keyword arguments replace fields."""
    data: dict[str, Any] = {
        "project": unique_project(),
        "title": "Oat milk launch",
        "product": {"name": "Oatly Barista", "description": "Oat drink for coffee", "category": "dairy alternatives"},
        "markets": ["DE", "FR"],
        "audience": "Urban coffee drinkers aged 25-40",
        "questions": ["How large is the plant-based milk market?", "Who are the main competitors?"],
        "competitors": ["Alpro", "Califia Farms"],
        "locale": "en_US",
        "outputs": ["pdf"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_brief() -> Callable[..., Brief]:
    """Factory of valid briefs with unique projects."""
    return lambda **overrides: Brief.model_validate(brief_data(**overrides))


@pytest.fixture
def sqlite_store(tmp_path):  # type: ignore[no-untyped-def]
    """A job store on a fresh SQLite file."""
    from cluster.db import make_engine
    from cluster.sql_store import SqlJobStore

    engine = make_engine(f"sqlite:///{tmp_path / 'mka.db'}")
    yield SqlJobStore(engine, keyring=TEST_KEYRING, signer=TEST_SIGNING_KEY.sign)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the real PostgreSQL (waits for it)."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    wait_for_port(url.host or "127.0.0.1", url.port or 5432)
    return PG_URL


@pytest.fixture
def pg_store(pg_url: str):  # type: ignore[no-untyped-def]
    """A job store on the real PostgreSQL (shared database: tests use unique projects)."""
    from cluster.db import make_engine
    from cluster.sql_store import SqlJobStore

    engine = make_engine(pg_url, pool_size=25)
    yield SqlJobStore(engine, keyring=TEST_KEYRING, signer=TEST_SIGNING_KEY.sign)
    engine.dispose()
