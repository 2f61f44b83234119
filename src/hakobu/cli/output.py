"""Printing for the command line: human text, ``-o json``, progress on stderr."""

from __future__ import annotations

import json
import sys
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

    def __call__(self, message: str) -> None:
        if not self._quiet:
            print(
                f"[{time.monotonic() - self._start:6.1f}s] {message}", file=sys.stderr, flush=True
            )


def print_json(value: Any) -> None:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    print(json.dumps(value, indent=2, sort_keys=True))
