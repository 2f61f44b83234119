"""Reading files a repository (or a stranger's pull request) controls, with bounds.

Every file hakobu reads as input goes through here, so no input can hang a read (a FIFO),
exhaust memory (a link to ``/dev/zero``, a huge file) or pass undecodable bytes on as text:

- only regular files are read; a FIFO, device or socket is refused without blocking on it;
- a file is at most ``MAX_FILE_BYTES`` (Kubernetes itself refuses a request body over 3 MiB,
  so no real manifest comes near it);
- text is UTF-8, and a file that is not says where the first bad byte is.

A missing file still raises ``FileNotFoundError``: callers tell "absent" apart from "bad".
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from hakobu.errors import InvalidInput

MAX_FILE_BYTES = 8 << 20
_CHUNK = 1 << 16


class FileRefused(InvalidInput):
    """A file hakobu will not read: not a regular file, too large, or not UTF-8."""

    def __init__(self, path: Path | str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = str(path)


def read_bytes(path: Path, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The content of the regular file at ``path`` (links followed), at most ``limit`` bytes."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise FileRefused(path, "cannot be read (permission denied)") from None
    except FileNotFoundError:
        raise
    except OSError as e:
        # A loop of symbolic links, a name too long: nothing a render can read.
        raise FileRefused(path, f"cannot be read ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(path, "is a directory, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(
                path,
                f"is a {_kind(info.st_mode)}, not a regular file",
                hint="hakobu reads only regular files; commit the content instead",
            )
        if info.st_size > limit:
            raise _too_large(path, limit)
        return _read_bounded(fd, path, limit)
    finally:
        os.close(fd)


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """``read_bytes`` decoded as UTF-8."""
    return decode(path, read_bytes(path, limit=limit))


def read_stream(stream: BinaryIO, name: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """All of ``stream`` (standard input) as UTF-8 text, at most ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(name, limit)
    return decode(name, data)


def decode(name: Path | str, data: bytes) -> str:
    """``data`` as UTF-8; otherwise an error naming the line and offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FileRefused(
            f"{name}:{line}",
            f"not UTF-8 text (byte {e.start} cannot be decoded)",
            hint="save the file as UTF-8; binary content belongs base64-encoded in binaryData",
        ) from None


def _read_bounded(fd: int, path: Path, limit: int) -> bytes:
    # The size from fstat may be stale (a file still growing): never read past the limit.
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, _CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(path, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(path: Path | str, limit: int) -> FileRefused:
    return FileRefused(
        path,
        f"is larger than {limit >> 20} MiB, the most hakobu reads from one file",
        hint="split it into several files",
    )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
