"""Which Deliveries need a pass, and when: client-go's work queue, in small.

A key is queued at most once however often it is asked for (a burst of webhooks and watch
events is one pass), is never handed to two workers at once (a key asked for while a
worker has it is handed out again after ``done``), and may be asked for at a later time
(the next poll, a retry after a failure); of two later requests for one key only the
earlier is kept, so every pass scheduling its next poll never piles up timers. The reason
of each request is kept, so the pass can say why it ran.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ready: dict[K, str] = {}  # insertion-ordered: first asked, first served
        self._busy: set[K] = set()
        self._again: dict[K, str] = {}  # asked for while busy
        self._later: list[tuple[float, int, K, str]] = []
        self._due: dict[K, float] = {}  # the one time each key is wanted later
        self._count = 0
        self._closed = False
        self._changed = threading.Condition()

    def add(self, key: K, reason: str, *, after: float = 0.0) -> None:
        with self._changed:
            if after > 0:
                due = self._clock() + after
                if self._due.get(key, float("inf")) <= due:
                    return
                self._due[key] = due
                self._count += 1
                heapq.heappush(self._later, (due, self._count, key, reason))
            elif key in self._busy:
                self._again.setdefault(key, reason)
            else:
                self._ready.setdefault(key, reason)
            self._changed.notify()

    def get(self) -> tuple[K, str] | None:
        """The next key and why, waiting until one is due; None once closed."""
        with self._changed:
            while True:
                if self._closed:
                    return None
                self._promote()
                if self._ready:
                    key = next(iter(self._ready))
                    reason = self._ready.pop(key)
                    self._busy.add(key)
                    return key, reason
                timeout = self._later[0][0] - self._clock() if self._later else None
                self._changed.wait(timeout)

    def done(self, key: K) -> None:
        with self._changed:
            self._busy.discard(key)
            reason = self._again.pop(key, None)
            if reason is not None:
                self._ready.setdefault(key, reason)
                self._changed.notify()

    def forget(self, key: K) -> None:
        """Drop what is queued for ``key`` (its Delivery is gone or no longer ours)."""
        with self._changed:
            self._ready.pop(key, None)
            self._again.pop(key, None)
            self._due.pop(key, None)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def has(self, key: K) -> bool:
        """Whether ``key`` is queued, waiting for its time, or in a pass."""
        with self._changed:
            return key in self._ready or key in self._due or key in self._busy

    def __len__(self) -> int:
        with self._changed:
            return len(self._ready) + len(self._due)

    def _promote(self) -> None:
        now = self._clock()
        while self._later and self._later[0][0] <= now:
            due, _, key, reason = heapq.heappop(self._later)
            if self._due.get(key) != due:
                continue  # replaced by an earlier request, or forgotten
            del self._due[key]
            if key in self._busy:
                self._again.setdefault(key, reason)
            else:
                self._ready.setdefault(key, reason)


def work(
    queue: WorkQueue[K], handle: Callable[[K, str], None], failed: Callable[[K, Exception], None]
) -> None:
    """A worker: each key ``queue`` hands out, with the reason it was asked for, to
    ``handle``, until the queue closes. An exception of one goes to ``failed`` (called
    while it is being handled, so it can log the traceback and ask again) and never ends
    the worker: one key's bug must not stop the others."""
    while True:
        item = queue.get()
        if item is None:
            return
        key, reason = item
        try:
            handle(key, reason)
        except Exception as e:  # noqa: BLE001 - see the docstring
            failed(key, e)
        finally:
            queue.done(key)
