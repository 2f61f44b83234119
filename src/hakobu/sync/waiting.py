"""Waiting until objects are settled: Healthy or Suspended, or certainly failed (Degraded).

The first reading of each object is the one the caller already holds — the answer to its
apply, or what ``observe`` read — so objects that are settled from the start (ConfigMaps,
ClusterIP Services, anything without a rollout) cost no request at all. The others are read
again with one LIST per kind and namespace, selected by the owner's labels, soon after the
apply and then less and less often, up to every ``interval`` seconds. Hook Jobs are waited
on the same way: Complete is Healthy, Failed is Degraded.

Not every object's health says whether the next wave may go: an Ingress waits for an ingress
controller to publish an address, a LoadBalancer Service for a cloud load balancer, an
autoscaler for a metrics server — none of which the rollout depends on, and any of which a
cluster may lack. Those are not waited on (``gates_rollout``); their health is what
``hakobu status`` reports, as kapp waits only on what it has rules for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.health import Health, HealthRules, HealthStatus, assess
from hakobu.model.objects import Object, object_ref

SETTLED = frozenset({HealthStatus.HEALTHY, HealthStatus.SUSPENDED})
FINAL = SETTLED | {HealthStatus.DEGRADED}
MISSING = Health(HealthStatus.MISSING, "not found in the cluster")
_GONE = Health(HealthStatus.MISSING, "deleted in the cluster while the sync waited for it")
_GONE_AFTER = 3


# (group, kind) whose health depends on a controller outside the rollout.
_REPORTED_ONLY = frozenset(
    {
        ("networking.k8s.io", "Ingress"),
        ("autoscaling", "HorizontalPodAutoscaler"),
    }
)


def gates_rollout(obj: Object) -> bool:
    """Whether a sync waits for this object's health before going on."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj.get("kind", ""))
    if (group, kind) in _REPORTED_ONLY:
        return False
    return not (
        group == "" and kind == "Service" and (obj.get("spec") or {}).get("type") == "LoadBalancer"
    )


@dataclass(frozen=True)
class Waited:
    obj: Object
    health: Health

    @property
    def ref(self) -> str:
        return object_ref(self.obj)

    @property
    def ok(self) -> bool:
        return self.health.status in SETTLED


def wait_settled(
    kube: KubeApi,
    objects: Sequence[Object],
    readings: Sequence[Object | None],
    deadline: float,
    *,
    pool: Executor,
    selector: str,
    rules: HealthRules,
    interval: float = 0.5,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Waited]:
    """The health of each object, in the order given, once it is settled or Degraded, or
    as it was at ``deadline``. ``readings`` holds a live copy of each object known without
    asking (None where there is none); ``selector`` matches the labels they all carry;
    ``rules`` are the project's health rules."""
    current = [
        Waited(live, assess(live, rules)) if live is not None else Waited(obj, MISSING)
        for obj, live in zip(objects, readings, strict=True)
    ]
    reported: set[int] = set()
    # How many reads in a row found each object missing. Once applied, an object that is
    # not found again and again was deleted meanwhile: waiting for it to become healthy
    # would hold the environment's lock until the timeout, for nothing. One miss is not
    # enough: a LIST may answer from a cache a moment behind the apply.
    missing = [0] * len(current)
    pause = min(interval, 0.05)
    while True:
        pending = [
            i
            for i, waited in enumerate(current)
            if waited.health.status not in FINAL and missing[i] < _GONE_AFTER
        ]
        if not pending or time.monotonic() >= deadline:
            return current
        for i in pending:
            if i not in reported:
                reported.add(i)
                health = current[i].health
                progress(
                    f"waiting for {object_ref(objects[i])}: {health.status} "
                    f"{health.message}".rstrip()
                )
        # Most objects settle within moments of being applied: look again soon, then less
        # and less often, up to ``interval``.
        time.sleep(pause)
        pause = min(interval, pause * 2)
        again = read_again(kube, [objects[i] for i in pending], selector, pool)
        for i, live in zip(pending, again, strict=True):
            missing[i] = missing[i] + 1 if live is None else 0
            current[i] = (
                Waited(live, assess(live, rules))
                if live is not None
                else Waited(objects[i], MISSING if missing[i] < _GONE_AFTER else _GONE)
            )


def read_again(
    kube: KubeApi, objects: Sequence[Object], selector: str, pool: Executor
) -> list[Object | None]:
    """The live copy of each object (None if it does not exist): one LIST per kind and
    namespace, and a GET for any object the LIST missed (its labels were changed)."""
    groups: dict[tuple[str, str, str | None], list[int]] = {}
    for i, obj in enumerate(objects):
        key = (obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"))
        groups.setdefault(key, []).append(i)

    def read(key: tuple[str, str, str | None]) -> list[tuple[int, Object | None]]:
        api_version, kind, namespace = key
        try:
            listed = kube.list(api_version, kind, namespace, label_selector=selector).items
        except NotFound:
            listed = []
        by_name = {item["metadata"]["name"]: item for item in listed}
        found: list[tuple[int, Object | None]] = []
        for i in groups[key]:
            name = objects[i]["metadata"]["name"]
            live = by_name.get(name)
            if live is None:
                try:
                    live = kube.get(api_version, kind, name, namespace)
                except NotFound:
                    live = None
            found.append((i, live))
        return found

    result: list[Object | None] = [None] * len(objects)
    for found in pool.map(read, groups):
        for i, live in found:
            result[i] = live
    return result


def wait_gone(kube: KubeApi, obj: Object, deadline: float, interval: float = 0.2) -> bool:
    meta = obj["metadata"]
    while True:
        try:
            kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except NotFound:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
