"""The Figma export's pure parts: field grammar, template scan, fill plan (missing, unknown, overflow, clones),
the preview, template storage and the brief's template reference."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from actors.figma.content import BANNER_COLOURS, Content
from actors.figma.export import egress_view, replaced_count
from actors.figma.fields import parse_field, parse_item_field
from actors.figma.plan import fill_plan, text_capacity, wrap
from actors.figma.preview import apply_plan, render_svg
from actors.figma.store import add_template, check_brief_template, list_templates, load_template, template_id_of
from actors.figma.template import scan_template, template_roots
from actors.pii.guard import EgressBlocked, EgressGuard
from schemas import ArtifactNotFound, InvalidBrief, InvalidInput, parse_brief
from tests.conftest import TEST_KEYRING, brief_data
from tests.fakes import MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = json.loads((ROOT / "examples" / "figma" / "report-template.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
_ids = iter(range(1, 100_000))


def node(name: str, kind: str = "TEXT", *, box: tuple[float, float, float, float] = (0, 0, 200, 20),
         children: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A layer in Figma's REST shape (only what the engine reads)."""
    x, y, w, h = box
    out: dict[str, Any] = {"id": f"9:{next(_ids)}", "name": name, "type": kind,
                           "absoluteBoundingBox": {"x": x, "y": y, "width": w, "height": h}, **extra}
    if kind == "TEXT":
        out.setdefault("characters", "sample")
        out.setdefault("style", {"fontFamily": "Inter", "fontSize": 12, "lineHeightPx": 16, "textAutoResize": "NONE"})
    else:
        out.setdefault("fills", [])
    if children is not None:
        out["children"] = children
    return out


def file_of(*layers: dict[str, Any]) -> dict[str, Any]:
    frame = node("Page frame", "FRAME", box=(0, 0, 800, 1000), children=list(layers))
    return {"name": "Test", "document": {"id": "0:0", "type": "DOCUMENT", "children": [
        {"id": "0:1", "type": "CANVAS", "name": "Page", "children": [frame]}]}}


def content(**texts: str) -> Content:
    return Content(locale="en_GB", texts=dict(texts), items={"claims": [
        {"claim.label": "C1", "claim.text": "First claim"}, {"claim.label": "C2", "claim.text": "Second claim"}]})


def test_field_grammar() -> None:
    assert parse_field("#market.de.size").name == "market.DE.size"  # type: ignore[union-attr]
    assert parse_field(" #chart.market-size ").name == "chart.market_size"  # type: ignore[union-attr]
    assert parse_field("#question.2.finding.3").parts == ("question", "2", "finding", "3")  # type: ignore[union-attr]
    assert parse_field("#claims[]").kind == "repeat"  # type: ignore[union-attr]
    for bad in ("#summary.0", "#summary.01", "#market.DEU.size", "#chart.pie", "#tilte", "#items[]", "title", "#"):
        assert parse_field(bad) is None, bad
    assert parse_item_field("#claim.text", "claim").name == "claim.text"  # type: ignore[union-attr]
    assert parse_item_field("#claim.text", "market") is None and parse_item_field("#claim.colour", "claim") is None


def test_scan_lists_fields_and_warns_about_every_unusable_layer() -> None:
    proto = node("Item", "FRAME", children=[node("#claim.text"), node("#claim.colour"), node("#title")])
    doc = file_of(node("#title"), node("#tilte"), node("#summary.1", "RECTANGLE"), node("#chart.market_size", "TEXT"),
                  node("#claims[]", "FRAME", children=[proto, node("Extra", "FRAME")]),
                  node("#markets[]", "FRAME", children=[]), node("Heading"))
    scan = scan_template(template_roots(doc))
    assert scan.names() == ["#title", "#claims[]", "#claim.text"]
    assert [n for n, _ in scan.unknown] == ["#tilte", "#summary.1", "#chart.market_size", "#claim.colour", "#title",
                                           "#markets[]"]
    text = "\n".join(scan.warnings)
    assert "did you mean #title" in text and "needs a TEXT layer" in text and "needs a shape or frame" in text
    assert "only its first child" in text and "no child layer to clone" in text


def test_roots_of_files_and_node_answers_and_refusals() -> None:
    assert template_roots(BUNDLED)[0]["name"] == "Report"
    frame = BUNDLED["document"]["children"][0]["children"][0]
    nodes = {"name": "x", "nodes": {frame["id"]: {"document": frame}, "1:999": None}}
    assert [r["id"] for r in template_roots(nodes)] == [frame["id"]]
    for bad in ([], {"document": {"type": "FRAME"}}, {"nodes": {"1:1": {"document": {"name": "no id"}}}}):
        with pytest.raises(InvalidInput):
            template_roots(bad)
    with pytest.raises(InvalidInput, match="no fields"):
        scan_template(template_roots(file_of(node("Heading"), node("#nope"))))


def test_missing_fields_are_listed_and_hidden_unknown_ones_listed() -> None:
    title, s7 = node("#title"), node("#summary.7")
    scan = scan_template(template_roots(file_of(title, s7, node("#tilte"))))
    plan = fill_plan(scan, content(title="Oat launch"), template_id="t", version=1, job_id="j")
    assert plan.missing_fields == ["#summary.7"] and plan.unknown_fields == ["#tilte"]
    kinds = {(r.node_id, r.kind, r.value) for r in plan.replacements}
    assert (title["id"], "text", "Oat launch") in kinds and (s7["id"], "visibility", False) in kinds


def test_overflow_is_estimated_never_cut() -> None:
    long = "The German plant-based milk market is worth about EUR 1.48 bn and grows 6.4 % a year. " * 3
    small = node("#summary.1", box=(0, 0, 200, 32))
    grows = node("#summary.2", box=(0, 0, 200, 16),
                 style={"fontSize": 12, "lineHeightPx": 16, "textAutoResize": "HEIGHT"})
    roomy = node("#summary.3", box=(0, 0, 600, 200))
    scan = scan_template(template_roots(file_of(small, grows, roomy)))
    plan = fill_plan(scan, content(**{"summary.1": long, "summary.2": long, "summary.3": long}), template_id="t",
                     version=1, job_id="j")
    [over] = plan.overflow
    assert over.node_id == small["id"] and over.field == "summary.1" and over.chars == len(long)
    assert 30 < over.limit < over.chars  # two lines of a 200 px box hold some 60-70 characters
    assert next(r.value for r in plan.replacements if r.node_id == small["id"]) == long  # in full


def test_wrap_and_capacity_for_cjk_and_long_words() -> None:
    assert len(wrap("市場規模は年率六パーセントで成長している", 60, 12)) == 4  # full-width: ~5 per 60 px line
    assert wrap("Donaudampfschifffahrtsgesellschaft", 80, 12)[0] != "Donaudampfschifffahrtsgesellschaft"
    box = node("#title", box=(0, 0, 100, 16))
    assert text_capacity(box, "Short")[0] and not text_capacity(box, "A title far too long for its box")[0]


def test_banner_and_clones() -> None:
    banner = node("#banner", "FRAME", children=[node("#banner.text")], fills=[])
    proto = node("Item", "FRAME", box=(0, 100, 300, 40), children=[node("#claim.label"), node("#claim.text")])
    group = node("#claims[]", "FRAME", box=(0, 100, 300, 40), children=[proto], itemSpacing=6)
    scan = scan_template(template_roots(file_of(banner, group)))
    data = content(**{"banner.text": "DEGRADED"})
    data.banner_state = "degraded"
    plan = fill_plan(scan, data, template_id="t", version=1, job_id="j")
    by = {(r.node_id, r.kind): r.value for r in plan.replacements}
    assert by[(banner["id"], "visibility")] is True and by[(banner["id"], "fill")] == BANNER_COLOURS["degraded"]
    clone = by[(group["id"], "clone")]
    assert clone["prototype"] == proto["id"] and clone["count"] == 2 and clone["offset"] == {"x": 0.0, "y": 46.0}
    assert [[c["value"] for c in item] for item in clone["items"]] == [["C1", "First claim"], ["C2", "Second claim"]]
    assert replaced_count(plan) == 4 + 4  # banner visibility, fill and text, the clone; two items of two
    data.items["claims"] = []
    empty = fill_plan(scan, data, template_id="t", version=1, job_id="j")
    assert "#claims[]" in empty.missing_fields


def test_preview_applies_the_plan_grows_frames_and_escapes_text() -> None:
    title = node("#title", box=(0, 0, 400, 20))
    s5 = node("#summary.5", box=(0, 30, 400, 20), characters="Designer sample")
    proto = node("Item", "FRAME", box=(0, 100, 300, 40), children=[node("#claim.label", box=(0, 100, 40, 16)),
                                                                    node("#claim.text", box=(40, 100, 260, 16))])
    group = node("#claims[]", "FRAME", box=(0, 100, 300, 40), children=[proto])
    chart = node("#chart.market_size", "RECTANGLE", box=(0, 200, 300, 100), fills=[{"type": "SOLID", "color": {}}])
    doc = file_of(title, s5, group, chart)
    roots = template_roots(doc)
    data = content(title="<script>alert(1)</script> & co")
    data.images["chart.market_size"] = {"name": "chart-market-size.png", "data": "iVBORw0KGgo=", "scale_mode": "FIT",
                                        "content_type": "image/png"}
    plan = fill_plan(scan_template(roots), data, template_id="t", version=1, job_id="j")
    filled = apply_plan(roots, plan)
    svg = render_svg(roots, plan, title="t")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in svg and "<script>" not in svg
    assert "Designer sample" not in svg  # missing: hidden
    assert "First claim" in svg and "Second claim" in svg
    assert 'data-image="chart-market-size.png"' in svg and "data:image/png;base64,iVBORw0KGgo=" in svg
    claims = next(n for n in filled[0]["children"] if n["name"] == "#claims[]")
    assert len(claims["children"]) == 2 and claims["absoluteBoundingBox"]["height"] >= 2 * 40
    assert roots[0]["children"][2]["children"][0]["children"][1]["characters"] == "sample"  # the template is intact


def test_the_guard_reads_every_text_of_the_plan_but_not_image_bytes() -> None:
    scan = scan_template(template_roots(file_of(node("#title"), node("#claims[]", "FRAME", children=[
        node("Item", "FRAME", children=[node("#claim.text")])]))))
    data = content(title="Oat launch")
    data.items["claims"][1]["claim.text"] = "Ask Maria Keller for samples"
    plan = fill_plan(scan, data, template_id="t", version=1, job_id="j")
    guard = EgressGuard([("Maria Keller", "PERSON")])
    with pytest.raises(EgressBlocked, match="figma"):
        guard.check("figma", egress_view(plan))
    data.items["claims"][1]["claim.text"] = "Ask the launch lead"
    data.images["chart.market_size"] = {"name": "x.png", "data": "TWFyaWEgS2VsbGVy"}
    guard.check("figma", egress_view(fill_plan(scan, data, template_id="t", version=1, job_id="j")))


def test_templates_are_versioned_per_project_and_checked_at_submit() -> None:
    store, objects = MemoryJobStore(keyring=TEST_KEYRING), MemoryObjectStore()
    first = add_template(store, objects, project="demo", doc=BUNDLED, name=None, source="upload", now=NOW)
    assert (first.template_id, first.version, first.warnings) == ("report-template", 1, [])
    again = add_template(store, objects, project="demo", doc=copy.deepcopy(BUNDLED), name=None, source="upload", now=NOW)
    assert again.version == 1  # the same file: no new version
    changed = copy.deepcopy(BUNDLED)
    changed["document"]["children"][0]["children"][0]["children"][2]["characters"] = "Other sample"
    assert add_template(store, objects, project="demo", doc=changed, name=None, source="upload", now=NOW).version == 2
    assert [(t.template_id, t.version) for t in list_templates(store, objects, project="demo")] == [
        ("report-template", 1), ("report-template", 2)]
    assert load_template(store, objects, project="demo", ref="report-template")[0].version == 2
    assert load_template(store, objects, project="demo", ref="report-template@1")[0].version == 1
    row = store.catalog(project="demo")[0]
    assert row.kind == "template" and row.job_id is None and row.key == "projects/demo/templates/report-template/v1.json"
    with pytest.raises(ArtifactNotFound):
        load_template(store, objects, project="other", ref="report-template")
    brief = parse_brief(brief_data(project="demo", outputs=["pdf", "figma"], figma_template="report-template@2"))
    check_brief_template(store, objects, brief)
    for ref, project in (("report-template@3", "demo"), ("nope", "demo"), ("report-template", "other")):
        with pytest.raises(InvalidBrief) as caught:
            check_brief_template(store, objects, parse_brief(brief_data(project=project, outputs=["figma"],
                                                                        figma_template=ref)))
        assert caught.value.problems[0]["field"] == "figma_template"
    assert template_id_of("Rapport d'été 2026!") == "rapport-d-ete-2026"
    with pytest.raises(InvalidInput):
        template_id_of("???")


def test_the_brief_names_a_template_when_it_wants_figma() -> None:
    with pytest.raises(InvalidBrief) as caught:
        parse_brief(brief_data(outputs=["pdf", "figma"]))
    assert caught.value.problems[0]["field"] == "figma_template"
    with pytest.raises(InvalidBrief):
        parse_brief(brief_data(outputs=["figma"], figma_template="Bad Name!"))
    assert parse_brief(brief_data(outputs=["figma"], figma_template="deck@3")).figma_template == "deck@3"
    from schemas import Brief

    # Jobs stored before the export existed asked for figma without a template: they still load.
    assert Brief.model_validate(brief_data(outputs=["pdf", "figma"])).figma_template is None


def _runner() -> tuple[Any, Any, Any]:
    from actors.orchestrator.runner import JobRunner, RunnerConfig
    from tests.fakes import FakeAgents, FakeClock

    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore()
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    return store, objects, JobRunner(store=store, objects=objects, agents=FakeAgents(objects), config=config, clock=clock)


def test_the_export_step_warns_about_missing_fields_and_completes() -> None:
    from actors.object_store import checkpoint_key
    from actors.orchestrator.ports import ExportOutput
    from schemas import Brief, JobState

    store, objects, runner = _runner()
    doc = file_of(node("#title"), node("#summary.9"), node("#market.JP.size"), node("#tilte"))
    add_template(store, objects, project="figma-step", doc=doc, name="deck", source="upload", now=NOW)
    brief = Brief.model_validate(brief_data(project="figma-step", outputs=["html", "figma"], figma_template="deck"))
    job = runner.run(store.submit(brief).id)
    assert job.state == JobState.COMPLETED and not job.degraded
    out = ExportOutput.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "export")))
    assert [p.missing_fields for p in out.plans] == [["#summary.9", "#market.JP.size"]]
    assert any("no value for #summary.9, #market.JP.size" in w for w in out.warnings)
    assert any("unusable layer names #tilte" in w for w in out.warnings)
    assert sorted(a.kind for a in out.artifacts) == ["figma_plan", "figma_preview"]
    [event] = [m.event.payload for m in store.events(job.id) if m.event.type == "figma.exported"]
    assert event["missing_fields"] == ["#summary.9", "#market.JP.size"] and event["unknown_fields"] == ["#tilte"]


def test_a_template_deleted_since_submit_skips_the_export_with_a_warning() -> None:
    from actors.object_store import checkpoint_key
    from actors.orchestrator.ports import ExportOutput
    from schemas import Brief, JobState

    store, objects, runner = _runner()  # the store takes the job without the portal's submit check
    brief = Brief.model_validate(brief_data(project="figma-gone", outputs=["html", "figma"], figma_template="deck"))
    job = runner.run(store.submit(brief).id)
    assert job.state == JobState.COMPLETED
    out = ExportOutput.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "export")))
    assert out.artifacts == [] and out.warnings == [
        "Figma export skipped: no template deck in project figma-gone (add one with `mka figma templates add`)"]
    assert [m.event.type for m in store.events(job.id)].count("figma.skipped") == 1


def test_a_brief_without_figma_exports_nothing() -> None:
    from actors.object_store import checkpoint_key
    from actors.orchestrator.ports import ExportOutput
    from schemas import Brief

    store, objects, runner = _runner()
    job = runner.run(store.submit(Brief.model_validate(brief_data(project="no-figma"))).id)
    assert ExportOutput.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "export"))) == ExportOutput()


def test_the_portal_refuses_a_brief_naming_a_template_its_project_lacks(tmp_path: Path) -> None:
    from cluster.client import MkaClient
    from cluster.settings import Settings
    from serve_app.backend import ClientBackend
    from tests.portal import signed_in

    store, objects = MemoryJobStore(keyring=TEST_KEYRING), MemoryObjectStore()
    client = MkaClient(Settings(home=tmp_path), {}, store=store, objects=objects)  # no cluster: refused before it
    http = signed_in(ClientBackend(client), project="portal-figma", home=tmp_path / "identity")
    brief = brief_data(project="portal-figma", outputs=["pdf", "figma"], figma_template="deck")
    r = http.post("/v1/jobs", json={"brief": brief})
    assert r.status_code == 422
    assert "figma_template" in json.dumps(r.json()) and "no template deck in project portal-figma" in r.text
    assert store.list_jobs() == []


def test_review_fixes_refs_pages_instances_truncation_spacing_and_template_images() -> None:
    from actors.figma.store import parse_ref

    for bad in ("x@abc", "Deck", "deck@0", "../deck", ""):
        with pytest.raises(InvalidInput):
            parse_ref(bad)
    page = BUNDLED["document"]["children"][0]
    roots = template_roots({"name": "x", "nodes": {page["id"]: {"document": page}}})
    assert [r["name"] for r in roots] == ["Report"]  # a page asked for by id: its frames
    with pytest.raises(InvalidInput):  # the only field is a list on an instance: Figma refuses children there
        scan_template(template_roots(file_of(node("#claims[]", "INSTANCE", children=[node("Item", "FRAME")]))))
    cut = node("#summary.1", box=(0, 0, 200, 30), style={"fontSize": 12, "lineHeightPx": 15, "maxLines": 2,
                                                         "textAutoResize": "HEIGHT", "textTruncation": "ENDING"})
    assert not text_capacity(cut, "word " * 200)[0]  # Figma would cut it with an ellipsis: warned
    group = node("#claims[]", "FRAME", box=(0, 0, 300, 40), itemSpacing=0,
                 children=[node("Item", "FRAME", box=(0, 0, 300, 40), children=[node("#claim.text")])])
    plan = fill_plan(scan_template(template_roots(file_of(group))), content(), template_id="t", version=1, job_id="j")
    assert plan.replacements[0].value["offset"] == {"x": 0.0, "y": 40.0}  # a designed spacing of 0 stays 0
    photo = node("Photo", "RECTANGLE", fills=[{"type": "IMAGE", "imageRef": "https://evil.example/x.png"}])
    svg = render_svg(template_roots(file_of(node("#title"), photo)))
    assert "evil.example" not in svg and 'data-name="Photo"' in svg


def test_adding_an_older_version_again_returns_it() -> None:
    store, objects = MemoryJobStore(keyring=TEST_KEYRING), MemoryObjectStore()
    changed = copy.deepcopy(BUNDLED)
    changed["name"] = "Report template"
    changed["document"]["children"][0]["children"][0]["children"][2]["characters"] = "Other sample"
    add_template(store, objects, project="p", doc=BUNDLED, name=None, source="upload", now=NOW)
    add_template(store, objects, project="p", doc=changed, name=None, source="upload", now=NOW)
    assert add_template(store, objects, project="p", doc=BUNDLED, name=None, source="upload", now=NOW).version == 1
    assert len(list_templates(store, objects, project="p")) == 2
