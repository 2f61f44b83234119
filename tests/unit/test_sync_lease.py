"""The Lease's own rules, against an in-memory Lease store that enforces resourceVersion
as the API server does (the real server is exercised in tests/integration/test_sync_lock.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import AlreadyExists, Conflict, NotFound, Unreachable
from hakobu.cluster.lease import Lease, LeaseHeld, LeaseLost


class Store:
    """One Lease, written only with the resourceVersion last read."""

    def __init__(self) -> None:
        self.obj: dict[str, Any] | None = None
        self.version = 0
        self.down = False
        self.before_write: Callable[[], None] = lambda: None

    def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        if self.down:
            raise Unreachable("connection refused")
        if method == "GET":
            if self.obj is None:
                raise NotFound(404, "NotFound", "not found", {})
            return copy.deepcopy(self.obj)
        hook, self.before_write = self.before_write, lambda: None
        hook()
        if method == "POST":
            if self.obj is not None:
                raise AlreadyExists(409, "AlreadyExists", "exists", {})
        elif self.obj is None or body["metadata"].get("resourceVersion") != str(self.version):
            raise Conflict(409, "Conflict", "the object has been modified", {})
        self.version += 1
        self.obj = copy.deepcopy(body)
        self.obj["metadata"]["resourceVersion"] = str(self.version)
        return copy.deepcopy(self.obj)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def contender(store: Store, clock: Clock, name: str) -> Lease:
    return Lease(
        cast(KubeClient, store),
        "dev",
        "hakobu-sync-dev",
        holder=name,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_held_lease_is_refused_at_once_naming_holder_and_since_when() -> None:
    store, clock = Store(), Clock()
    contender(store, clock, "ci-1").acquire(0)

    with pytest.raises(LeaseHeld) as refused:
        contender(store, clock, "ci-2").acquire(0)

    assert refused.value.holder.identity == "ci-1"
    assert "held by ci-1 since " in refused.value.message
    assert refused.value.exit_code == 1
    assert clock.now == 0


def test_a_silent_holder_is_taken_over_only_a_lease_duration_after_its_last_change() -> None:
    store, clock = Store(), Clock()
    first = contender(store, clock, "dead")
    first.acquire(0)
    clock.now = 1000.0  # however old the record, the waiting side counts from now
    second = contender(store, clock, "next")

    with pytest.raises(LeaseHeld):
        second.acquire(14)
    second.acquire(60)

    assert clock.now >= 1015
    spec = store.obj["spec"] if store.obj else {}
    assert spec["holderIdentity"] == "next"
    assert spec["leaseTransitions"] == 1


def test_renewals_keep_others_out() -> None:
    store, clock = Store(), Clock()
    holder = contender(store, clock, "alive")
    holder.acquire(0)
    waiting = contender(store, clock, "waiting")
    with pytest.raises(LeaseHeld):
        waiting.acquire(0)
    for _ in range(20):
        clock.now += 2
        holder.renew()
        with pytest.raises(LeaseHeld):
            waiting.acquire(0)


def test_of_two_contenders_writing_the_same_version_one_wins() -> None:
    store, clock = Store(), Clock()
    contender(store, clock, "old").acquire(0)
    a, b = contender(store, clock, "a"), contender(store, clock, "b")
    with pytest.raises(LeaseHeld):
        a.acquire(0)
    with pytest.raises(LeaseHeld):
        b.acquire(0)
    clock.now += 16
    # b writes between a's read and a's write: a's write is refused, and a sees b.
    store.before_write = lambda: b.acquire(0)

    with pytest.raises(LeaseHeld) as refused:
        a.acquire(0)

    assert refused.value.holder.identity == "b"


def test_a_holder_that_cannot_renew_stops_before_others_may_take_over() -> None:
    store, clock = Store(), Clock()
    holder = contender(store, clock, "h")
    holder.acquire(0)
    store.down = True
    clock.now += 9
    holder.renew()
    holder.check()
    clock.now += 2
    with pytest.raises(LeaseLost):
        holder.check()


def test_release_lets_the_next_one_in_at_once() -> None:
    store, clock = Store(), Clock()
    holder = contender(store, clock, "h")
    holder.acquire(0)
    holder.release()
    contender(store, clock, "next").acquire(0)
    assert clock.now == 0


def test_a_taken_over_holder_learns_it_on_renewal_and_does_not_release() -> None:
    store, clock = Store(), Clock()
    holder = contender(store, clock, "slow")
    holder.acquire(0)
    clock.now += 100
    other = contender(store, clock, "other")
    with pytest.raises(LeaseHeld):
        other.acquire(0)
    clock.now += 16
    other.acquire(0)

    holder.renew()
    with pytest.raises(LeaseLost):
        holder.check()
    holder.release()
    assert store.obj is not None and store.obj["spec"]["holderIdentity"] == "other"
