"""Private directories that hold decrypted items while a person edits them.

A directory is made by ``mkdtemp`` (0700, its file 0600) in ``/dev/shm`` when the machine
has one and ``TMPDIR`` does not say otherwise, else in the temporary directory. Its name
records the process that made it and that process's start time (``/proc/<pid>/stat``, in
clock ticks since boot): ``hakobu-edit-<pid>-<start>-<random>``. An edit removes its
directory on every way out but one, SIGKILL; so the next edit and the next ``secret check``
look for directories whose process is gone — or whose pid now belongs to a process started
later — and remove them. Directories of live edits, of other users, or not made this way
are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PREFIX = "hakobu-edit-"
# Only ever a parent for mkdtemp, which makes a private directory inside it.
_MEMORY_DIR = Path("/dev/shm")  # noqa: S108
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-(\d+)-[A-Za-z0-9_]+")
_PROC = Path("/proc")


@dataclass(frozen=True)
class Removed:
    """The plaintext an interrupted edit left: the process that made it, and where."""

    pid: int
    path: Path

    def __str__(self) -> str:
        return (
            f"removed the plaintext of an interrupted edit left by process {self.pid} "
            f"at {self.path}"
        )


@contextmanager
def private_file(text: str) -> Iterator[Path]:
    """A 0600 file holding ``text`` in a fresh private directory, removed on the way out."""
    pid = os.getpid()
    start = _start_time(pid) or "0"
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{pid}-{start}-", dir=_base()))
    try:
        path = directory / "items.yaml"
        rewrite(path, text)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def rewrite(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def remove_stale() -> list[Removed]:
    """Remove this user's edit directories whose process no longer runs, where edits go."""
    if _start_time(os.getpid()) is None:
        return []  # without /proc no process can be told dead from alive
    base = Path(_base() or tempfile.gettempdir())
    try:
        names = [entry.name for entry in base.iterdir()]
    except OSError:
        return []
    removed: list[Removed] = []
    for name in sorted(names):
        match = _NAME.fullmatch(name)
        if match is None:
            continue
        pid, start = int(match[1]), match[2]
        path = base / name
        if _ours(path) and _start_time(pid) != start:
            shutil.rmtree(path, ignore_errors=True)
            if not os.path.lexists(path):
                removed.append(Removed(pid, path))
    return removed


def _ours(path: Path) -> bool:
    """A private directory of this user (a link or another user's entry is not)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) == 0o700
    )


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (field 22 of its stat); None if there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _base() -> str | None:
    if os.environ.get("TMPDIR"):
        return None
    if _MEMORY_DIR.is_dir() and os.access(_MEMORY_DIR, os.W_OK | os.X_OK):
        return str(_MEMORY_DIR)
    return None
