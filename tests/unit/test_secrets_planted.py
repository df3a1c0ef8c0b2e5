"""Planted secrets: a distinct marker in every secret-bearing setting, then no marker in `mka config`, `mka doctor`,
the JSON logs, the span file, the portal's problem bodies, the actors' constructor arguments, or a failed job's
error, steps and events. No network and no services: the doctor's endpoints are 127.0.0.1:9 (nothing listens;
under `unshare -n` nothing is reachable at all).
"""

from __future__ import annotations

import io
import json
import logging
import pickle
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cluster.bootstrap import ROLE_SECRETS, SECRET_FIELDS, SHARED_SECRETS
from cluster.settings import ProviderSettings, Settings

pytestmark = pytest.mark.unit

PROVIDERS = ["openai", "gemini", "xai", "acme"]  # acme: a provider set only through MKA_LLM__ACME__*


class Planted:
    """Settings with a marker in every secret-bearing place; `markers` maps `<field>[.<where>]` to its marker."""

    def __init__(self, home: Path) -> None:
        self.markers: dict[str, str] = {}
        mk = self._mark
        self.settings = Settings(
            home=home, use_stubs=False, providers=PROVIDERS, jwt_audience="mka",
            database_url=f"postgresql+psycopg://mka:{mk('database_url.password')}@127.0.0.1:9/mka"
                         f"?sslmode=disable&password={mk('database_url.query')}",
            nats_url=f"nats://{mk('nats_url.token')}@127.0.0.1:9,nats://mka:{mk('nats_url.password')}@127.0.0.1:9",
            s3_secret_key=SecretStr(mk("s3_secret_key")), vault_key=SecretStr(mk("vault_key")),
            signing_key=SecretStr(mk("signing_key")), figma_token=SecretStr(mk("figma_token")),
            openai_api_key=SecretStr(mk("openai_api_key")), gemini_api_key=SecretStr(mk("gemini_api_key")),
            xai_api_key=SecretStr(mk("xai_api_key")),
            openai_base_url=f"http://127.0.0.1:9/v1?api-key={mk('openai_base_url')}",
            gemini_base_url=f"http://127.0.0.1:9/?key={mk('gemini_base_url')}",
            xai_base_url=f"http://xai:{mk('xai_base_url')}@127.0.0.1:9",
            llm={"acme": {"api_key": mk("llm.acme.api_key"),
                          "base_url": f"http://127.0.0.1:9/?token={mk('llm.acme.base_url')}"}},
            otlp_endpoint=f"http://otel:{mk('otlp_endpoint.password')}@127.0.0.1:9/?token={mk('otlp_endpoint.query')}",
            jwt_issuer=f"https://idp.example/?token={mk('jwt_issuer')}",
            jwt_jwks_url=f"https://idp.example/jwks?token={mk('jwt_jwks_url')}",
            mcp_servers={
                "crm": {"command": "crm-mcp", "source_type": "tool",
                        "args": ["--token", mk("mcp_servers.args"), f"--api-key={mk('mcp_servers.flag')}"],
                        "env": {"CRM_TOKEN": mk("mcp_servers.env")}},
                "remote": {"url": f"https://mcp:{mk('mcp_servers.url')}@127.0.0.1:9/sse?token={mk('mcp_servers.query')}",
                           "headers": {"Authorization": f"Bearer {mk('mcp_servers.headers')}"}},
            },
        )

    def _mark(self, name: str) -> str:
        marker = f"PLANTED{len(self.markers):02d}{re.sub(r'[^a-z]', '', name)}Q7"
        self.markers[name] = marker
        return marker

    def found_in(self, text: str | bytes) -> set[str]:
        """The names of the markers in `text` (also across the line breaks and borders of a rich table)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        flat = re.sub(r"[\s│┃|─━┌┐└┘├┤┬┴┼╭╮╰╯]", "", text)
        return {name for name, marker in self.markers.items() if marker in text or marker in flat}

    def owner(self, name: str) -> str:
        """The setting a marker was planted in (`llm.acme` for a nested provider's)."""
        return ".".join(name.split(".")[:2]) if name.startswith("llm.") else name.split(".")[0]


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    return Planted(tmp_path / "home")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log record of this test (the `mka` loggers and third-party ones) as our JSON lines."""
    from cluster.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(), logging.getLogger("mka")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)


def test_every_secret_setting_is_planted(planted: Planted) -> None:
    owners = {planted.owner(name) for name in planted.markers}
    secret_typed = {name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
    assert secret_typed - owners == set(), "a SecretStr setting has no marker: plant one above"
    assert set(SECRET_FIELDS) - owners == set(), "a field of SECRET_FIELDS has no marker: plant one above"
    provider_secret = {name for name, f in ProviderSettings.model_fields.items() if "SecretStr" in str(f.annotation)}
    assert provider_secret <= {"api_key"} and {"llm.acme.api_key", "llm.acme.base_url"} <= set(planted.markers)
    assert len(set(planted.markers.values())) == len(planted.markers)


def test_mka_config_and_doctor_print_no_secret(planted: Planted, json_logs: io.StringIO,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster import cli, doctor

    monkeypatch.setattr(cli, "load_settings", lambda: planted.settings)
    monkeypatch.setattr(doctor, "load_settings", lambda: planted.settings)
    runner = CliRunner()
    for args in (["config"], ["config", "--json"], ["doctor"], ["doctor", "--json"]):
        result = runner.invoke(cli.app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "****" in result.output, args
        assert planted.found_in(result.output) == set(), f"mka {' '.join(args)} printed planted secrets"
    report = json.loads(runner.invoke(cli.app, ["doctor", "--json"]).output)
    assert {r["provider"] for r in report["providers"]} == set(PROVIDERS)
    assert any(r.get("error") for r in report["providers"])  # the endpoints failed, and their errors were printed
    config = json.loads(runner.invoke(cli.app, ["config", "--json"]).output)
    assert config["database_url"] == "postgresql+psycopg://****@127.0.0.1:9/mka?sslmode=disable&password=****"
    assert planted.found_in(json_logs.getvalue()) == set()


def test_logs_mask_messages_and_fields(planted: Planted, json_logs: io.StringIO) -> None:
    from cluster.logs import log_event

    log = logging.getLogger("mka.test")
    s = planted.settings
    urls = [s.database_url, s.nats_url, s.otlp_endpoint, s.jwt_jwks_url, s.openai_base_url, s.xai_base_url]
    for url in urls:
        log_event(log, f"cannot reach {url}", provider="openai", outcome=f"error at {url}", error_code="unreachable")
    log.warning("settings: %s", s)  # the settings' repr is masked
    log.error("mcp server failed: %s", json.dumps(s.mcp_servers))
    log.error("upstream said: Authorization: Bearer %s", planted.markers["mcp_servers.headers"])
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert len(lines) >= len(urls) + 3 and all("****" in line["msg"] for line in lines)
    assert planted.found_in(json_logs.getvalue()) == set()


def test_the_span_file_carries_no_secret(planted: Planted) -> None:
    from cluster.tracing import setup_tracing, shutdown_tracing, span

    local = planted.settings.model_copy(update={"otlp_endpoint": None})  # spans go to the file in home
    shutdown_tracing()
    setup_tracing(local)
    try:
        key = planted.markers["openai_api_key"]
        with span("agent.llm", job_id="job-1", provider=f"{local.openai_base_url}", model=f"sk-proj-{key}",
                  outcome=local.database_url, error_code=f"auth: Bearer {key}"):
            pass
    finally:
        shutdown_tracing()
    text = local.spans_file.read_text()
    assert '"mka.job_id": "job-1"' in text and planted.found_in(text) == set()


def test_portal_problems_carry_no_secret(planted: Planted, tmp_path: Path) -> None:
    from schemas import AdapterError, StorageError
    from tests.conftest import brief_data
    from tests.portal import FakeBackend, make_identity, portal

    s = planted.settings

    class Leaky(FakeBackend):
        def cancel(self, job_id: str, *, project: str) -> str:
            self._get(job_id, project)
            raise StorageError(f"storage down at https://mka:{s.s3_secret_key.get_secret_value()}@127.0.0.1:9/b"  # type: ignore[union-attr]
                               f"?X-Amz-Signature={planted.markers['figma_token']}")

        def resume(self, job_id: str, *, project: str) -> None:
            self._get(job_id, project)
            raise AdapterError(f"database unavailable at {s.database_url} (nats {s.nats_url})")

    keys = make_identity(tmp_path)
    client = portal(keys, Leaky(), key=keys.analyst)
    job_id = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    for route in ("cancel", "resume"):
        r = client.post(f"/v1/jobs/{job_id}/{route}")
        assert r.status_code >= 500 and r.headers["content-type"] == "application/problem+json", r.text
        assert "****" in r.json()["detail"] and planted.found_in(r.text) == set()


class _Handle:
    """Stands in for an actor handle in the recorded constructor arguments."""

    def __init__(self, name: str) -> None:
        self.name = name


def _allowed(planted: Planted, role: str) -> set[str]:
    """The markers an actor of `role` may receive: its role's credentials, and an LLM actor its own provider's."""
    keep = SHARED_SECRETS | ROLE_SECRETS.get(role, frozenset())
    own = role.removeprefix("llm-") if role.startswith("llm-") else None
    mine = {f"{own}_api_key", f"{own}_base_url", f"llm.{own}"} if own else set()
    return {name for name in planted.markers if planted.owner(name) in keep | mine}


def test_actors_receive_only_their_roles_secrets(planted: Planted, monkeypatch: pytest.MonkeyPatch) -> None:
    import cluster.ray_runtime as runtime
    from cluster.ray_runtime import ACTOR_NAMES, ensure_actors, llm_actor_name

    created: list[tuple[str, tuple[Any, ...]]] = []

    class Remote:
        def __init__(self, cls: type) -> None:
            self.name = ""

        def options(self, *, name: str, **_: Any) -> Remote:
            self.name = name
            return self

        def remote(self, *args: Any) -> _Handle:
            created.append((self.name, args))
            return _Handle(self.name)

    monkeypatch.setattr(runtime.ray, "remote", Remote)
    ensure_actors(planted.settings)  # what Ray would pickle for each actor is recorded instead

    roles = {name: role for role, name in ACTOR_NAMES.items() if role != "report"}  # a pool of report actors
    roles.update({f"{ACTOR_NAMES['report']}-{i}": "report" for i in range(planted.settings.report_actors)})
    roles.update({llm_actor_name(p): f"llm-{p}" for p in PROVIDERS})
    assert {name for name, _ in created} == set(roles)
    provider_keys = {n for n in planted.markers if n.endswith("_api_key") or n.startswith("llm.")}
    for name, args in created:
        role = roles[name]
        found = planted.found_in(pickle.dumps(args))
        assert found <= _allowed(planted, role), f"{role} receives {sorted(found - _allowed(planted, role))}"
        if role in ("report", "cache", "broker", "orchestrator", "sweeper", "pii", "collector", "localizer"):
            assert not found & provider_keys, f"{role} receives a provider key"
        if role.startswith("llm-"):
            assert found & provider_keys, f"{role} lost its own provider's key"
    assert _allowed(planted, "report") & provider_keys == set()
    assert planted.found_in(pickle.dumps(dict(created)["mka-discovery-cache"])) >= {"mcp_servers.env"}  # it starts them


def test_the_portal_replica_receives_only_the_portals_secrets(planted: Planted) -> None:
    from serve_app.deployment import portal_app

    bound = portal_app(planted.settings)._bound_deployment  # Ray Serve pickles these for the replica
    found = planted.found_in(pickle.dumps((bound.init_args, bound.init_kwargs)))
    assert found and found <= _allowed(planted, "portal")
    assert not any(n.endswith("_api_key") or n.startswith(("llm.", "mcp_servers")) for n in found)


def test_a_provider_error_is_stored_masked_and_scrubbed(make_brief) -> None:  # type: ignore[no-untyped-def]
    from actors.llm import StubLlmAgent
    from actors.orchestrator.local_agents import LocalCalls
    from actors.orchestrator.runner import JobRunner, RunnerConfig
    from actors.pii.guard import EgressGuard, GuardRegistry
    from schemas import JobState, ProviderError
    from tests.conftest import TEST_KEYRING
    from tests.fakes import FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

    key, person = "PLANTEDproviderkeyQ7", "Maria Keller"  # an API key the upstream echoed, a value of the job's vault

    class Leaky(StubLlmAgent):
        async def _complete(self, request, *, timeout_s, repair=None):  # type: ignore[no-untyped-def]
            if self.provider == "openai":
                return await super()._complete(request, timeout_s=timeout_s, repair=repair)
            raise ProviderError("auth", f"401 for https://api.{self.provider}.example/v1/models?key={key} "
                                        f"(request by {person}); Authorization: Bearer {key}")

    class Agents(FakeAgents):
        def provider_calls(self):  # type: ignore[no-untyped-def]
            calls = super().provider_calls()
            return LocalCalls({p: Leaky(p) for p in ("openai", "gemini", "xai")}, calls.submit)

    guards = GuardRegistry()
    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock, guards=guards), MemoryObjectStore()
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=Agents(objects), config=config, clock=clock, guards=guards)
    job = store.submit(make_brief())
    guards.register(job.id, EgressGuard([(person, "PERSON")]))

    final = runner.run(job.id)
    assert final.state == JobState.FAILED and final.error and final.error["code"] == "below_quorum"  # not a PII block
    assert "gemini (auth: <BLOCKED>)" in final.error["message"]  # the kind survives the guard
    stored = json.dumps([final.model_dump(mode="json"), [s.model_dump(mode="json") for s in store.steps(job.id)],
                         [m.event.model_dump(mode="json") for m in store.events(job.id)],
                         *[data.decode(errors="replace") for data, _ in objects.objects.values()]])
    assert key not in stored and person not in stored and "Maria" not in stored


def test_an_error_text_is_masked_even_without_a_guard() -> None:
    from actors.orchestrator.outside_errors import clean_error

    assert clean_error("server_error: cannot reach https://u:pw@h/?key=k", None) == \
        "server_error: cannot reach https://****@h/?key=****"
    assert clean_error(None, None) is None
