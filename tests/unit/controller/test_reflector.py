"""Following a kind: a list, then watches from the newest version seen; a new list after
410 Gone; failures told and retried; what the failure callback raises ends it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hakobu.cluster.client import WatchEvent
from hakobu.cluster.errors import ApiError, Forbidden, Gone, Unreachable
from hakobu.controller.reflector import reflect


def event(version: str) -> WatchEvent:
    return WatchEvent("MODIFIED", {"metadata": {"name": "a", "resourceVersion": version}})


def gone() -> Gone:
    return Gone(410, "Expired", "too old resource version", {})


class Server:
    """Watches that play ``script`` in turn: a list of events, or an error to raise."""

    def __init__(self, stop: threading.Event, script: list[list[WatchEvent] | Exception]):
        self.stop, self.script = stop, script
        self.lists = 0
        self.watched_from: list[str] = []

    def relist(self) -> str:
        self.lists += 1
        return f"list-{self.lists}"

    def watch(self, version: str) -> Iterator[WatchEvent]:
        self.watched_from.append(version)
        step = self.script.pop(0)
        if not self.script:
            self.stop.set()
        if isinstance(step, Exception):
            raise step
        yield from step


def test_watches_resume_from_the_newest_version_and_relist_after_gone() -> None:
    stop = threading.Event()
    server = Server(stop, [[event("5"), event("6")], [], gone(), [event("9")]])
    handled: list[str] = []
    reflect(
        stop,
        relist=server.relist,
        watch=server.watch,
        handle=lambda e: handled.append(e.object["metadata"]["resourceVersion"]),
        failed=lambda e: pytest.fail(f"no failure expected: {e}"),
    )
    assert handled == ["5", "6", "9"]
    assert server.watched_from == ["list-1", "6", "6", "list-2"]
    assert server.lists == 2


def test_a_failure_is_told_and_the_watch_tried_again() -> None:
    stop = threading.Event()
    down = Unreachable("connection refused")
    server = Server(stop, [down, [event("7")]])
    failures: list[Unreachable | ApiError] = []
    handled: list[WatchEvent] = []
    reflect(
        stop,
        relist=server.relist,
        watch=server.watch,
        handle=handled.append,
        failed=failures.append,
    )
    assert failures == [down]
    assert server.watched_from == ["list-1", "list-1"]
    assert len(handled) == 1


def test_what_the_failure_callback_raises_ends_it() -> None:
    stop = threading.Event()
    refused = Forbidden(403, "Forbidden", "may not watch", {})
    server = Server(stop, [refused, [event("7")]])

    def failed(e: Unreachable | ApiError) -> None:
        raise e

    with pytest.raises(Forbidden):
        reflect(
            stop, relist=server.relist, watch=server.watch, handle=lambda e: None, failed=failed
        )
    assert server.watched_from == ["list-1"]
