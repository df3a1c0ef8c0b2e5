"""A converted document as Evidence: stable ids and `doc://` sources per chunk and table row, capped per source.

Ids are `<base>-c<n>` for prose chunks and `<base>-t<table>r<row>` for table rows (1-based, in
document order), so the same document gives the same ids in every job; sources are
`<source>#c<n>` and `<source>#t<table>r<row>`, where `<source>` is `doc://<document-id>` for an
uploaded document and the `mcp://` URI of the read for one served through MCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actors.documents.chunks import MAX_CHARS, chunk_markdown, row_facts
from actors.documents.convert import Converted
from schemas import Evidence
from schemas.answers import SourceType

__all__ = ["Caps", "document_evidence"]


@dataclass(frozen=True)
class Caps:
    """How much evidence one source may give, so one huge file cannot crowd out the rest."""

    max_chunks: int = 60
    max_rows: int = 200
    chunk_chars: int = MAX_CHARS


def document_evidence(
    converted: Converted, *, base_id: str, source: str, source_type: SourceType, retrieved_at: datetime,
    caps: Caps = Caps(),
) -> tuple[list[Evidence], list[str]]:
    """Evidence items of one converted document, and warnings (the caps applied, said with their reason)."""
    chunks, tables = chunk_markdown(converted.markdown, max_chars=caps.chunk_chars)
    out: list[Evidence] = []
    warnings: list[str] = []
    for n, chunk in enumerate(chunks[: caps.max_chunks], start=1):
        out.append(Evidence(id=f"{base_id}-c{n}"[:128], source=f"{source}#c{n}", text=chunk.render(),
                            source_type=source_type, retrieved_at=retrieved_at))
    if len(chunks) > caps.max_chunks:
        warnings.append(f"{converted.name}: kept the first {caps.max_chunks} of {len(chunks)} text chunks (cap per "
                        "source, so one long file cannot crowd out the other sources)")
    rows = 0
    for t, table in enumerate(tables, start=1):
        for r, row in enumerate(table.rows, start=1):
            if rows >= caps.max_rows:
                break
            sentence, data = row_facts(table.header, row)
            if not sentence:
                continue
            rows += 1
            where = table.title or f"Table {t}"  # never the file name: "Jonas Becker - salary review.csv"
            out.append(Evidence(id=f"{base_id}-t{t}r{r}"[:128], source=f"{source}#t{t}r{r}",
                                text=f"{where}, row {r}: {sentence}.", data=data or None, source_type=source_type,
                                retrieved_at=retrieved_at))
    total_rows = sum(len(t.rows) for t in tables)
    if total_rows > caps.max_rows:
        warnings.append(f"{converted.name}: kept the first {caps.max_rows} of {total_rows} table rows (cap per source)")
    return out, warnings
