"""The compatibility check catches every kind of breaking change, and passes additive ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas.compat import breaking_changes
from schemas.export import json_schemas

pytestmark = pytest.mark.unit


def _brief() -> dict[str, Any]:
    return copy.deepcopy(json_schemas()["brief.json"])


def test_identical_schemas_are_compatible() -> None:
    for name, schema in json_schemas().items():
        assert breaking_changes(schema, copy.deepcopy(schema)) == [], name


def test_additive_optional_field_is_compatible() -> None:
    old, new = _brief(), _brief()
    new["properties"]["budget"] = {"type": "number", "default": 0}
    assert breaking_changes(old, new) == []


def test_widening_is_compatible() -> None:
    old, new = _brief(), _brief()
    new["properties"]["audience"]["maxLength"] = 4000
    new["$defs"]["Product"]["properties"]["name"]["maxLength"] = 400
    assert breaking_changes(old, new) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s["properties"].pop("audience"), "$.audience: field removed or renamed"),
        (lambda s: s["$defs"]["Product"]["properties"].pop("category"), "$.product.category: field removed or renamed"),
        (lambda s: s["required"].append("notes"), "$.notes: new required field"),
        (lambda s: s["properties"]["audience"].update(maxLength=100), "$.audience: maxLength tightened to 100"),
        (lambda s: s["properties"]["audience"].update(type="integer"), "$.audience: type narrowed"),
        (lambda s: s["properties"]["outputs"]["items"].update(enum=["pdf"]), "$.outputs[]: enum values removed"),
        (lambda s: s["$defs"]["Product"]["properties"]["price"].update(anyOf=[{"type": "number"}]), "$.product.price: type narrowed"),
        (lambda s: s["properties"]["project"].update(pattern="^[a-z]+$"), "$.project: pattern changed"),
    ],
)
def test_breaking_changes_are_found(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    old, new = _brief(), _brief()
    mutate(new)
    found = breaking_changes(old, new)
    assert any(f.startswith(expected) for f in found), found
