"""Document upload through the real portal backend (client, SQLite job store, filesystem object store), no Ray."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster.bootstrap import build_objects, build_store
from cluster.client import MkaClient
from cluster.settings import Settings
from schemas.artifacts import ArtifactKind
from serve_app.backend import ClientBackend
from tests.portal import signed_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"


@pytest.fixture
def portal(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / ".mka", max_document_mb=0.5)
    client = MkaClient(settings, {}, store=build_store(settings), objects=build_objects(settings))
    return signed_in(ClientBackend(client), project="acme", engine=client.store.engine), client


def test_upload_stores_a_sealed_document_row_that_is_never_served(portal) -> None:  # type: ignore[no-untyped-def]
    http, client = portal
    data = (DOCS / "market.xlsx").read_bytes()
    r = http.post("/v1/documents", files={"file": ("Jonas Becker plan.xlsx", data)})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["project"] == "acme" and body["type"] == "xlsx" and body["size"] == len(data)
    assert "Jonas" not in r.text and "path" not in body  # no file name, no server path
    row = client.store.get_artifact(body["document_id"])
    assert row.kind == ArtifactKind.DOCUMENT and row.project == "acme" and row.retention_until is not None
    assert b"Jonas" not in client.objects.get(row.key) and data not in client.objects.get(row.key)
    assert http.get(f"/v1/artifacts/{body['document_id']}/meta").status_code == 404
    assert http.get(f"/v1/artifacts/{body['document_id']}").status_code == 404


def test_limits_hold_with_and_without_a_content_length(portal) -> None:  # type: ignore[no-untyped-def]
    http, client = portal
    big = b"a,b\n" + b"1,2\n" * 200_000  # 800 kB of CSV, over the 0.5 MB limit
    r = http.post("/v1/documents", files={"file": ("big.csv", big)})
    assert r.status_code == 413 and r.json()["reason"] == "too_large"

    def chunks():  # type: ignore[no-untyped-def]
        boundary = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n"
        yield boundary
        for _ in range(400):
            yield b"1,2\n" * 1024
        yield b"\r\n--x--\r\n"

    r = http.post("/v1/documents", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and r.json()["reason"] == "too_large"
    r = http.post("/v1/documents", files={"file": ("x.md", b"# ok")}, data={"project": "Sales Team"})
    assert r.status_code == 403  # a key's project is the only one it may write to
    assert client.store.catalog(kinds=[ArtifactKind.DOCUMENT]) == []  # nothing stored by a refused upload
