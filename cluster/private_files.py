"""Files only this user may read: what the embedded default creates under `MKA_HOME` is 0600, its directories 0700.

The SQLite database (and the journal and WAL files SQLite creates with the database's mode), the
span file, the filesystem object store's tree and the vault key file hold job data or secrets.
Modes are set when a file or directory is created, never by changing the process umask (which is
shared by every thread). `private_file` also tightens an existing file that other users could
read, so a database created before this rule stops being world-readable.

Example:
    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp()) / "mka" / "artifacts"
    >>> oct(private_dir(home).stat().st_mode & 0o777), oct(home.parent.stat().st_mode & 0o777)
    ('0o700', '0o700')
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "tighten", "write_private"]

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` and every missing parent as 0700 directories; existing ones are left as they are."""
    path = Path(path)
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process created it first
        os.chmod(directory, DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened: make it exact
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as a 0600 file (parents 0700) unless it exists; tighten it if others may read it."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        tighten(path)
    return path


def tighten(path: Path) -> None:
    """Drop group and other permissions of an existing file of ours (best effort: another user's stays)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except (FileNotFoundError, PermissionError):
        pass


def write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write a 0600 file atomically: the complete file appears or nothing does.

    Without `replace` an existing file wins (a key data was sealed or signed with is never overwritten).
    """
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
