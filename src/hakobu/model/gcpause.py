"""Pausing Python's cyclic garbage collector while a command builds a large, acyclic view.

Reading an environment allocates a few hundred thousand dicts and lists (the decoded LISTs
or cache entries, the projections, the plans), none of them in a reference cycle: reference
counting frees them all. The cyclic collector cannot know that and, triggered by the
allocations alone, walks every live object again and again — for 10,000 objects, more time
than decoding and planning together. Pausing it for that stretch changes what is freed by
nothing.

Work that does leave cycles behind (a template engine's render) runs between
``collect_young`` calls: each walks only what was allocated since the last, once, so the
cycles are freed as they would have been and memory stays bounded by one app's work.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_young() -> None:
    """Free the reference cycles among what was allocated since the last collection."""
    gc.collect(0)
