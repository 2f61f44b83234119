"""Server-Sent Events: what changed, pushed to every open page.

Publishers run in worker threads (the monitor, a running sync); each subscriber is an
asyncio queue read by one streaming response. A subscriber too slow to keep up loses its
oldest messages rather than holding memory without bound; the page then reloads its
state, as it does after any reconnect.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator
from typing import Any

import orjson

_QUEUE = 1000
# A comment line keeps proxies from closing an idle stream and lets a closed one be seen.
_KEEPALIVE = 15.0
# Queued to end a stream (never sent).
_END = b""


class Broadcast:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[bytes]]] = {}
        self._ids = itertools.count()

    def publish(self, event: str, data: Any) -> None:
        self._send(b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n")

    def close(self) -> None:
        """End every open stream: a page's EventSource connects again, to whatever serves
        the dashboard then, and draws itself anew."""
        self._send(_END)

    def _send(self, message: bytes) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_put, queue, message)
            except RuntimeError:
                continue  # its loop is closed: the subscriber is leaving

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    async def stream(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE)
        key = next(self._ids)
        with self._lock:
            self._subscribers[key] = (asyncio.get_running_loop(), queue)
        try:
            yield b"retry: 1000\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), _KEEPALIVE)
                except TimeoutError:
                    message = b": keepalive\n\n"
                if message is _END:
                    return
                yield message
        finally:
            with self._lock:
                self._subscribers.pop(key, None)


def _put(queue: asyncio.Queue[bytes], message: bytes) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
