"""Split long texts on sentence boundaries so NER runs on bounded pieces; offsets stay exact."""

from __future__ import annotations

import re

__all__ = ["chunk_text"]

_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=\S)|\n\s*\n")
_SPACE = re.compile(r"\s+")


def chunk_text(text: str, limit: int) -> list[tuple[int, str]]:
    """Cut `text` into `(offset, piece)` pairs of at most `limit` characters, at sentence ends.

    A sentence longer than `limit` is cut at the last whitespace before it; the pieces joined back
    at their offsets give the text again.

    Example:
        >>> chunk_text("One. Two. Three.", 10)
        [(0, 'One. Two. '), (10, 'Three.')]
    """
    if len(text) <= limit:
        return [(0, text)]
    cuts = [m.end() for m in _BOUNDARY.finditer(text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        end = max((c for c in cuts if start < c <= start + limit), default=0)
        if end == 0:
            spaces = [m.end() for m in _SPACE.finditer(text, start + 1, start + limit)]
            end = spaces[-1] if spaces else start + limit
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces
