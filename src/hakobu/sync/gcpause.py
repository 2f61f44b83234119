"""Pausing Python's cyclic garbage collector while a sync builds its view of the cluster.

Reading an environment allocates a few hundred thousand dicts and lists (the decoded LISTs,
the projections, the plans), none of them in a reference cycle: reference counting frees
them all. The cyclic collector cannot know that and, triggered by the allocations alone,
walks every live object again and again — for 10,000 objects, more time than decoding and
planning together. Pausing it for that stretch changes what is freed by nothing.
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
