"""Durations as Kubernetes objects write them (``metav1.Duration``: Go's ``1m30s``)."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``90s``, ``1m30s``, ``1.5h``, ``250ms``); ValueError saying what
    a duration looks like otherwise. A bare number is refused, as Go refuses it: ``5``
    could mean seconds or minutes, and guessing wrong changes how often git is polled."""
    position, seconds = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"{text!r} is not a duration: expected e.g. 30s, 5m, 1m30s or 1h")
    return seconds
