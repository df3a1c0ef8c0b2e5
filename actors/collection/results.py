"""Any MCP result as Evidence, by one generic conversion: text as text, numbers in structured content as `data`.

A result of unknown shape becomes one item (or one per chunk when its text is long): its text
content, and every number in its structured content flattened to a named figure
(`{"market": {"growth_pct": 6.4}}` -> `market_growth_pct`; a list of objects named by a `name`
field -> `Oatfield share_pct`, by an ISO country field -> `de_share_pct`, as the merge reads data
keys). A file a server reads for us (a `read` call, or any result carrying an embedded file) goes
through the same conversion as an uploaded document. A server may name its items with
`_meta["io.mka/evidence-id"]`; otherwise the id is derived from the server, tool and arguments,
so the same request gives the same id in every job.
"""

from __future__ import annotations

import hashlib
import json
import math
import posixpath
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from actors.collection.planner import PlannedCall
from actors.documents.convert import Converted, DocumentError, Limits, convert_document
from actors.documents.evidence import Caps, document_evidence
from actors.mcp.broker import BrokerResult
from schemas import AgentError, Evidence
from schemas.answers import SourceType

__all__ = ["EVIDENCE_ID_META", "evidence_id", "flatten_numbers", "result_evidence"]

EVIDENCE_ID_META = "io.mka/evidence-id"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_NAME_KEYS = ("name", "brand", "company", "title", "label")
_COUNTRY_KEYS = ("country", "market", "country_code", "iso")
_MAX_TEXT = 20000


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.casefold()).strip("-")


def evidence_id(call: PlannedCall, meta: dict[str, Any] | None) -> str:
    """The server's id for the item when it gives a valid one, else `ev-<server>-<tool or path>-<hash>`."""
    hinted = (meta or {}).get(EVIDENCE_ID_META)
    if isinstance(hinted, str) and _ID.match(hinted):
        return hinted
    what = call.tool or call.uri.split("/", 3)[-1]
    digest = hashlib.sha256(json.dumps(call.arguments, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"ev-{_slug(call.server)}-{_slug(what)}-{digest}"[:128]


def flatten_numbers(value: Any, prefix: str = "", *, limit: int = 200) -> dict[str, float]:
    """Every number inside `value`, named by its path (see the module docstring); booleans are not numbers."""
    out: dict[str, float] = {}

    def put(key: str, number: float) -> None:
        if len(out) < limit and key and key not in out:
            out[key] = float(number)

    def walk(item: Any, path: str, depth: int) -> None:
        if depth > 6 or len(out) >= limit:
            return
        if isinstance(item, bool) or item is None:
            return
        if isinstance(item, (int, float)):
            if math.isfinite(item):  # NaN and 1e999 parse from JSON; they are no figures
                put(path, item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                walk(inner, f"{path}{key}" if not path or path.endswith((" ", "_")) else f"{path}_{key}", depth + 1)
        elif isinstance(item, list):
            for n, inner in enumerate(item[:100], start=1):
                label = _item_label(inner) if isinstance(inner, dict) else None
                if label:
                    walk({k: v for k, v in inner.items() if k not in _NAME_KEYS + _COUNTRY_KEYS or
                          not isinstance(v, str)}, label, depth + 1)
                else:
                    walk(inner, f"{path}_{n}" if path else str(n), depth + 1)

    walk(value, prefix, 0)
    return out


def _item_label(item: dict[str, Any]) -> str | None:
    """How a list item's figures are named, as the merge reads data keys: "Oatfield " (by name), "de_" (by ISO
    country), "Oatfield de_" (both)."""
    name = next((item[k].strip() for k in _NAME_KEYS if isinstance(item.get(k), str) and item[k].strip()), "")
    code = next((item[k].lower() for k in _COUNTRY_KEYS
                 if isinstance(item.get(k), str) and len(item[k]) == 2 and item[k].isalpha()), "")
    if not name and not code:
        return None
    return f"{name} {code}_" if name and code else f"{name} " if name else f"{code}_"


def result_evidence(
    call: PlannedCall, result: BrokerResult, *, source_type: SourceType, retrieved_at: datetime, limits: Limits,
    caps: Caps = Caps(), ner_languages: Iterable[str] = ("en",),
) -> tuple[list[Evidence], list[str]]:
    """Evidence items of one result, and warnings (caps, a document's language); `DocumentError` for a bad file."""
    base = evidence_id(call, result.meta)
    files = list(result.blobs)
    if call.purpose == "read" or files:
        name = posixpath.basename(call.path or (files[0].uri if files and files[0].uri else "") or base)
        if files:
            data = files[0].data
        else:
            text = result.text
            if isinstance(result.content, dict) and isinstance(result.content.get("content"), str):
                text = result.content["content"]  # a reader's structured twin of its text
            data = text.encode("utf-8")
        converted = convert_document(name, data, limits, ner_languages=ner_languages)
        items, warnings = document_evidence(converted, base_id=base, source=call.uri, source_type="document",
                                            retrieved_at=retrieved_at, caps=caps)
        return items, converted.warnings + warnings
    text = (result.text or "").strip()
    data = flatten_numbers(result.content) if isinstance(result.content, (dict, list)) else {}
    if not text and _substance(result.content):
        text = json.dumps(result.content, ensure_ascii=False, sort_keys=True)[:_MAX_TEXT]
    if not text or not _substance(text if not isinstance(result.content, (dict, list)) else result.content):
        raise AgentError("the result has nothing to use (no text, no figures)", retryable=False)
    if len(text) <= caps.chunk_chars * 2:
        return [Evidence(id=base, source=call.uri, text=text[:_MAX_TEXT], data=data or None, source_type=source_type,
                         retrieved_at=retrieved_at)], []
    long = Converted(name=call.uri, doc_type="md", markdown=text)
    items, warnings = document_evidence(long, base_id=base, source=call.uri, source_type=source_type,
                                        retrieved_at=retrieved_at, caps=caps)
    if items and data:
        items[0] = items[0].model_copy(update={"data": data})
    return items, warnings


def _substance(value: Any) -> bool:
    """True when a value holds something to read: a number, or a string with a letter or digit in it."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        return any(ch.isalnum() for ch in value)
    if isinstance(value, dict):
        return any(_substance(v) for v in value.values())
    if isinstance(value, list):
        return any(_substance(v) for v in value)
    return False


def document_failure(exc: DocumentError) -> str:
    """The message a failed document shows (its reason code first)."""
    return f"{exc.reason}: {exc}"
