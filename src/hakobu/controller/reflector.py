"""A kind's objects followed as the API server changes them, as client-go's Reflector
follows them: a list, then a watch from the list's resourceVersion, each event handed on.

A watch whose version the server compacted away (410 Gone) starts again from a new list; a
failure is told and retried after an exponential backoff (from one second, doubling, at
most 30 s), so a server that is away for a while is not asked in a hot loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from hakobu.cluster.client import WatchEvent
from hakobu.cluster.errors import ApiError, Gone, Unreachable


def reflect(
    stop: threading.Event,
    *,
    relist: Callable[[], str],
    watch: Callable[[str], Iterable[WatchEvent]],
    handle: Callable[[WatchEvent], None],
    failed: Callable[[Unreachable | ApiError], None],
) -> None:
    """Until ``stop``: ``relist`` (which returns the list's resourceVersion), then ``watch``
    from the newest version seen, each event to ``handle``. Each failure goes to ``failed``
    before the retry; what ``failed`` raises ends it."""
    version: str | None = None
    failures = 0
    while not stop.is_set():
        try:
            if version is None:
                version = relist()
            for event in watch(version):
                failures = 0
                version = (event.object.get("metadata") or {}).get("resourceVersion", version)
                handle(event)
                if stop.is_set():
                    return
        except Gone:
            version = None  # compacted away: start again from a new list
        except (Unreachable, ApiError) as e:
            failures += 1
            failed(e)
            stop.wait(min(30.0, 0.5 * 2**failures))
