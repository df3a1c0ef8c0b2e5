"""Backward-compatibility check between two JSON Schemas of a contract (pure: dicts in, findings out).

A change is breaking when a reader of the old contract could be handed data it cannot take, or a
writer of the old contract could produce data the new one rejects: a removed or renamed field, a
narrowed type (fewer types, fewer enum values, tighter length/range/pattern), a new required field,
or extra fields newly forbidden.
"""

from __future__ import annotations

from typing import Any

__all__ = ["breaking_changes", "pattern_witnesses"]

_TIGHTER_IF_SMALLER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_TIGHTER_IF_LARGER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """List every breaking change from `old` to `new` (empty when `new` is compatible)."""
    findings: list[str] = []
    _compare(old, new, old, new, "$", findings, set())
    return findings


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 50:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema or "oneOf" in schema:
        out: set[str] = set()
        for member in schema.get("anyOf", []) + schema.get("oneOf", []):
            out |= _types(member, root)
        return out
    kind = schema.get("type")
    if kind is None:
        return {"object"} if "properties" in schema else {"any"}
    return {kind} if isinstance(kind, str) else set(kind)


def _compare(
    old: dict[str, Any], new: dict[str, Any], old_root: dict[str, Any], new_root: dict[str, Any],
    path: str, out: list[str], seen: set[tuple[int, int]],
) -> None:
    key = (id(old), id(new))
    if key in seen:
        return
    seen.add(key)
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if "any" not in new_types:
        lost = {t for t in old_types - new_types if not (t == "integer" and "number" in new_types)}
        if "any" in old_types or lost:
            out.append(f"{path}: type narrowed from {sorted(old_types)} to {sorted(new_types)}")
    if "enum" in old or "enum" in new:
        if "enum" in new and not set(map(repr, old.get("enum", []))) <= set(map(repr, new["enum"])):
            removed = sorted(set(map(repr, old.get("enum", []))) - set(map(repr, new["enum"])))
            out.append(f"{path}: enum values removed {removed}" if "enum" in old else f"{path}: enum added")
    if "const" in new and old.get("const") != new["const"]:
        out.append(f"{path}: value fixed to {new['const']!r}")
    for name in _TIGHTER_IF_SMALLER:
        if name in new and (name not in old or new[name] < old[name]):
            out.append(f"{path}: {name} tightened to {new[name]}")
    for name in _TIGHTER_IF_LARGER:
        if name in new and (name not in old or new[name] > old[name]):
            out.append(f"{path}: {name} tightened to {new[name]}")
    if "pattern" in new and new.get("pattern") != old.get("pattern") and not _widens(old.get("pattern"), new["pattern"]):
        out.append(f"{path}: pattern changed to {new['pattern']!r}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            out.append(f"{path}.{name}: field removed or renamed")
        else:
            _compare(old_props[name], new_props[name], old_root, new_root, f"{path}.{name}", out, seen)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        out.append(f"{path}.{name}: new required field")
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        out.append(f"{path}: extra fields are now forbidden")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _compare(old["items"], new["items"], old_root, new_root, f"{path}[]", out, seen)
    if isinstance(old.get("additionalProperties"), dict) and isinstance(new.get("additionalProperties"), dict):
        _compare(old["additionalProperties"], new["additionalProperties"], old_root, new_root, f"{path}{{}}", out, seen)
    _compare_members(old, new, old_root, new_root, path, out, seen)


def _compare_members(
    old: dict[str, Any], new: dict[str, Any], old_root: dict[str, Any], new_root: dict[str, Any],
    path: str, out: list[str], seen: set[tuple[int, int]],
) -> None:
    # Pair anyOf members by their (single) type so nested objects inside optionals are compared.
    def by_type(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, dict[str, Any]]:
        members = schema.get("anyOf", []) + schema.get("oneOf", [])
        out_: dict[str, dict[str, Any]] = {}
        for member in members:
            types = _types(member, root)
            if len(types) == 1:
                out_.setdefault(next(iter(types)), member)
        return out_

    old_members, new_members = by_type(old, old_root), by_type(new, new_root)
    for kind, member in old_members.items():
        if kind in new_members and kind in ("object", "array"):
            _compare(member, new_members[kind], old_root, new_root, path, out, seen)


def _widens(old: str | None, new: str) -> bool:
    """True when the new pattern accepts every witness of the old one (an added alternative, an optional `s`)."""
    import re

    if old is None:
        return False
    witnesses = pattern_witnesses(old)
    return bool(witnesses) and all(re.search(new, w) for w in witnesses)


def pattern_witnesses(pattern: str, *, limit: int = 256) -> list[str]:
    """Strings the pattern matches, one per way through its alternatives, each class shown by several members
    (`\\S+` by "xZ9-/%."): a new pattern that rejects any of them is narrower. Empty when the pattern uses
    constructs this does not expand, so such a change stays breaking."""
    import re
    try:  # the stdlib's regex parser: a pattern's structure without a new dependency
        import re._parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse as parser  # type: ignore[no-redef]

    try:
        tree = parser.parse(pattern)
    except re.error:
        return []

    def members(op: str, arg: Any) -> list[str] | None:
        if op == "LITERAL":
            return [chr(arg)]
        if op == "ANY":
            return ["x", "%"]
        if op == "CATEGORY":
            return _CATEGORY.get(str(arg).rsplit(".", 1)[-1])
        if op == "IN":
            found: list[str] = []
            for inner, value in arg:
                kind = str(inner)
                if kind == "NEGATE":
                    return None
                got = members(kind, value) if kind != "RANGE" else [
                    chr(value[0]), chr((value[0] + value[1]) // 2), chr(value[1])]
                if got is None:
                    return None
                found += got
            return found
        return None

    def expand(items: Any) -> list[str] | None:
        options = [""]
        for op, arg in items:
            name = str(op)
            if name == "AT":
                continue
            if name in ("LITERAL", "ANY", "CATEGORY", "IN"):
                parts = members(name, arg)
            elif name == "SUBPATTERN":
                parts = expand(arg[-1])
            elif name == "BRANCH":
                branches = [expand(branch) for branch in arg[1]]
                parts = None if any(b is None for b in branches) else [w for b in branches for w in b or []]
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, inner = arg
                once = expand(inner)
                if once is None:
                    return None
                unbounded = high is parser.MAXREPEAT
                longest = _LONG if unbounded else min(high, _LONG)
                parts = [w * max(low, 1) for w in once] + [once[0] * longest]  # the shortest and the longest
                if len(once) > 1 and (unbounded or high >= len(once)):
                    parts.append("".join(once))  # every member in one run
                parts += [""] if low == 0 else []
            else:
                return None
            if parts is None:
                return None
            options = [a + b for a in options for b in parts][:limit]
        return options

    return expand(tree) or []


_LONG = 300  # how long a witness of an unbounded repeat is

_CATEGORY = {
    "CATEGORY_NOT_SPACE": ["x", "Z", "9", "-", "/", "%", "."],
    "CATEGORY_DIGIT": ["0", "9"],
    "CATEGORY_WORD": ["a", "Z", "9", "_"],
    "CATEGORY_SPACE": [" ", "\t"],
    "CATEGORY_NOT_DIGIT": ["x", "-"],
    "CATEGORY_NOT_WORD": ["-", " "],
}
