"""The work queue: one pass per key at a time, bursts folded, later requests kept once."""

from __future__ import annotations

import threading

from hakobu.controller.workqueue import WorkQueue, work


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_for_one_key_is_one_pass_with_the_first_reason() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for reason in ("webhook", "watch", "webhook"):
        queue.add("shop", reason)
    queue.add("blog", "found")
    assert queue.get() == ("shop", "webhook")
    assert queue.get() == ("blog", "found")
    assert len(queue) == 0


def test_a_key_asked_for_while_busy_comes_back_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("shop", "found")
    assert queue.get() == ("shop", "found")
    queue.add("shop", "drift")
    queue.add("blog", "found")
    # Not handed to a second worker while the first has it.
    assert queue.get() == ("blog", "found")
    queue.done("shop")
    assert queue.get() == ("shop", "drift")


def test_later_requests_keep_only_the_earliest() -> None:
    clock = Clock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add("shop", "poll", after=60)
    queue.add("shop", "retry", after=5)
    queue.add("shop", "poll", after=90)
    assert len(queue) == 1
    clock.now = 5
    assert queue.get() == ("shop", "retry")
    queue.done("shop")
    clock.now = 1000
    queue.add("blog", "now")
    assert queue.get() == ("blog", "now")
    assert len(queue) == 0


def test_forget_drops_what_is_queued_and_close_wakes_the_workers() -> None:
    clock = Clock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add("shop", "found")
    queue.add("shop", "poll", after=10)
    queue.forget("shop")
    clock.now = 20
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(queue.get()))
    worker.start()
    queue.close()
    worker.join(5)
    assert got == [None]


def test_a_worker_outlives_a_failing_key_and_marks_it_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("bad", "first")
    queue.add("good", "second")
    handled: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []

    def handle(key: str, reason: str) -> None:
        handled.append((key, reason))
        if (key, reason) == ("bad", "first"):
            # Asked for again while busy: handed out again only once it is marked done.
            queue.add("bad", "again")
            raise RuntimeError("a bug")
        if reason == "again":
            queue.close()

    work(queue, handle, lambda key, e: failed.append((key, str(e))))
    assert handled == [("bad", "first"), ("good", "second"), ("bad", "again")]
    assert failed == [("bad", "a bug")]
