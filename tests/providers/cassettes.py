"""Cassettes: provider responses recorded on the wire, replayed by the fakes through the same SDK code.

A cassette is JSON under `tests/data/cassettes/`:

    {"provider": "openai", "note": "...", "interactions": [
        {"request": {"method": "POST", "path": "/v1/chat/completions", "model": "gpt-..."},
         "response": {"status": 200, "headers": {...}, "body": {...}}}]}

gRPC interactions keep `{"code": "OK", "response": <message as JSON>}` or
`{"code": "RESOURCE_EXHAUSTED", "details": "...", "trailing_metadata": {...}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.providers.scenario import Reply

__all__ = ["CASSETTES", "Cassette", "load_cassette"]

CASSETTES = Path(__file__).resolve().parent.parent / "data" / "cassettes"


@dataclass
class Cassette:
    """Recorded interactions of one provider."""

    provider: str
    interactions: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def replies(self) -> list[Reply]:
        """The recorded responses as fake-server replies, in order."""
        return [Reply("cassette", recorded=i["response"]) for i in self.interactions]

    def save(self, path: Path) -> Path:
        """Write the cassette as pretty JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"provider": self.provider, "note": self.note, "interactions": self.interactions}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def load_cassette(name_or_path: str | Path) -> Cassette:
    """Load `tests/data/cassettes/<name>.json` (or a path)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CASSETTES / f"{name_or_path}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return Cassette(provider=data["provider"], interactions=data["interactions"], note=data.get("note", ""))
