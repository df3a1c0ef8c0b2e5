"""Contracts: exported JSON Schemas are fresh, DESIGN.md shapes hold, the public surface is deliberate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import schemas
from schemas import Claim, Evidence, MergeResult, ModelAnswer
from schemas.compat import breaking_changes
from schemas.export import FROZEN_VERSION, LIVE_DIR, json_schemas

pytestmark = pytest.mark.unit

SCHEMA_DIR = Path(schemas.__file__).parent / "json" / LIVE_DIR
FROZEN_DIR = Path(schemas.__file__).parent / "json" / FROZEN_VERSION


def test_current_contracts_are_compatible_with_the_freeze() -> None:
    frozen = sorted(FROZEN_DIR.glob("*.json"))
    assert len(frozen) >= 12, "the v1 freeze is missing"
    live = json_schemas()
    for path in frozen:
        assert path.name in live, f"contract {path.name} was removed after the freeze"
        found = breaking_changes(json.loads(path.read_text(encoding="utf-8")), live[path.name])
        assert found == [], f"{path.name} breaks {FROZEN_VERSION}: {found}"


def test_committed_json_schemas_are_up_to_date() -> None:
    expected = json_schemas()
    on_disk = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == set(expected), "run `mka schemas export`"
    for name, schema in expected.items():
        committed = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        assert committed == schema, f"{name} is stale: run `mka schemas export`"


def test_public_surface_is_sorted_and_complete() -> None:
    names = schemas.__all__
    assert sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n)) == names
    for name in names:
        assert hasattr(schemas, name), name


def test_model_answer_shape_from_design() -> None:
    answer = ModelAnswer.model_validate(
        {
            "provider": "openai",
            "model": "gpt-x",
            "status": "ok",
            "claims": [{"id": "c1", "text": "Market grows 8%", "evidence_ids": ["ev1"], "value": 8, "unit": "%"}],
            "latency_s": 1.2,
            "usage": {"tokens": 900, "cost": 0.01},
        }
    )
    assert answer.claims[0].value == 8.0
    with pytest.raises(ValidationError):
        ModelAnswer.model_validate({"provider": "x", "model": "m", "status": "maybe", "latency_s": 0})


def test_evidence_source_is_mcp_web_or_document() -> None:
    Evidence(id="ev1", source="mcp://market-data/countries/DE", text="t", data={"population": 83.2})
    Evidence(id="ev2", source="https://example.org/report", text="t")
    Evidence(id="ev3", source="http://127.0.0.1:8080/page.html#c1", text="t", source_type="web")
    Evidence(id="ev4", source="doc://doc-0123456789abcdef#t1r2", text="t", source_type="document")
    for bad in ("ftp://example.org/x", "file:///etc/passwd", "doc:// space"):
        with pytest.raises(ValidationError):
            Evidence(id="ev5", source=bad, text="t")
    with pytest.raises(ValidationError):
        Evidence(id="ev6", source="doc://d#c1", text="t", source_type="rumour")


def test_a_widened_pattern_is_compatible_and_a_narrowed_one_is_not() -> None:
    from schemas.compat import breaking_changes

    old = {"type": "string", "pattern": r"^(mcp|https)://\S+$"}
    assert breaking_changes(old, {"type": "string", "pattern": r"^(mcp|https?|doc)://\S+$"}) == []
    assert breaking_changes(old, {"type": "string", "pattern": r"^(mcp)://\S+$"}) != []
    assert breaking_changes(old, {"type": "string", "pattern": r"^(mcp|https)://[a-z]+$"}) != []
    for before, after in [(r"^[a-z0-9]{1,63}$", r"^[a-z0-9]{1,8}$"), (r"^\S+$", r"^\S{1,12}$"), (r"^[a-z]+$", r"^[az]+$")]:
        assert breaking_changes({"type": "string", "pattern": before}, {"type": "string", "pattern": after}) != [], after


def test_merge_result_shape_from_design() -> None:
    result = MergeResult.model_validate(
        {
            "claims": [
                {
                    "text": "t", "providers": ["openai", "gemini"], "member_claim_ids": ["a", "b"],
                    "agreement": "majority", "grounding": "supported", "hallucination": False,
                    "reasons": [], "evidence_ids": ["ev1"],
                }
            ],
            "disagreements": [{"topic": "market size", "positions": {"openai": "2bn", "xai": "5bn"}, "claim_ids": ["a", "c"]}],
            "degraded": True,
            "quorum": {"required": 2, "received": 2, "missing": ["xai"]},
        }
    )
    assert set(result.model_dump()) == {"claims", "disagreements", "degraded", "quorum"}
    assert set(result.model_dump()["claims"][0]) == {
        "text", "providers", "member_claim_ids", "agreement", "grounding", "hallucination", "reasons", "evidence_ids",
        "question", "market", "kind",  # the optional M2 fields (DESIGN.md: contracts that grow)
    }


def test_claim_question_market_kind_are_optional_and_read_leniently() -> None:
    assert Claim(id="c1", text="t").question is None
    claim = Claim.model_validate({"id": "c1", "text": "t", "question": 2, "market": " de ", "kind": "Recommendation"})
    assert (claim.question, claim.market, claim.kind) == (2, "DE", "recommendation")
    assert Claim.model_validate({"id": "c1", "text": "t", "kind": "opinion", "market": ""}).kind is None
    with pytest.raises(ValidationError):
        Claim.model_validate({"id": "c1", "text": "t", "question": -1})
    with pytest.raises(ValidationError):
        Claim.model_validate({"id": "c1", "text": "t", "market": "Germany"})
    answer = ModelAnswer.model_validate({"provider": "x", "model": "m", "status": "ok", "latency_s": 0,
                                         "summary": "Germany is the largest market."})
    assert answer.summary == "Germany is the largest market."


def test_event_subject_format() -> None:
    assert schemas.event_subject("acme", "job-1", "job.state_changed") == "mka.events.acme.job-1.job_state_changed"


def test_consumers_reject_unknown_major_event_versions() -> None:
    from datetime import datetime, timezone

    event = schemas.Event(id="e1", type="job.submitted", job_id="j1", project="p", occurred_at=datetime.now(timezone.utc))
    assert event.schema_version == schemas.EVENT_SCHEMA_VERSION
    assert schemas.parse_event(event.model_dump_json()) == event
    assert schemas.parse_event({**event.model_dump(mode="json"), "schema_version": "1.7"}).schema_version == "1.7"
    for version in ("2.0", "banana", ""):
        with pytest.raises(schemas.UnsupportedEventVersion, match="not supported"):
            schemas.parse_event({**event.model_dump(mode="json"), "schema_version": version})


def test_brief_sources_and_documents_validate_in_both_forms_against_the_json_schema() -> None:
    import jsonschema

    from schemas import Brief
    from tests.conftest import brief_data

    data = brief_data(documents=["doc-0123456789abcdef", {"id": "doc-00000000000000aa", "required": True}],
                      sources=["https://example.org/a", {"url": "http://127.0.0.1:8080/p", "required": True}])
    jsonschema.validate(data, Brief.model_json_schema())  # what outside callers check against
    brief = Brief.model_validate(data)
    assert [d.id for d in brief.documents] == ["doc-0123456789abcdef", "doc-00000000000000aa"]
    assert [s.required for s in brief.sources] == [False, True]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "sources": ["ftp://example.org/a"]}, Brief.model_json_schema())
