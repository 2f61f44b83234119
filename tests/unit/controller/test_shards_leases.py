"""Replicas holding shards through Leases, against the in-memory API server of tests/fakes
and one fake clock (the real API server and real processes: tests/integration/
test_shards.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import pytest

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Unreachable
from hakobu.cluster.lease import LeaseLost
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.membership import FORGET_AFTER, member_lease_name
from hakobu.controller.sharding import Sharding, shard_lease_name
from hakobu.controller.shards import assign, loads, weights
from tests.fakes.kube import FakeKube

NAMESPACE = "hakobu-system"
SHARDS = 16
REFS = [DeliveryRef(f"team-{i % 5}", f"app-{i}") for i in range(120)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Link:
    """One replica's connection to the shared API server; a test can cut it, or make its
    next write answer late (``slow``: seconds on ``clock``)."""

    def __init__(self, kube: FakeKube, clock: Clock) -> None:
        self.kube, self.clock, self.cut = kube, clock, False
        self.slow = 0.0
        self.slowed: list[str] = []  # the paths answered late

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.kube, name)
        if name == "request" and self.slow:
            return self._late(attr)
        if not self.cut:
            return attr

        def refused(*_: object, **__: object) -> Any:
            raise Unreachable("cannot reach the API server: connection refused")

        return refused

    def _late(self, request: Callable[..., Any]) -> Callable[..., Any]:
        def late(method: str, path: str, **kwargs: Any) -> Any:
            answer = request(method, path, **kwargs)
            if method == "PUT" and self.slow:
                self.clock.now += self.slow
                self.slow = 0.0
                self.slowed.append(path)
            return answer

        return late


class Group:
    """Replicas sharing one API server and one clock; every pass checks that no two of
    them own one shard at the same moment."""

    def __init__(self) -> None:
        self.kube, self.clock = FakeKube(), Clock()
        self.kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            field_manager="test",
        )
        self.refs = REFS
        self.replicas: dict[str, Sharding] = {}
        self.links: dict[str, Link] = {}
        self.stepping: set[str] = set()

    def start(self, name: str, *, shards: int = SHARDS) -> Sharding:
        link = Link(self.kube, self.clock)
        replica = Sharding(
            cast(KubeApi, link),
            NAMESPACE,
            identity=name,
            shards=shards,
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        replica.set_deliveries(self.refs)
        self.replicas[name], self.links[name] = replica, link
        self.stepping.add(name)
        return replica

    def owners(self) -> dict[int, str]:
        owner: dict[int, str] = {}
        for name, replica in self.replicas.items():
            for shard in replica.held():
                assert shard not in owner, f"shard {shard}: {owner[shard]} and {name}"
                owner[shard] = name
        return owner

    def run(self, seconds: float, until: Callable[[], bool] = lambda: False) -> float:
        """Passes every 2 s for ``seconds`` or until ``until()``; the time it took."""
        started = self.clock.now
        while self.clock.now - started < seconds:
            self.clock.now += 2
            self.owners()
            for name in sorted(self.stepping):
                self.replicas[name].step()
                self.owners()
            if until():
                break
        return self.clock.now - started

    def taken_from(self, name: str, shards: Iterable[int]) -> bool:
        owner = self.owners()
        return all(owner.get(s) not in (None, name) for s in shards)

    def deliveries(self, refs: list[DeliveryRef]) -> None:
        self.refs = refs
        for replica in self.replicas.values():
            replica.set_deliveries(refs)

    def settled(self, names: Iterable[str]) -> bool:
        """Every shard owned by one of ``names``, as they all compute it from what they
        hold now, within the bound."""
        owner, names = self.owners(), set(names)
        if sorted(owner) != list(range(SHARDS)) or set(owner.values()) != names:
            return False
        w = weights(self.refs, SHARDS)
        load = loads(owner, w)
        return assign(names, w, holders=owner) == owner and max(load.values()) <= 1.2 * min(
            load.values()
        )


def test_replicas_split_every_shard_as_the_assignment_says() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)

    group.run(30, lambda: group.settled("abc"))

    owner = group.owners()
    assert sorted(owner) == list(range(SHARDS))
    per_replica = loads(owner, weights(REFS, SHARDS))
    assert max(per_replica.values()) / min(per_replica.values()) <= 1.2
    for name, replica in group.replicas.items():
        ref = next(r for r in REFS if owner[replica.shard_of(r)] == name)
        assert replica.owns(ref)
        replica.guard(ref)()
        assert not any(other.owns(ref) for other in group.replicas.values() if other is not replica)


def test_a_replica_that_stops_is_taken_over_a_lease_duration_after_its_last_renewal() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)
    group.run(30, lambda: group.settled("abc"))
    group.run(4)
    lost = group.replicas["c"].held()
    ref = next(r for r in REFS if group.replicas["c"].shard_of(r) in lost)
    guard = group.replicas["c"].guard(ref)

    group.stepping.discard("c")  # as after kill -9 (or a hung process): no more passes
    last_renewal = group.clock.now
    took = group.run(30, lambda: group.taken_from("c", lost))

    # A hung replica stops owning at its renew deadline, by the clock alone.
    assert group.replicas["c"].held() == frozenset()
    with pytest.raises(LeaseLost):
        guard()
    # Nobody takes over before the Leases expire (15 s after they last changed), and the
    # shards move on the first pass after that.
    assert 15 <= took <= 15 + 2 + 2, took
    assert group.clock.now - last_renewal == took
    group.run(30, lambda: group.settled("ab"))
    assert group.settled("ab")


def test_a_replica_cut_off_from_the_api_server_stops_owning_before_anyone_takes_over() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)
    group.run(30, lambda: group.settled("abc"))
    cut = group.replicas["c"]
    lost = cut.held()
    ref = next(r for r in REFS if cut.shard_of(r) in lost)
    guard = cut.guard(ref)
    changes: list[frozenset[int]] = []
    cut.on_change(changes.append)

    group.links["c"].cut = True
    cut_at = group.clock.now
    gave_up = group.run(30, lambda: not cut.held())
    taken = gave_up + group.run(30, lambda: group.taken_from("c", lost))

    assert gave_up <= 10 + 2
    assert changes == [frozenset()]
    with pytest.raises(LeaseLost, match="does not hold any longer"):
        guard()
    assert taken >= 15 > gave_up  # (group.owners() asserted no overlap on every pass)
    group.run(30, lambda: group.settled("ab"))
    assert group.settled("ab")

    # Back online: it joins again and gets a share, again without overlap.
    group.links["c"].cut = False
    group.run(40, lambda: group.settled("abc"))
    assert group.settled("abc")
    assert group.clock.now - cut_at < 90


def test_a_replica_that_joins_gets_its_shards_after_a_drain_without_overlap() -> None:
    group = Group()
    group.start("a")
    group.start("b")
    group.run(30, lambda: group.settled("ab"))
    a = group.replicas["a"]
    guards = {r: a.guard(r) for r in REFS if a.owns(r)}
    transitions = a.transitions

    group.start("c")
    took = group.run(30, lambda: group.settled("abc"))

    handed = {r for r in guards if not a.owns(r)}
    assert handed
    for ref in handed:
        with pytest.raises(LeaseLost):
            guards[ref]()
    for ref in set(guards) - handed:
        guards[ref]()
    # Joining (one pass), seen by the others (the next), then the drain: 15 s - 10 s.
    assert took <= 2 + 2 + 5 + 2 + 2
    assert a.transitions > transitions


def test_a_replica_that_resigns_hands_its_shards_over_at_once() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)
    group.run(30, lambda: group.settled("abc"))
    c = group.replicas["c"]
    lost = c.held()
    ref = next(r for r in REFS if c.shard_of(r) in lost)
    owned_when_told: list[bool] = []
    c.on_change(lambda held: owned_when_told.append(c.owns(ref) or bool(held)))

    group.stepping.discard("c")
    c.resign()  # stops owning at once, then waits the drain on the fake clock

    assert owned_when_told == [False]

    assert group.kube.stored("Lease", member_lease_name("c"), NAMESPACE) is None
    for shard in range(SHARDS):
        lease = group.kube.stored("Lease", shard_lease_name(shard), NAMESPACE)
        assert lease is not None
        assert lease["spec"]["holderIdentity"] != "c"
    assert group.run(10, lambda: group.taken_from("c", lost)) == 2
    group.run(30, lambda: group.settled("ab"))
    assert group.settled("ab")


def test_replicas_that_cut_deliveries_into_different_shard_counts_hold_nothing() -> None:
    group = Group()
    group.start("a")
    group.run(10, lambda: group.settled("a"))
    group.start("b", shards=SHARDS * 2)

    group.run(30, lambda: not group.owners())

    assert group.owners() == {}
    group.stepping.discard("b")
    group.replicas["b"].resign()
    assert group.run(30, lambda: group.settled("a")) <= 2 + 2


def test_the_member_lease_of_a_replica_that_died_is_deleted_after_a_while() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)
    group.run(30, lambda: group.settled("abc"))

    group.stepping.discard("c")
    group.run(FORGET_AFTER * 15 - 4)
    assert group.kube.stored("Lease", member_lease_name("c"), NAMESPACE) is not None
    group.run(6)

    assert group.kube.stored("Lease", member_lease_name("c"), NAMESPACE) is None
    assert group.kube.stored("Lease", member_lease_name("a"), NAMESPACE) is not None
    # Had it only hung, it joins again as a new member.
    group.stepping.add("c")
    group.run(60, lambda: group.settled("abc"))
    assert group.kube.stored("Lease", member_lease_name("c"), NAMESPACE) is not None


def test_shards_follow_the_deliveries_and_stay_balanced() -> None:
    group = Group()
    for name in ("a", "b", "c"):
        group.start(name)
    group.run(30, lambda: group.settled("abc"))

    # A new team's Deliveries, all at once: the loads shift, the shards follow.
    group.deliveries(REFS + [DeliveryRef("new-team", f"svc-{i}") for i in range(180)])
    group.run(60, lambda: group.settled("abc"))

    assert group.settled("abc")
    per_replica = loads(group.owners(), weights(group.refs, SHARDS))
    assert max(per_replica.values()) / min(per_replica.values()) <= 1.2


def test_a_renewal_answered_late_counts_from_when_it_was_sent() -> None:
    group = Group()
    group.start("a")
    group.start("b")
    group.run(30, lambda: group.settled("ab"))
    a = group.replicas["a"]

    # The server stores a's renewal at once, but the answer takes 9 s to come back.
    group.links["a"].slow = 9
    sent = group.clock.now + 2
    group.run(2)
    group.stepping.discard("a")  # and then a hangs
    (path,) = group.links["a"].slowed
    shard = int(path.rsplit("-", 1)[1])
    assert shard in a.held()

    # b may take the shard 15 s after it saw the renewal, so a must have stopped by then.
    group.clock.now = sent + 10.5
    assert shard not in a.held()
    group.run(30, lambda: group.taken_from("a", [shard]))
    assert group.clock.now >= sent + 15
