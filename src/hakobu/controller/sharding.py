"""Shards of Deliveries held by controller replicas through Leases.

Every ``retry_period`` a replica makes one pass (``step``):

1. one LIST of the controller's Leases (members and shards, by label), noting for each
   when it last changed on this replica's clock (``Lease.observe``);
2. the live members (``membership``, which also deletes member Leases left long ago by
   replicas that died), the Deliveries per shard and who holds each shard now give the
   assignment (``shards.assign``), the same on every replica that sees the same;
3. shards no longer assigned here stop being owned at once (``guard`` raises) and their
   Leases are released a drain time later — ``lease_duration - renew_deadline``, the same
   margin a replica that stops renewing leaves before its Lease expires — so a sync that
   passed its guard just before finishes its apply wave before anyone may take over;
4. shards assigned here are acquired when their Lease is free: released, or unchanged for
   its duration as this replica saw it (so a replica killed with ``kill -9`` loses its
   shards about a lease duration after its last renewal, the same moment its membership
   ends);
5. held shard Leases are renewed, then this replica's member Lease (last, so a member is
   never seen gone before its shards may be taken).

A shard is owned while its Lease was renewed within ``renew_deadline``, judged on every
call against the clock, so a replica cut off from the API server stops owning its shards
before anyone may take them over, even while a request of its pass hangs. A pass whose
LIST fails writes nothing (the server is unreachable or failing; renewals would fail too).
Requests are sent once each, the next pass being the retry; give ``Sharding`` a client
whose timeout is about a retry period, so one unanswered request does not hold up a pass
(owning stays safe either way: it is judged by the clock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from hakobu.cluster.api import KubeApi
from hakobu.cluster.lease import (
    LEASE_DURATION,
    RENEW_DEADLINE,
    RETRY_PERIOD,
    Lease,
    LeaseHeld,
    LeaseLost,
)
from hakobu.cluster.lease import (
    identity as default_identity,
)
from hakobu.controller import shards as assignment
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.membership import ROLE_LABEL, SHARDS_LABEL, Membership
from hakobu.errors import HakobuError
from hakobu.model.objects import Object

Log = Callable[[str], None]
SHARD_LABEL = "hakobu.dev/shard"


def shard_lease_name(shard: int) -> str:
    return f"hakobu-shard-{shard}"


def _quiet(_: str) -> None:
    pass


def _index(label: object, shards: int) -> int | None:
    """The shard a Lease's label names, if it is one of ours (a hand-made Lease may not)."""
    text = str(label)
    if not text.isdigit() or int(text) >= shards:
        return None
    return int(text)


class Sharding:
    """This replica's share of the Deliveries, held through Leases in ``namespace``."""

    def __init__(
        self,
        kube: KubeApi,
        namespace: str,
        *,
        identity: str | None = None,
        shards: int = assignment.SHARDS,
        log: Log = _quiet,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        lease_duration: int = LEASE_DURATION,
        renew_deadline: float = RENEW_DEADLINE,
        retry_period: float = RETRY_PERIOD,
    ) -> None:
        if not renew_deadline < lease_duration:
            raise ValueError("the renew deadline must be shorter than the lease duration")
        self.kube, self.namespace = kube, namespace
        self.identity = identity or default_identity()
        self.shards = shards
        self.renew_deadline, self.retry_period = renew_deadline, retry_period
        self.drain = lease_duration - renew_deadline
        self._log, self._clock, self._sleep = log, clock, sleep
        self._membership = Membership(
            kube,
            namespace,
            self.identity,
            shards=shards,
            duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            clock=clock,
        )
        self._leases = [
            Lease(
                kube,
                namespace,
                shard_lease_name(shard),
                holder=self.identity,
                labels={ROLE_LABEL: "shard", SHARD_LABEL: str(shard), SHARDS_LABEL: str(shards)},
                duration=lease_duration,
                renew_deadline=renew_deadline,
                retry_period=retry_period,
                clock=clock,
            )
            for shard in range(shards)
        ]
        self._lock = threading.Lock()
        self._weights = (0,) * shards
        # Shards whose Lease this replica holds, with the last renewal (this clock).
        self._renewed: dict[int, float] = {}
        # Shards being handed over: still held, no longer owned; since when.
        self._leaving: dict[int, float] = {}
        # Bumped whenever a shard's ownership starts or ends, so a guard taken under one
        # holding never passes under a later one.
        self._epoch: dict[int, int] = {}
        self._epochs = 0
        self._callbacks: list[Callable[[frozenset[int]], None]] = []
        self._told: frozenset[int] = frozenset()
        self._unreachable = False
        self._disagreement = ""
        self.transitions = 0

    # -- what the controller asks ---------------------------------------------------------

    def set_deliveries(self, refs: Iterable[DeliveryRef]) -> None:
        counted = assignment.weights(refs, self.shards)
        with self._lock:
            self._weights = counted

    def shard_of(self, ref: DeliveryRef) -> int:
        return assignment.shard_of(ref, self.shards)

    def owns(self, ref: DeliveryRef) -> bool:
        with self._lock:
            return self._owned(self.shard_of(ref), self._clock())

    def held(self) -> frozenset[int]:
        with self._lock:
            now = self._clock()
            return frozenset(s for s in self._renewed if self._owned(s, now))

    def guard(self, ref: DeliveryRef) -> Callable[[], None]:
        """A check to call before every write for ``ref``: it raises ``LeaseLost`` once
        the shard is no longer owned, or was given up and taken again since the guard was
        made (whatever began under the earlier holding must not go on)."""
        shard = self.shard_of(ref)
        with self._lock:
            epoch = self._epoch.get(shard) if self._owned(shard, self._clock()) else None

        def check() -> None:
            with self._lock:
                ok = (
                    epoch is not None
                    and self._epoch.get(shard) == epoch
                    and self._owned(shard, self._clock())
                )
            if not ok:
                raise LeaseLost(
                    f"stopped: Delivery {ref} is in shard {shard}, which this replica "
                    f"({self.identity}) does not hold any longer",
                    hint="the replica that holds the shard now takes the Delivery over",
                )

        return check

    def on_change(self, callback: Callable[[frozenset[int]], None]) -> None:
        self._callbacks.append(callback)

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Pass every retry period until ``stop`` is set; then give everything up."""
        try:
            while True:
                self.step()
                if stop.wait(self.retry_period):
                    return
        finally:
            self.resign()

    def step(self) -> None:
        """One pass (see the module's docstring)."""
        try:
            # Sent once, whatever the client's retry policy: the next pass is the retry, and
            # a pass must not wait out an outage that the renew deadline already covers.
            listed = self.kube.request(
                "GET",
                f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases",
                params={"labelSelector": ROLE_LABEL},
                retried=False,
                counted_as="LIST Lease",
            )["items"]
        except HakobuError as e:
            if not self._unreachable:
                self._unreachable = True
                self._log(f"cannot read the controller's Leases: {e.message}")
            self._drop_expired()
            self._notify()
            return
        if self._unreachable:
            self._unreachable = False
            self._log("the controller's Leases can be read again")
        taken, holders = self._observe(listed)
        self._membership.sweep(self._log)
        mine = self._assigned(holders)
        self._hand_over(mine)
        acquired = self._take(mine - taken)
        self._renew(skip=acquired)
        self._membership.keep()
        self._notify()

    def resign(self) -> None:
        """Stop owning every shard, let a started apply wave end, release the Leases and
        leave the membership."""
        with self._lock:
            held, now = list(self._renewed), self._clock()
            for shard in held:
                if shard not in self._leaving:
                    self._turn(shard)
                    self._leaving[shard] = now
        self._notify()
        if held:
            self._sleep(self.drain)
        for shard in held:
            self._leases[shard].release(self._log)
        with self._lock:
            self._renewed.clear()
            self._leaving.clear()
        self._membership.leave(self._log)

    # -- a pass ---------------------------------------------------------------------------

    def _observe(self, listed: list[Object]) -> tuple[set[int], dict[int, str]]:
        """Note every listed Lease; return the shards held by someone else, and who
        each shard's Lease names."""
        members, taken, holders = [], set(), {}
        for lease in listed:
            labels = lease["metadata"].get("labels") or {}
            role = labels.get(ROLE_LABEL)
            if role == "member":
                members.append(lease)
            elif role == "shard" and labels.get(SHARDS_LABEL) == str(self.shards):
                shard = _index(labels.get(SHARD_LABEL), self.shards)
                if shard is None:
                    continue
                if self._leases[shard].observe(lease):
                    taken.add(shard)
                if holder := (lease.get("spec") or {}).get("holderIdentity"):
                    holders[shard] = str(holder)
        self._membership.observe(members)
        return taken, holders

    def _assigned(self, holders: dict[int, str]) -> set[int]:
        members = self._membership.alive()
        others = sorted({m.shards for m in members} - {self.shards})
        if others:
            disagreement = (
                f"live members cut the Deliveries into {others} shards, not {self.shards}"
            )
            if disagreement != self._disagreement:
                self._log(f"holding no shards: {disagreement}")
            self._disagreement = disagreement
            return set()
        self._disagreement = ""
        with self._lock:
            weights = self._weights
        owner = assignment.assign([m.identity for m in members], weights, holders=holders)
        return {shard for shard, member in owner.items() if member == self.identity}

    def _hand_over(self, mine: set[int]) -> None:
        now = self._clock()
        release = []
        with self._lock:
            for shard in list(self._renewed):
                if shard in mine:
                    continue
                if shard not in self._leaving:
                    self._turn(shard)
                    self._leaving[shard] = now
                elif now - self._leaving[shard] >= self.drain:
                    release.append(shard)
        for shard in release:
            self._leases[shard].release(self._log)
            with self._lock:
                del self._renewed[shard], self._leaving[shard]

    def _take(self, mine: set[int]) -> set[int]:
        """Acquire what is assigned here and free; return what was acquired."""
        with self._lock:
            wanted = sorted(s for s in mine if s not in self._renewed or s in self._leaving)
            for shard in wanted:
                if shard in self._leaving:
                    # Assigned back before it was released: still held, owned again.
                    del self._leaving[shard]
                    self._turn(shard)
        acquired = set()
        for shard in wanted:
            if shard in self._renewed:
                continue
            lease = self._leases[shard]
            try:
                lease.acquire(0)
            except LeaseHeld:
                continue
            except HakobuError as e:
                self._log(f"{lease.ref} not acquired: {e.message}")
                continue
            acquired.add(shard)
            with self._lock:
                self._renewed[shard] = lease.renewed_at or self._clock()
                self._turn(shard)
        return acquired

    def _renew(self, *, skip: set[int]) -> None:
        with self._lock:
            held = [s for s in self._renewed if s not in skip]
        for shard in held:
            lease = self._leases[shard]
            lease.renew()
            try:
                lease.check()
            except LeaseLost as e:
                self._log(e.message)
                with self._lock:
                    self._lose(shard)
                continue
            with self._lock:
                self._renewed[shard] = lease.renewed_at or self._renewed[shard]

    def _drop_expired(self) -> None:
        """Without the API server: forget shards past their renew deadline (they stopped
        being owned then; their Leases expire on their own, or are renewed again if the
        server comes back before anyone takes them)."""
        with self._lock:
            now = self._clock()
            for shard in [s for s, at in self._renewed.items() if now - at > self.renew_deadline]:
                self._lose(shard)

    # -- bookkeeping (under the lock) -----------------------------------------------------

    def _owned(self, shard: int, now: float) -> bool:
        renewed = self._renewed.get(shard)
        return (
            renewed is not None
            and shard not in self._leaving
            and now - renewed <= self.renew_deadline
        )

    def _turn(self, shard: int) -> None:
        """Ownership of ``shard`` starts or ends."""
        self._epochs += 1
        self._epoch[shard] = self._epochs
        self.transitions += 1

    def _lose(self, shard: int) -> None:
        if shard not in self._leaving:
            self._turn(shard)
        self._renewed.pop(shard, None)
        self._leaving.pop(shard, None)

    def _notify(self) -> None:
        now = self.held()
        if now == self._told:
            return
        self._told = now
        self._log(f"holding shards {sorted(now)} of {self.shards}")
        for callback in self._callbacks:
            callback(now)
