"""Hostile input, fuzzed: every invalid brief gets a clear validation error, never a crash or a 500."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import Brief, InvalidBrief, parse_brief
from tests.conftest import brief_data
from tests.portal import FakeBackend, signed_in

pytestmark = pytest.mark.unit

EXAMPLES = {"parse": 0, "mutate": 0, "portal": 0}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FIELDS = ["project", "title", "product", "markets", "audience", "questions", "competitors", "locale", "outputs", "notes"]


def _check(data: Any) -> None:
    try:
        brief = parse_brief(data)
    except InvalidBrief as exc:
        assert exc.problems, "an invalid brief must say what is wrong"
        for problem in exc.problems:
            assert problem["field"] and problem["message"]
        json.dumps(exc.to_dict())  # always serializable for the API and the CLI
    else:
        assert isinstance(brief, Brief)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_never_crashes_validation(data: Any) -> None:
    EXAMPLES["parse"] += 1
    _check(data)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), json_values, st.sampled_from(["product.name", "product.price", "product.currency", "-"]))
def test_mutated_valid_briefs_fail_cleanly(field: str, value: Any, nested: str) -> None:
    EXAMPLES["mutate"] += 1
    data = brief_data()
    data[field] = value
    if nested != "-":
        data["product"] = dict(brief_data()["product"], **{nested.split(".")[1]: value})
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(json_values.map(lambda v: {"brief": v}), json_values, st.binary(max_size=200).map(lambda b: b)))
def test_portal_answers_202_or_422_never_500(body: Any) -> None:
    EXAMPLES["portal"] += 1
    client = _fuzz_client()
    content = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    r = client.post("/v1/jobs", content=content, headers={"content-type": "application/json"})
    assert r.status_code in (202, 403, 422), (r.status_code, r.text[:200])  # 403: a valid brief of another project
    if r.status_code == 422:
        assert r.json()["errors"] and r.headers["content-type"] == "application/problem+json"


@functools.cache
def _fuzz_client() -> TestClient:
    import tempfile

    from serve_app.config import PortalConfig
    from serve_app.http import HttpPolicy

    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), rate_limit_per_minute=0, allow_scripts=True)
    return signed_in(FakeBackend(), project="default", home=Path(tempfile.mkdtemp(prefix="mka-fuzz-")), config=config)


@pytest.mark.parametrize("field", ["audience", "notes", "title"])
def test_oversized_text_is_rejected_not_processed(field: str) -> None:
    with pytest.raises(InvalidBrief) as err:
        parse_brief(brief_data(**{field: "x" * 5_000_000}))
    assert err.value.problems[0]["field"] == field


def test_fuzzing_volume() -> None:
    """Runs last in this module: the examples above really ran (the note reports these counts)."""
    assert EXAMPLES["parse"] >= 600 and EXAMPLES["mutate"] >= 1200 and EXAMPLES["portal"] >= 300, EXAMPLES
    print(f"fuzzed briefs: {EXAMPLES}")
