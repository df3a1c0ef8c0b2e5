"""The Figma export in a job: the bundled template filled for the base and the de_DE report, plans and previews.

Runs in-process (SQLite, the real PII agent, the bundled MCP server, stub LLMs, the real report and
export code). The base and de_DE plans are also the fixtures the plugin's Node tests apply
(`figma-plugin/test/fixtures/`); `MKA_UPDATE_GOLDEN=1` rewrites them.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actors.figma.preview import svg_to_png
from actors.figma.template import scan_template, template_roots, walk
from schemas import JobState
from schemas.figma import FillPlan
from tests.inprocess import InProcessJob, run_in_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "figma" / "report-template.json"
FIXTURES = ROOT / "figma-plugin" / "test" / "fixtures"
UPDATE = os.environ.get("MKA_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> InProcessJob:
    brief = yaml.safe_load((ROOT / "examples" / "brief-figma.yaml").read_text(encoding="utf-8"))
    brief["outputs"] = ["html", "figma"]  # no PDF: faster, and not what this test is about
    done = run_in_process(tmp_path_factory.mktemp("figma"), brief, templates=[TEMPLATE])
    assert done.job.state == JobState.COMPLETED, done.job.error
    return done


def _artifact(job: InProcessJob, kind: str, locale: str | None) -> bytes:
    [row] = [a for a in job.artifacts if a.kind == kind and a.locale == locale]
    return job.objects.get(row.key)


def _plan(job: InProcessJob, locale: str | None) -> FillPlan:
    return FillPlan.model_validate_json(_artifact(job, "figma_plan", locale))


def _changed_nodes(plan: FillPlan) -> set[str]:
    ids = set()
    for rep in plan.replacements:
        ids.add(rep.node_id)
        if rep.kind == "clone":
            ids |= {change["node_id"] for item in rep.value["items"] for change in item}
    return ids


def test_the_job_stores_a_plan_and_a_preview_per_locale(job: InProcessJob) -> None:
    kinds = sorted((a.kind, a.locale or "") for a in job.artifacts if a.kind.startswith("figma"))
    assert kinds == [("figma_plan", ""), ("figma_plan", "de_DE"), ("figma_preview", ""), ("figma_preview", "de_DE")]
    prefix = f"projects/demo/jobs/{job.job.id}/"
    keys = sorted(a.key.removeprefix(prefix) for a in job.artifacts if a.kind.startswith("figma"))
    assert keys == ["de_DE/figma-plan.json", "de_DE/figma-preview.svg", "figma-plan.json", "figma-preview.svg"]
    exported = [e.payload for e in job.events if e.type == "figma.exported"]
    assert [(e["locale"], e["template"], e["missing_fields"]) for e in exported] == [
        ("en_GB", "report-template", []), ("de_DE", "report-template", [])]


@pytest.mark.parametrize("locale", [None, "de_DE"])
def test_every_field_of_the_bundled_template_is_replaced(job: InProcessJob, locale: str | None) -> None:
    plan = _plan(job, locale)
    assert plan.locale == (locale or "en_GB") and plan.template_id == "report-template" and plan.version == 1
    assert plan.missing_fields == [] and plan.unknown_fields == []
    scan = scan_template(template_roots(json.loads(TEMPLATE.read_text(encoding="utf-8"))))
    fields = {use.node["id"] for use in scan.fields} | {node["id"] for use in scan.fields for _, node in use.items}
    assert fields <= _changed_nodes(plan)
    hidden = [r.field for r in plan.replacements if r.kind == "visibility" and r.value is False and r.field != "banner"]
    assert hidden == []  # nothing hidden for want of a value


def test_the_plans_are_localized(job: InProcessJob) -> None:
    base, german = _plan(job, None), _plan(job, "de_DE")
    text = {r.field: r.value for r in german.replacements if r.kind == "text"}
    assert text["market.DE.name"] == "Deutschland (DE)" and "Mrd." in text["market.DE.size"]
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", text["date"])  # 01.12.2026
    claims = next(r for r in german.replacements if r.kind == "clone")
    agreement = {c["value"] for item in claims.value["items"] for c in item if c["field"] == "claim.agreement"}
    assert agreement <= {"einstimmig", "Mehrheit", "einzeln"} and agreement
    base_text = {r.field: r.value for r in base.replacements if r.kind == "text"}
    assert base_text["market.DE.name"] == "Germany (DE)"
    # The chart is the report's own, drawn in each locale's words.
    images = [r.value for r in german.replacements if r.kind == "image"]
    assert images and base64.b64decode(images[0]["data"]).startswith(b"\x89PNG")


def test_the_preview_shows_the_title_summary_and_chart(job: InProcessJob) -> None:
    plan = _plan(job, None)
    svg = _artifact(job, "figma_preview", None).decode()
    text = {r.field: r.value for r in plan.replacements if r.kind == "text"}
    spans = " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg))
    words = spans.replace("&amp;", "&")
    for field in ("title", "summary.1", "summary.2", "summary.3"):
        assert text[field].split()[0] in words and text[field].split()[-1] in words, field
    assert re.search(r'<text data-node="[^"]+" data-name="#title"', svg)
    image = re.search(r'<image [^>]*data-image="chart-market-size.png"[^>]*href="data:image/png;base64,([^"]+)"', svg)
    assert image and base64.b64decode(image.group(1)).startswith(b"\x89PNG")
    assert 'data-name="#banner"' not in svg  # every provider answered: the banner is hidden
    png = svg_to_png(svg)
    assert png is not None and png.startswith(b"\x89PNG")


def test_the_plugin_fixtures_are_these_plans(job: InProcessJob) -> None:
    """The plugin's tests apply exactly what the export makes (dates aside)."""
    def normal(plan: dict[str, Any]) -> dict[str, Any]:
        plan = {**plan, "job_id": "<JOB>"}
        plan["replacements"] = [{**r, "value": "<DATE>"} if r["field"] == "date" else r for r in plan["replacements"]]
        return plan

    for locale, name in ((None, "demo-plan.json"), ("de_DE", "demo-plan.de_DE.json")):
        made = json.loads(_artifact(job, "figma_plan", locale))
        if UPDATE:
            (FIXTURES / name).write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        kept = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        assert normal(made) == normal(kept), f"{name} changed (MKA_UPDATE_GOLDEN=1 to accept)"


def test_every_layer_id_in_the_plans_exists_in_the_template(job: InProcessJob) -> None:
    ids = {node["id"] for root in template_roots(json.loads(TEMPLATE.read_text(encoding="utf-8"))) for node in walk(root)}
    for locale in (None, "de_DE"):
        assert _changed_nodes(_plan(job, locale)) <= ids
