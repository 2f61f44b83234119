"""The fleet controller: FleetInstance resources written into git, and their status.

FleetInstances are handled per Delivery they name, by the replica holding that Delivery's
shard (the same Leases, so one writer per repository branch at a time):

- the FleetInstance watch keeps a cache, and a FleetInstance that is new, whose spec
  changed or that is being deleted queues its Delivery — after a short window, so a burst
  of changes (a script creating hundreds) becomes one pass and one commit;
- a pass writes every FleetInstance of the Delivery that needs it in one commit
  (``releases.fleetcommit``: fetch, edit, render, commit, push without force, again on the
  new tip when the branch moved), then asks the Delivery for a pass (as a webhook would);
  a FleetInstance being deleted has its file removed before its finalizer is;
- every second, each written FleetInstance's ``sync`` and ``health`` are read back from
  its Delivery's status (its app ``<fleet>-<instance>``, once the revision the Delivery
  applied holds the instance's commit) and written when they changed;
- every second too, the Deliveries the FleetInstances name are looked at
  (``fleetretry``): one that appeared is queued for its FleetInstances that found it
  missing, one whose repository moved for those the fleet refused.
"""

from __future__ import annotations

import hashlib
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import ApiError, NotFound, Unreachable
from hakobu.cluster.events import record_event
from hakobu.controller.deliveries import JSON_PATCH, MERGE_PATCH, request_reconcile
from hakobu.controller.delivery import Delivery, DeliveryRef, InvalidDelivery
from hakobu.controller.delivery import parse as parse_delivery
from hakobu.controller.fleetinstance import (
    API_VERSION,
    FINALIZER,
    KIND,
    PLURAL,
    FleetInstanceRef,
    InvalidFleetInstance,
    delivery_of,
    parse,
    ref_of,
)
from hakobu.controller.fleetretry import DeliveryChanges
from hakobu.controller.fleetstatus import (
    COMMITTED,
    DELIVERY_NOT_FOUND,
    INVALID_SPEC,
    PARKED,
    REFUSED,
    WRITE_FAILED,
    Deployed,
    Writing,
    app_state,
    deployed_status,
    written_status,
)
from hakobu.controller.manager import Ownership
from hakobu.controller.metrics import Metrics
from hakobu.controller.reconciler import git_credentials
from hakobu.controller.reflector import reflect
from hakobu.controller.workqueue import WorkQueue, work
from hakobu.errors import HakobuError
from hakobu.model.fleet import app_name
from hakobu.releases.fleetcommit import Change, FleetWriter, Put, Remove, Written

Log = Callable[..., None]
Obj = dict[str, Any]
# Every so many read-backs, FleetInstances left to write are queued again.
_RESYNC_ROUNDS = 10
# How many answers of whether an applied revision holds an instance's commit are kept (one
# per batch commit and Delivery revision; instances written together share theirs).
_INCLUDES_KEPT = 4096


class FleetController:
    def __init__(
        self,
        kube: KubeClient,
        workdir: Path,
        ownership: Ownership,
        deliveries: Callable[[DeliveryRef], Obj | None],
        *,
        metrics: Metrics,
        log: Log,
        namespace: str | None = None,
        window: float = 1.0,
        first_retry: float = 2.0,
        read_back: float = 1.0,
    ) -> None:
        self.kube, self.workdir, self.ownership = kube, workdir, ownership
        self._deliveries, self._log, self._namespace = deliveries, log, namespace
        self._metrics = metrics
        self._window, self._first_retry, self._read_back = window, first_retry, read_back
        self.queue: WorkQueue[DeliveryRef] = WorkQueue()
        self._cache: dict[FleetInstanceRef, Obj] = {}
        self._lock = threading.Lock()
        self._writers: dict[DeliveryRef, tuple[tuple[str, str, str], FleetWriter]] = {}
        self._failures: dict[DeliveryRef, int] = {}
        # (applied revision, instance commit) -> whether the one holds the other.
        self._includes: dict[tuple[str, str], bool] = {}
        self._changes = DeliveryChanges()
        # Deliveries whose refused FleetInstances their next pass tries again.
        self._retry_refused: set[DeliveryRef] = set()

    # -- running --------------------------------------------------------------------------

    def run(
        self, stop: threading.Event, deliveries_known: threading.Event, workers: int = 2
    ) -> None:
        """Until ``stop``; nothing is written before ``deliveries_known`` (the Deliveries
        are listed), so no FleetInstance is told its Delivery is missing while they are
        still being read."""
        while not deliveries_known.wait(1.0):
            if stop.is_set():
                return
        self.ownership.on_change(lambda _held: self._queue_pending())
        threads = [threading.Thread(target=self._watch, args=(stop,), daemon=True, name="fleets")]
        threads += [
            threading.Thread(target=self._work, daemon=True, name=f"fleet worker {n}")
            for n in range(workers)
        ]
        for thread in threads:
            thread.start()
        rounds = 0
        while not stop.wait(self._read_back):
            try:
                self._notice_deliveries()
                self._read_back_all()
            except Exception as e:  # noqa: BLE001 - one FleetInstance's bug must not stop it
                self._log(
                    f"read-back failed unexpectedly: {type(e).__name__}: {e}",
                    level="error",
                    trace=traceback.format_exc(),
                )
            rounds += 1
            if rounds % _RESYNC_ROUNDS == 0:
                self._queue_pending()
        self.queue.close()
        for thread in threads[1:]:
            thread.join(timeout=30)

    # -- the FleetInstance watch ----------------------------------------------------------

    def _watch(self, stop: threading.Event) -> None:
        reflect(
            stop,
            relist=self._list,
            watch=lambda version: self.kube.watch(
                API_VERSION, KIND, self._namespace, resource_version=version
            ),
            handle=lambda event: self._event(event.type, event.object),
            failed=lambda e: self._log(f"watch of FleetInstances failed: {e}", level="warning"),
        )

    def _list(self) -> str:
        listed = self.kube.list(API_VERSION, KIND, self._namespace)
        with self._lock:
            self._cache = {ref_of(obj): obj for obj in listed.items}
        self._queue_pending()
        return listed.resource_version

    def _event(self, kind: str, obj: Obj) -> None:
        ref = ref_of(obj)
        with self._lock:
            previous = self._cache.pop(ref, None)
            if kind == "DELETED":
                return
            self._cache[ref] = obj
        delivery = delivery_of(obj)
        # The controller's own writes (status, finalizers) change neither.
        if (
            delivery is not None
            and _changed(previous, obj)
            and _needs_write(obj)
            and self.ownership.owns(delivery)
        ):
            self.queue.add(delivery, f"FleetInstance {ref}", after=self._window)

    def _queue_pending(self) -> None:
        """Queue each Delivery of ours with FleetInstances to write and nothing queued: a
        shard just taken, a Delivery that appeared, a write whose retry was dropped."""
        for delivery in {delivery_of(o) for o in self._objects() if self._wants_write(o)}:
            if (
                delivery is not None
                and self.ownership.owns(delivery)
                and not self.queue.has(delivery)
            ):
                self.queue.add(delivery, "pending", after=self._window)

    def _notice_deliveries(self) -> None:
        """Queue the Deliveries that appeared or whose repository moved, when that may let
        FleetInstances naming them be written now."""
        objects = self._objects()
        named = {ref for ref in map(delivery_of, objects) if ref is not None}
        changed = self._changes.look(named, self._deliveries)
        with self._lock:
            self._retry_refused |= changed.moved
        for ref in sorted(changed.appeared | changed.moved, key=str):
            if self.ownership.owns(ref) and any(
                self._wants_write(o) for o in objects if delivery_of(o) == ref
            ):
                why = "the Delivery appeared" if ref in changed.appeared else "the repository moved"
                self.queue.add(ref, why, after=self._window)

    def _wants_write(self, obj: Obj) -> bool:
        """It needs a write, or the fleet refused it and its repository moved since."""
        if _needs_write(obj):
            return True
        with self._lock:
            retrying = delivery_of(obj) in self._retry_refused
        return retrying and _written_reason(obj) == REFUSED

    def _objects(self, delivery: DeliveryRef | None = None) -> list[Obj]:
        with self._lock:
            objects = list(self._cache.values())
        return [o for o in objects if delivery is None or delivery_of(o) == delivery]

    # -- passes ---------------------------------------------------------------------------

    def _work(self) -> None:
        work(self.queue, self._owned_pass, self._pass_failed)

    def _owned_pass(self, ref: DeliveryRef, reason: str) -> None:
        if self.ownership.owns(ref):
            self._pass(ref, reason)

    def _pass_failed(self, ref: DeliveryRef, e: Exception) -> None:
        self._log(
            f"fleet pass failed unexpectedly: {type(e).__name__}: {e}",
            level="error",
            delivery=str(ref),
            trace=traceback.format_exc(),
        )
        self._retry(ref)

    def _pass(self, ref: DeliveryRef, reason: str) -> None:
        with self._lock:
            retrying = ref in self._retry_refused
            self._retry_refused.discard(ref)
        pending = [
            o
            for o in self._objects(ref)
            if _needs_write(o) or (retrying and _written_reason(o) == REFUSED)
        ]
        if not pending:
            return
        delivery = self._delivery(ref, pending)
        if delivery is None:
            return
        changes: list[Change] = []
        owners: dict[str, Obj] = {}
        for obj in pending:
            change = self._change(obj)
            if change is not None:
                changes.append(change)
                owners[change.owner] = obj
        if not changes:
            return
        self._log(f"writing {len(changes)} fleet instances: {reason}", delivery=str(ref))
        try:
            credentials = git_credentials(self.kube, delivery)
            written = self._writer(delivery).write(
                changes, credentials=credentials, guard=self.ownership.guard(ref)
            )
        except HakobuError as e:
            self._log(f"fleet instances not written: {e.message}", level="error", delivery=str(ref))
            said = f"writing to the repository of Delivery {ref}: {e.message} (tried again)"
            for change in changes:
                self._written(owners[change.owner], WRITE_FAILED, said)
            self._metrics.fleet_instance_writes.labels(str(ref), WRITE_FAILED).inc(len(changes))
            self._retry(ref)
            return
        self._failures.pop(ref, None)
        self._report(delivery, changes, owners, written)

    def _report(
        self, delivery: Delivery, changes: list[Change], owners: dict[str, Obj], written: Written
    ) -> None:
        ref = delivery.ref
        where = f"branch {delivery.branch} of {delivery.url}"
        counted = self._metrics.fleet_instance_writes
        counted.labels(str(ref), REFUSED).inc(len(written.refused))
        counted.labels(str(ref), COMMITTED).inc(len(changes) - len(written.refused))
        self._metrics.fleet_push_retries.labels(str(ref)).inc(written.retries)
        if written.made:
            self._metrics.fleet_commits.labels(str(ref)).inc()
            self._log(f"committed {written.commit[:12]} to {where}", delivery=str(ref))
            try:
                request_reconcile(self.kube, ref)
            except (NotFound, Unreachable, ApiError) as e:
                self._log(f"no pass asked of the Delivery: {e}", level="warning")
        for change in changes:
            obj = owners[change.owner]
            refused = written.refused.get(change.owner)
            if refused is not None:
                self._written(obj, REFUSED, f"FleetInstance {change.owner}: {refused}")
            elif isinstance(change, Remove):
                if not self._set_finalizer(obj, present=False):
                    self._retry(ref)
            else:
                said = f"written in {written.commit[:12]} to {where}"
                self._written(obj, COMMITTED, said, written.commit)

    def _delivery(self, ref: DeliveryRef, pending: list[Obj]) -> Delivery | None:
        """The Delivery ``pending`` are written through; None (each told why) when there
        is none to follow. A FleetInstance being deleted then goes: nothing can remove
        its file, which stays in git for a person to remove."""
        obj = self._deliveries(ref)
        if obj is None:
            why = f"Delivery {ref}, named by spec.delivery, does not exist"
            why += " (create it, or name a Delivery of this namespace)"
        else:
            try:
                return parse_delivery(obj)
            except InvalidDelivery as e:
                why = e.message
        for fleet_instance in pending:
            if fleet_instance["metadata"].get("deletionTimestamp"):
                self._log(f"{why}: the instance's file stays", level="warning")
                self._set_finalizer(fleet_instance, present=False)
            else:
                said = f"FleetInstance {ref_of(fleet_instance)}: {why}"
                self._written(fleet_instance, DELIVERY_NOT_FOUND, said)
        return None

    def _change(self, obj: Obj) -> Change | None:
        ref = ref_of(obj)
        deleting = bool(obj["metadata"].get("deletionTimestamp"))
        try:
            spec = parse(obj)
        except InvalidFleetInstance as e:
            if deleting:
                self._set_finalizer(obj, present=False)
            else:
                self._written(obj, INVALID_SPEC, e.message)
            return None
        if deleting:
            return Remove(str(ref), spec.fleet, spec.instance)
        if not self._set_finalizer(obj, present=True):
            self._retry(spec.delivery)  # not written now: tried again
            return None
        return Put(str(ref), spec.fleet, spec.instance, spec.tier, spec.values, spec.switches)

    def _writer(self, delivery: Delivery) -> FleetWriter:
        """The one writer of the repository, branch and path the Delivery names: a pass
        and a read-back share it, and its lock keeps them off the clone at once."""
        where = (delivery.url, delivery.branch, delivery.path)
        with self._lock:
            found = self._writers.get(delivery.ref)
            if found is not None and found[0] == where:
                return found[1]
            key = hashlib.sha256("\0".join(where).encode()).hexdigest()[:16]
            ref = delivery.ref
            directory = self.workdir / "fleets" / ref.namespace / ref.name / key
            writer = FleetWriter(delivery.url, delivery.branch, delivery.path, directory)
            self._writers[ref] = (where, writer)
            return writer

    def _retry(self, ref: DeliveryRef) -> None:
        failures = self._failures[ref] = self._failures.get(ref, 0) + 1
        self.queue.add(
            ref, f"retry {failures}", after=min(self._first_retry * 2 ** (failures - 1), 300.0)
        )

    # -- status ---------------------------------------------------------------------------

    def _written(self, obj: Obj, reason: str, message: str, commit: str | None = None) -> None:
        generation = int(obj["metadata"].get("generation", 0))
        writing = Writing(generation, reason, message, commit)
        status = obj.get("status") or {}
        if self._write_status(obj, written_status(status, writing)) and (
            status.get("observedGeneration") != generation or _written_reason(obj) != reason
        ):
            self._record_event(obj, reason, message)

    def _record_event(self, obj: Obj, reason: str, message: str) -> None:
        """An Event on the FleetInstance, so ``kubectl describe`` tells what was written."""
        metadata = obj["metadata"]
        involved = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": metadata["name"],
            "namespace": metadata.get("namespace", ""),
            "uid": metadata.get("uid", ""),
        }
        try:
            record_event(
                self.kube,
                involved,
                reason=reason,
                message=message,
                component="hakobu-controller",
                warning=reason != COMMITTED,
            )
        except (Unreachable, ApiError) as e:
            self._log(f"event not recorded: {e}", level="warning")

    def _read_back_all(self) -> None:
        """Each written FleetInstance's sync and health, as its Delivery last found them."""
        for obj in self._objects():
            delivery = delivery_of(obj)
            status = obj.get("status") or {}
            commit = status.get("commit")
            if (
                delivery is None
                or not commit
                or not _written_now(obj)
                or not self.ownership.owns(delivery)
            ):
                continue
            try:
                deployed = self._deployed(delivery, obj, str(commit))
            except HakobuError as e:
                self._log(f"cannot read back {ref_of(obj)}: {e.message}", level="warning")
                continue
            if deployed is not None:
                self._write_status(obj, deployed_status(status, deployed))

    def _deployed(self, ref: DeliveryRef, obj: Obj, commit: str) -> Deployed | None:
        delivery_obj = self._deliveries(ref)
        if delivery_obj is None:
            return None
        spec = parse(obj)
        status = delivery_obj.get("status") or {}
        sync, health = app_state(status, app_name(spec.fleet, spec.instance))
        applied = str(status.get("lastAppliedRevision") or "")
        if applied and self._holds(ref, delivery_obj, applied, commit):
            return Deployed(True, sync, health)
        attempted = str(status.get("lastAttemptedRevision") or "")
        conditions: list[Obj] = status.get("conditions") or []
        ready = next((c for c in conditions if c.get("type") == "Ready"), {})
        failed = None
        if (
            attempted not in ("", applied)
            and ready.get("status") == "False"
            and self._holds(ref, delivery_obj, attempted, commit)
        ):
            failed = (str(ready.get("reason") or "Failed"), str(ready.get("message") or ""))
        return Deployed(False, sync, health, failed)

    def _holds(self, ref: DeliveryRef, delivery_obj: Obj, revision: str, commit: str) -> bool:
        """Whether the Delivery's ``revision`` holds the instance's ``commit``."""
        known = self._includes.get((revision, commit))
        if known is None:
            delivery = parse_delivery(delivery_obj)
            credentials = git_credentials(self.kube, delivery)
            known = self._writer(delivery).includes(revision, commit, credentials)
            if len(self._includes) >= _INCLUDES_KEPT:
                self._includes.clear()
            self._includes[revision, commit] = known
        return known

    def _write_status(self, obj: Obj, status: Obj) -> bool:
        """Whether a changed status was written."""
        if status == obj.get("status"):
            return False
        ref = ref_of(obj)
        try:
            written = self.kube.request(
                "PATCH",
                f"{_path(ref)}/status",
                body={"status": status},
                content_type=MERGE_PATCH,
            )
        except NotFound:
            return False
        except (Unreachable, ApiError) as e:
            self._log(f"status of FleetInstance {ref} not written: {e}", level="warning")
            return False
        self._store(written)
        return True

    def _set_finalizer(self, obj: Obj, *, present: bool) -> bool:
        """Whether ``obj`` now has the finalizer (or, for ``present`` False, not): a JSON
        patch testing the resourceVersion read, so another's finalizer is never dropped."""
        metadata = self._current(obj)["metadata"]
        finalizers: list[str] = list(metadata.get("finalizers") or [])
        wanted = [f for f in finalizers if f != FINALIZER] + ([FINALIZER] if present else [])
        if wanted == finalizers:
            return True
        body = [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": metadata["resourceVersion"],
            },
            {"op": "add", "path": "/metadata/finalizers", "value": wanted},
        ]
        try:
            written = self.kube.request(
                "PATCH", _path(ref_of(obj)), body=body, content_type=JSON_PATCH
            )
        except NotFound:
            return not present
        except (Unreachable, ApiError) as e:
            self._log(f"finalizer of FleetInstance {ref_of(obj)} not written: {e}", level="warning")
            return False
        self._store(written)
        return True

    def _current(self, obj: Obj) -> Obj:
        """``obj`` as the cache holds it now (the watch and our own writes keep it)."""
        with self._lock:
            return self._cache.get(ref_of(obj), obj)

    def _store(self, written: Obj) -> None:
        ref = ref_of(written)
        with self._lock:
            if ref in self._cache:
                self._cache[ref] = written


def _path(ref: FleetInstanceRef) -> str:
    return f"/apis/{API_VERSION}/namespaces/{ref.namespace}/{PLURAL}/{ref.name}"


def _needs_write(obj: Obj) -> bool:
    """Being deleted with the finalizer on; or a generation not written yet, unless the
    write was refused for a reason only a new spec can change."""
    metadata = obj["metadata"]
    if metadata.get("deletionTimestamp"):
        return FINALIZER in (metadata.get("finalizers") or [])
    status = obj.get("status") or {}
    if status.get("observedGeneration") != metadata.get("generation"):
        return True
    return _written_reason(obj) not in (COMMITTED, *PARKED)


def _written_reason(obj: Obj) -> str | None:
    """The reason of its Written condition, None before the first write."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c.get("reason") for c in conditions if c.get("type") == "Written"), None)


def _written_now(obj: Obj) -> bool:
    """Its current generation is committed and it is not being deleted."""
    metadata, status = obj["metadata"], obj.get("status") or {}
    return (
        not metadata.get("deletionTimestamp")
        and status.get("observedGeneration") == metadata.get("generation")
        and _written_reason(obj) == COMMITTED
    )


def _changed(previous: Obj | None, obj: Obj) -> bool:
    """New, a new spec, or being deleted now."""
    if previous is None:
        return True
    before, after = previous["metadata"], obj["metadata"]
    return before.get("generation") != after.get("generation") or bool(
        after.get("deletionTimestamp") and not before.get("deletionTimestamp")
    )
