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
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    print(json.dumps(value, indent=2, sort_keys=True))
