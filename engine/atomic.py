"""Atomic file writes (and reads) with errors a user can act on: the bottom of the house.

A temp file beside the target, fsync, then a rename: readers and a crash see either the old
file or the complete new one, never a mix. Transcript exports, the record of written files,
voice profiles and the Library all write through here.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from pathlib import Path

from engine.errors import MinutesError

_REASONS = {
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the disk is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
}
if hasattr(errno, "EDQUOT"):
    _REASONS[errno.EDQUOT] = "the disk quota is full"


def _reason(exc: OSError) -> str:
    reason = _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".")
    if sys.platform == "win32" and exc.errno == errno.EACCES:
        reason += " (is the file open in another program?)"
    return reason


def read_bytes(path: str | os.PathLike[str], what: str, error: type[MinutesError] = MinutesError) -> bytes:
    """The bytes of a file the user named, or ``error`` with one line saying why not (no such file,
    a folder instead of ``what``, unreadable): the read-side twin of ``write_bytes_atomic``."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"Cannot read '{path}': no such file.") from None
    except IsADirectoryError:
        raise error(f"Cannot read '{path}': it is a folder, not {what}.") from None
    except OSError as e:
        raise error(f"Cannot read '{path}': {e.strerror or e}.") from None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (see ``write_bytes_atomic``)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def replace_atomically(path: str | os.PathLike[str], data: bytes, fsync: bool = True) -> Path:
    """Write via a temp file beside ``path`` and a rename, so readers and a crash
    see either the old file or the complete new one, never a mix. Raises OSError: for
    callers that say what failed in their own words (write_bytes_atomic says it for them).
    ``fsync=False`` for small files rewritten often, where the rename alone is enough."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        try:  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    return path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """``replace_atomically`` with an error a user can act on (MinutesError)."""
    try:
        return replace_atomically(path, data)
    except OSError as exc:
        raise MinutesError(f"Cannot write '{path}': {_reason(exc)}. Choose another folder or free some space.") from exc
