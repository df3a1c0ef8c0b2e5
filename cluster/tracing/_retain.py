"""Span-file retention: remove spans that ended before a time, without losing spans written meanwhile."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cluster.private_files import private_file

__all__ = ["purge_spans", "span_file_lock"]


@contextlib.contextmanager
def span_file_lock(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the span file's lock: writers share it, a purge (which replaces the file) takes it alone."""
    lock = private_file(Path(str(path) + ".lock"))
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def purge_spans(path: Path, before: datetime, *, dry_run: bool = False) -> int:
    """Drop the spans that ended before `before` from the JSON-lines span file; return how many went (or would).

    The kept lines go to a new 0600 file that replaces the old one; the old file is then overwritten
    with zeros before it is closed, so the removed spans do not stay in its blocks (on a filesystem that
    writes in place; copy-on-write filesystems and SSD remapping are outside what a process controls).
    A line that is not a span record is kept as it is.
    """
    path = Path(path)
    if not path.exists():
        return 0
    cutoff = int(before.timestamp() * 1_000_000_000)
    with span_file_lock(path, exclusive=True):
        kept: list[bytes] = []
        gone = 0
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    end = json.loads(line).get("end_ns")
                except (ValueError, AttributeError):
                    end = None
                if isinstance(end, int) and end < cutoff:
                    gone += 1
                else:
                    kept.append(line)
        if dry_run or not gone:
            return gone
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.writelines(kept)
            out.flush()
            os.fsync(out.fileno())
        with open(path, "r+b") as old:
            os.replace(tmp, path)
            _zero(old)
    return gone


def _zero(fh: BinaryIO) -> None:
    """Overwrite an open file's whole content with zeros and flush it to disk."""
    size = os.fstat(fh.fileno()).st_size
    fh.seek(0)
    block = b"\0" * 65536
    for start in range(0, size, len(block)):
        fh.write(block[: min(len(block), size - start)])
    fh.flush()
    os.fsync(fh.fileno())
