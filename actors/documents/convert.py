"""A user's document to Markdown: type sniffing, safety checks (size, zip bombs, encryption) and markitdown.

Conversion uses Microsoft's `markitdown` (pinned in pyproject): one field-standard converter for PDF,
DOCX, PPTX, XLSX, CSV, HTML and Markdown whose output keeps headings and tables as Markdown, which
the chunker and the table reader below need. Before it runs, every file is checked here, so a bad
file fails with a clear, per-file `DocumentError` and never reaches a parser that could hang or
blow up: the type must be one we read (by extension *and* content), the size within the limit, an
Office file's zip must not unpack past a bound or at a bomb's ratio, a PDF must not be encrypted.
"""

from __future__ import annotations

import io
import json
import queue
import re
import subprocess
import sys
import threading
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from schemas import InvalidInput

__all__ = [
    "DOCUMENT_TYPES", "Converted", "DocumentError", "Limits", "check_document", "convert_document", "convert_here",
    "document_type", "human_size", "language_warning",
]

DOCUMENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "html": "text/html",
    "md": "text/markdown",
    "txt": "text/plain",
}
"""The types we read, by canonical extension, with their media types."""

_ALIASES = {"htm": "html", "markdown": "md", "text": "txt"}
_OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
_TEXT_TYPES = {"csv", "html", "md", "txt"}


class DocumentError(InvalidInput):
    """A document we cannot read; `reason` is a stable code, the message says what to do."""

    code = "document_error"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)  # encrypted, zip_bomb, too_large, … (always set)


@dataclass(frozen=True)
class Limits:
    """Bounds on one document: its size, and what an Office zip may unpack to."""

    max_bytes: int = 25 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 100.0  # a member that compresses better than this (and is large) is a bomb
    max_members: int = 10_000
    max_memory_bytes: int = 1536 * 1024 * 1024  # the converting process's address space (a PDF stream bomb hits it)
    timeout_s: float = 60.0  # one document's conversion


@dataclass
class Converted:
    """A document as Markdown, with what the reader should know (warnings) and the language guessed."""

    name: str
    doc_type: str
    markdown: str
    language: str | None = None
    warnings: list[str] = field(default_factory=list)


def document_type(name: str, data: bytes) -> str:
    """The document's type (a key of `DOCUMENT_TYPES`) from its extension, checked against its content."""
    ext = PurePath(name).suffix.lower().lstrip(".")
    ext = _ALIASES.get(ext, ext)
    if ext not in DOCUMENT_TYPES:
        known = ", ".join(sorted(DOCUMENT_TYPES))
        raise DocumentError(f"{name}: unsupported file type {('.' + ext) if ext else '(no extension)'}; "
                            f"we read {known}", reason="unsupported_type")
    if ext == "pdf" and not data.lstrip()[:5].startswith(b"%PDF-"):
        raise DocumentError(f"{name}: not a PDF (no %PDF- header)", reason="unsupported_type")
    if ext in _OOXML_PART and not data.startswith(b"PK\x03\x04"):
        raise DocumentError(f"{name}: not a .{ext} file (not an Office Open XML zip; old binary .doc/.xls/.ppt files "
                            "must be saved as .docx/.xlsx/.pptx)", reason="unsupported_type")
    if ext in _TEXT_TYPES and b"\x00" in data[:65536]:
        raise DocumentError(f"{name}: binary content in a .{ext} file", reason="unsupported_type")
    return ext


def human_size(size: int) -> str:
    """Bytes in words: "812 bytes", "6.1 kB", "25 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    if size < 1024**3:
        return f"{size / 1048576:.3g} MB"
    return f"{size / 1024**3:.3g} GB"


def check_document(name: str, data: bytes, limits: Limits) -> str:
    """Check a document before any parser sees it; return its type or raise `DocumentError`."""
    if not data:
        raise DocumentError(f"{name}: the file is empty", reason="empty")
    if len(data) > limits.max_bytes:
        raise DocumentError(f"{name}: {human_size(len(data))} is over the {human_size(limits.max_bytes)} document "
                            "limit (MKA_MAX_DOCUMENT_MB)", reason="too_large")
    doc_type = document_type(name, data)
    if doc_type in _OOXML_PART:
        _check_zip(name, doc_type, data, limits)
    if doc_type == "pdf":
        _check_pdf(name, data)
    return doc_type


def _check_zip(name: str, doc_type: str, data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"{name}: damaged .{doc_type} file ({exc})", reason="damaged") from exc
    if len(members) > limits.max_members:
        raise DocumentError(f"{name}: {len(members)} parts inside; refusing (possible zip bomb)", reason="zip_bomb")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise DocumentError(f"{name}: part {member.filename!r} unpacks {ratio:.0f}x its packed size; refusing "
                                "(zip bomb)", reason="zip_bomb")
    if total > limits.max_unpacked_bytes:
        raise DocumentError(f"{name}: unpacks to {human_size(total)}, over the {human_size(limits.max_unpacked_bytes)} "
                            "bound; refusing (zip bomb)", reason="zip_bomb")
    if _OOXML_PART[doc_type] not in {m.filename for m in members}:
        raise DocumentError(f"{name}: not a .{doc_type} document (no {_OOXML_PART[doc_type]} inside)",
                            reason="unsupported_type")


def _check_pdf(name: str, data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        # An owner password alone (printing/copy restrictions) still opens with an empty user password.
        if encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name}: the PDF is password-protected; remove the password and upload it again",
                                reason="encrypted")
    except DocumentError:
        raise
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        raise DocumentError(f"{name}: damaged PDF ({type(exc).__name__}: {exc})", reason="damaged") from exc
    except Exception as exc:  # boundary: pypdf raises its own tree on odd encryption (e.g. a missing crypto backend)
        raise DocumentError(f"{name}: cannot open the PDF ({type(exc).__name__})", reason="damaged") from exc


def convert_document(name: str, data: bytes, limits: Limits, *, ner_languages: Iterable[str] = ("en",)) -> Converted:
    """Check the document, convert it to Markdown with markitdown, and note its language if NER cannot read it."""
    doc_type = check_document(name, data, limits)
    if doc_type in ("md", "txt"):
        markdown = _decode(name, data)
    else:
        markdown = _markitdown(name, doc_type, data, limits)
    markdown = unicodedata.normalize("NFC", markdown).replace("\r\n", "\n")
    converted = Converted(name=name, doc_type=doc_type, markdown=markdown)
    if not markdown.strip():
        converted.warnings.append(f"{name}: no text found (a scanned PDF or an image-only slide needs OCR, "
                                  "which we do not run)")
    prose = "\n".join(line for line in markdown.splitlines() if not line.lstrip().startswith("|"))
    language, warning = language_warning(name, prose, ner_languages)
    converted.language = language
    if warning:
        converted.warnings.append(warning)
    return converted


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise DocumentError(f"{name}: text in an unknown encoding; save it as UTF-8", reason="damaged") from None
        return str(best)


class _Converter:
    """The converter process (`actors.documents.worker`), started on first use and kept warm; one document at a
    time. Killed and restarted when a conversion runs past its time limit or the process dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._cap = 0

    def convert(self, name: str, doc_type: str, data: bytes, limits: Limits) -> str:
        """The document as Markdown; `DocumentError` when it cannot be converted within the limits."""
        from actors.documents.worker import read_frame, write_frame

        with self._lock:
            process = self._start(limits.max_memory_bytes)
            answer: list[bytes | None] = [None]

            def exchange() -> None:
                assert process.stdin is not None and process.stdout is not None
                try:
                    write_frame(process.stdin, json.dumps({"name": name, "type": doc_type, "size": len(data)}).encode())
                    write_frame(process.stdin, data)
                    answer[0] = read_frame(process.stdout)
                except (BrokenPipeError, OSError, ValueError):
                    answer[0] = None

            talker = threading.Thread(target=exchange, daemon=True)
            talker.start()
            talker.join(limits.timeout_s)
            if talker.is_alive():
                self._stop()
                raise DocumentError(f"{name}: conversion took longer than {limits.timeout_s:g} s; refusing (a file "
                                    "built to stall parsers, or one too complex to read)", reason="too_complex")
            if answer[0] is None:
                self._stop()
                raise DocumentError(f"{name}: the converter stopped while reading it (out of memory past "
                                    f"{human_size(limits.max_memory_bytes)}?); refusing", reason="too_complex")
        reply = json.loads(answer[0])
        if "markdown" in reply:
            return str(reply["markdown"])
        if reply.get("kind") == "memory":
            raise DocumentError(f"{name}: conversion needed more than {human_size(limits.max_memory_bytes)} of memory; "
                                "refusing (a compression bomb, or a file too large to read)", reason="too_complex")
        raise DocumentError(f"{name}: cannot convert the .{doc_type} file ({reply.get('error')})", reason="damaged")

    def _start(self, cap: int) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None and self._cap == cap:
            return self._process
        self._stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "actors.documents.worker", str(cap)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(PurePath(__file__).parents[2]))
        self._cap = cap
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


CONVERTERS = 2
"""Converter processes (started on first use): documents of concurrent jobs convert side by side."""
_IDLE: queue.Queue[_Converter] = queue.Queue()
for _ in range(CONVERTERS):
    _IDLE.put(_Converter())


def _markitdown(name: str, doc_type: str, data: bytes, limits: Limits) -> str:
    """Convert in a converter process, under a memory cap and a time limit: a file built to exhaust the parser
    (a PDF stream that inflates to gigabytes, a page tree that never ends) fails alone, with a clear error."""
    converter = _IDLE.get()
    try:
        return converter.convert(name, doc_type, data, limits)
    finally:
        _IDLE.put(converter)


def convert_here(name: str, doc_type: str, data: bytes) -> str:
    """Convert in this process (the converter process calls this)."""
    return _markitdown_here(name, doc_type, data)


def _markitdown_here(name: str, doc_type: str, data: bytes) -> str:
    from markitdown import MarkItDown, StreamInfo

    converter = MarkItDown(enable_plugins=False)
    info = StreamInfo(extension=f".{doc_type}", mimetype=DOCUMENT_TYPES[doc_type], filename=PurePath(name).name)
    if doc_type in _TEXT_TYPES:
        info = StreamInfo(extension=f".{doc_type}", mimetype=DOCUMENT_TYPES[doc_type], filename=PurePath(name).name,
                          charset="utf-8")
        data = _decode(name, data).encode("utf-8")
    try:
        result = converter.convert_stream(io.BytesIO(data), stream_info=info)
    except MemoryError:
        raise
    except Exception as exc:  # boundary: markitdown wraps each parser's own errors
        # markitdown folds a parser's MemoryError into its own exception, naming it in the message
        if isinstance(exc.__cause__, MemoryError) or isinstance(exc.__context__, MemoryError) or "MemoryError" in str(exc):
            raise MemoryError from None
        raise DocumentError(f"{name}: cannot convert the .{doc_type} file ({type(exc).__name__}: "
                            f"{str(exc)[:200]})", reason="damaged") from exc
    return str(result.markdown or "")


_LETTER = re.compile(r"[^\W\d_]")
_SCRIPT_LANGUAGES = (
    ("CJK", "Chinese or Japanese"), ("HIRAGANA", "Japanese"), ("KATAKANA", "Japanese"), ("HANGUL", "Korean"),
    ("CYRILLIC", "a Cyrillic-script language"), ("ARABIC", "Arabic"), ("HEBREW", "Hebrew"), ("GREEK", "Greek"),
    ("THAI", "Thai"), ("DEVANAGARI", "a Devanagari-script language"),
)


def language_warning(name: str, text: str, ner_languages: Iterable[str]) -> tuple[str | None, str | None]:
    """The text's language when we can tell, and a warning when no NER model reads it (pattern recognizers still do)."""
    from actors.pii.language import detect_language

    letters = _LETTER.findall(text[:200_000])
    if not letters:
        return None, None
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin / len(letters) < 0.5:
        counts: dict[str, int] = {}
        for ch in letters[:20_000]:
            char_name = unicodedata.name(ch, "")
            for script, language in _SCRIPT_LANGUAGES:
                if script in char_name:
                    counts[language] = counts.get(language, 0) + 1
                    break
        language = max(counts, key=lambda k: counts[k]) if counts else "a non-Latin script"
        return None, (f"{name}: written in {language}, which no NER model here reads; names in it are found only by "
                      "pattern recognizers (emails, phones, IDs), so review the evidence before sharing")
    if len(letters) < 80:  # a few words (a table's labels) say nothing reliable about the language
        return None, None
    language = detect_language(text[:20_000])
    ner = set(ner_languages)
    if language not in ner:
        return language, (f"{name}: written in '{language}', which no NER model here reads (models: "
                          f"{', '.join(sorted(ner))}); names are found by the English model and pattern recognizers")
    return language, None
