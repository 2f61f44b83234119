"""The Lease's own rules, against the in-memory API server of tests/fakes, which enforces
resourceVersion as the real one does (the real server is exercised in
tests/integration/test_sync_lock.py)."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.cluster.errors import Unreachable
from hakobu.cluster.lease import Lease, LeaseHeld, LeaseLost
from tests.fakes.kube import FakeKube

LEASE = "hakobu-sync-dev"


def cluster() -> FakeKube:
    kube = FakeKube()
    kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}},
        field_manager="test",
    )
    return kube


def stored(kube: FakeKube) -> dict[str, Any]:
    lease = kube.stored("Lease", LEASE, "dev")
    assert lease is not None
    return lease


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def contender(kube: FakeKube, clock: Clock, name: str) -> Lease:
    return Lease(
        kube,
        "dev",
        LEASE,
        holder=name,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_held_lease_is_refused_at_once_naming_holder_and_since_when() -> None:
    kube, clock = cluster(), Clock()
    contender(kube, clock, "ci-1").acquire(0)

    with pytest.raises(LeaseHeld) as refused:
        contender(kube, clock, "ci-2").acquire(0)

    assert refused.value.holder.identity == "ci-1"
    assert "held by ci-1 since " in refused.value.message
    assert refused.value.exit_code == 1
    assert clock.now == 0


def test_a_silent_holder_is_taken_over_only_a_lease_duration_after_its_last_change() -> None:
    kube, clock = cluster(), Clock()
    first = contender(kube, clock, "dead")
    first.acquire(0)
    clock.now = 1000.0  # however old the record, the waiting side counts from now
    second = contender(kube, clock, "next")

    with pytest.raises(LeaseHeld):
        second.acquire(14)
    second.acquire(60)

    assert clock.now >= 1015
    spec = stored(kube)["spec"]
    assert spec["holderIdentity"] == "next"
    assert spec["leaseTransitions"] == 1


def test_renewals_keep_others_out() -> None:
    kube, clock = cluster(), Clock()
    holder = contender(kube, clock, "alive")
    holder.acquire(0)
    waiting = contender(kube, clock, "waiting")
    with pytest.raises(LeaseHeld):
        waiting.acquire(0)
    for _ in range(20):
        clock.now += 2
        holder.renew()
        with pytest.raises(LeaseHeld):
            waiting.acquire(0)


def test_of_two_contenders_writing_the_same_version_one_wins() -> None:
    kube, clock = cluster(), Clock()
    contender(kube, clock, "old").acquire(0)
    a, b = contender(kube, clock, "a"), contender(kube, clock, "b")
    with pytest.raises(LeaseHeld):
        a.acquire(0)
    with pytest.raises(LeaseHeld):
        b.acquire(0)
    clock.now += 16
    # b writes between a's read and a's write: a's write is refused, and a sees b.
    kube.before_write = lambda: b.acquire(0)

    with pytest.raises(LeaseHeld) as refused:
        a.acquire(0)

    assert refused.value.holder.identity == "b"


def test_a_holder_that_cannot_renew_stops_before_others_may_take_over() -> None:
    kube, clock = cluster(), Clock()
    holder = contender(kube, clock, "h")
    holder.acquire(0)
    for verb in ("get", "update"):
        kube.fail(verb, "Lease", LEASE, Unreachable("connection refused"))
    clock.now += 9
    holder.renew()
    holder.check()
    clock.now += 2
    with pytest.raises(LeaseLost):
        holder.check()


def test_release_lets_the_next_one_in_at_once() -> None:
    kube, clock = cluster(), Clock()
    holder = contender(kube, clock, "h")
    holder.acquire(0)
    holder.release()
    contender(kube, clock, "next").acquire(0)
    assert clock.now == 0


def test_a_taken_over_holder_learns_it_on_renewal_and_does_not_release() -> None:
    kube, clock = cluster(), Clock()
    holder = contender(kube, clock, "slow")
    holder.acquire(0)
    clock.now += 100
    other = contender(kube, clock, "other")
    with pytest.raises(LeaseHeld):
        other.acquire(0)
    clock.now += 16
    other.acquire(0)

    holder.renew()
    with pytest.raises(LeaseLost):
        holder.check()
    holder.release()
    assert stored(kube)["spec"]["holderIdentity"] == "other"
