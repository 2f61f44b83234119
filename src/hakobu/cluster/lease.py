"""A lock held in the cluster: a ``coordination.k8s.io/v1`` Lease, as client-go's leader
election holds one.

The holder writes its identity, ``acquireTime`` and ``renewTime`` into the Lease and
renews it every ``RETRY_PERIOD`` from a background thread. Every write carries the
resourceVersion last read, so of two contenders only one can win: the other's write is
refused with a conflict. Clocks are never compared across machines: a contender takes a
Lease held by someone else only after ``leaseDurationSeconds`` have passed, on its own
clock, since it last saw the Lease change. A holder that could not renew for
``RENEW_DEADLINE`` (shorter than the duration) must stop acting — ``check`` raises — so it
stops before anyone may take over. Releasing clears the holder, so the next contender need
not wait for expiry.

::

    OperationFailed (hakobu.errors)
    ├── LeaseHeld     someone else holds it (exit 1); names the holder and since when
    └── LeaseLost     it was taken over, or not renewed in time: stop acting
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import AlreadyExists, Conflict, NotFound
from hakobu.errors import HakobuError, OperationFailed

# client-go's (and controller-runtime's) defaults.
LEASE_DURATION = 15
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0

Log = Callable[[str], None]


@dataclass(frozen=True)
class Holder:
    identity: str
    acquired: str  # acquireTime, in the holder's clock
    renewed: str  # renewTime, in the holder's clock


class LeaseHeld(OperationFailed):
    def __init__(self, message: str, holder: Holder, *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class LeaseLost(OperationFailed):
    pass


def identity() -> str:
    """Who holds a lease: host and process for a person to find it, and a random part so
    two holders are never mistaken for each other (a pid is reused, a host is cloned)."""
    return f"{socket.gethostname()} pid {os.getpid()} {secrets.token_hex(4)}"


def _now() -> str:
    # MicroTime, as the API server stores it.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Lease:
    """One contender for the Lease ``namespace/name``."""

    def __init__(
        self,
        kube: KubeApi,
        namespace: str,
        name: str,
        *,
        holder: str | None = None,
        labels: dict[str, str] | None = None,
        duration: int = LEASE_DURATION,
        renew_deadline: float = RENEW_DEADLINE,
        retry_period: float = RETRY_PERIOD,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kube, self.namespace, self.name = kube, namespace, name
        self.holder = holder or identity()
        self.labels = labels or {}
        self.duration, self.renew_deadline = duration, renew_deadline
        self.retry_period = retry_period
        self._clock, self._sleep = clock, sleep
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"
        # The last version seen, and when (on this clock) it was first seen.
        self._observed: tuple[str, float] | None = None
        self._current: dict[str, Any] | None = None  # the Lease as last written by us
        self._renewed_at: float | None = None
        self._lost: str | None = None

    @property
    def ref(self) -> str:
        return f"Lease/{self.name} in namespace {self.namespace}"

    # -- acquiring ------------------------------------------------------------------------

    def acquire(self, wait: float, log: Log = lambda _: None) -> None:
        """Hold the Lease, waiting up to ``wait`` seconds for its holder to release it or
        to let it expire; else ``LeaseHeld``."""
        deadline = self._clock() + wait
        told = False
        while True:
            other = self._try_acquire()
            if other is None:
                # Held anew (nobody else wrote in between): an earlier loss no longer stands.
                self._lost = None
                return
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._held(other, wait)
            if not told:
                told = True
                log(
                    f"waiting up to {wait:g}s for {self.ref}, held by {other.identity} "
                    f"since {other.acquired}"
                )
            self._sleep(min(self.retry_period, remaining))

    def _try_acquire(self) -> Holder | None:
        """None once held; else who holds it."""
        while True:
            try:
                live = self._request("GET")
            except NotFound:
                try:
                    self._write("POST", self._record(None), collection=True)
                except AlreadyExists:
                    continue
                return None
            other = self.observe(live)
            if other is not None:
                return other
            try:
                self._write("PUT", self._record(live))
            except Conflict:
                # Someone else wrote it meanwhile: read again who that was.
                continue
            return None

    def observe(self, live: dict[str, Any]) -> Holder | None:
        """Note ``live``, this Lease as read (also by a LIST of many), so its expiry counts
        from when this contender first saw that version; return who holds it, or None if
        it may be taken now: released, ours, or unchanged for its duration."""
        spec = live.get("spec") or {}
        version = str(live["metadata"].get("resourceVersion", ""))
        now = self._clock()
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, now)
        current = str(spec.get("holderIdentity") or "")
        duration = int(spec.get("leaseDurationSeconds") or self.duration)
        if current and current != self.holder and self._observed[1] + duration > now:
            return Holder(
                current, str(spec.get("acquireTime", "?")), str(spec.get("renewTime", "?"))
            )
        return None

    def _record(self, live: dict[str, Any] | None) -> dict[str, Any]:
        now = _now()
        spec = (live or {}).get("spec") or {}
        ours = spec.get("holderIdentity") == self.holder
        transitions = int(spec.get("leaseTransitions") or 0)
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if live is not None:
            metadata = {**live["metadata"], "labels": {**(live["metadata"].get("labels") or {})}}
        metadata["labels"] = {**(metadata.get("labels") or {}), **self.labels}
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": self.duration,
                "acquireTime": spec.get("acquireTime") if ours else now,
                "renewTime": now,
                "leaseTransitions": transitions + (1 if live is not None and not ours else 0),
            },
        }

    def _held(self, other: Holder, wait: float) -> LeaseHeld:
        waited = f" after waiting {wait:g}s" if wait else ""
        return LeaseHeld(
            f"{self.ref} is held by {other.identity} since {other.acquired} (last renewed "
            f"{other.renewed}){waited}",
            other,
            hint=f"wait for it to finish (e.g. --wait-lock 2m). If its holder died, the lock "
            f"expires {self.duration}s after its last renewal as seen by the waiting side: "
            f"a wait of {self.duration + 2 * int(self.retry_period)}s or more takes it over",
        )

    # -- holding --------------------------------------------------------------------------

    def renew(self) -> None:
        """Write a new renewTime; on failure the Lease counts as lost once the last renewal
        is older than the renew deadline (see ``check``)."""
        if self._current is None:
            return
        try:
            self._write("PUT", self._record(self._current))
        except Conflict:
            self._reread()
        except HakobuError:
            # Unreachable, a 5xx: tried again next period; ``check`` keeps the deadline.
            return

    def _reread(self) -> None:
        try:
            live = self._request("GET")
        except NotFound:
            self._lost, self._current = f"{self.ref} was deleted", None
            return
        except HakobuError:
            return
        current = (live.get("spec") or {}).get("holderIdentity")
        if current != self.holder:
            self._lost, self._current = f"{self.ref} was taken over by {current or 'nobody'}", None
        else:
            self._current = live

    @property
    def renewed_at(self) -> float | None:
        """When (on this contender's clock) it was last written by us; None before."""
        return self._renewed_at

    def check(self) -> None:
        """Raise ``LeaseLost`` unless the Lease is still safely ours."""
        if self._lost is None and self._renewed_at is not None:
            late = self._clock() - self._renewed_at
            if late > self.renew_deadline:
                self._lost = f"{self.ref} could not be renewed for {late:.0f}s"
        if self._lost is not None:
            raise LeaseLost(
                f"stopped: {self._lost}",
                hint="another run may now act on the same objects; run again once it is done",
            )

    def keep(self, stop: threading.Event) -> None:
        """Renew every retry period until ``stop`` is set."""
        while not stop.wait(self.retry_period):
            self.renew()

    def release(self, log: Log = lambda _: None) -> None:
        """Clear the holder so the next contender takes the Lease at once. Never raises: a
        Lease not released expires on its own."""
        for _ in range(3):
            # Also after a missed renewal deadline: while nobody took it over, it is still
            # ours to clear (a write over someone else's would be refused as a conflict).
            current = self._current
            if current is None:
                return
            spec = current.get("spec") or {}
            released = {
                **current,
                "spec": {
                    **spec,
                    "holderIdentity": "",
                    "leaseDurationSeconds": 1,
                    "renewTime": _now(),
                },
            }
            try:
                self._request("PUT", body=released)
            except Conflict:
                self._reread()
                continue
            except HakobuError as e:
                log(f"{self.ref} not released ({e.message}); it expires in {self.duration}s")
                return
            self._current = None
            return

    # -- requests -------------------------------------------------------------------------

    def _write(self, method: str, body: dict[str, Any], *, collection: bool = False) -> None:
        # Timed from the moment it was sent: the server may have stored it at once and
        # others count the Lease's duration from then, however late the answer comes.
        sent = self._clock()
        live = self._request(method, body=body, collection=collection)
        self._current = live
        self._observed = (str(live["metadata"].get("resourceVersion", "")), sent)
        self._renewed_at = sent

    def _request(
        self, method: str, *, body: dict[str, Any] | None = None, collection: bool = False
    ) -> dict[str, Any]:
        path = self._path.rsplit("/", 1)[0] if collection else self._path
        # Sent once each: the renewal schedule is the retry, and the lock must not wait out
        # an outage that its deadline already covers.
        result: dict[str, Any] = self.kube.request(
            method, path, body=body, retried=False, counted_as=f"{method} Lease"
        )
        return result


@contextmanager
def held(lease: Lease, *, wait: float, log: Log = lambda _: None) -> Iterator[Lease]:
    """Hold ``lease`` while the block runs, renewed in the background; released at the end,
    whatever ends the block (an error, Ctrl-C)."""
    lease.acquire(wait, log)
    stop = threading.Event()
    keeper = threading.Thread(target=lease.keep, args=(stop,), name="lease", daemon=True)
    keeper.start()
    try:
        yield lease
    finally:
        stop.set()
        keeper.join()
        lease.release(log)
