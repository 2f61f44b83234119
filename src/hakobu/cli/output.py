"""Printing for the command line: human text, ``-o json``, progress on stderr."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import orjson

from hakobu.errors import InvalidInput


class Progress:
    """Progress lines on stderr, each with the seconds since the command began.

    Line-oriented on purpose, so logs of CI runs and pipes read the same as a terminal.
    """

    def __init__(self, quiet: bool = False) -> None:
        self._start = time.monotonic()
        self._quiet = quiet
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        if not self._quiet:
            line = f"[{time.monotonic() - self._start:6.1f}s] {message}\n"
            # Apps sync on threads of their own: one write per line, under a lock, or
            # print's separate write of the newline lets another thread's line in between.
            with self._lock:
                sys.stderr.write(line)
                sys.stderr.flush()


def print_json(value: Any) -> None:
    print(json_text(value))


def json_text(value: Any) -> str:
    """``value`` as JSON; dataclasses become objects wherever they are nested. Written by
    orjson, which prints what ``json.dumps(indent=2, sort_keys=True)`` prints, as UTF-8, in
    a fraction of the time: the result of a sync of thousands of apps is megabytes."""
    return orjson.dumps(value, default=_plain, option=_JSON_OPTIONS).decode()


_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def write_file(text: str, path: Path | None, *, mode: int | None = None) -> None:
    """``text`` on stdout, or replacing the file at ``path`` whole once it is all written."""
    if path is None:
        sys.stdout.write(text)
        return
    # Replace the file only once everything is written, never leaving it half-written.
    directory = path.parent if str(path.parent) else Path()
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as e:
        raise InvalidInput(f"{path}: cannot be written ({e.strerror})") from None
    try:
        with os.fdopen(handle, "w") as output:
            output.write(text)
            output.flush()
            os.fsync(output.fileno())
        # What is written is meant to be shared (a SealedSecret): keep the mode of the file
        # it replaces.
        if mode is None:
            mode = path.stat().st_mode if path.exists() else 0o644
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot be written ({e.strerror})") from None
