"""The event stream: what a page receives, and its end when the dashboard is replaced."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from hakobu.web.events import Broadcast


def test_a_closed_broadcast_ends_its_streams_after_what_was_published() -> None:
    async def run() -> list[bytes]:
        broadcast = Broadcast()
        received: list[bytes] = []

        async def read() -> None:
            async for message in broadcast.stream():
                received.append(message)

        reader = asyncio.create_task(read())
        while broadcast.subscribers == 0:
            await asyncio.sleep(0.01)
        broadcast.publish("status", {"app": "web"})
        broadcast.close()
        await asyncio.wait_for(reader, 5)
        assert broadcast.subscribers == 0
        return received

    # A loop of its own, in a thread of its own: a browser test in the same process leaves
    # Playwright's loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        received = pool.submit(asyncio.run, run()).result(timeout=10)
    assert received[0].startswith(b"retry: 1000\nevent: hello")
    assert received[1:] == [b'event: status\ndata: {"app":"web"}\n\n']
