"""The composition root: each actor role receives only the credentials it needs."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from cluster.bootstrap import SECRET_FIELDS, settings_for
from cluster.settings import Settings

pytestmark = pytest.mark.unit


def _full() -> Settings:
    return Settings(
        database_url="postgresql+psycopg://mka:db-pass@db/mka", nats_url="nats://token@bus:4222",
        s3_secret_key=SecretStr("s3-secret"), vault_key=SecretStr("vault-secret"),
        openai_api_key=SecretStr("sk-openai"), gemini_api_key=SecretStr("gm-key"),
        llm={"xai": {"api_key": "xai-key"}},
    )


def _secrets(settings: Settings) -> set[str]:
    full = _full()  # a field kept as given (not removed, not masked)
    flat = {name for name in SECRET_FIELDS if getattr(settings, name) and getattr(settings, name) == getattr(full, name)}
    nested = {f"{name}_api_key" for name, p in settings.llm.items() if p.api_key is not None}
    return flat | nested


@pytest.mark.parametrize(("role", "kept"), [
    ("llm-openai", {"openai_api_key"}),
    ("llm-xai", {"xai_api_key"}),
    ("pii", {"vault_key"}),
    ("report", {"s3_secret_key"}),
    ("collector", set()),
    ("orchestrator", {"database_url", "s3_secret_key", "vault_key"}),
    ("portal", {"database_url", "s3_secret_key", "vault_key"}),
])
def test_each_role_keeps_only_its_credentials(role: str, kept: set[str]) -> None:
    trimmed = settings_for(_full(), role)
    assert _secrets(trimmed) == kept
    dumped = repr(trimmed.model_dump(mode="json", context=None)) + repr({k: v.api_key and v.api_key.get_secret_value() for k, v in trimmed.llm.items()})
    assert ("db-pass" in dumped) == ("database_url" in kept)
    assert ("xai-key" in dumped) == ("xai_api_key" in kept) and ("sk-openai" in dumped) == ("openai_api_key" in kept)
    assert trimmed.providers == _full().providers and trimmed.quorum_deadline_s == _full().quorum_deadline_s


def test_a_removed_url_is_masked_and_a_removed_key_is_gone() -> None:
    trimmed = settings_for(_full(), "pii")
    assert trimmed.nats_url == "nats://****@bus:4222" and trimmed.database_url == "postgresql+psycopg://****@db/mka"
    assert trimmed.s3_secret_key is None and trimmed.llm["xai"].api_key is None


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown actor role"):
        settings_for(_full(), "janitor")


def test_the_portal_is_wired_secure_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cluster.bootstrap import build_authenticator, build_store, portal_config
    from schemas import MkaError
    from cluster.settings import Settings

    settings = Settings(home=tmp_path, serve_host="10.0.0.5", cost_budget_usd=0.2, use_stubs=False)
    config = portal_config(settings)
    assert config.http.max_body_bytes == 1024 * 1024 and "10.0.0.5" in config.http.allowed_hosts
    assert config.allow_scripts is False
    assert str(tmp_path) in config.http.server_roots
    auth = build_authenticator(settings, build_store(settings).engine)
    assert auth.enabled and auth.jwt is None
    local = settings.model_copy(update={"jwt_issuer": "https://idp.example/", "jwt_audience": "mka", "auth": "off",
                                        "serve_host": "127.0.0.1"})
    jwt_on = build_authenticator(local, build_store(settings).engine)
    assert not jwt_on.enabled and jwt_on.jwt is not None
    assert jwt_on.jwt.config.jwks_url == "https://idp.example/.well-known/jwks.json" and jwt_on.jwt.config.audience == "mka"
    with pytest.raises(MkaError, match="local development"):  # auth off on a reachable address: refused
        build_authenticator(settings.model_copy(update={"auth": "off"}), build_store(settings).engine)
    with pytest.raises(ValueError, match="MKA_JWT_AUDIENCE"):
        Settings(home=tmp_path, jwt_issuer="https://idp.example/")
    assert "0.0.0.0" not in portal_config(settings.model_copy(update={"serve_host": "0.0.0.0"})).http.allowed_hosts


def test_an_actor_drops_the_credentials_it_inherited_from_the_drivers_shell(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from cluster.bootstrap import scrub_environment, secret_environment_names

    planted = {"MKA_DATABASE_URL": "postgresql://u:pw@db/x", "OPENAI_API_KEY": "sk-x", "GOOGLE_API_KEY": "g",
               "MKA_VAULT_KEY": "v", "MKA_SIGNING_KEY": "s", "MKA_LLM__XAI__API_KEY": "x", "NATS_TOKEN": "n",
               "MKA_NATS_URL": "nats://t@h", "MKA_MCP_SERVERS": "{}", "POSTGRES_PASSWORD": "p"}
    kept = {"MKA_HOME": "/tmp/h", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "PATH": os.environ["PATH"],
            "MKA_LLM__XAI__MODEL": "grok"}
    for name, value in {**planted, **kept}.items():
        monkeypatch.setenv(name, value)
    assert set(planted) <= set(secret_environment_names())
    dropped = scrub_environment()
    assert set(planted) <= set(dropped) and not set(kept) & set(dropped)
    assert all(name not in os.environ for name in planted) and all(os.environ[n] == v for n, v in kept.items())
