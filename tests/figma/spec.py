"""Figma's official REST API schema (@figma/rest-api-spec, installed by `.ci/run` in figma-plugin/) as validators."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[2] / "figma-plugin" / "node_modules" / "@figma" / "rest-api-spec" / "openapi" / "openapi.yaml"


def _discriminated(schema: dict[str, Any]) -> dict[str, Any]:
    """A `oneOf` with an OpenAPI discriminator as JSON Schema that checks only the branch the discriminator picks
    (what OpenAPI means by it): trying all 28 node types at every level of a tree takes minutes."""
    prop, mapping = schema["discriminator"]["propertyName"], schema["discriminator"]["mapping"]
    return {"type": "object", "required": [prop], "properties": {prop: {"enum": list(mapping)}},
            "allOf": [{"if": {"properties": {prop: {"const": k}}}, "then": {"$ref": ref}} for k, ref in mapping.items()]}


@cache
def _spec() -> dict[str, Any]:
    if not SPEC.exists():  # `.ci/run` installs it; a fresh checkout installs it here, once
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(SPEC.parents[4])], check=True,
                       timeout=300)
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for name, schema in list(schemas.items()):
        if "oneOf" in schema and "mapping" in schema.get("discriminator", {}):
            schemas[name] = _discriminated(schema)
    return spec


@cache
def _validator(response: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = {**_spec(), "$id": "urn:figma"}
    registry = Registry().with_resource("urn:figma", Resource.from_contents(spec, default_specification=DRAFT202012))
    pointer = f"urn:figma#/components/responses/{response}/content/application~1json/schema"
    return Draft202012Validator({"$ref": pointer}, registry=registry)


def spec_errors(response: str, body: Any) -> list[str]:
    """Where `body` breaks the official schema of a Figma REST response (GetFileResponse, GetFileNodesResponse,
    ForbiddenErrorResponseWithErrMessage, ...); empty when it conforms."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in _validator(response).iter_errors(body)]
