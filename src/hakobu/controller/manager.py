"""``hakobu controller``: the Deliveries this replica's shards hold, kept applied.

Threads, each doing one thing:

- the Delivery watch keeps a cache of every Delivery, tells the sharding which exist, and
  queues a pass for one of ours when it appears, its spec changes (a new generation) or
  someone asks (the ``hakobu.dev/reconcile-requested-at`` annotation, set by a webhook or
  ``hakobu delivery reconcile``); the controller's own status writes change neither;
- the sharding holds shard Leases and says which Deliveries are ours; a shard taken queues
  its Deliveries, a shard lost drops them;
- workers take passes from the queue (one Delivery is never in two passes at once) and
  write each pass's report into the Delivery's status; the next poll is queued after the
  interval plus up to a tenth of it (jitter, so Deliveries created together do not poll
  together), sooner after a failure (2 s doubling up to the interval) or as the sync
  window that held its sync opens, or as a canary rollout's next step is due;
- the drift watch queues a rate-limited pass when what a Delivery deployed is changed;
- the HTTP server answers webhooks, ``/metrics``, ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import ApiError, NotFound, Unreachable
from hakobu.cluster.events import record_event
from hakobu.controller.deliveries import set_finalizer
from hakobu.controller.delivery import (
    API_VERSION,
    FINALIZER,
    KIND,
    PLURAL,
    Delivery,
    DeliveryRef,
    InvalidDelivery,
    parse,
)
from hakobu.controller.drift import Drift, DriftLimiter, DriftWatch
from hakobu.controller.metrics import Metrics
from hakobu.controller.reconciler import DeliveryReconciler, Emit
from hakobu.controller.reflector import reflect
from hakobu.controller.status import PassReport, Problem, build_status
from hakobu.controller.workqueue import WorkQueue, work
from hakobu.images.availability import ImageAvailability
from hakobu.sync.ownership import namespace_ending

Log = Callable[..., None]
# What a pass tells the team: (Delivery, event kind, revision, message, apps).
Notify = Callable[[Delivery, str, str, str, tuple[str, ...]], None]
# The events recorded as Warnings: something went wrong that a person may have to act on.
_WARNINGS = frozenset(
    {"sync-failed", "health-degraded", "rollback-committed", "fleet-halted", "rollout-aborted"}
)


class Ownership(Protocol):
    """Which Deliveries this replica may act on (``controller.sharding`` holds Leases)."""

    def set_deliveries(self, refs: Iterable[DeliveryRef]) -> None: ...
    def owns(self, ref: DeliveryRef) -> bool: ...
    def guard(self, ref: DeliveryRef) -> Callable[[], None]: ...
    def on_change(self, callback: Callable[[frozenset[int]], None]) -> None: ...
    def run(self, stop: threading.Event) -> None: ...


@dataclass(frozen=True)
class ControllerOptions:
    workdir: Path
    workers: int = 4
    # Deliveries of one namespace only; None: every namespace.
    namespace: str | None = None
    # Retries after a failed pass start here and double up to the Delivery's interval.
    first_retry: float = 2.0
    # How often Deliveries of ours with nothing queued are found and queued.
    resync: float = 30.0


class Controller:
    def __init__(
        self,
        kube: KubeClient,
        options: ControllerOptions,
        ownership: Ownership,
        *,
        metrics: Metrics,
        log: Log,
        notify: Notify | None = None,
        availability: ImageAvailability | None = None,
    ) -> None:
        self.kube, self.options, self.ownership = kube, options, ownership
        self.metrics, self._log, self._notify = metrics, log, notify
        self._availability = availability
        self.queue: WorkQueue[DeliveryRef] = WorkQueue()
        self._cache: dict[DeliveryRef, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()
        self._reconcilers: dict[DeliveryRef, DeliveryReconciler] = {}
        self._failures: dict[DeliveryRef, int] = {}
        self._fights: dict[DeliveryRef, str] = {}
        # The last drift another field manager caused, per Delivery, to name in a fight.
        self._drifters: dict[DeliveryRef, Drift] = {}
        self._limiter = DriftLimiter()
        self._drift = DriftWatch(kube, self._drifted, log)
        self.synced = threading.Event()  # the first list of Deliveries has arrived
        self._threads: list[threading.Thread] = []
        metrics.held_deliveries.set_function(self._held)

    # -- running --------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.ownership.on_change(self._shards_changed)
        self._start("sharding", lambda: self.ownership.run(stop))
        self._start("deliveries", lambda: self._watch_deliveries(stop))
        for number in range(self.options.workers):
            self._start(f"worker {number}", self._work)
        while not stop.wait(self.options.resync):
            self._resync()
        self.queue.close()
        self._drift.stop()
        # The shards are given up and passes finish; the watches end with the process (a
        # watch waits for the server's next event, which may be minutes away).
        for thread in self._threads:
            if thread.name != "deliveries":
                thread.join(timeout=30)

    def _held(self) -> float:
        with self._cache_lock:
            refs = list(self._cache)
        return float(sum(self.ownership.owns(ref) for ref in refs))

    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)

    def deliveries(self) -> list[Delivery]:
        """Every Delivery whose spec can be read (for the webhook receiver)."""
        with self._cache_lock:
            objects = list(self._cache.values())
        found = []
        for obj in objects:
            try:
                found.append(parse(obj))
            except InvalidDelivery:
                continue
        return found

    def delivery_object(self, ref: DeliveryRef) -> dict[str, Any] | None:
        """The Delivery ``ref`` as last seen (status included), or None."""
        with self._cache_lock:
            return self._cache.get(ref)

    def project_root(self, ref: DeliveryRef) -> Path | None:
        """Where the project a Delivery follows is checked out, once it is."""
        reconciler = self._reconcilers.get(ref)
        return reconciler.project_root if reconciler is not None else None

    def _start(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- the Delivery watch ---------------------------------------------------------------

    def _watch_deliveries(self, stop: threading.Event) -> None:
        reflect(
            stop,
            relist=self._list_deliveries,
            watch=lambda version: self.kube.watch(
                API_VERSION, KIND, self.options.namespace, resource_version=version
            ),
            handle=lambda event: self._delivery_event(event.type, event.object),
            failed=lambda e: self._log(f"watch of Deliveries failed: {e}", level="warning"),
        )

    def _list_deliveries(self) -> str:
        listed = self.kube.list(API_VERSION, KIND, self.options.namespace)
        current = {_ref(obj): obj for obj in listed.items}
        with self._cache_lock:
            gone = set(self._cache) - set(current)
            previous = self._cache
            self._cache = current
        for ref in gone:
            self._forget(ref)
        self.ownership.set_deliveries(current)
        for ref, obj in current.items():
            if _wants_pass(previous.get(ref), obj) and self.ownership.owns(ref):
                self.queue.add(ref, "found")
        self.synced.set()
        return listed.resource_version

    def _delivery_event(self, kind: str, obj: dict[str, Any]) -> None:
        ref = _ref(obj)
        with self._cache_lock:
            previous = self._cache.get(ref)
            if kind == "DELETED":
                self._cache.pop(ref, None)
            else:
                self._cache[ref] = obj
            refs = list(self._cache)
        if kind == "DELETED":
            self._forget(ref)
        elif _wants_pass(previous, obj) and self.ownership.owns(ref):
            self.queue.add(ref, _why(previous, obj))
        if previous is None or kind == "DELETED":
            self.ownership.set_deliveries(refs)

    def _shards_changed(self, _held: frozenset[int]) -> None:
        with self._cache_lock:
            refs = list(self._cache)
        for ref in refs:
            if self.ownership.owns(ref):
                if ref not in self._reconcilers:
                    self.queue.add(ref, "shard taken")
            elif ref in self._reconcilers:
                self._log("shard given up", delivery=str(ref))
                self._forget(ref)

    def _resync(self) -> None:
        """Queue a pass for every Delivery of ours that nothing is queued for: one whose
        pass was dropped while its shard's Lease was late being renewed (the set of shards
        held did not change, so nothing else would ask again)."""
        with self._cache_lock:
            objects = dict(self._cache)
        for ref, obj in objects.items():
            if self.ownership.owns(ref) and not self.queue.has(ref) and not _parked(obj):
                self.queue.add(ref, "resync")

    def _forget(self, ref: DeliveryRef) -> None:
        self.queue.forget(ref)
        self._reconcilers.pop(ref, None)
        self._failures.pop(ref, None)
        self._fights.pop(ref, None)
        self._drifters.pop(ref, None)
        self._limiter.forget(ref)
        self.metrics.forget(str(ref))

    # -- drift ----------------------------------------------------------------------------

    def _drifted(self, drift: Drift) -> None:
        for ref, reconciler in list(self._reconcilers.items()):
            if reconciler.owner != drift.owner or not self.ownership.owns(ref):
                continue
            delay = self._limiter.delay(ref)
            if drift.manager is not None:
                self._drifters[ref] = drift
            self.queue.add(ref, f"drift: {drift.what}", after=delay)

    # -- passes ---------------------------------------------------------------------------

    def _work(self) -> None:
        work(self.queue, self._pass, self._pass_failed)

    def _pass_failed(self, ref: DeliveryRef, e: Exception) -> None:
        self._log(
            f"pass failed unexpectedly: {type(e).__name__}: {e}",
            level="error",
            delivery=str(ref),
            trace=traceback.format_exc(),
        )
        failures = self._failures[ref] = self._failures.get(ref, 0) + 1
        self.queue.add(ref, f"retry {failures}", after=min(2.0**failures, 300.0))

    def _pass(self, ref: DeliveryRef, reason: str) -> None:
        with self._cache_lock:
            obj = self._cache.get(ref)
        if obj is None or not self.ownership.owns(ref):
            return
        if obj["metadata"].get("deletionTimestamp"):
            self._finalize(ref, obj)
            return
        name = str(ref)
        try:
            delivery = parse(obj)
        except InvalidDelivery as e:
            generation = int(obj["metadata"].get("generation", 0))
            problem = Problem("InvalidSpec", e.message, stalled=True)
            self._log(e.message, level="error", delivery=name, reason="InvalidSpec")
            self._write_status(ref, obj, PassReport(generation, None, (), problem=problem))
            return  # nothing to retry until the spec changes
        obj = self._set_finalizer(ref, obj)
        reconciler = self._reconciler(ref, delivery)
        self._log(f"pass started: {reason}", delivery=name, environment=delivery.environment)
        report = reconciler.reconcile(delivery, reason)
        self._judge_fight(ref, reason, reconciler.synced)
        report = _with_fight(report, self._fights.get(ref))
        self._drift.follow(reconciler.kinds())
        self._write_status(ref, obj, report)
        self._schedule(ref, delivery, report)

    def _reconciler(self, ref: DeliveryRef, delivery: Delivery) -> DeliveryReconciler:
        reconciler = self._reconcilers.get(ref)
        if reconciler is None:
            reconciler = self._reconcilers[ref] = DeliveryReconciler(
                self.kube,
                self.options.workdir,
                metrics=self.metrics,
                log=self._log,
                guard=self.ownership.guard(ref),
                emit=self._emitter(delivery),
                availability=self._availability,
            )
        return reconciler

    # -- deletion -------------------------------------------------------------------------

    def _set_finalizer(
        self, ref: DeliveryRef, obj: dict[str, Any], *, present: bool = True
    ) -> dict[str, Any]:
        """``obj`` with hakobu's finalizer added (or removed), as stored; unchanged when the
        write failed (the next pass tries again)."""
        try:
            written = set_finalizer(self.kube, obj, present)
        except NotFound:
            return obj
        except (Unreachable, ApiError) as e:
            # Conflict or Invalid: changed since it was read; the watch brings it anew.
            self._log(f"finalizer not written: {e}", level="warning", delivery=str(ref))
            return obj
        with self._cache_lock:
            if ref in self._cache and written is not obj:
                self._cache[ref] = written
        return written

    def _finalize(self, ref: DeliveryRef, obj: dict[str, Any]) -> None:
        """A Delivery being deleted: with prune (and not suspended), delete what it deployed
        first; then let it go. Until that succeeds the finalizer stays and it is retried."""
        if FINALIZER not in (obj["metadata"].get("finalizers") or []):
            return
        name = str(ref)
        try:
            delivery: Delivery | None = parse(obj)
        except InvalidDelivery:
            delivery = None
        if delivery is not None and delivery.prune and not delivery.suspend:
            self._log("deleted: deleting what it deployed", delivery=name)
            problem = self._reconciler(ref, delivery).delete_deployed(delivery)
            if problem is not None and namespace_ending(self.kube, ref.namespace):
                # Its Secrets are going with it: no later try could do better.
                self._log(
                    f"its namespace is being deleted; what it deployed stays: {problem.message}",
                    level="warning",
                    delivery=name,
                )
            elif problem is not None:
                report = PassReport(delivery.generation, None, (), problem=problem)
                self._write_status(ref, obj, report)
                self._schedule(ref, delivery, report)
                return
        else:
            why = (
                "its spec cannot be followed"
                if delivery is None
                else ("it is suspended" if delivery.suspend else "prune is off")
            )
            self._log(f"deleted: what it deployed stays ({why})", delivery=name)
        if self._set_finalizer(ref, obj, present=False) is obj:
            self.queue.add(ref, "finalizer not removed", after=self.options.first_retry)

    def _judge_fight(self, ref: DeliveryRef, reason: str, synced: bool) -> None:
        """A fight: passes for drift that keep having to put back what someone changed."""
        if reason.startswith("drift") and synced:
            self._limiter.repaired(ref)
        drifter = self._drifters.get(ref)
        if drifter is not None and drifter.manager is not None and self._limiter.fighting(ref):
            self._fights[ref] = (
                f"{drifter.manager} keeps changing what git declares ({drifter.what}); "
                "repairs are slowed down to at most one a minute"
            )
        else:
            self._fights.pop(ref, None)

    def _schedule(self, ref: DeliveryRef, delivery: Delivery, report: PassReport) -> None:
        if report.suspended:
            return
        if report.problem is None and report.sync_failure is None and report.waiting is None:
            self._failures.pop(ref, None)
            jitter = random.uniform(0, delivery.interval / 10)  # noqa: S311 (not a secret)
            after = delivery.interval + jitter
            if report.rollout_due is not None:
                # A canary's pause ends or its next measurement is due before the poll.
                wait = report.rollout_due - time.time()
                if wait < after:
                    self.queue.add(ref, "rollout step due", after=max(wait, 0.5))
                    return
            if report.reopens is not None:
                # Held by a sync window: the next pass as it opens, if before the poll.
                opens = (report.reopens - datetime.now(UTC)).total_seconds()
                if opens < after:
                    self.queue.add(ref, "sync window opens", after=max(opens, 1.0))
                    return
            self.queue.add(ref, "poll", after=after)
            return
        failures = self._failures[ref] = self._failures.get(ref, 0) + 1
        delay = min(self.options.first_retry * 2 ** (failures - 1), delivery.interval)
        self.queue.add(ref, f"retry {failures}", after=delay)

    def _emitter(self, delivery: Delivery) -> Emit:
        notify = self._notify

        def emit(kind: str, revision: str, message: str, apps: tuple[str, ...]) -> None:
            self._record_event(delivery, kind, revision, message)
            if notify is not None:
                notify(delivery, kind, revision, message, apps)

        return emit

    def _record_event(self, delivery: Delivery, kind: str, revision: str, message: str) -> None:
        """A Kubernetes Event on the Delivery, so ``kubectl describe delivery`` and
        ``kubectl get events`` tell what happened, as every controller's do."""
        ref = delivery.ref
        involved = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": ref.name,
            "namespace": ref.namespace,
            "uid": self._uid(ref),
        }
        try:
            record_event(
                self.kube,
                involved,
                reason="".join(part.capitalize() for part in kind.split("-")),
                message=f"{message} (revision {revision[:12]})",
                component="hakobu-controller",
                warning=kind in _WARNINGS,
            )
        except (Unreachable, ApiError) as e:
            self._log(f"event not recorded: {e}", level="warning", delivery=str(ref))

    def _uid(self, ref: DeliveryRef) -> str:
        with self._cache_lock:
            obj = self._cache.get(ref) or {}
        return str(obj.get("metadata", {}).get("uid", ""))

    def _write_status(self, ref: DeliveryRef, obj: dict[str, Any], report: PassReport) -> None:
        path = f"/apis/{API_VERSION}/namespaces/{ref.namespace}/{PLURAL}/{ref.name}/status"
        # A merge patch of status alone: no resourceVersion, so a user's concurrent edit of
        # the spec never makes it fail, and the spec is never touched.
        status = build_status(obj.get("status") or {}, report)
        if status == obj.get("status"):
            return  # a poll that found nothing new writes nothing (no event for watchers)
        try:
            written = self.kube.request(
                "PATCH", path, body={"status": status}, content_type="application/merge-patch+json"
            )
        except NotFound:
            return  # deleted meanwhile
        except (Unreachable, ApiError) as e:
            self._log(f"status not written: {e}", level="warning", delivery=str(ref))
            return
        with self._cache_lock:
            if ref in self._cache:
                self._cache[ref] = written


def _ref(obj: dict[str, Any]) -> DeliveryRef:
    metadata = obj["metadata"]
    return DeliveryRef(metadata.get("namespace", ""), metadata["name"])


def _parked(obj: dict[str, Any]) -> bool:
    """A Delivery that waits for its spec to change (suspended, or a spec that cannot be
    followed), as its status for the current generation says: no pass is due for it."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    reasons = [c.get("reason") for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return bool(reasons) and reasons[0] in ("Suspended", "InvalidSpec")


def _wants_pass(previous: dict[str, Any] | None, obj: dict[str, Any]) -> bool:
    return previous is None or _why(previous, obj) != ""


def _why(previous: dict[str, Any] | None, obj: dict[str, Any]) -> str:
    if previous is None:
        return "found"
    before, after = previous["metadata"], obj["metadata"]
    if after.get("deletionTimestamp") and not before.get("deletionTimestamp"):
        return "deleted"
    if before.get("generation") != after.get("generation"):
        return "spec changed"
    key = "hakobu.dev/reconcile-requested-at"
    if (before.get("annotations") or {}).get(key) != (after.get("annotations") or {}).get(key):
        return "reconcile requested"
    return ""


def _with_fight(report: PassReport, fight: str | None) -> PassReport:
    return replace(report, fighting=fight) if fight is not None else report
