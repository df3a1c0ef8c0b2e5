"""The quickstart notebook runs top to bottom (nbclient, a real kernel, Ray and the demo brief) and shows its tables."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def test_quickstart_runs_and_shows_claims_disagreements_and_the_first_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("MKA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MKA_HOME", str(tmp_path / "home"))
    ray_tmp = tempfile.mkdtemp(prefix="mka-nb-", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "started a local Ray cluster" in text and "completed" in text
    tables = [o["data"]["text/html"] for o in outputs if o.output_type == "execute_result" and "text/html" in o.get("data", {})]
    assert len(tables) == 2
    claims, disagreements = tables
    assert "agreement" in claims and "grounding" in claims and "hallucination" in claims and claims.count("<tr>") > 3
    assert "topic" in disagreements
    pages = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(pages) == 1 and len(pages[0]["data"]["image/png"]) > 10_000
