"""The document converter process: markitdown behind a memory cap, fed one document at a time over stdin.

Run as `python -m actors.documents.worker MAX_MEMORY_BYTES`. Each request is a 4-byte big-endian
length and a JSON header (`{"name", "type", "size"}`), then the document's bytes; each answer is a
4-byte length and a JSON object, `{"markdown"}` or `{"error", "kind"}`. The parent
(`actors.documents.convert`) kills the process when a conversion runs past its time limit; running
out of memory ends in a `MemoryError` answer or the process dying, which the parent reports.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any, BinaryIO

__all__ = ["main", "read_frame", "write_frame"]


def read_frame(stream: BinaryIO) -> bytes | None:
    """One length-prefixed frame, or None at the end of the stream."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: BinaryIO, body: bytes) -> None:
    """Write one length-prefixed frame and flush it."""
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def _convert(name: str, doc_type: str, data: bytes) -> dict[str, Any]:
    from actors.documents.convert import convert_here

    try:
        return {"markdown": convert_here(name, doc_type, data)}
    except MemoryError:
        return {"error": "out of memory", "kind": "memory"}
    except Exception as exc:  # boundary: every parser's own error becomes an answer, the process lives on
        if isinstance(exc.__cause__, MemoryError) or isinstance(exc.__context__, MemoryError):
            return {"error": "out of memory", "kind": "memory"}
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}", "kind": "failed"}


def main(argv: list[str] | None = None) -> int:
    """Cap the address space, then convert documents until stdin closes."""
    import resource

    args = sys.argv[1:] if argv is None else argv
    cap = int(args[0]) if args else 0
    if cap > 0:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a parser printing to stdout must not corrupt the answers
    while True:
        head = read_frame(stdin)
        if head is None:
            return 0
        header = json.loads(head)
        data = read_frame(stdin)
        if data is None:
            return 0
        answer = _convert(str(header["name"]), str(header["type"]), data)
        write_frame(stdout, json.dumps(answer).encode())


if __name__ == "__main__":
    raise SystemExit(main())
