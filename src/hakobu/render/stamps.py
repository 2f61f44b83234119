"""Knowing an input is unchanged from its ``stat``, as git's index knows the work tree.

Reading and hashing every input of thousands of cached apps costs more than the render of
the one that changed. So when an input is read, its ``stat`` (device, inode, size,
modification and change times, links followed) is taken first, and kept beside the digest
of what was read. A later render takes the input as having that digest while its ``stat``
is still the same, without reading it.

Any write moves a file's change time, and a change time cannot be set back. But file times
come from a clock that ticks coarsely (a few milliseconds on Linux), so a file written again
in the tick of the ``stat`` could keep every field: git's "racily clean" case. A ``stat`` is
therefore kept only for an input whose times are older than when it was taken by a margin
(``SETTLED_NS``) wider than a tick and than a network file system's clock skew; an input
written more recently is read and hashed again until it has settled.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

# device, inode, size, modification time, change time (ns)
Stamp = tuple[int, int, int, int, int]

# How much older than the stat an input's times must be for the stat to vouch for it.
SETTLED_NS = 2_000_000_000


def settled(path: str) -> Stamp | None:
    """``path``'s stamp (links followed) when it can vouch for what is read next; None when
    the path is missing or was written too recently."""
    now = time.time_ns()
    found = stamp(path)
    if found is None or max(found[3], found[4]) > now - SETTLED_NS:
        return None
    return found


def stamp(path: str) -> Stamp | None:
    try:
        found = os.stat(path)  # noqa: PTH116 (a string, not a Path: once per input)
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


class Stamps:
    """What inputs were known to hold: ``kind\\0path`` → stamp and digest."""

    def __init__(self, known: Mapping[str, object] | None = None) -> None:
        self.known: dict[str, tuple[Stamp, str]] = {}
        for key, value in (known or {}).items():
            entry = _entry(value)
            if entry is not None:
                self.known[key] = entry
        self.changed = False

    def vouches(self, kind: str, path: str, digest: str) -> bool:
        """True when ``path`` still has the stamp it had when it read as ``digest``."""
        entry = self.known.get(f"{kind}\0{path}")
        return entry is not None and entry[1] == digest and stamp(path) == entry[0]

    def note(self, kind: str, path: str, found: Stamp | None, digest: str) -> None:
        """Record that ``path``, stamped ``found`` (from ``settled``) before it was read,
        read as ``digest``."""
        key = f"{kind}\0{path}"
        if found is None:
            if self.known.pop(key, None) is not None:
                self.changed = True
            return
        if self.known.get(key) != (found, digest):
            self.known[key] = (found, digest)
            self.changed = True

    def as_json(self) -> dict[str, list[object]]:
        return {key: [*found, digest] for key, (found, digest) in self.known.items()}


def _entry(value: object) -> tuple[Stamp, str] | None:
    """A stamp and digest as ``as_json`` wrote them, or None for anything else."""
    if not isinstance(value, list) or len(value) != 6:
        return None
    *numbers, digest = value
    if not isinstance(digest, str) or not all(
        type(n) is int
        for n in numbers  # bool is an int too, and no stat field
    ):
        return None
    return (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]), digest
