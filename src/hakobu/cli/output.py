"""Printing for the command line: human text, ``-o json``, progress on stderr."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict, is_dataclass
from typing import Any


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
    """``value`` as JSON; dataclasses become objects wherever they are nested."""
    return json.dumps(value, indent=2, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")
