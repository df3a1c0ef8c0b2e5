"""The user's documents: conversion with per-file checks, chunks on headings and paragraphs, table rows as figures."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from actors.documents.chunks import chunk_markdown, humanize, parse_number, phrase, row_facts
from actors.documents.convert import DocumentError, Limits, check_document, convert_document
from actors.documents.evidence import Caps, document_evidence

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("name", "needle"), [
    ("market.xlsx", "| DE | plant-based milk | 2023 |"),
    ("market.csv", "| FR | plant-based milk | 2023 |"),
    ("notes.pdf", "40 specialty coffee shops in Berlin"),
    ("notes.html", "## Pricing"),
    ("notes.md", "## Wholesale"),
    ("panel.docx", "Foams like dairy"),
    ("plan.pptx", "12-month price guarantee"),
])
def test_every_supported_type_converts(name: str, needle: str) -> None:
    converted = convert_document(name, (DOCS / name).read_bytes(), Limits(), ner_languages=("en", "fr"))
    assert needle in converted.markdown
    assert converted.warnings == []  # English prose, tables without prose: nothing to warn about


@pytest.mark.parametrize(("name", "reason", "words"), [
    ("encrypted.pdf", "encrypted", "password"),
    ("bomb.xlsx", "zip_bomb", "zip bomb"),
    ("diagram.odg", "unsupported_type", "unsupported file type .odg"),
])
def test_bad_files_fail_with_a_reason_and_what_to_do(name: str, reason: str, words: str) -> None:
    with pytest.raises(DocumentError) as caught:
        convert_document(name, (DOCS / name).read_bytes(), Limits())
    assert caught.value.reason == reason and words in str(caught.value) and name in str(caught.value)


def test_size_type_and_content_checks_come_before_any_parser() -> None:
    data = (DOCS / "market.xlsx").read_bytes()
    with pytest.raises(DocumentError, match=r"6.1 kB is over the 1.0 kB document limit \(MKA_MAX_DOCUMENT_MB\)") as big:
        check_document("market.xlsx", data, Limits(max_bytes=1024))
    assert big.value.reason == "too_large"
    for name, blob, reason in [("x.pdf", b"PK\x03\x04 zip", "unsupported_type"), ("x.docx", b"%PDF-1.7", "unsupported_type"),
                               ("x.csv", b"a,b\x00\x01", "unsupported_type"), ("x.md", b"", "empty"),
                               ("x.xlsx", b"PK\x03\x04 broken", "damaged"), ("noext", b"text", "unsupported_type")]:
        with pytest.raises(DocumentError) as caught:
            check_document(name, blob, Limits())
        assert caught.value.reason == reason, name
    # A zip whose parts add up past the bound, none of them compressing suspiciously well on its own.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(3):
            archive.writestr(f"xl/media/image{n}.bin", bytes(range(256)) * 4096)
    with pytest.raises(DocumentError, match="unpacks to") as total:
        check_document("x.xlsx", buffer.getvalue(), Limits(max_unpacked_bytes=2 * 1024 * 1024))
    assert total.value.reason == "zip_bomb"
    # A docx claiming to be a spreadsheet.
    with pytest.raises(DocumentError, match="no xl/workbook.xml"):
        check_document("panel.xlsx", (DOCS / "panel.docx").read_bytes(), Limits())


def test_a_language_without_ner_is_a_warning_not_a_failure() -> None:
    ja = convert_document("notes-ja.md", (DOCS / "notes-ja.md").read_bytes(), Limits())
    assert ja.markdown.startswith("# 市場メモ") and "Japanese" in ja.warnings[0] and "pattern recognizers" in ja.warnings[0]
    de = convert_document("notiz.md", ("Der Markt für Haferdrinks wächst, und die Kunden in Berlin sind mit der "
                                      "Qualität sehr zufrieden. Wir haben die Preise nicht erhöht.").encode(), Limits())
    assert de.language == "de" and "'de'" in de.warnings[0]
    latin1 = convert_document("old.txt", "Café prices rose in the Paris shops of our partners.".encode("latin-1"),
                              Limits())
    assert "Café" in latin1.markdown


def test_chunks_follow_headings_and_paragraphs() -> None:
    text = ("# Report\n\nIntro paragraph.\n\n## Pricing\n\nFirst price note.\n\nSecond price note.\n\n"
            "### Detail\n\n" + "A long sentence about oat drinks and coffee. " * 40 + "\n\n## Risks\n\nPrivate labels.\n")
    chunks, tables = chunk_markdown(text, max_chars=300)
    assert tables == []
    assert chunks[0].headings == ("Report",) and chunks[0].text == "Intro paragraph."
    assert chunks[1].render() == "Report / Pricing: First price note.\n\nSecond price note."
    detail = [c for c in chunks if c.headings == ("Report", "Pricing", "Detail")]
    assert len(detail) > 1 and all(len(c.text) <= 300 for c in detail)
    assert chunks[-1].render() == "Report / Risks: Private labels."


def test_tables_become_rows_with_column_named_figures() -> None:
    text = ("## Shares\n\n| market | metric | year | value |\n| --- | --- | --- | --- |\n| DE | oat share | 2023 | 52 |\n"
            "\n## Prices\n\n| brand | market | price\\_eur | share |\n|---|---|---|---|\n| Alpro | France | €2.19 | 27% |\n"
            "\n|  |  |\n| --- | --- |\n| claim | preference_pct |\n| Foams like dairy | 61 |\n")
    _chunks, tables = chunk_markdown(text)
    assert [t.title for t in tables] == ["Shares", "Prices", "Prices"]
    assert row_facts(tables[0].header, tables[0].rows[0]) == (
        "market Germany (DE); metric oat share; year 2023; oat share 52%", {"year": 2023.0, "oat_share_pct": 52.0})
    sentence, data = row_facts(tables[1].header, tables[1].rows[0])
    assert data == {"Alpro price_eur": 2.19, "Alpro share_pct": 27.0} and "market France (FR)" in sentence
    assert row_facts(["name", "notes", "growth", "Größe"], ["Jordan", "NO", "6.8%", "12"]) == (
        "name Jordan; notes NO; growth 6.8%; grösse 12", {"Jordan growth_pct": 6.8, "Jordan grösse": 12.0})
    assert row_facts(["a", "a"], ["1", "2"])[1] == {"a": 1.0, "a_2": 2.0}  # a repeated column keeps both
    assert tables[2].header == ["claim", "preference_pct"]  # a header-less DOCX table: its first row names columns
    assert row_facts(tables[2].header, tables[2].rows[0])[1] == {"preference_pct": 61.0}


def test_numbers_and_column_names() -> None:
    assert [parse_number(c) for c in ("52", "1,180.5", "6.8%", "€2.29", "-3", "EUR 12", "2023-05-01", "n/a", "")] == [
        52.0, 1180.5, 6.8, 2.29, -3.0, 12.0, None, None, None]
    assert humanize("market_value_eur_m") == "market value EUR million" and humanize("growth_pct") == "growth %"
    assert phrase("market_value_eur_m", "1,180") == "market value EUR 1,180 million"
    assert phrase("growth_pct", "6.8") == "growth 6.8%" and phrase("price", "2") == "price 2"


def test_evidence_ids_are_stable_and_capped_with_a_reason() -> None:
    converted = convert_document("market.xlsx", (DOCS / "market.xlsx").read_bytes(), Limits())
    first, warnings = document_evidence(converted, base_id="doc-0000000000000001", source="doc://doc-0000000000000001",
                                        source_type="document", retrieved_at=NOW)
    again, _ = document_evidence(converted, base_id="doc-0000000000000001", source="doc://doc-0000000000000001",
                                 source_type="document", retrieved_at=NOW)
    assert first == again and warnings == []
    assert [e.id for e in first][:2] == ["doc-0000000000000001-t1r1", "doc-0000000000000001-t1r2"]
    assert first[0].text == ("Plant milk, row 1: market Germany (DE); segment plant-based milk; year 2023; "
                             "market value EUR 1,180 million; growth 6.8%; oat share 52%.")
    capped, why = document_evidence(converted, base_id="d", source="doc://d", source_type="document",
                                    retrieved_at=NOW, caps=Caps(max_rows=4))
    assert len(capped) == 4 and "kept the first 4 of 9 table rows" in why[0]


def test_documents_are_sealed_cataloged_scoped_and_expire() -> None:
    from datetime import timedelta

    from actors.documents.store import document_key, open_document, store_document
    from actors.lifecycle.sweep import sweep
    from actors.pii.keys import Keyring
    from schemas import ArtifactGone, ArtifactNotFound
    from schemas.artifacts import ArtifactKind, StoredPii
    from schemas.lifecycle import CleanupRules
    from tests.fakes import MemoryJobStore, MemoryObjectStore

    store, objects = MemoryJobStore(keyring=Keyring([Keyring.generate()])), MemoryObjectStore()
    data = (DOCS / "notes.pdf").read_bytes()
    info = store_document(store, objects, store.keyring(), project="acme", name="CV Jonas Becker.pdf", data=data,
                          limits=Limits(), now=NOW)
    assert info.type == "pdf" and info.size == len(data) and info.retention_until == NOW + timedelta(days=180)
    sealed = objects.get(document_key("acme", info.document_id))
    assert b"Jonas" not in sealed and b"%PDF" not in sealed  # name and content are inside the sealed blob
    row = store.get_artifact(info.document_id)
    assert row.kind == ArtifactKind.DOCUMENT and row.job_id is None and row.pii_class == StoredPii.RAW_ENCRYPTED
    assert open_document(store, objects, store.keyring(), info.document_id, project="acme") == ("CV Jonas Becker.pdf", data)
    with pytest.raises(ArtifactNotFound):  # another project's brief cannot read it
        open_document(store, objects, store.keyring(), info.document_id, project="other")
    with pytest.raises(DocumentError):  # checked before anything is stored
        store_document(store, objects, store.keyring(), project="acme", name="x.pdf",
                       data=(DOCS / "encrypted.pdf").read_bytes(), limits=Limits(), now=NOW)
    assert [a.id for a in store.catalog(kinds=[ArtifactKind.DOCUMENT])] == [info.document_id]
    swept = sweep(store, objects, NOW + timedelta(days=181), CleanupRules())
    assert [d["id"] for d in swept.deleted] == [info.document_id]
    with pytest.raises(ArtifactGone, match="ttl: document 180 days"):
        open_document(store, objects, store.keyring(), info.document_id, project="acme")


def _pdf_bomb(inflated_mb: int) -> bytes:
    """A one-page PDF whose content stream inflates to `inflated_mb` MB of zeros (about 1 MB on disk per GB)."""
    import zlib

    packer = zlib.compressobj(9)
    block = b"\0" * (1024 * 1024)
    stream = b"".join(packer.compress(block) for _ in range(inflated_mb)) + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_stream_bomb_or_a_stalled_parse_fails_alone_and_the_converter_recovers() -> None:
    bomb = _pdf_bomb(1024)
    assert len(bomb) < 2 * 1024 * 1024  # small on disk: no size or zip check can see it
    with pytest.raises(DocumentError) as caught:
        convert_document("bomb.pdf", bomb, Limits(max_memory_bytes=700 * 1024 * 1024))
    assert caught.value.reason == "too_complex" and "memory" in str(caught.value)
    with pytest.raises(DocumentError, match="longer than 0.001 s") as slow:
        convert_document("panel.docx", (DOCS / "panel.docx").read_bytes(), Limits(timeout_s=0.001))
    assert slow.value.reason == "too_complex"
    after = convert_document("notes.pdf", (DOCS / "notes.pdf").read_bytes(), Limits())  # a new converter process
    assert "specialty coffee shops" in after.markdown


def test_key_rotation_reseals_documents() -> None:
    from actors.documents.store import open_document, store_document
    from actors.pii.keys import Keyring
    from actors.pii.rotation import reseal_jobs
    from tests.fakes import MemoryJobStore, MemoryObjectStore

    old = Keyring.generate()
    store, objects = MemoryJobStore(keyring=Keyring([old])), MemoryObjectStore()
    data = (DOCS / "notes.md").read_bytes()
    info = store_document(store, objects, store.keyring(), project="acme", name="notes.md", data=data,
                          limits=Limits(), now=NOW)
    new = Keyring.generate()
    result = reseal_jobs(store, objects, Keyring([new, old]))
    assert result.rotated == 1 and result.failed == ()
    assert open_document(store, objects, Keyring([new]), info.document_id, project="acme") == ("notes.md", data)
