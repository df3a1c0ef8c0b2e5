"""Figma REST contract: the client against a fake Figma API whose bodies match Figma's official schema."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from actors.figma.rest import FigmaClient, FigmaError, parse_file_ref
from tests.figma.server import FakeFigma, error_reply
from tests.figma.spec import spec_errors

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((ROOT / "examples" / "figma" / "report-template.json").read_text(encoding="utf-8"))
KEY = "AbCdEf123456Key"


@pytest.fixture
def fake() -> Any:
    with FakeFigma(files={KEY: copy.deepcopy(TEMPLATE)}) as server:
        yield server


def _client(fake: FakeFigma, *, token: str | None = None, sleeps: list[float] | None = None, **kw: Any) -> FigmaClient:
    return FigmaClient(token or fake.api_key, base_url=fake.base_url, sleep=(sleeps if sleeps is not None else []).append,
                       **kw)


def test_the_bundled_template_and_the_fake_answers_match_figmas_official_schema(fake: FakeFigma) -> None:
    assert spec_errors("GetFileResponse", TEMPLATE) == []
    client = _client(fake)
    frame_id = TEMPLATE["document"]["children"][0]["children"][0]["id"]
    nodes = client.file(KEY, ids=[frame_id, "9:999"])
    # Figma documents `null` for an id not in the file, though its schema types the map's values as objects.
    assert nodes["nodes"]["9:999"] is None and nodes["nodes"][frame_id]["document"]["name"] == "Report"
    assert spec_errors("GetFileNodesResponse", {**nodes, "nodes": {frame_id: nodes["nodes"][frame_id]}}) == []
    assert spec_errors("GetFileResponse", client.file(KEY)) == []
    for status, response in ((403, "ForbiddenErrorResponseWithErrMessage"), (404, "NotFoundErrorResponseWithErrMessage"),
                             (429, "TooManyRequestsErrorResponseWithErrMessage"),
                             (500, "InternalServerErrorResponseWithErrMessage")):
        assert spec_errors(response, error_reply(status, "x").body) == []


def test_the_schema_check_catches_a_drifted_shape() -> None:
    bad = copy.deepcopy(TEMPLATE)
    text = next(n for n in bad["document"]["children"][0]["children"][0]["children"] if n["type"] == "TEXT")
    del text["characters"]
    assert any("characters" in e for e in spec_errors("GetFileResponse", bad))
    assert spec_errors("ForbiddenErrorResponseWithErrMessage", {"error": "forbidden"})


def test_the_client_sends_the_token_and_reads_files_and_nodes(fake: FakeFigma) -> None:
    client = _client(fake)
    assert client.file(KEY)["name"] == "Report template"
    seen = fake.seen(f"/v1/files/{KEY}")
    assert seen and seen[0].headers["x-figma-token"] == "<key ok>"
    client.file(KEY, ids=["1:2", "1:3"])
    assert fake.seen("/nodes")[0].path.endswith("ids=1%3A2%2C1%3A3")


@pytest.mark.parametrize(("status", "reason"), [(403, "auth"), (404, "not_found")])
def test_refusals_fail_at_once_with_their_reason(fake: FakeFigma, status: int, reason: str) -> None:
    client = _client(fake, token="figd_wrong" if status == 403 else None)
    with pytest.raises(FigmaError) as caught:
        client.file(KEY if status == 403 else "NoSuchFile1234")
    assert caught.value.reason == reason and not caught.value.retryable
    assert len(fake.requests) == 1  # not retried


def test_a_429_waits_for_retry_after_then_succeeds(fake: FakeFigma) -> None:
    sleeps: list[float] = []
    fake.fail_next(error_reply(429, "Rate limit exceeded", {"Retry-After": "7", "X-Figma-Rate-Limit-Type": "low"}))
    assert _client(fake, sleeps=sleeps).file(KEY)["name"] == "Report template"
    assert sleeps == [7.0] and len(fake.requests) == 2


def test_a_429_with_a_long_retry_after_fails_fast_naming_the_wait(fake: FakeFigma) -> None:
    sleeps: list[float] = []
    fake.fail_next(error_reply(429, "Rate limit exceeded", {"Retry-After": "3600", "X-Figma-Rate-Limit-Type": "low"}))
    with pytest.raises(FigmaError, match=r"rate limit \(low\): retry after 3600 s") as caught:
        _client(fake, sleeps=sleeps, max_wait_s=60).file(KEY)
    assert caught.value.reason == "rate_limited" and caught.value.retryable and sleeps == []


def test_500s_are_retried_with_backoff_then_reported(fake: FakeFigma) -> None:
    sleeps: list[float] = []
    fake.fail_next(error_reply(500, "Internal server error"), error_reply(502, "Bad gateway"))
    assert _client(fake, sleeps=sleeps).file(KEY)["version"] == "1"
    assert sleeps == [1.0, 2.0]
    fake.fail_next(*[error_reply(500, "Internal server error")] * 3)
    with pytest.raises(FigmaError, match="failed with 500") as caught:
        _client(fake, sleeps=[], max_retries=2).file(KEY)
    assert caught.value.reason == "server_error"


def test_file_references_from_keys_and_urls() -> None:
    assert parse_file_ref(KEY) == (KEY, [])
    assert parse_file_ref(f"https://www.figma.com/design/{KEY}/Report?node-id=12-34&t=x") == (KEY, ["12:34"])
    assert parse_file_ref(f"https://figma.com/file/{KEY}/Report") == (KEY, [])
    for bad in ("https://evil.example/file/AbCdEf123456/x", "not a key!", ""):
        with pytest.raises(FigmaError):
            parse_file_ref(bad)
    with pytest.raises(FigmaError, match="MKA_FIGMA_TOKEN"):
        FigmaClient("")


def test_templates_add_fetches_from_figma_with_the_cli(fake: FakeFigma, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA_", "OTEL_", "FIGMA_"))}
    env.update(MKA_HOME=str(tmp_path / ".mka"), MKA_FIGMA_TOKEN=fake.api_key, MKA_FIGMA_API_URL=fake.base_url)
    frame_id = TEMPLATE["document"]["children"][0]["children"][0]["id"]
    url = f"https://www.figma.com/design/{KEY}/Report?node-id={frame_id.replace(':', '-')}"

    def mka(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cluster.cli", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    added = mka("figma", "templates", "add", "--file-key", url, "--name", "Deck", "--json")
    assert added.returncode == 0, added.stderr
    out = json.loads(added.stdout)
    assert set(out) == {"template_id", "version", "fields", "warnings"}
    assert out["template_id"] == "deck" and out["version"] == 1 and "#title" in out["fields"]
    assert fake.seen("/nodes")  # the frame, not the whole file
    listed = json.loads(mka("figma", "templates", "list", "--json").stdout)
    assert [(t["template_id"], t["version"], t["source"]) for t in listed] == [("deck", 1, f"figma:{KEY}")]
    env["MKA_FIGMA_TOKEN"] = "figd_wrong"
    refused = mka("figma", "templates", "add", "--file-key", KEY, "--json")
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["error"]["reason"] == "auth"
