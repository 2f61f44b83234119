"""Which controller replicas are alive, read from Kubernetes alone.

Each replica holds a member Lease of its own (``hakobu-member-<hash of its identity>``,
labelled ``hakobu.dev/controller-lease: member``), renewed like any other Lease. Every
replica lists them all and counts a member alive while its Lease names a holder and has
changed within its ``leaseDurationSeconds`` — measured, as client-go measures a Lease's
expiry, on the observer's own clock from when it first saw the current version, never by
comparing the ``renewTime`` another machine wrote. A member that stops cleanly releases
its Lease (no holder: gone at once) and deletes it.

A replica that dies without leaving (``kill -9``, a lost node) leaves its member Lease
behind; whichever replica sees it unchanged for ``FORGET_AFTER`` lease durations deletes
it, with the resourceVersion it saw as a precondition, so one renewed meanwhile stays.

A member Lease also says how many shards its replica cuts the Deliveries into
(``hakobu.dev/shards``): replicas that disagree would put one Delivery in two different
shards, so a replica that sees a live member cutting differently holds nothing until one
of them is gone (a rolling update that changes the count passes through that state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Conflict, NotFound
from hakobu.cluster.lease import Lease, LeaseHeld, LeaseLost
from hakobu.errors import HakobuError
from hakobu.model.objects import Object

ROLE_LABEL = "hakobu.dev/controller-lease"
SHARDS_LABEL = "hakobu.dev/shards"
FORGET_AFTER = 4

Log = Callable[[str], None]


def member_lease_name(identity: str) -> str:
    # An identity is free text (host, pid, a random part); a Lease name must be a DNS name.
    return f"hakobu-member-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Member:
    identity: str
    shards: int


@dataclass(frozen=True)
class _Seen:
    """A member Lease as last listed, and since when (this clock) at that version."""

    version: str
    since: float
    holder: str
    duration: int
    shards: int


class Membership:
    """This replica's member Lease, and the members it has seen alive."""

    def __init__(
        self,
        kube: KubeApi,
        namespace: str,
        identity: str,
        *,
        shards: int,
        duration: int,
        renew_deadline: float,
        retry_period: float,
        clock: Callable[[], float],
    ) -> None:
        self.kube, self.namespace, self.identity = kube, namespace, identity
        self.shards = shards
        self._clock = clock
        self._own = Lease(
            kube,
            namespace,
            member_lease_name(identity),
            holder=identity,
            labels={ROLE_LABEL: "member", SHARDS_LABEL: str(shards)},
            duration=duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            clock=clock,
        )
        self._joined = False
        self._seen: dict[str, _Seen] = {}

    def keep(self) -> None:
        """Join, or renew this replica's membership; never raises (``alive`` tells)."""
        if self._joined:
            self._own.renew()
            if self._valid():
                return
            self._joined = False
        try:
            self._own.acquire(0)
            self._joined = True
        except LeaseHeld:
            # A former process with this identity, not yet expired: wait it out.
            pass
        except HakobuError:
            pass

    def observe(self, leases: list[Object]) -> None:
        """Note the member Leases of a LIST (``hakobu.dev/controller-lease: member``)."""
        now = self._clock()
        listed: dict[str, _Seen] = {}
        for lease in leases:
            metadata, spec = lease["metadata"], lease.get("spec") or {}
            name, version = str(metadata["name"]), str(metadata.get("resourceVersion", ""))
            try:
                shards = int((metadata.get("labels") or {}).get(SHARDS_LABEL, ""))
            except ValueError:
                shards = 0
            before = self._seen.get(name)
            listed[name] = _Seen(
                version,
                before.since if before is not None and before.version == version else now,
                str(spec.get("holderIdentity") or ""),
                int(spec.get("leaseDurationSeconds") or 0),
                shards,
            )
        self._seen = listed

    def alive(self) -> list[Member]:
        """Members whose Lease changed within its duration, this replica among them while
        its own Lease is renewed within the deadline; sorted by identity."""
        now = self._clock()
        members = {
            seen.holder: Member(seen.holder, seen.shards)
            for seen in self._seen.values()
            if seen.holder and seen.holder != self.identity and now - seen.since < seen.duration
        }
        if self._joined and self._valid():
            members[self.identity] = Member(self.identity, self.shards)
        return [members[k] for k in sorted(members)]

    def sweep(self, log: Log) -> None:
        """Delete member Leases left unchanged for ``FORGET_AFTER`` lease durations."""
        now = self._clock()
        for name, seen in self._seen.items():
            if name == self._own.name or now - seen.since < FORGET_AFTER * self._own.duration:
                continue
            try:
                self.kube.request(
                    "DELETE",
                    f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases/{name}",
                    body={
                        "apiVersion": "v1",
                        "kind": "DeleteOptions",
                        "preconditions": {"resourceVersion": seen.version},
                    },
                    retried=False,
                    counted_as="DELETE Lease",
                )
            except (NotFound, Conflict):
                continue  # another replica deleted it, or its member came back
            except HakobuError as e:
                log(f"Lease/{name} of a member gone since long not deleted ({e.message})")
                continue
            log(f"deleted Lease/{name}, left by {seen.holder or 'a member'} that is gone")

    def _valid(self) -> bool:
        try:
            self._own.check()
        except LeaseLost:
            return False
        return True

    def leave(self, log: Log) -> None:
        """Release and delete this replica's member Lease, so others see it gone at once."""
        if not self._joined:
            return
        self._joined = False
        self._own.release(log)
        try:
            self.kube.delete("coordination.k8s.io/v1", "Lease", self._own.name, self.namespace)
        except NotFound:
            pass
        except HakobuError as e:
            log(f"{self._own.ref} not deleted ({e.message})")
