"""`mask_secrets`: URLs, `name=value` pairs, flags, bearer tokens, vendor-shaped keys, SecretStr, MCP configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, SecretStr

from cluster.secrets import MASK, mask_secrets
from cluster.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "masked"), [
    ("postgresql+psycopg://mka:pw@db:5432/mka", "postgresql+psycopg://****@db:5432/mka"),
    ("nats://s3cr3t-token@bus:4222", "nats://****@bus:4222"),
    ("nats://t1@a:4222,nats://u:p@b:4222", "nats://****@a:4222,nats://****@b:4222"),
    ("nats://user:p@ss@bus:4222/x", "nats://****@bus:4222/x"),  # an unencoded @ in the password
    ("sqlite:///tmp/mka.db?mode=ro", "sqlite:///tmp/mka.db?mode=ro"),
    ("db?sslmode=require&password=hunter2", "db?sslmode=require&password=****"),
    ("https://g.example/v1?key=AIzaXYZ&alt=json", "https://g.example/v1?key=****&alt=json"),
    ("https://a.example/?api-key=k&API_KEY=k&apiKey=k&access_token=t", "https://a.example/?api-key=****&API_KEY=****&apiKey=****&access_token=****"),
    ("https://s3/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=ab&X-Amz-Date=1", "https://s3/o?X-Amz-Credential=****&X-Amz-Signature=****&X-Amz-Date=1"),
    ("https://h/?sig=abc&secret=x&pwd=y&passwd=z&auth=a", "https://h/?sig=****&secret=****&pwd=****&passwd=****&auth=****"),
    ("lookup failed for u:pw@127.0.0.1:9", "lookup failed for ****@127.0.0.1:9"),
    ("Authorization: Bearer abcdef123456", "Authorization: ****"),
    ("sent bearer abcdef123456 upstream", "sent bearer **** upstream"),
    ('{"password": "x1", "model": "gpt"}', '{"password": "****", "model": "gpt"}'),
    ("srv --token abc --verbose", "srv --token **** --verbose"),
    ("srv -v --api-key=abc", "srv -v --api-key=****"),
    ("Incorrect API key provided: sk-proj-abcdefghijklmnop1234", "Incorrect API key provided: ****"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123 and xoxb-1234567890-abc", "token **** and ****"),
    ("vault_key=k1,k2 next", "vault_key=**** next"),
    ("postgresql://mka:pa/ss@db/mka", "postgresql://****@db/mka"),  # SQLAlchemy reads / ? # in a password
    ("postgresql://mka:p?a#ss@db/mka?sslmode=x", "postgresql://****@db/mka?sslmode=x"),
    ("nats://u:p@a:4222,nats://v:q@b:4222", "nats://****@a:4222,nats://****@b:4222"),
    ("Authorization: Token 9944b09199c62bcf9418ad846dd0e4bb", "Authorization: ****"),
    ('{"Authorization": "Digest d41d8cd98f00b204"}', '{"Authorization": "****"}'),
    ("-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----", "****"),
])
def test_text(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


@pytest.mark.parametrize("text", [
    "job 123e4567-e89b-12d3-a456-426614174000 trace 0af7651916cd43dd8448eb211c80319c",
    "MKA_AUTH=off is for local development", "max_tokens=4096 tokens=12", "object key: jobs/a/b.json",
    "mail maria@example.com at http://host:80/x", "below quorum: 1 of 2 required answers", "",
    "http://127.0.0.1:4318", "mcp://market-data/market_size?country=DE",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_secret_str_and_plain_values() -> None:
    assert mask_secrets(SecretStr("x")) == MASK and mask_secrets(SecretStr("")) == ""
    assert [mask_secrets(v) for v in (None, 3, 2.5, True)] == [None, 3, 2.5, True]
    assert mask_secrets(Path("/a")) == Path("/a")


def test_mappings_mask_values_under_secret_names_only() -> None:
    data = {"password": "p", "client_secret": "c", "x-api-key": "k", "vault_key": "v", "figma_token": "t",
            "auth": "on", "key": "jobs/x.json", "s3_access_key": "AKID", "tokens": 12, "nested": [{"token": "t"}]}
    assert mask_secrets(data) == {"password": MASK, "client_secret": MASK, "x-api-key": MASK, "vault_key": MASK,
                                  "figma_token": MASK, "auth": "on", "key": "jobs/x.json", "s3_access_key": "AKID",
                                  "tokens": 12, "nested": [{"token": MASK}]}


def test_mcp_server_configs() -> None:
    servers = {
        "crm": {"command": "npx", "args": ["-y", "@acme/crm-mcp", "--token", "t0k", "--api-key=k3y", "--verbose",
                                           "ghp_abcdefghijklmnopqrstuvwx", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFi",
                                           "/usr/lib/node_modules/x.js", "actors.mcp.market_data_server"],
                "env": {"CRM_TOKEN": "t", "EMPTY": "", "PORT": 8080}, "source_type": "tool"},
        "remote": {"url": "https://u:p@mcp.example/sse?token=t", "headers": {"Authorization": "Bearer x", "X-Org": "acme"}},
    }
    assert mask_secrets(servers) == {
        "crm": {"command": "npx", "args": ["-y", "@acme/crm-mcp", "--token", MASK, "--api-key=****", "--verbose", MASK,
                                           MASK, "/usr/lib/node_modules/x.js", "actors.mcp.market_data_server"],
                "env": {"CRM_TOKEN": MASK, "EMPTY": "", "PORT": MASK}, "source_type": "tool"},
        "remote": {"url": "https://****@mcp.example/sse?token=****", "headers": {"Authorization": MASK, "X-Org": MASK}},
    }
    assert servers["crm"]["env"]["CRM_TOKEN"] == "t"  # a copy: the input is untouched


def test_models_become_masked_mappings() -> None:
    class Provider(BaseModel):
        model: str = "m"
        api_key: SecretStr | None = None
        base_url: str | None = None

    assert mask_secrets(Provider(api_key=SecretStr("k"), base_url="https://h/?key=k")) == {
        "model": "m", "api_key": MASK, "base_url": "https://h/?key=****"}


def test_settings_masked_uses_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql://u:pw@h/db?password=pw", vault_key=SecretStr("v"),
                        mcp_servers={"crm": {"command": "x", "args": ["--token", "t"], "env": {"K": "v"}}},
                        llm={"xai": {"api_key": "xk", "base_url": "http://h/?api-key=xk"}})
    masked = settings.masked()
    assert masked["home"] == str(tmp_path) and masked["vault_key"] == MASK
    assert masked["database_url"] == "postgresql://****@h/db?password=****"
    assert masked["mcp_servers"] == {"crm": {"command": "x", "args": ["--token", MASK], "env": {"K": MASK}}}
    assert masked["llm"]["xai"]["api_key"] == MASK and masked["llm"]["xai"]["base_url"] == "http://h/?api-key=****"
    assert list(masked["llm"]) == sorted(masked["llm"])
    assert "pw" not in repr(settings) and "xk" not in repr(settings)  # a traceback shows the settings masked


def test_compose_binds_loopback_and_reads_credentials_from_env_file() -> None:
    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "USER", "TOKEN")):
                assert str(value).startswith(f"${{{key}:?"), f"{name}.{key} is not read from .env"
        assert not any("TOKEN" in str(arg) or "PASSWORD" in str(arg) for arg in service.get("command", [])), name
    nats = compose["services"]["nats"]
    assert nats["command"] == ["-c", "/etc/nats/nats.conf"] and "NATS_TOKEN" in nats["environment"]
    [conf] = [v.split(":")[0] for v in nats["volumes"] if v.endswith("/etc/nats/nats.conf:ro")]
    assert "token: $NATS_TOKEN" in (root / conf).read_text()  # from the environment, never the command line
    assert ".env" in (root / ".gitignore").read_text().split()
    example = (root / ".env.example").read_text()
    assert all(f"{var}=" in example for var in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "NATS_TOKEN"))
